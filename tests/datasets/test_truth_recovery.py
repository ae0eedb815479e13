"""The planted effects can be recovered from the written files, within 99.9% intervals.

Each check also asserts that the data reject a clearly different value (usually "no effect"),
so a generator that forgot to plant an effect fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import duckdb
import numpy as np
import numpy.typing as npt
import pytest

from insights.datasets import DemoLogs

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
#: Two-sided 99.9% normal quantile: a correct generator fails a check one time in a thousand.
Z = 3.29


def within(observed: float, expected: float, se: float) -> bool:
    """Whether `observed` lies in the 99.9% normal interval of `expected` with standard error `se`."""
    return abs(observed - expected) <= Z * se


def binomial_se(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> tuple[float, int]:
    """(value, n) from a query returning one row of two columns."""
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return float(row[0]), int(row[1])


# --- 1. engagement ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekOne:
    """Posts with a 7-day snapshot: attributes, impressions, engagements and the planted rate."""

    content_type: npt.NDArray[np.str_]
    origin: npt.NDArray[np.str_]
    slot: Bools
    impressions: Floats
    engagements: Floats
    rate: Floats

    def z(self, mask: Bools, sigma: float, scale: float = 1.0) -> float:
        """z of a group's engagements against the planted model times `scale` (Poisson-lognormal variance)."""
        mu = self.impressions[mask] * self.rate[mask] * scale
        var = mu + mu**2 * (math.exp(sigma**2) - 1)
        return float((self.engagements[mask].sum() - mu.sum()) / math.sqrt(var.sum()))


@pytest.fixture(scope="module")
def week_one(con: duckdb.DuckDBPyConnection, demo: DemoLogs) -> WeekOne:
    truth = demo.truth.engagement
    rows = con.execute(
        """
        SELECT p.account_id, p.platform, p.content_type, p.origin, p.published_at,
               m.impressions, m.likes + m.comments + m.shares + m.saves AS engagements
        FROM posts p JOIN post_metrics m USING (post_id)
        WHERE m.observed_at - p.published_at BETWEEN INTERVAL 168 HOUR AND INTERVAL 169 HOUR
        """
    ).fetchall()
    slot = [truth.best_slots[r[1]].contains(r[4]) for r in rows]
    rate = [truth.expected_rate(r[0], r[1], r[2], r[3], s) for r, s in zip(rows, slot, strict=True)]
    return WeekOne(
        content_type=np.array([r[2] for r in rows]),
        origin=np.array([r[3] for r in rows]),
        slot=np.array(slot, dtype=bool),
        impressions=np.array([r[5] for r in rows], dtype=float),
        engagements=np.array([r[6] for r in rows], dtype=float),
        rate=np.array(rate, dtype=float),
    )


def test_engagement_by_content_type_matches_planted_ratios(week_one: WeekOne, demo: DemoLogs) -> None:
    truth = demo.truth.engagement
    assert len(week_one.rate) > 1500
    for content_type, ratio in truth.content_type_ratio.items():
        mask = week_one.content_type == content_type
        assert mask.sum() > 100, content_type
        assert abs(week_one.z(mask, truth.post_noise_sigma)) <= Z, content_type
        if ratio != 1.0:  # the data would reject "no effect"
            assert abs(week_one.z(mask, truth.post_noise_sigma, 1 / ratio)) > Z, content_type


def test_engagement_by_origin_matches_planted_ratios(week_one: WeekOne, demo: DemoLogs) -> None:
    truth = demo.truth.engagement
    for origin, ratio in truth.origin_ratio.items():
        mask = week_one.origin == origin
        assert abs(week_one.z(mask, truth.post_noise_sigma)) <= Z, origin
        if ratio != 1.0:
            assert abs(week_one.z(mask, truth.post_noise_sigma, 1 / ratio)) > Z, origin


def test_best_posting_slot_lifts_engagement(week_one: WeekOne, demo: DemoLogs) -> None:
    truth = demo.truth.engagement
    slot = week_one.slot
    assert slot.sum() > 150
    assert abs(week_one.z(slot, truth.post_noise_sigma)) <= Z
    assert abs(week_one.z(~slot, truth.post_noise_sigma)) <= Z
    assert abs(week_one.z(slot, truth.post_noise_sigma, 1 / truth.best_slot_ratio)) > Z


