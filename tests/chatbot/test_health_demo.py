"""chatbot_health on the demo warehouse: against a brute-force count in Python, and against the planted truth.

The planted numbers come from ``demo_warehouse[1].truth`` (src/insights/datasets/truth.py, docs/demo-data.md);
each is checked against the report's own 95% interval, which is what a user would read.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from scipy import stats

from insights.chatbot import DEFAULT_HANDOFF_REQUEST_TERMS, chatbot_health

WEEK_START = datetime(2026, 2, 23, tzinfo=UTC)
WEEK_END = WEEK_START + timedelta(days=7)


@pytest.fixture(scope="module")
def week(demo_read):
    return demo_read(chatbot_health, start=WEEK_START, end=WEEK_END)


@pytest.fixture(scope="module")
def whole(demo_read, demo_warehouse):
    truth = demo_warehouse[1].truth
    return demo_read(chatbot_health, start=truth.start, end=truth.end, compare=False)


@pytest.fixture(scope="module")
def by_first_reply(demo_read, demo_warehouse):
    truth = demo_warehouse[1].truth
    return demo_read(chatbot_health, start=truth.start, end=truth.end, compare=False, breakdown="first_reply")


# --- an independent count, one session at a time in Python --------------------------------------------------------


def brute_force(con: Any, start: datetime, end: datetime) -> dict[str, Any]:
    """Every numerator and denominator of the report, counted from the staging rows without SQL aggregates."""
    rows = con.execute(
        "SELECT session_id, session_seq, ts, role, event, text, intent, intent_confidence, is_fallback, latency_ms, "
        "tokens_in, tokens_out, csat FROM staging.chat_events WHERE session_id IN "
        "(SELECT session_id FROM staging.chat_events GROUP BY session_id HAVING min(ts) >= ? AND min(ts) < ?) "
        "ORDER BY session_id, session_seq",
        [start, end],
    ).fetchall()
    named = {r[0] for r in con.execute("SELECT session_id FROM staging.leads WHERE session_id IS NOT NULL").fetchall()}
    sessions: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for r in rows:
        sessions[r[0]].append(r)
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in DEFAULT_HANDOFF_REQUEST_TERMS) + r")\b")
    c: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    latencies: list[float] = []
    clusters: list[tuple[int, int]] = []  # (fallback replies, replies) per conversation
    for sid, events in sessions.items():
        if not start <= min(e[2] for e in events) < end:
            continue
        c["sessions"] += 1
        messages = [e for e in events if e[3] in ("user", "bot", "agent") and (e[5] is not None or e[4] is None)]
        n_user = sum(e[3] == "user" for e in messages)
        latencies += [e[9] for e in messages if e[3] == "bot" and e[9] is not None]
        if not n_user:
            continue
        c["conversations"] += 1
        c["user_turns"] += n_user
        replies = [m for prev, m in pairwise(messages) if prev[3] == "user" and m[3] == "bot"]
        fallbacks = sum(bool(m[8]) for m in replies)
        c["replies"] += len(replies)
        c["fallback_replies"] += fallbacks
        clusters.append((fallbacks, len(replies)))
        c["scored"] += sum(m[7] is not None for m in replies)
        c["low"] += sum(m[7] is not None and m[7] < 0.5 for m in replies)
        if replies:
            c["replied"] += 1
            c["first_fallback"] += bool(replies[0][8])
        handed = [e for e in events if e[4] == "handoff" or e[3] == "agent"]
        captured = any(e[4] == "lead_captured" for e in events) or sid in named
        c["handoffs"] += bool(handed)
        c["captured"] += captured
        c["abandoned"] += not handed and not captured
        scores = [e[12] for e in events if e[12] is not None]
        if scores:
            c["rated"] += 1
            c["csat"] += scores[-1]
        c["tokens_in"] += sum(e[10] or 0 for e in events)
        c["tokens_out"] += sum(e[11] or 0 for e in events)
        if handed:
            seq = handed[0][1]
            before = [m for m in messages if m[1] < seq]
            bots = [m for m in before if m[3] == "bot"]
            users = [m for m in before if m[3] == "user" and m[5] is not None]
            intents = [m[6] for m in before if m[6] is not None]
            logged = [e[5].strip() for e in events if e[4] == "handoff" and e[5] and e[5].strip()]
            if logged:
                reasons["logged: " + logged[0].lower()] += 1
            elif bots and bots[-1][8]:
                reasons["after a fallback"] += 1
            elif users and pattern.search(users[-1][5].lower()):
                reasons["user asked for a person"] += 1
            elif intents:
                reasons["intent: " + intents[-1]] += 1
            else:
                reasons["no reason in the data"] += 1
    return {"counts": c, "reasons": reasons, "latencies": latencies, "clusters": clusters}


@pytest.fixture(scope="module")
def counted(demo_read):
    return {
        "current": demo_read(brute_force, WEEK_START, WEEK_END),
        "previous": demo_read(brute_force, WEEK_START - timedelta(days=7), WEEK_START),
    }


PAIRS = {
    "message_rate": ("conversations", "sessions"),
    "handoff_rate": ("handoffs", "conversations"),
    "first_reply_fallback_rate": ("first_fallback", "replied"),
    "fallback_rate": ("fallback_replies", "replies"),
    "low_confidence_rate": ("low", "scored"),
    "abandonment_rate": ("abandoned", "conversations"),
    "lead_capture_rate": ("captured", "conversations"),
    "csat_response_rate": ("rated", "conversations"),
    "csat_mean": ("csat", "rated"),
    "mean_user_turns": ("user_turns", "conversations"),
    "tokens_in_per_conversation": ("tokens_in", "conversations"),
    "tokens_out_per_conversation": ("tokens_out", "conversations"),
}


def test_every_count_matches_a_brute_force_count(week, counted) -> None:
    now, before = counted["current"]["counts"], counted["previous"]["counts"]
    assert week.metric("n_sessions").value == now["sessions"] > 1000
    assert week.metric("n_conversations").value == now["conversations"]
    for name, (top, bottom) in PAIRS.items():
        m = week.metric(name)
        assert (m.numerator, m.denominator) == pytest.approx((now[top], now[bottom])), name
        assert m.previous_value == pytest.approx(before[top] / before[bottom]), name
    reasons = {r.reason: r.n_handoffs for r in week.handoff_reasons.reasons if r.n_handoffs}
    assert reasons == dict(counted["current"]["reasons"])


def test_latency_percentiles_match_numpy(week, counted) -> None:
    # numpy's default (linear) percentile is the continuous percentile of the SQL
    p50, p95 = np.percentile(counted["current"]["latencies"], [50, 95])
    assert week.metric("latency_p50_ms").value == pytest.approx(p50)
    assert week.metric("latency_p95_ms").value == pytest.approx(p95)


def test_the_fallback_interval_matches_a_cluster_robust_mean_on_real_rows(week, counted) -> None:
    """The per-message fallback rate's interval equals statsmodels' cluster-robust interval of the message mean."""
    import statsmodels.api as sm

    groups, y = [], []
    for i, (fallbacks, replies) in enumerate(counted["current"]["clusters"]):
        groups += [i] * replies
        y += [1.0] * fallbacks + [0.0] * (replies - fallbacks)
    fit = sm.OLS(np.array(y), np.ones(len(y))).fit(
        cov_type="cluster", cov_kwds={"groups": np.array(groups), "use_correction": False}
    )
    m = week.metric("fallback_rate")
    assert m.value == pytest.approx(fit.params[0], rel=1e-12)
    assert (m.ci_low, m.ci_high) == pytest.approx(tuple(fit.conf_int(0.05)[0]), rel=1e-9)


# --- the planted truth ---------------------------------------------------------------------------------------------


def inside(value: float, m_low: float, m_high: float) -> bool:
    return m_low <= value <= m_high


def test_first_reply_fallback_rate_per_intent_is_recovered(whole, demo_warehouse) -> None:
    """FunnelTruth.fallback_rate: a conversation's first reply is a fallback with its intent's probability.

    The generator gives every conversation one intent and writes it on every bot reply, fallbacks included
    (datasets/sessions.py draw_behaviour, datasets/events.py), so the intent of the first reply is the planted one.
    """
    funnel = demo_warehouse[1].truth.funnel
    for intent, rate in funnel.fallback_rate.items():
        row = whole.intents.intent(intent)
        assert row.n_conversations > 1000
        assert inside(rate, row.first_reply_fallback_ci_low, row.first_reply_fallback_ci_high), (intent, row)
    overall = whole.metric("first_reply_fallback_rate")
    assert inside(1 - funnel.recognised_rate, overall.ci_low, overall.ci_high)


def test_the_intent_mix_is_the_planted_one(whole, demo_warehouse) -> None:
    # four shares at once: one chi-square goodness-of-fit test rather than four intervals
    mix = demo_warehouse[1].truth.funnel.intent_mix
    observed = [whole.intents.intent(i).n_conversations for i in mix]
    expected = [w * sum(observed) for w in mix.values()]
    # seed 7: scipy.stats.chisquare(observed, expected) -> statistic 8.06, p 0.045
    assert stats.chisquare(observed, expected).pvalue > 0.01


def test_session_rates_are_recovered(whole, by_first_reply, demo_warehouse) -> None:
    funnel = demo_warehouse[1].truth.funnel
    message = whole.metric("message_rate")
    assert inside(funnel.message_rate, message.ci_low, message.ci_high)
    rated = whole.metric("csat_response_rate")
    assert inside(funnel.csat_response_rate, rated.ci_low, rated.ci_high)
    # handoff: 5% of understood conversations, 35% of misunderstood ones
    for segment, rate in (("understood", funnel.handoff_rate_understood), ("fallback", funnel.handoff_rate_fallback)):
        m = by_first_reply.metric("handoff_rate", segment)
        assert inside(rate, m.ci_low, m.ci_high), (segment, m)
    # overall: 0.05 + (0.35 - 0.05) x P(first reply is a fallback)
    overall = funnel.handoff_rate_understood + (funnel.handoff_rate_fallback - funnel.handoff_rate_understood) * (
        1 - funnel.recognised_rate
    )
    m = whole.metric("handoff_rate")
    assert inside(overall, m.ci_low, m.ci_high)


def test_csat_means_are_recovered(by_first_reply, demo_warehouse) -> None:
    funnel = demo_warehouse[1].truth.funnel
    for segment, mean in (("understood", funnel.csat_mean_understood), ("fallback", funnel.csat_mean_fallback)):
        m = by_first_reply.metric("csat_mean", segment)
        assert inside(mean, m.ci_low, m.ci_high), (segment, m)


def test_capture_rate_of_understood_conversations_is_recovered(by_first_reply, demo_warehouse) -> None:
    # leads are only captured in understood conversations, with the expected probability over the data's sessions
    funnel = demo_warehouse[1].truth.funnel
    m = by_first_reply.metric("lead_capture_rate", "understood")
    assert inside(funnel.expected_capture_rate, m.ci_low, m.ci_high)
    assert by_first_reply.metric("lead_capture_rate", "fallback").numerator == 0


def test_low_confidence_of_fallback_replies_follows_the_planted_distribution(by_first_reply) -> None:
    # a fallback reply's confidence is 0.6 x Beta(2, 4) (datasets/events.py), so P(< 0.5) = Beta(2, 4).cdf(5/6)
    expected = stats.beta.cdf(0.5 / 0.6, 2, 4)
    m = by_first_reply.metric("low_confidence_rate", "fallback")
    assert inside(float(expected), m.ci_low, m.ci_high)


def test_lead_quality_is_recovered(demo_read, whole) -> None:
    """A chatbot lead reaches mql (within 3 days) with probability 0.6 from a hook-v2 post, 0.4 otherwise."""
    mature_before = whole.as_of - timedelta(days=whole.qualify_days)
    rows = demo_read(
        lambda con: con.execute(
            "SELECT coalesce(p.prompt_id = 'hook' AND p.prompt_version = 'v2', FALSE) "
            "FROM marts.leads AS l JOIN marts.chat_sessions AS s ON s.session_id = l.session_id "
            "LEFT JOIN marts.posts AS p ON p.post_id = s.entry_post_id "
            "WHERE l.created_at <= ? AND s.started_at >= ? AND s.started_at < ?",
            [mature_before, whole.start, whole.end],
        ).fetchall()
    )
    expected = float(np.mean([0.6 if hook_v2 else 0.4 for (hook_v2,) in rows]))
    m = whole.metric("lead_mql_rate")
    assert m.denominator == len(rows) > 1000
    assert inside(expected, m.ci_low, m.ci_high)


def test_control_bot_latency_percentiles_are_recovered(demo_read, demo_warehouse) -> None:
    """Latency is lognormal with median 900 ms and sigma 0.45 for the control bot (leadbot-3.4).

    A sample quantile's standard error is sqrt(p (1 - p) / n) / f(q) (the asymptotic normal law of order
    statistics), with f the lognormal density at the quantile q.
    """
    truth = demo_warehouse[1].truth
    report = demo_read(chatbot_health, start=truth.start, end=truth.end, compare=False, breakdown="bot_version")
    control = truth.experiment.control_bot_version
    n = demo_read(
        lambda con: con.execute(
            "SELECT count(*) FROM staging.chat_events e JOIN marts.chat_sessions s USING (session_id) "
            "WHERE e.role = 'bot' AND e.latency_ms IS NOT NULL AND s.bot_version = ?",
            [control],
        ).fetchone()[0]
    )
    law = stats.lognorm(s=0.45, scale=truth.funnel.latency_median_ms)
    for name, p in (("latency_p50_ms", 0.5), ("latency_p95_ms", 0.95)):
        q = law.ppf(p)
        se = math.sqrt(p * (1 - p) / n) / law.pdf(q)
        assert abs(report.metric(name, control).value - q) < 1.96 * se, (name, q, se)
