"""The funnel on the demo warehouse: it reads staging.chat_events by default and recovers the planted funnel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from insights.funnels import Funnel, Step

CHATBOT = Funnel(
    [
        "session_start",
        Step("message", where="role = 'user'", name="user_message"),
        Step("message", where="role = 'bot' AND NOT is_fallback", name="understood"),
        "lead_captured",
    ],
    unit="session",
    window="1 day",
)


def test_the_planted_step_rates_lie_in_the_wilson_intervals(
    demo_con: duckdb.DuckDBPyConnection, demo_warehouse: tuple[Path, Any]
) -> None:
    truth = demo_warehouse[1].truth.funnel
    result = CHATBOT.compute(demo_con)
    start, message, understood, _ = result.steps
    assert start.n_units == truth.n_sessions
    # message_rate and recognised_rate are Bernoulli rates of every session: the 95% intervals must hold them ...
    assert message.step_ci_low <= truth.message_rate <= message.step_ci_high
    assert understood.step_ci_low <= truth.recognised_rate <= understood.step_ci_high
    # ... and reject a clearly different funnel
    assert not message.step_ci_low <= truth.message_rate - 0.03 <= message.step_ci_high
    assert not understood.step_ci_low <= truth.recognised_rate + 0.03 <= understood.step_ci_high
    # the capture rate is an expectation over these sessions' mix of users and bots, not one Bernoulli rate: checked
    # at 99.9% as tests/datasets/test_truth_recovery.py checks it
    strict = CHATBOT.compute(demo_con, alpha=0.001).steps[3]
    assert strict.step_ci_low <= truth.expected_capture_rate <= strict.step_ci_high
    assert not strict.step_ci_low <= 0.5 * truth.capture_rate <= strict.step_ci_high


def test_the_counts_equal_a_query_over_the_sessions(demo_con: duckdb.DuckDBPyConnection) -> None:
    # in the demo a session's user question precedes the bot's answer, which precedes the capture, so the ordered
    # funnel's counts are plain counts of sessions with each kind of row
    rows = demo_con.execute(
        """
        SELECT count(*), count(*) FILTER (WHERE messaged), count(*) FILTER (WHERE messaged AND understood),
               count(*) FILTER (WHERE understood AND captured)
        FROM (
            SELECT bool_or(role = 'user' AND event = 'message') AS messaged,
                   bool_or(role = 'bot' AND event = 'message' AND NOT is_fallback) AS understood,
                   bool_or(event = 'lead_captured') AS captured
            FROM staging.chat_events GROUP BY session_id
        )
        """
    ).fetchall()
    assert [s.n_units for s in CHATBOT.compute(demo_con).steps] == list(rows[0])


def test_a_breakdown_by_the_entry_posts_prompt_version(demo_con: duckdb.DuckDBPyConnection) -> None:
    result = CHATBOT.compute(demo_con, breakdown="prompt_version")
    assert result.breakdown is not None and result.breakdown.from_post
    got = {g.value: g.n_units[0] for g in result.breakdown.groups}
    rows = demo_con.execute(
        "SELECT coalesce(prompt_version, '(missing)'), count(*) FROM marts.lineage "
        "WHERE session_id IS NOT NULL GROUP BY ALL"
    ).fetchall()
    assert got == dict(rows)
    assert sum(got.values()) == result.steps[0].n_units


def test_a_user_funnel_with_a_breakdown_by_channel_and_an_exclusion(demo_con: duckdb.DuckDBPyConnection) -> None:
    funnel = Funnel(["session_start", "lead_captured"], unit="user", window="7 days", exclude=["handoff"])
    result = funnel.compute(demo_con, start="2026-01-05", end="2026-02-02", breakdown="channel", period="week")
    assert result.n_excluded > 0
    assert result.breakdown is not None
    assert {g.value for g in result.breakdown.groups} == {"web", "messenger", "whatsapp"}
    assert sum(g.n_units[0] for g in result.breakdown.groups) == result.steps[0].n_units
    assert [p.period_start.isoformat() for p in result.over_time.periods] == [
        "2026-01-05",
        "2026-01-12",
        "2026-01-19",
        "2026-01-26",
    ]
    # the data runs to 2026-03-01: four weeks of entries ending 2026-02-02 all had their 7 days
    assert all(p.is_complete for p in result.over_time.periods)


def test_post_attributes_need_the_warehouse() -> None:
    con = duckdb.connect()
    events = con.sql("SELECT 's1' AS session_id, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS ts, 'a' AS event")
    with pytest.raises(ValueError, match=r"marts\.lineage"):
        Funnel(["a", "b"]).compute(events, breakdown="platform")