def test_counters_never_decrease_and_saturate(con: duckdb.DuckDBPyConnection) -> None:
    decreases = con.execute(
        """
        SELECT count(*) FROM (
            SELECT least(impressions - lag(impressions) OVER w, reach - lag(reach) OVER w,
                         likes - lag(likes) OVER w, comments - lag(comments) OVER w,
                         shares - lag(shares) OVER w, saves - lag(saves) OVER w, clicks - lag(clicks) OVER w,
                         followers - lag(followers) OVER w, coalesce(video_views - lag(video_views) OVER w, 0)) AS d
            FROM post_metrics WINDOW w AS (PARTITION BY post_id ORDER BY observed_at)
        ) WHERE d < 0
        """
    ).fetchone()
    assert decreases == (0,)
    share_1h, _ = _one(
        con,
        """
        SELECT sum(impressions) FILTER (WHERE age < INTERVAL 2 HOUR)
               / sum(impressions) FILTER (WHERE age BETWEEN INTERVAL 168 HOUR AND INTERVAL 169 HOUR), 1
        FROM (SELECT m.impressions, m.observed_at - p.published_at AS age FROM post_metrics m JOIN posts p USING (post_id))
        """,
    )
    assert 0.01 < share_1h < 0.04  # 1 - exp(-1 / 48) of the 7-day count is about 2%


# --- 2. prompt version and qualified leads -----------------------------------------------------

_CHAT_LEADS = """
    WITH chat_leads AS (
        SELECT lead_id, min(changed_at) AS created, bool_or(stage = 'mql') AS qualified,
               any_value(session_id) AS session_id
        FROM leads WHERE source = 'chatbot' GROUP BY lead_id
    ), entry AS (
        SELECT session_id, entry_post_id FROM chat_events WHERE event = 'session_start'
    )
    SELECT avg(qualified::INT), count(*)
    FROM chat_leads JOIN entry USING (session_id) LEFT JOIN posts p ON p.post_id = entry.entry_post_id
    WHERE created < ? AND coalesce(p.prompt_id = ? AND p.prompt_version = ?, false) = ?
"""


