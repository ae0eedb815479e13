"""Planning the demo's chat sessions: where they come from, who the users are, and the experiment.

Most sessions start on a post, shortly after it went out (more clicked posts bring more chats);
the rest come directly or from the newsletter. Users differ in how often they come (a gamma
distributed activity) and, growing with it, in how ready they are to leave contact details. Users
with a session on or after the experiment's start are randomised; the treatment bot raises the
capture probability of their later sessions. The expected outcomes for exactly these users are
computed here, so `ExperimentTruth` can state them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from insights.datasets import vocabulary as vocab
from insights.datasets.posts import Posts
from insights.datasets.sessions import CHANNELS, END_MARGIN_MS, SessionPlan, draw_behaviour, ids
from insights.datasets.timeline import MS_PER_DAY, MS_PER_HOUR, PERIOD_DAYS, Period, draw_offsets, to_ms
from insights.datasets.truth import ExperimentTruth, FunnelTruth

#: Channel probabilities (web, messenger, whatsapp) of sessions from each platform, and direct ones.
CHANNEL_MIX = {
    "facebook": (0.5, 0.5, 0.0),
    "instagram": (0.4, 0.6, 0.0),
    "linkedin": (1.0, 0.0, 0.0),
    "x": (1.0, 0.0, 0.0),
    "": (0.65, 0.0, 0.35),
}
#: Relative frequency of direct chats by UTC hour.
CHAT_HOURS = (1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 7, 7, 7, 6, 5, 4, 3, 2)
NEWSLETTER_SHARE = 0.25
#: Sessions of a post start after a delay: exponential with this mean, at most MAX_LAG_MS.
MEAN_LAG_MS = MS_PER_DAY
MAX_LAG_MS = 14 * MS_PER_DAY
PHONE_SHARE = 0.5


@dataclass(frozen=True)
class DemoChats:
    """The planned sessions and what the leads, assignments and truth need to know about them."""

    plan: SessionPlan
    user: npt.NDArray[np.int64]
    post: npt.NDArray[np.int64]
    campaign: list[str]
    email: list[str | None]
    phone: list[str | None]
    n_users: int
    assigned_user: npt.NDArray[np.int64]
    assigned_ms: npt.NDArray[np.int64]
    assigned_treatment: npt.NDArray[np.bool_]
    experiment: ExperimentTruth
    funnel: FunnelTruth
    #: per session: P(lead_captured | the bot understood the user), as planned
    capture_prob: npt.NDArray[np.float64]


def _start_times(
    rng: np.random.Generator, period: Period, posts: Posts, n_sessions: int, share: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Start times and entry post (-1: none) of all sessions, in time order."""
    room = np.clip(period.end_ms - END_MARGIN_MS - posts.published_ms, 0, MAX_LAG_MS)
    reach = 1.0 - np.exp(-room / MEAN_LAG_MS)
    weight = (posts.clicks_7d + 1.0) * reach
    n_post = round(share * n_sessions) if weight.sum() > 0 else 0
    post = rng.choice(len(weight), size=n_post, p=weight / weight.sum()) if n_post else np.zeros(0, dtype=np.int64)
    lag = -MEAN_LAG_MS * np.log1p(-rng.random(n_post) * reach[post])
    post_start = posts.published_ms[post] + 1 + lag.astype(np.int64)

    n_direct = n_sessions - n_post
    hours = np.array(CHAT_HOURS, dtype=float)
    day = rng.integers(0, PERIOD_DAYS, size=n_direct)
    hour = rng.choice(24, size=n_direct, p=hours / hours.sum())
    direct_start = period.start_ms + day * MS_PER_DAY + hour * MS_PER_HOUR + rng.integers(0, MS_PER_HOUR, size=n_direct)
    direct_start = np.minimum(direct_start, period.end_ms - END_MARGIN_MS - 1)

    start = np.concatenate([post_start, direct_start])
    entry = np.concatenate([post.astype(np.int64), np.full(n_direct, -1, dtype=np.int64)])
    order = np.argsort(start, kind="stable")
    return start[order], entry[order]


