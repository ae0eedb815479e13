"""The chatbot-funnel report as a library: its sections, read from the demo warehouse, agree with the warehouse and
with the analysis functions they come from; wrong calls are one sentence."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from insights.errors import InvalidParameterError
from insights.reports.chatbot import chatbot_funnel, chatbot_report

START, END = dt.date(2026, 2, 2), dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def report(demo_warehouse: tuple[object, object]) -> object:
    from insights.warehouse import connect

    with connect(demo_warehouse[0], read_only=True) as con:  # type: ignore[arg-type]
        return chatbot_report(con, START, END, breakdown="channel")


def test_sections_come_in_reading_order_each_chart_with_a_numbered_takeaway(report) -> None:
    keys = [s.key for s in report.sections]
    assert keys == [
        "funnel",
        "over_time",
        "breakdown",
        "health",
        "fallbacks",
        "lead_funnel",
        "attribution",
        "revenue",
    ]
    for section in report.sections:
        assert section.summary
        for chart in section.charts:
            assert chart.figure.layout.title.text
            assert chart.takeaway.endswith(".") and any(ch.isdigit() for ch in chart.takeaway)
    assert report.title == "Chatbot funnel 2026-02-02 to 2026-03-01, by channel"


def test_the_funnel_starts_with_the_periods_sessions_and_never_gains_units(
    demo_con: duckdb.DuckDBPyConnection, report
) -> None:
    (n_sessions,) = demo_con.execute(
        "SELECT count(*) FROM marts.chat_sessions WHERE started_at >= ? AND started_at < ?",
        [dt.datetime(2026, 2, 2, tzinfo=dt.UTC), dt.datetime(2026, 3, 2, tzinfo=dt.UTC)],
    ).fetchall()[0]
    result = chatbot_funnel().compute(demo_con, start=START, end=END)
    counts = [s.n_units for s in result.steps]
    assert counts[0] == n_sessions
    assert counts == sorted(counts, reverse=True)
    assert report.section("funnel").summary == " ".join(result.summary_lines())
    # the last step is the sessions with a lead captured within a day of their start
    (captured,) = demo_con.execute(
        "SELECT count(DISTINCT s.session_id) FROM marts.chat_sessions s JOIN staging.chat_events e USING (session_id) "
        "WHERE s.started_at >= ? AND s.started_at < ? AND e.event = 'lead_captured' "
        "AND e.ts <= s.started_at + INTERVAL 1 DAY",
        [dt.datetime(2026, 2, 2, tzinfo=dt.UTC), dt.datetime(2026, 3, 2, tzinfo=dt.UTC)],
    ).fetchall()[0]
    assert counts[-1] <= captured  # also needs a user message and an understood reply before it


def test_health_carries_its_definitions_and_the_breakdown_splits_by_channel(report) -> None:
    health = report.section("health")
    assert health.notes[0].startswith("Metric definitions (version ")
    assert "segment" in health.table.columns
    by_channel = report.section("breakdown").table
    assert len(by_channel) >= 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda con: chatbot_report(con, "2026-03-02", "2026-02-02"),
            "The 'end' parameter of chatbot_report must be after start (2026-03-02). Got '2026-02-02' instead.",
        ),
        (
            lambda con: chatbot_report(con, "2026-02-02", "2026-03-02", breakdown="intent"),
            "The 'breakdown' parameter of chatbot_report must be None or one of channel, bot_version, platform, "
            "content_type, origin, prompt_version. Got 'intent' instead.",
        ),
        (
            lambda con: chatbot_report(con, "last week", "2026-03-02"),
            "The 'start' parameter of chatbot_report must be a day ('YYYY-MM-DD' or a date). Got 'last week' instead.",
        ),
    ],
)
def test_a_wrong_call_is_one_sentence(demo_con: duckdb.DuckDBPyConnection, call, message: str) -> None:
    with pytest.raises(InvalidParameterError) as error:
        call(demo_con)
    assert str(error.value) == message


def test_the_callers_connection_stays_usable_for_relations(demo_warehouse: tuple[object, object]) -> None:
    # DuckDB 2 blocks a connection's relations while a result of execute() is half read (fetchone): every single-row
    # query of the report and of the experiment span must be read to the end
    from insights.reports.experiment import assignment_span, load_definition
    from insights.warehouse import connect

    with connect(demo_warehouse[0], read_only=True) as con:  # type: ignore[arg-type]
        chatbot_report(con, START, END)
        assignment_span(con, load_definition("exp-bot-prompt-v2"))
        assert con.sql("SELECT 1 AS x").query("v", "SELECT x + 1 FROM v").fetchall() == [(2,)]