def test_prompt_version_leads_qualify_more_often(con: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    leads, prompt = demo.truth.leads, demo.truth.prompt
    cutoff = demo.truth.end - timedelta(days=leads.delay_days["mql"][1])  # mql is never censored before this
    base = leads.qualify_rate["chatbot"]
    prompted = base * prompt.qualify_ratio
    key = [cutoff, prompt.prompt_id, prompt.prompt_version]
    p_yes, n_yes = _one(con, _CHAT_LEADS, [*key, True])
    p_no, n_no = _one(con, _CHAT_LEADS, [*key, False])
    assert n_yes > 100 and n_no > 1000
    assert within(p_yes, prompted, binomial_se(prompted, n_yes))
    assert within(p_no, base, binomial_se(base, n_no))
    assert p_yes - base > 3.09 * binomial_se(base, n_yes)  # one-sided 99.9%: better than the rest
    n_posts, _ = _one(con, "SELECT count(*), 1 FROM posts WHERE prompt_id = ? AND prompt_version = ?", key[1:])
    assert n_posts == prompt.n_posts > 200


# --- 3. chatbot funnel -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sessions(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A table `sessions`: one row per chat session with its funnel flags."""
    con.execute(
        """
        CREATE OR REPLACE TABLE sessions AS
        SELECT session_id, any_value(user_id) AS user_id, min(ts) AS started_at,
               bool_or(role = 'user' AND event = 'message') AS messaged,
               bool_or(role = 'bot' AND NOT is_fallback) AS understood,
               bool_or(is_fallback) AS misunderstood,
               bool_or(event = 'lead_captured') AS captured,
               bool_or(event = 'handoff') AS handed_off,
               any_value(intent) FILTER (WHERE intent <> 'provide_contact') AS intent,
               count(*) FILTER (WHERE role = 'user' AND event = 'message') AS user_messages,
               any_value(csat) FILTER (WHERE event = 'csat') AS csat
        FROM chat_events GROUP BY session_id
        """
    )
    return con


def test_funnel_step_rates(sessions: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    f = demo.truth.funnel
    n, _ = _one(sessions, "SELECT count(*), 1 FROM sessions")
    assert n == f.n_sessions == 20000
    p1, n1 = _one(sessions, "SELECT avg(messaged::INT), count(*) FROM sessions")
    p2, n2 = _one(sessions, "SELECT avg(understood::INT), count(*) FROM sessions WHERE messaged")
    p3, n3 = _one(sessions, "SELECT avg(captured::INT), count(*) FROM sessions WHERE understood")
    assert within(p1, f.message_rate, binomial_se(f.message_rate, n1))
    assert within(p2, f.recognised_rate, binomial_se(f.recognised_rate, n2))
    assert within(p3, f.expected_capture_rate, binomial_se(f.expected_capture_rate, n3))
    assert not within(p3, 0.5 * f.capture_rate, binomial_se(f.capture_rate, n3))
    unsure, _ = _one(sessions, "SELECT count(*), 1 FROM sessions WHERE understood AND misunderstood")
    assert unsure == 0  # a conversation is either understood throughout or not at all
    no_lead_without_understanding, _ = _one(
        sessions, "SELECT count(*), 1 FROM sessions WHERE captured AND NOT understood"
    )
    assert no_lead_without_understanding == 0


def test_fallback_rate_by_intent(sessions: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    f = demo.truth.funnel
    rows = sessions.execute(
        "SELECT intent, avg(misunderstood::INT), count(*) FROM sessions WHERE messaged GROUP BY intent"
    ).fetchall()
    assert {r[0] for r in rows} == set(f.fallback_rate)
    n_messaged = sum(r[2] for r in rows)
    for intent, rate, n in rows:
        assert within(rate, f.fallback_rate[intent], binomial_se(f.fallback_rate[intent], n)), intent
        share = n / n_messaged
        assert within(share, f.intent_mix[intent], binomial_se(f.intent_mix[intent], n_messaged)), intent
    # per bot reply the rate is the same in expectation (turns do not depend on understanding)
    reply_rate, n_replies = _one(
        sessions,
        "SELECT avg(is_fallback::INT), count(*) FROM chat_events WHERE intent = 'other' AND is_fallback IS NOT NULL",
    )
    assert abs(reply_rate - f.fallback_rate["other"]) < 0.03 and n_replies > 5000


def test_handoff_turns_and_csat(sessions: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    f = demo.truth.funnel
    h_ok, n_ok = _one(sessions, "SELECT avg(handed_off::INT), count(*) FROM sessions WHERE understood")
    h_bad, n_bad = _one(sessions, "SELECT avg(handed_off::INT), count(*) FROM sessions WHERE misunderstood")
    assert within(h_ok, f.handoff_rate_understood, binomial_se(f.handoff_rate_understood, n_ok))
    assert within(h_bad, f.handoff_rate_fallback, binomial_se(f.handoff_rate_fallback, n_bad))
    questions, n_q = _one(sessions, "SELECT avg(user_messages - captured::INT), count(*) FROM sessions WHERE messaged")
    assert within(questions, f.mean_questions, math.sqrt(f.mean_questions - 1) / math.sqrt(n_q))
    for flag, mean in (("understood", f.csat_mean_understood), ("misunderstood", f.csat_mean_fallback)):
        observed, n = _one(sessions, f"SELECT avg(csat), count(csat) FROM sessions WHERE {flag}")
        assert within(observed, mean, 1.3 / math.sqrt(n)), flag
    rated, n_m = _one(sessions, "SELECT avg((csat IS NOT NULL)::INT), count(*) FROM sessions WHERE messaged")
    assert within(rated, f.csat_response_rate, binomial_se(f.csat_response_rate, n_m))


def test_sessions_come_from_posts(sessions: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    share, n = _one(
        sessions,
        "SELECT avg((entry_post_id IS NOT NULL)::INT), count(*) FROM chat_events WHERE event = 'session_start'",
    )
    expected = demo.truth.funnel.post_session_share
    assert within(share, expected, binomial_se(expected, n))
    late, _ = _one(
        sessions,
        """SELECT count(*), 1 FROM chat_events c JOIN posts p ON p.post_id = c.entry_post_id
           WHERE c.event = 'session_start' AND c.ts < p.published_at""",
    )
    assert late == 0


# --- 4. the experiment -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def units(sessions: duckdb.DuckDBPyConnection, demo: DemoLogs) -> duckdb.DuckDBPyConnection:
    """A table `units`: one row per user assigned in exp-bot-prompt-v2 with variant, pre-period sessions and outcome."""
    exp = demo.truth.experiment
    sessions.execute(
        """
        CREATE OR REPLACE TABLE units AS
        SELECT a.unit_id, a.variant, a.assigned_at,
               count(*) FILTER (WHERE s.started_at >= ? AND s.started_at < ?) AS pre_sessions,
               coalesce(bool_or(s.captured AND s.started_at >= ?), false)::INT AS converted,
               min(s.started_at) FILTER (WHERE s.started_at >= ?) AS first_session
        FROM assignments a LEFT JOIN sessions s ON s.user_id = a.unit_id
        WHERE a.experiment_id = ?
        GROUP BY ALL
        """,
        [exp.pre_period_start, exp.start, exp.start, exp.start, exp.experiment_id],
    )
    return sessions


def test_assignment_is_balanced_and_at_first_session(units: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    exp = demo.truth.experiment
    counts = dict(units.execute("SELECT variant, count(*) FROM units GROUP BY variant").fetchall())
    assert counts == {exp.control: exp.n_control, exp.treatment: exp.n_treatment}
    n = exp.n_control + exp.n_treatment
    assert n > 4000
    assert abs(exp.n_treatment - n / 2) <= 3.29 * math.sqrt(n) / 2  # no sample ratio mismatch
    mismatched, _ = _one(units, "SELECT count(*), 1 FROM units WHERE first_session IS DISTINCT FROM assigned_at")
    assert mismatched == 0
    wrong_bot, _ = _one(
        units,
        """SELECT count(*), 1 FROM chat_events c JOIN units u ON u.unit_id = c.user_id
           WHERE c.ts >= u.assigned_at AND (c.bot_version = ?) <> (u.variant = ?)""",
        [exp.treatment_bot_version, exp.treatment],
    )
    assert wrong_bot == 0


def test_experiment_lift_matches_truth(units: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    exp = demo.truth.experiment
    sql = "SELECT avg(converted), count(*) FROM units WHERE variant = ?"
    p_c, n_c = _one(units, sql, [exp.control])
    p_t, n_t = _one(units, sql, [exp.treatment])
    assert within(p_c, exp.expected_control_rate, binomial_se(exp.expected_control_rate, n_c))
    assert within(p_t, exp.expected_treatment_rate, binomial_se(exp.expected_treatment_rate, n_t))
    assert 0.15 < exp.expected_relative_lift < 0.22


def test_treatment_bot_captures_more_leads_per_session(units: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    exp = demo.truth.experiment
    sql = """SELECT avg(s.captured::INT), count(*) FROM sessions s JOIN units u ON u.unit_id = s.user_id
             WHERE s.started_at >= u.assigned_at AND s.understood AND u.variant = ?"""
    p_c, n_c = _one(units, sql, [exp.control])
    p_t, n_t = _one(units, sql, [exp.treatment])
    assert n_c > 3000 and n_t > 3000
    assert within(p_c, exp.expected_control_session_rate, binomial_se(exp.expected_control_session_rate, n_c))
    assert within(p_t, exp.expected_treatment_session_rate, binomial_se(exp.expected_treatment_session_rate, n_t))
    without_effect = exp.expected_treatment_session_rate / exp.capture_ratio
    assert not within(p_t, without_effect, binomial_se(without_effect, n_t))


def test_pre_period_covariate_predicts_the_outcome(units: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    exp = demo.truth.experiment
    corr, n = _one(units, "SELECT corr(pre_sessions, converted), count(*) FROM units")
    assert exp.covariate_correlation > 0.25
    assert within(corr, exp.covariate_correlation, (1 - exp.covariate_correlation**2) / math.sqrt(n))
    assert exp.expected_variance_reduction == pytest.approx(exp.covariate_correlation**2)


def test_treatment_bot_is_slower(con: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    exp = demo.truth.experiment
    rows = dict(
        con.execute(
            "SELECT bot_version, median(latency_ms) FROM chat_events WHERE latency_ms IS NOT NULL GROUP BY ALL"
        ).fetchall()
    )
    ratio = rows[exp.treatment_bot_version] / rows[exp.control_bot_version]
    assert ratio == pytest.approx(exp.latency_ratio, rel=0.05)
    assert rows[exp.control_bot_version] == pytest.approx(demo.truth.funnel.latency_median_ms, rel=0.05)


# --- 5. lead stages and won value --------------------------------------------------------------

_STEP = """
    WITH l AS (
        SELECT lead_id, any_value(source) AS source,
               min(changed_at) FILTER (WHERE stage = ?) AS t_from,
               bool_or(stage = ?) AS reached
        FROM leads GROUP BY lead_id
    )
    SELECT avg(reached::INT), count(*) FROM l WHERE t_from < ? AND source IN ('form', 'event', 'chatbot')
"""


@pytest.mark.parametrize(
    ("from_stage", "to_stage", "attribute"),
    [("mql", "sql", "sql_rate"), ("sql", "opportunity", "opportunity_rate")],
)
def test_stage_conversion(
    con: duckdb.DuckDBPyConnection, demo: DemoLogs, from_stage: str, to_stage: str, attribute: str
) -> None:
    truth = demo.truth.leads
    cutoff = demo.truth.end - timedelta(days=truth.delay_days[to_stage][1])
    expected = getattr(truth, attribute)
    p, n = _one(con, _STEP, [from_stage, to_stage, cutoff])
    assert n > 100
    assert within(p, expected, binomial_se(expected, n))


def test_form_and_event_leads_qualify_at_their_rates(con: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    truth = demo.truth.leads
    cutoff = demo.truth.end - timedelta(days=truth.delay_days["mql"][1])
    for source in ("form", "event"):
        p, n = _one(
            con,
            """SELECT avg(q::INT), count(*) FROM (SELECT bool_or(stage = 'mql') AS q, min(changed_at) AS t
               FROM leads WHERE source = ? GROUP BY lead_id) WHERE t < ?""",
            [source, cutoff],
        )
        expected = truth.qualify_rate[source]
        assert within(p, expected, binomial_se(expected, n)), source
        assert n == pytest.approx(truth.n_leads[source] * (1 - 3 / 91), rel=0.1)


def test_opportunities_close_won_at_planted_rate_with_lognormal_value(
    con: duckdb.DuckDBPyConnection, demo: DemoLogs
) -> None:
    truth = demo.truth.leads
    cutoff = demo.truth.end - timedelta(days=truth.delay_days["won"][1])
    p, n = _one(con, _STEP, ["opportunity", "won", cutoff])
    assert within(p, truth.won_rate, binomial_se(truth.won_rate, n))
    closed, _ = _one(
        con,
        """SELECT count(*), 1 FROM (SELECT lead_id FROM leads GROUP BY lead_id
           HAVING bool_or(stage = 'won') AND bool_or(stage = 'lost'))""",
    )
    assert closed == 0
    log_mean, n_won = _one(con, "SELECT avg(ln(value)), count(*) FROM leads WHERE stage = 'won'")
    assert n_won > 40
    assert within(log_mean, math.log(truth.won_value_median), truth.won_value_sigma / math.sqrt(n_won))
    values_elsewhere, _ = _one(con, "SELECT count(*), 1 FROM leads WHERE stage <> 'won' AND value IS NOT NULL")
    assert values_elsewhere == 0


def test_stage_changes_move_forward_in_time(con: duckdb.DuckDBPyConnection) -> None:
    backwards, _ = _one(
        con,
        """
        SELECT count(*), 1 FROM (
            SELECT lead_id, stage, changed_at,
                   lag(changed_at) OVER (PARTITION BY lead_id ORDER BY
                       list_position(['new', 'mql', 'sql', 'opportunity', 'won', 'lost'], stage)) AS before
            FROM leads
        ) WHERE changed_at <= before
        """,
    )
    assert backwards == 0