def _users(
    rng: np.random.Generator, n_sessions: int, experiment: ExperimentTruth
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """User number of each session (numbered by first appearance) and each user's activity."""
    pool = max(1, round(experiment.users_per_session * n_sessions))
    activity = rng.gamma(experiment.activity_shape, 1.0, size=pool)
    cumulative = np.cumsum(activity) / activity.sum()
    drawn = np.minimum(np.searchsorted(cumulative, rng.random(n_sessions), side="right"), pool - 1)
    seen, first = np.unique(drawn, return_index=True)
    number = np.empty(pool, dtype=np.int64)
    number[seen[np.argsort(first)]] = np.arange(len(seen))
    user_activity = np.empty(len(seen), dtype=np.float64)
    user_activity[number[seen]] = activity[seen]
    return number[drawn], user_activity


def _propensity(
    activity: npt.NDArray[np.float64], user: npt.NDArray[np.int64], power: float, cap: float
) -> npt.NDArray[np.float64]:
    """Per session, the user's readiness: activity**power, scaled to mean one over sessions, capped."""
    h = activity[user] ** power
    for _ in range(3):
        h = np.minimum(h / h.mean(), cap)
    return h


def _channels(rng: np.random.Generator, platform: npt.NDArray[np.str_]) -> npt.NDArray[np.int8]:
    channel = np.zeros(len(platform), dtype=np.int8)
    u = rng.random(len(platform))
    for plat, probs in CHANNEL_MIX.items():
        pick = platform == plat
        channel[pick] = np.minimum(np.searchsorted(np.cumsum(probs), u[pick], side="right"), len(CHANNELS) - 1)
    return channel


def plan_demo_sessions(
    rng: np.random.Generator,
    period: Period,
    posts: Posts,
    n_sessions: int,
    funnel: FunnelTruth,
    experiment: ExperimentTruth,
) -> DemoChats:
    """Plan all demo sessions (one value per session; rows are made later, chunk by chunk)."""
    start, post = _start_times(rng, period, posts, n_sessions, funnel.post_session_share)
    user, activity = _users(rng, n_sessions, experiment)
    n_users = len(activity)

    # the experiment: users seen on or after its start, randomised at their first session there
    exp_start, pre_start = to_ms(experiment.start), to_ms(experiment.pre_period_start)
    in_window = start >= exp_start
    assigned_ms = np.full(n_users, np.iinfo(np.int64).max)
    np.minimum.at(assigned_ms, user[in_window], start[in_window])
    is_assigned = assigned_ms < np.iinfo(np.int64).max
    treated_user = rng.random(n_users) < experiment.assignment_prob
    treatment = in_window & treated_user[user]

    cap = 0.95 / (funnel.capture_rate * experiment.capture_ratio)
    h = _propensity(activity, user, experiment.propensity_power, cap)
    capture_prob = funnel.capture_rate * h * np.where(treatment, experiment.capture_ratio, 1.0)
    behaviour = draw_behaviour(rng, funnel, capture_prob)

    # where each session came from
    has_post = post >= 0
    safe_post = np.where(has_post, post, 0)
    platform = np.where(has_post, posts.platform[safe_post], "")
    channel = _channels(rng, platform)
    web_post = has_post & (channel == 0)
    newsletter = ~has_post & (channel == 0) & (rng.random(n_sessions) < NEWSLETTER_SHARE)
    campaign_names = np.array(vocab.CAMPAIGNS)
    news_campaign = campaign_names[rng.choice(len(campaign_names), size=n_sessions, p=vocab.CAMPAIGN_PROBS)]
    post_campaign = np.asarray(posts.campaign.to_numpy(zero_copy_only=False), dtype=str)[safe_post]
    campaign = np.where(has_post, post_campaign, np.where(newsletter, news_campaign, "always-on"))
    post_ids = np.asarray(posts.post_id.to_numpy(zero_copy_only=False), dtype=str)[safe_post]
    link_ids = np.asarray(posts.link_id.to_numpy(zero_copy_only=False), dtype=str)[safe_post]
    mediums = np.asarray(posts.utm_medium.to_numpy(zero_copy_only=False), dtype=str)[safe_post]
    utm = web_post | newsletter

    email, phone, contact = _contacts(rng, user, behaviour.captured)
    plan = SessionPlan(
        session_id=ids("s", np.arange(1, n_sessions + 1), 7),
        user_id=ids("u", user + 1, 7),
        start_ms=start,
        offset=draw_offsets(rng, n_sessions),
        channel=channel,
        bot_version=treatment.astype(np.int8),
        treatment=treatment,
        entry_post_id=pa.array(post_ids, mask=~has_post),
        link_id=pa.array(link_ids, mask=~web_post),
        utm_source=pa.array(np.where(newsletter, "newsletter", platform), mask=~utm),
        utm_medium=pa.array(np.where(newsletter, "email", mediums), mask=~utm),
        utm_campaign=pa.array(campaign, mask=~utm),
        utm_content=pa.array(np.where(newsletter, "weekly-digest", post_ids), mask=~utm),
        intent=behaviour.intent,
        fallback=behaviour.fallback,
        questions=behaviour.questions,
        captured=behaviour.captured,
        handoff=behaviour.handoff,
        n_agent=behaviour.n_agent,
        csat=behaviour.csat,
        contact_text=pa.array(contact, type=pa.string()),
        bot_versions=(experiment.control_bot_version, experiment.treatment_bot_version),
        latency_median_ms=funnel.latency_median_ms,
        latency_ratio=experiment.latency_ratio,
    )

    # expected outcomes of exactly these users, in each variant and as assigned
    reach = funnel.message_rate * funnel.recognised_rate

    def p_user(ratio: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        p_session = reach * funnel.capture_rate * h[in_window] * ratio
        return 1.0 - np.exp(np.bincount(user[in_window], weights=np.log1p(-p_session), minlength=n_users))

    window_treated = treatment[in_window]
    p_control = p_user(np.ones(int(in_window.sum())))
    p_treatment = p_user(np.full(int(in_window.sum()), experiment.capture_ratio))
    p_assigned = p_user(np.where(window_treated, experiment.capture_ratio, 1.0))
    pre = (start >= pre_start) & (start < exp_start)
    covariate = np.bincount(user[pre], minlength=n_users).astype(float)
    assigned = np.flatnonzero(is_assigned)
    n_treatment = int(treated_user[assigned].sum())
    experiment = replace(
        experiment,
        n_control=len(assigned) - n_treatment,
        n_treatment=n_treatment,
        expected_control_rate=float(p_control[assigned].mean()) if len(assigned) else 0.0,
        expected_treatment_rate=float(p_treatment[assigned].mean()) if len(assigned) else 0.0,
        covariate_correlation=_expected_correlation(covariate[assigned], p_assigned[assigned]),
        expected_control_session_rate=_mean(capture_prob[in_window & ~treatment]),
        expected_treatment_session_rate=_mean(capture_prob[treatment]),
    )
    funnel = replace(funnel, n_sessions=n_sessions, expected_capture_rate=float(capture_prob.mean()))
    order = np.argsort(assigned_ms[assigned], kind="stable")
    return DemoChats(
        plan=plan,
        user=user,
        post=post,
        campaign=campaign.tolist(),
        email=email,
        phone=phone,
        n_users=n_users,
        assigned_user=assigned[order],
        assigned_ms=assigned_ms[assigned][order],
        assigned_treatment=treated_user[assigned][order],
        experiment=experiment,
        funnel=funnel,
        capture_prob=capture_prob,
    )


def _mean(values: npt.NDArray[np.float64]) -> float:
    return float(values.mean()) if len(values) else 0.0


def _expected_correlation(x: npt.NDArray[np.float64], p: npt.NDArray[np.float64]) -> float:
    """Correlation of x with a Bernoulli(p) outcome, in expectation over the outcome draws."""
    if len(x) < 2 or x.std() == 0:
        return 0.0
    mean_p = p.mean()
    cov = float(np.mean((x - x.mean()) * (p - mean_p)))
    return cov / float(x.std() * np.sqrt(mean_p * (1.0 - mean_p)))


def _contacts(
    rng: np.random.Generator, user: npt.NDArray[np.int64], captured: npt.NDArray[np.bool_]
) -> tuple[list[str | None], list[str | None], list[str | None]]:
    """Per session: the email and phone the user typed, and the message, where a lead was captured."""
    n = len(user)
    email: list[str | None] = [None] * n
    phone: list[str | None] = [None] * n
    message: list[str | None] = [None] * n
    people: dict[int, tuple[str, str | None]] = {}
    email_only = tuple(t for t in vocab.CONTACT_REPLIES if "{phone}" not in t)
    with_phone = tuple(t for t in vocab.CONTACT_REPLIES if "{phone}" in t)
    for i in np.flatnonzero(captured).tolist():
        u = int(user[i])
        if u not in people:
            first, last = vocab.pick(rng, vocab.FIRST_NAMES), vocab.pick(rng, vocab.LAST_NAMES)
            address = vocab.fake_email(first, last, u + 1, vocab.pick(rng, vocab.EMAIL_DOMAINS))
            people[u] = (address, vocab.fake_phone(rng) if rng.random() < PHONE_SHARE else None)
        address, number = people[u]
        template = vocab.pick(rng, with_phone if number else email_only)
        email[i], phone[i] = address, number
        message[i] = template.format(email=address, phone=number)
    return email, phone, message
