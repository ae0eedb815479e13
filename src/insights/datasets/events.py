"""Turning planned chat sessions into event rows, vectorised (no Python loop over rows).

A session's rows, in order: session_start, the bot's greeting, `questions` pairs of user question
and bot reply, then if a lead is captured the user's contact message, the bot's confirmation and a
lead_captured event; then if handed off a handoff event and one or two agent messages; then a csat
event if the user rated the chat; and session_end. Timestamps strictly increase within a session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from insights.contract import CHAT_EVENTS
from insights.datasets import vocabulary as vocab
from insights.datasets.sessions import CHANNELS, INTENTS, SessionPlan
from insights.datasets.writers import RawTable

# Row codes.
START, GREETING, QUESTION, ANSWER, FALLBACK, ASK, CONTACT, CONFIRM, CAPTURED, HANDOFF, AGENT, CSAT, END = range(13)
# Text segments that are not row codes: a question carrying personal data, an agent's follow-up.
QUESTION_PII, AGENT_FOLLOW_UP = 13, 14
N_CODES = 15
ROLES = ("system", "bot", "user", "agent")
ROLE_OF = np.array([0, 1, 2, 1, 1, 1, 2, 1, 0, 0, 3, 0, 0], dtype=np.int32)
EVENTS = ("session_start", "message", "lead_captured", "handoff", "csat", "session_end")
EVENT_OF = np.array([0, 1, 1, 1, 1, 1, 1, 1, 2, 3, 1, 4, 5], dtype=np.int32)
BOT_REPLIES = (ANSWER, FALLBACK, ASK, CONFIRM)
#: Intent the bot logs on its confirmation of a contact message.
CONTACT_INTENT = "provide_contact"
#: Share of user questions that carry personal data (an email, phone or card number).
PII_QUESTION_RATE = 0.02
#: Delay of a row after the previous one, by row code: (exponential?, base ms, scale ms), so the
#: delay is base + scale x Exp(1) or base + scale x U(0, 1). Bot replies wait their latency.
DELAYS: dict[int, tuple[bool, int, int]] = {
    GREETING: (False, 150, 450),
    QUESTION: (True, 2_000, 15_000),
    CONTACT: (True, 5_000, 20_000),
    CAPTURED: (False, 1, 50),
    HANDOFF: (False, 1_000, 4_000),
    AGENT: (True, 20_000, 60_000),
    CSAT: (True, 2_000, 10_000),
    END: (False, 60_000, 540_000),
}


@dataclass(frozen=True)
class TextPools:
    """Pre-rendered message texts, addressed by (row code, intent) segments of one Arrow array.

    `pii` maps pool positions of texts with personal data to (kind, raw value): kind is 'email',
    'phone' or 'card'.
    """

    texts: pa.Array
    seg_start: npt.NDArray[np.int64]
    seg_count: npt.NDArray[np.int64]
    pii: dict[int, tuple[str, str]]

    @classmethod
    def build(cls, rng: np.random.Generator, variants: int = 24) -> TextPools:
        """Render `variants` texts per template group with random words of the demo world."""
        texts: list[str] = []
        pii: dict[int, tuple[str, str]] = {}
        start = np.zeros((N_CODES, len(INTENTS)), dtype=np.int64)
        count = np.ones((N_CODES, len(INTENTS)), dtype=np.int64)

        def segment(code: int, intent: int | None, rendered: list[str]) -> None:
            first = len(texts)
            texts.extend(rendered)
            for i in range(len(INTENTS)) if intent is None else (intent,):
                start[code, i], count[code, i] = first, len(rendered)

        def render(templates: tuple[str, ...], suffixes: tuple[str, ...] = ("",)) -> list[str]:
            return [vocab.fill(vocab.pick(rng, templates), rng) + vocab.pick(rng, suffixes) for _ in range(variants)]

        segment(GREETING, None, render(vocab.GREETINGS))
        segment(FALLBACK, None, render(vocab.FALLBACKS))
        segment(CONFIRM, None, render(vocab.CONFIRMS))
        segment(AGENT, None, render(vocab.AGENT_INTROS))
        segment(AGENT_FOLLOW_UP, None, render(vocab.AGENT_FOLLOW_UPS))
        for i, intent in enumerate(INTENTS):
            segment(QUESTION, i, render(vocab.QUESTIONS[intent]))
            segment(ANSWER, i, render(vocab.ANSWERS[intent]))
            segment(ASK, i, render(vocab.ANSWERS[intent], vocab.ASK_CONTACT))
            rendered: list[str] = []
            for _ in range(variants):
                values = {
                    "email": _pool_email(rng),
                    "phone": vocab.fake_phone(rng),
                    "card": vocab.pick(rng, vocab.CARDS),
                }
                template = vocab.pick(rng, vocab.PII_QUESTIONS[intent])
                for name in ("email", "phone", "card"):
                    if "{" + name + "}" in template:
                        pii[len(texts) + len(rendered)] = (name, values[name])
                rendered.append(vocab.fill(template, rng, **values))
            segment(QUESTION_PII, i, rendered)
        return cls(pa.array(texts, type=pa.string()), start, count, pii)


def _pool_email(rng: np.random.Generator) -> str:
    first, last = vocab.pick(rng, vocab.FIRST_NAMES), vocab.pick(rng, vocab.LAST_NAMES)
    return vocab.fake_email(first, last, int(rng.integers(10, 100)), vocab.pick(rng, vocab.EMAIL_DOMAINS))


@dataclass(frozen=True)
class EventChunk:
    """Event rows of a slice of sessions, plus what the leads and the truth need from them."""

    rows: RawTable
    capture_ms: npt.NDArray[np.int64]  # per session: time of lead_captured, or -1
    used_pii: frozenset[int]  # pool positions of PII texts written


def materialize(plan: SessionPlan, pools: TextPools, rng: np.random.Generator) -> EventChunk:
    """All event rows of the sessions in `plan`."""
    s = plan.n
    questions = plan.questions.astype(np.int64)
    n_qa = 2 * questions
    n_cap = 3 * plan.captured.astype(np.int64)
    n_ho = plan.handoff.astype(np.int64) * (1 + plan.n_agent.astype(np.int64))
    n_cs = (plan.csat > 0).astype(np.int64)
    per_session = 3 + n_qa + n_cap + n_ho + n_cs
    sess = np.repeat(np.arange(s), per_session)
    first = np.cumsum(per_session) - per_session
    pos = np.arange(len(sess)) - first[sess]

    b1 = 2 + n_qa[sess]
    b2 = b1 + n_cap[sess]
    b3 = b2 + n_ho[sess]
    b4 = b3 + n_cs[sess]
    k = pos - 2
    fallback, captured = plan.fallback[sess], plan.captured[sess]
    bot = np.where(fallback, FALLBACK, np.where(captured & (k == n_qa[sess] - 1), ASK, ANSWER))
    qa = np.where(k % 2 == 0, QUESTION, bot)
    cap = np.array([CONTACT, CONFIRM, CAPTURED])[np.clip(pos - b1, 0, 2)]
    ho = np.where(pos == b2, HANDOFF, AGENT)
    code = np.select(
        [pos == 0, pos == 1, pos < b1, pos < b2, pos < b3, pos < b4],
        [START, GREETING, qa, cap, ho, CSAT],
        END,
    ).astype(np.int64)
    n = len(code)
    intent = plan.intent[sess].astype(np.int64)
    is_reply = np.isin(code, BOT_REPLIES)
    replies = np.flatnonzero(is_reply)
    reply_code = code[replies]
    treatment = plan.treatment[sess[replies]]

    # timing: each row's delay after the previous one; a bot reply's delay is its latency.
    # Random draws are made only for the rows that use them, to keep chunks light.
    latency = np.round(
        rng.lognormal(np.log(plan.latency_median_ms), 0.45, size=len(replies))
        * np.where(treatment, plan.latency_ratio, 1.0)
    )
    latency = np.maximum(latency, 50.0)
    delay = np.zeros(n, dtype=np.int64)
    delay[replies] = latency.astype(np.int64)
    for row_code, (exponential, base, scale) in DELAYS.items():
        at = np.flatnonzero(code == row_code)
        draw = rng.exponential(1.0, size=len(at)) if exponential else rng.random(len(at))
        delay[at] = base + (scale * draw).astype(np.int64)
    elapsed = np.cumsum(delay)
    ts = plan.start_ms[sess] + elapsed - elapsed[first][sess]
    del delay, elapsed

    # texts: a pool segment by (code, intent), or the session's own contact message
    has_text = np.isin(code, (GREETING, QUESTION, ANSWER, FALLBACK, ASK, CONTACT, CONFIRM, AGENT))
    with_text = np.flatnonzero(has_text)
    text_code = code[with_text]
    pii_question = (text_code == QUESTION) & (rng.random(len(with_text)) < PII_QUESTION_RATE)
    text_code = np.where(pii_question, QUESTION_PII, text_code)
    text_code = np.where((text_code == AGENT) & (pos[with_text] > b2[with_text] + 1), AGENT_FOLLOW_UP, text_code)
    text_intent = intent[with_text]
    idx = pools.seg_start[text_code, text_intent] + np.floor(
        rng.random(len(with_text)) * pools.seg_count[text_code, text_intent]
    ).astype(np.int64)
    idx = np.where(text_code == CONTACT, len(pools.texts) + sess[with_text], idx)
    used_pii = frozenset(int(i) for i in np.unique(idx[pii_question]))
    text_idx = np.zeros(n, dtype=np.int64)
    text_idx[with_text] = idx
    all_texts = pa.concat_arrays([pools.texts, plan.contact_text.cast(pa.string())])
    text = pc.take(all_texts, pa.array(text_idx, mask=~has_text))
    del text_idx, idx, text_code

    # what the bot logs on each reply
    confidence = np.select(
        [reply_code == FALLBACK, reply_code == CONFIRM],
        [0.6 * rng.beta(2, 4, size=len(replies)), rng.beta(20, 1, size=len(replies))],
        rng.beta(12, 1.5, size=len(replies)),
    )
    turn = np.where(reply_code == CONFIRM, questions[sess[replies]], (pos[replies] - 2) // 2)
    tokens_in = np.where(treatment, 850, 600) + 180 * turn + rng.poisson(40, size=len(replies))
    tokens_out = np.where(
        reply_code == FALLBACK, 12 + rng.poisson(8, size=len(replies)), 25 + rng.poisson(55, size=len(replies))
    )
    reply_intent = np.where(reply_code == CONFIRM, len(INTENTS), intent[replies])
    intent_names = pa.array([*INTENTS, CONTACT_INTENT])
    start_rows = code == START
    attribution = pa.array(sess, mask=~start_rows)
    columns: dict[str, object] = {
        "session_id": pc.take(plan.session_id, pa.array(sess)),
        "user_id": pc.take(plan.user_id, pa.array(sess)),
        "ts": ts,
        "role": pc.take(pa.array(ROLES), pa.array(ROLE_OF[code])),
        "text": text,
        "intent": pc.take(intent_names, _spread(reply_intent, replies, n)),
        "intent_confidence": _spread(np.round(confidence, 3), replies, n),
        "is_fallback": _spread(reply_code == FALLBACK, replies, n),
        "event": pc.take(pa.array(EVENTS), pa.array(EVENT_OF[code])),
        "channel": pc.take(pa.array(CHANNELS), pa.array(plan.channel[sess].astype(np.int32))),
        "entry_post_id": pc.take(plan.entry_post_id, attribution),
        "link_id": pc.take(plan.link_id, attribution),
        "utm_source": pc.take(plan.utm_source, attribution),
        "utm_medium": pc.take(plan.utm_medium, attribution),
        "utm_campaign": pc.take(plan.utm_campaign, attribution),
        "utm_content": pc.take(plan.utm_content, attribution),
        "bot_version": pc.take(pa.array(plan.bot_versions), pa.array(plan.bot_version[sess].astype(np.int32))),
        "latency_ms": _spread(latency, replies, n),
        "tokens_in": _spread(tokens_in.astype(np.int64), replies, n),
        "tokens_out": _spread(tokens_out.astype(np.int64), replies, n),
        "csat": pa.array(plan.csat[sess].astype(np.float64), mask=code != CSAT),
    }
    capture_ms = np.full(s, -1, dtype=np.int64)
    captured_rows = code == CAPTURED
    capture_ms[sess[captured_rows]] = ts[captured_rows]
    rows = RawTable.from_columns(CHAT_EVENTS, columns, plan.offset[sess], unit="ms")
    return EventChunk(rows=rows, capture_ms=capture_ms, used_pii=used_pii)


def _spread(values: npt.NDArray[np.generic], rows: npt.NDArray[np.int64], n: int) -> pa.Array:
    """An Arrow array of length `n` holding `values` at `rows` and nulls elsewhere."""
    full = np.zeros(n, dtype=values.dtype)
    full[rows] = values
    mask = np.ones(n, dtype=bool)
    mask[rows] = False
    return pa.array(full, mask=mask)
