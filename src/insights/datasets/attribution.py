"""The expected attribution of the demo's chatbot leads, computed from the planned sessions (no random draws).

Session i of a user ends in a lead with probability p_i (it reaches the contact step and the user leaves details),
independently of the other sessions. If it does, its journey is the user's sessions from s to i, where s is the
first session inside the lookback window (starting at most `lookback_days` before session i) that comes after the
user's previous lead. So, with q = 1 - p and a the first session inside the window:

    P(journey starts at s | lead at i) = q_a ... q_{i-1}                 for s = a (no lead in the window before i)
                                       = p_{s-1} q_s ... q_{i-1}         for a < s <= i (the last lead at s - 1)

and the expected credit of a label under a rule-based model is the sum over pairs (i, s) of
p_i P(s | i) credit(label, sessions s..i). Rules as in insights.leads (see docs/attribution.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from insights.datasets.chats import DemoChats
from insights.datasets.posts import Posts
from insights.datasets.timeline import MS_PER_DAY, Period
from insights.datasets.truth import ATTRIBUTION_MODELS, AttributionTruth, FunnelTruth, LeadTruth, PromptTruth

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

DIRECT = "direct"


def expected_attribution(
    chats: DemoChats,
    posts: Posts,
    period: Period,
    funnel: FunnelTruth,
    leads: LeadTruth,
    prompt: PromptTruth,
    truth: AttributionTruth | None = None,
) -> AttributionTruth:
    """`AttributionTruth` for these planned sessions (its parameters from `truth`, default the defaults)."""
    truth = truth or AttributionTruth()
    # P(lead) per session: the user writes, the bot understands (both independent of the session), the user leaves
    # details with the planned capture probability
    p_lead = funnel.message_rate * funnel.recognised_rate * chats.capture_prob
    has_post = chats.post >= 0
    safe = np.maximum(chats.post, 0)
    platform = np.where(has_post, posts.platform[safe], DIRECT)
    from_prompt = has_post & posts.is_prompt_post[safe]

    labels = tuple(sorted(set(platform.tolist())))
    code = np.searchsorted(np.array(labels), platform)
    lookback_ms = round(truth.lookback_days * MS_PER_DAY)
    credit = _expected_credits(chats.user, chats.plan.start_ms, code, len(labels), p_lead, lookback_ms, truth)

    qualify = leads.qualify_rate["chatbot"] * np.where(from_prompt, prompt.qualify_ratio, 1.0)
    low, high = (d * MS_PER_DAY for d in leads.delay_days["mql"])
    room = (period.end_ms - chats.plan.start_ms).astype(np.float64)
    observed = np.clip((room - low) / (high - low), 0.0, 1.0)  # P(uniform mql delay < time left)
    p_qualified = p_lead * qualify * observed
    return AttributionTruth(
        lookback_days=truth.lookback_days,
        position_weights=truth.position_weights,
        expected_lead_credit=MappingProxyType(
            {
                model: MappingProxyType({label: float(v) for label, v in zip(labels, credit[model], strict=True)})
                for model in ATTRIBUTION_MODELS
            }
        ),
        expected_leads=float(p_lead.sum()),
        expected_prompt_leads=float(p_lead[from_prompt].sum()),
        expected_qualified=float(p_qualified.sum()),
        expected_prompt_qualified=float(p_qualified[from_prompt].sum()),
    )


def _expected_credits(
    user: Ints,
    start_ms: Ints,
    label: Ints,
    n_labels: int,
    p: Floats,
    lookback_ms: int,
    truth: AttributionTruth,
) -> Mapping[str, Floats]:
    """Expected credit per label of each rule-based model, summed over every (lead session i, journey start s)."""
    order = np.lexsort((start_ms, user))
    user, start_ms, label, p = user[order], start_ms[order], label[order], p[order]
    n = len(order)
    # window start a_i: the first session of the same user at most the lookback before session i
    # one sorted line of exact integers: each user's times (from the earliest start) in a band of their own
    since = start_ms - start_ms.min()
    band = int(since.max()) + lookback_ms + 1
    key = user * band + since
    first = np.searchsorted(key, user * band + since - lookback_ms, side="left")
    size = np.arange(n) - first + 1
    i = np.repeat(np.arange(n), size)
    s = np.arange(len(i)) - np.repeat(np.cumsum(size) - size, size) + first[i]

    log_q = np.concatenate([[0.0], np.cumsum(np.log1p(-p))])  # prod q_s..q_{i-1} = exp(log_q[i] - log_q[s])
    survive = np.exp(log_q[i] - log_q[s])
    p_start = np.where(s == first[i], survive, p[np.maximum(s - 1, 0)] * survive)
    weight = p[i] * p_start

    one_hot = np.zeros((n + 1, n_labels))
    one_hot[np.arange(n) + 1, label] = 1.0
    counts = np.cumsum(one_hot, axis=0)  # counts[j]: labels of sessions before j
    within = counts[i + 1] - counts[s]  # labels of sessions s..i
    length = (i - s + 1).astype(np.float64)
    head, tail = np.eye(n_labels)[label[s]], np.eye(n_labels)[label[i]]
    first_w, middle_w, last_w = truth.position_weights
    two_first = first_w / (first_w + last_w) if first_w + last_w > 0 else 0.5
    middle = counts[i] - counts[np.minimum(s + 1, i)]  # sessions strictly between s and i
    position = np.where(
        (length == 1)[:, None],
        tail,
        np.where(
            (length == 2)[:, None],
            two_first * head + (1 - two_first) * tail,
            first_w * head + last_w * tail + middle_w * middle / np.maximum(length - 2, 1)[:, None],
        ),
    )
    per_pair = {
        "first_touch": head,
        "last_touch": tail,
        "linear": within / length[:, None],
        "position_based": position,
    }
    return {model: weight @ per_pair[model] for model in ATTRIBUTION_MODELS}
