"""Planned chat sessions: who chats when, from where, and how the conversation goes.

A `SessionPlan` holds one value per session; `events.materialize` turns it into event rows.
`draw_behaviour` plants the funnel of `FunnelTruth`; `plan_bulk_sessions` plans sessions for the
benchmark file (no posts, no experiment), `chats.plan_demo_sessions` those of the demo.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from insights.datasets import vocabulary as vocab
from insights.datasets.timeline import MS_PER_HOUR, Period, draw_offsets
from insights.datasets.truth import FunnelTruth

CHANNELS = ("web", "messenger", "whatsapp")
INTENTS = ("pricing", "demo_request", "support", "other")
#: Sessions start at least this long before the period's end, so all their events fall inside it.
END_MARGIN_MS = 2 * MS_PER_HOUR

Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Small = npt.NDArray[np.int8]


def ids(prefix: str, numbers: npt.NDArray[np.integer], width: int) -> pa.Array:
    """Ids like 's0000042', built by Arrow.

    >>> ids("s", np.array([42]), 7).to_pylist()
    ['s0000042']
    """
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


@dataclass(frozen=True)
class Behaviour:
    """How each session's conversation goes (see `FunnelTruth`)."""

    engaged: Bools
    intent: Small
    fallback: Bools
    questions: Ints
    captured: Bools
    handoff: Bools
    n_agent: Small
    csat: Small


def draw_behaviour(rng: np.random.Generator, funnel: FunnelTruth, capture_prob: npt.NDArray[np.float64]) -> Behaviour:
    """Draw the funnel steps of each session; `capture_prob` is P(lead_captured | understood) per session."""
    n = len(capture_prob)
    engaged = rng.random(n) < funnel.message_rate
    mix = np.array([funnel.intent_mix[i] for i in INTENTS])
    intent = rng.choice(len(INTENTS), size=n, p=mix / mix.sum()).astype(np.int8)
    fallback_rate = np.array([funnel.fallback_rate[i] for i in INTENTS])[intent]
    fallback = engaged & (rng.random(n) < fallback_rate)
    questions = np.where(engaged, 1 + rng.poisson(funnel.mean_questions - 1, size=n), 0).astype(np.int64)
    captured = engaged & ~fallback & (rng.random(n) < capture_prob)
    handoff_rate = np.where(fallback, funnel.handoff_rate_fallback, funnel.handoff_rate_understood)
    handoff = engaged & (rng.random(n) < handoff_rate)
    n_agent = (1 + (rng.random(n) < 0.5)).astype(np.int8)
    rated = engaged & (rng.random(n) < funnel.csat_response_rate)
    u = rng.random(n)
    csat = np.where(
        rated,
        np.where(fallback, _score(funnel.csat_probs_fallback, u), _score(funnel.csat_probs_understood, u)),
        0,
    )
    return Behaviour(engaged, intent, fallback, questions, captured, handoff, n_agent, csat.astype(np.int8))


def _score(probs: tuple[float, ...], u: npt.NDArray[np.float64]) -> Ints:
    """Scores 1..len(probs) drawn by inverting the cumulative probabilities at `u`."""
    cumulative = np.cumsum(probs) / sum(probs)
    return (1 + np.minimum(np.searchsorted(cumulative, u, side="right"), len(probs) - 1)).astype(np.int64)


@dataclass(frozen=True)
class SessionPlan:
    """One value per session; string columns are Arrow arrays (nullable), codes index small tuples."""

    session_id: pa.Array
    user_id: pa.Array
    start_ms: Ints
    offset: Small
    channel: Small
    bot_version: Small
    treatment: Bools
    entry_post_id: pa.Array
    link_id: pa.Array
    utm_source: pa.Array
    utm_medium: pa.Array
    utm_campaign: pa.Array
    utm_content: pa.Array
    intent: Small
    fallback: Bools
    questions: Ints
    captured: Bools
    handoff: Bools
    n_agent: Small
    csat: Small
    contact_text: pa.Array
    bot_versions: tuple[str, ...]
    latency_median_ms: float
    latency_ratio: float

    @property
    def n(self) -> int:
        return len(self.start_ms)

    def slice(self, start: int, stop: int) -> SessionPlan:
        """Sessions [start, stop)."""
        changes: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                changes[f.name] = value[start:stop]
            elif isinstance(value, pa.Array):
                changes[f.name] = value.slice(start, stop - start)
        return replace(self, **changes)  # type: ignore[arg-type]


def contact_pool(rng: np.random.Generator, size: int = 512) -> list[str]:
    """Contact messages with fake emails and phones, for sessions that need no per-person identity."""
    out = []
    for _ in range(size):
        email = vocab.fake_email(
            vocab.pick(rng, vocab.FIRST_NAMES),
            vocab.pick(rng, vocab.LAST_NAMES),
            int(rng.integers(10, 1000)),
            vocab.pick(rng, vocab.EMAIL_DOMAINS),
        )
        out.append(vocab.pick(rng, vocab.CONTACT_REPLIES).format(email=email, phone=vocab.fake_phone(rng)))
    return out


@dataclass(frozen=True)
class BulkWorld:
    """The fixed parts of the benchmark world: users, posts and contact messages to draw from."""

    period: Period
    funnel: FunnelTruth
    n_users: int
    post_ids: pa.Array
    link_ids: pa.Array
    platforms: pa.Array
    contacts: pa.Array
    bot_version: str


def plan_bulk_sessions(rng: np.random.Generator, world: BulkWorld, first: int, n: int) -> SessionPlan:
    """Sessions `first` .. `first + n - 1` of the benchmark file, in time order within the chunk."""
    period, funnel = world.period, world.funnel
    start = np.sort(rng.integers(period.start_ms, period.end_ms - END_MARGIN_MS, size=n))
    from_post = rng.random(n) < funnel.post_session_share
    post = rng.integers(0, len(world.post_ids), size=n)
    channel = rng.choice(len(CHANNELS), size=n, p=(0.6, 0.25, 0.15)).astype(np.int8)
    web_post = from_post & (channel == 0)
    behaviour = draw_behaviour(rng, funnel, np.full(n, funnel.capture_rate))
    post_idx = pa.array(post, mask=~from_post)
    link_idx = pa.array(post, mask=~web_post)
    medium = pa.array(np.where(web_post, "social", ""), mask=~web_post)
    contact = pa.array(rng.integers(0, len(world.contacts), size=n), mask=~behaviour.captured)
    return SessionPlan(
        session_id=ids("s", np.arange(first, first + n), 9),
        user_id=ids("u", rng.integers(0, world.n_users, size=n), 8),
        start_ms=start,
        offset=draw_offsets(rng, n),
        channel=channel,
        bot_version=np.zeros(n, dtype=np.int8),
        treatment=np.zeros(n, dtype=bool),
        entry_post_id=pc.take(world.post_ids, post_idx),
        link_id=pc.take(world.link_ids, link_idx),
        utm_source=pc.take(world.platforms, link_idx),
        utm_medium=medium,
        utm_campaign=pa.array(np.where(web_post, "always-on", ""), mask=~web_post),
        utm_content=pc.take(world.post_ids, link_idx),
        intent=behaviour.intent,
        fallback=behaviour.fallback,
        questions=behaviour.questions,
        captured=behaviour.captured,
        handoff=behaviour.handoff,
        n_agent=behaviour.n_agent,
        csat=behaviour.csat,
        contact_text=pc.take(world.contacts, contact),
        bot_versions=(world.bot_version,),
        latency_median_ms=funnel.latency_median_ms,
        latency_ratio=1.0,
    )
