"""chatbot_health on a hand-written week: every number counted by hand from tests/chatbot/conftest.py."""

from __future__ import annotations

import math
import subprocess
import sys

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insights.chatbot import HEALTH_DEFINITIONS, chatbot_health, definitions_footer
from insights.errors import WarehouseError
from tests.chatbot.conftest import T0, at

WEEK = {"start": T0, "end": at(7)}
PRICES = {"price_in_per_1k": 1.0, "price_out_per_1k": 2.0}


@pytest.fixture
def report(small_con: duckdb.DuckDBPyConnection):
    return chatbot_health(small_con, **WEEK, **PRICES)


def test_rates_count_conversations_as_the_docs_define_them(report) -> None:
    def value(name: str) -> tuple[float, float, float]:
        m = report.metric(name)
        return m.numerator, m.denominator, m.value

    # s1..s7 start in the week; s6 has no user message, so 6 conversations
    assert report.metric("n_sessions").value == 7 and report.metric("n_conversations").value == 6
    assert value("message_rate") == (6, 7, 6 / 7)
    # s1..s5 were handed off; s6's handoff does not count (no user message)
    assert value("handoff_rate") == (5, 6, 5 / 6)
    assert value("containment_rate") == (1, 6, 1 / 6)
    # first replies: s1 fallback; s2, s3, s4, s7 understood; s5 got no reply
    assert value("first_reply_fallback_rate") == (1, 5, 1 / 5)
    # replies (a bot message right after a user message): s1 2 (both fallbacks), s2 2, s3 1, s4 1, s7 2
    # (s7's "(typing...)" follows a bot message: not a reply)
    assert value("fallback_rate") == (2, 8, 0.25)
    # confidences below 0.5: s1 0.2 and 0.1, s7 0.4
    assert value("low_confidence_rate") == (3, 8, 3 / 8)
    # s7 captured a lead (event and lead L1); s2 is named by lead L2
    assert value("lead_capture_rate") == (2, 6, 2 / 6)
    assert value("abandonment_rate") == (0, 6, 0.0)
    assert value("csat_response_rate") == (1, 6, 1 / 6)
    assert value("csat_mean") == (5.0, 1, 5.0)
    assert value("mean_user_turns") == (9.0, 6, 1.5)  # 2 + 2 + 1 + 1 + 1 + 2


def test_latency_tokens_and_cost(report) -> None:
    # latencies 100, 300, 200, 400, 500, 600, 700, 800: continuous percentiles
    # numpy.percentile([100, 200, 300, 400, 500, 600, 700, 800], [50, 95]) -> 450, 765
    assert report.metric("latency_p50_ms").value == pytest.approx(450.0)
    assert report.metric("latency_p95_ms").value == pytest.approx(765.0)
    # tokens: s2 1000 + 1200 in, 100 + 50 out; s7 500 in, 20 out; over 6 conversations
    assert report.metric("tokens_in_per_conversation").value == pytest.approx(2700 / 6)
    assert report.metric("tokens_out_per_conversation").value == pytest.approx(170 / 6)
    # cost at 1.0 per 1k in and 2.0 per 1k out: s2 2.2 + 0.3, s7 0.5 + 0.04
    assert report.metric("cost_per_conversation").value == pytest.approx(3.04 / 6)
    # one qualified lead (L1): the whole cost per qualified lead
    per_lead = report.metric("cost_per_qualified_lead")
    assert per_lead.value == pytest.approx(3.04) and per_lead.note is None


def test_lead_quality_counts_leads_old_enough_to_judge(small_con: duckdb.DuckDBPyConnection) -> None:
    # the data's last lead change is day 30, so leads of days 1 and 6 are more than 14 days old; L1 reached mql
    # after 2 days, L2 never
    report = chatbot_health(small_con, **WEEK)
    assert report.as_of == at(30)
    mql = report.metric("lead_mql_rate")
    assert (mql.numerator, mql.denominator) == (1, 2)
    assert report.metric("lead_sql_rate").numerator == 0
    # judged at day 10, neither lead is 14 days old: the rate cannot be given yet
    early = chatbot_health(small_con, **WEEK, as_of=at(10))
    assert math.isnan(early.metric("lead_mql_rate").value) and early.metric("lead_mql_rate").note == "too_recent"
    # with a 1-day window, L1 (2 days to mql) no longer counts
    short = chatbot_health(small_con, **WEEK, qualify_days=1)
    assert short.metric("lead_mql_rate").numerator == 0


def test_handoff_reasons_follow_the_documented_rules(small_con: duckdb.DuckDBPyConnection, report) -> None:
    reasons = {r.reason: r.n_handoffs for r in report.handoff_reasons.reasons}
    assert reasons == {
        "after a fallback": 1,  # s1
        "user asked for a person": 1,  # s2: "talk to a HUMAN"
        "intent: pricing": 1,  # s3
        "logged: billing dispute": 1,  # s4, the handoff row's own text
        "no reason in the data": 1,  # s5
    }
    # the request words are a parameter: without "human" and "talk to", s2 falls back to its last intent
    other = chatbot_health(small_con, **WEEK, handoff_request_terms=("operator",))
    assert {r.reason for r in other.handoff_reasons.reasons if r.n_handoffs} >= {"intent: support"}


def test_the_previous_period_is_the_same_report_a_week_earlier(small_con: duckdb.DuckDBPyConnection, report) -> None:
    before = chatbot_health(small_con, start=at(-7), end=T0, compare=False, **PRICES)
    for m in report.metrics:
        old = before.metric(m.metric)
        assert m.previous_value == pytest.approx(old.value, nan_ok=True), m.metric
        assert (m.previous_ci_low, m.previous_ci_high) == pytest.approx((old.ci_low, old.ci_high), nan_ok=True)
    # the week before had one conversation (s8): rated 3, not handed off, abandoned
    assert report.metric("abandonment_rate").previous_value == 1.0
    assert report.metric("csat_mean").change == pytest.approx(2.0)
    assert report.metric("handoff_rate").change == pytest.approx(5 / 6)


def test_breakdown_values_add_up_to_the_total(small_con: duckdb.DuckDBPyConnection) -> None:
    report = chatbot_health(small_con, **WEEK, breakdown="channel")
    assert report.segments == ("messenger", "web", "whatsapp")
    for name in ("n_sessions", "handoff_rate", "fallback_rate", "lead_capture_rate", "csat_mean", "mean_user_turns"):
        total = report.metric(name)
        parts = [report.metric(name, s) for s in report.segments]
        assert sum(p.numerator for p in parts) == pytest.approx(total.numerator), name
        if not math.isnan(total.denominator):
            assert sum(p.denominator for p in parts) == pytest.approx(total.denominator), name
    # web holds s1, s2, s6, s7: 3 conversations, 2 handed off
    web = report.metric("handoff_rate", "web")
    assert (web.numerator, web.denominator) == (2, 3)


def test_intents_group_conversations_replies_and_endings(report) -> None:
    pricing = report.intents.intent("pricing")
    # first replies: pricing s1 (fallback) and s3; replies: s1's two fallbacks and s3's answer
    assert (pricing.n_conversations, pricing.first_reply_fallback_rate, pricing.share) == (2, 0.5, 2 / 5)
    assert (pricing.n_replies, pricing.fallback_rate) == (3, pytest.approx(2 / 3))
    assert report.intents.intent("support").fallback_rate == 0.0
    # conversations end on their last intent; s5 never had one
    assert report.intents.intent("(none)").n_ending == 1
    assert report.intents.intent("provide_contact").n_ending == 1


def test_the_report_reads_in_plain_language_with_its_definitions(report) -> None:
    text = str(report)
    assert text.startswith("Chatbot health, 2026-02-02 to 2026-02-08")
    assert "7 chat sessions started (the week before: 1)" in text
    assert f"Metric definitions (version {HEALTH_DEFINITIONS.version})" in text
    assert "Handoff rate: conversations handed off to a person" in text
    assert report.footer() == definitions_footer(low_confidence=0.5, **PRICES)
    markdown, page = report.to_markdown(), report._repr_html_()
    assert "| Handoff rate |" in markdown and "<sub>Metric definitions" in markdown
    assert "Handoff rate: conversations handed off" in page
    assert report.to_pandas().shape == (len(HEALTH_DEFINITIONS.metrics), 16)
    figure = report.plot(["handoff_rate", "fallback_rate"])
    assert [t.name for t in figure.data] == ["all: 2026-02-02 to 2026-02-08", "all: the week before"]


def test_an_empty_period_gives_notes_not_errors(small_con: duckdb.DuckDBPyConnection) -> None:
    report = chatbot_health(small_con, start="2025-01-01", end="2025-01-08")
    assert report.metric("n_sessions").value == 0
    assert report.metric("handoff_rate").note == "no_conversations"
    assert math.isnan(report.metric("handoff_rate").value)
    assert str(report).splitlines()[1] == "No chat session started in 2025-01-01 to 2025-01-07."


def test_a_warehouse_that_was_not_built_is_refused() -> None:
    con = duckdb.connect(":memory:")
    with pytest.raises(WarehouseError, match="build it first"):
        chatbot_health(con, **WEEK)


def test_importing_the_package_stays_light() -> None:
    code = (
        "import sys, insights.chatbot as c; c.HEALTH_DEFINITIONS; "
        "print(sorted(m for m in ('scipy', 'sklearn', 'pandas', 'plotly') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False))
def test_the_report_does_not_depend_on_the_order_rows_were_loaded(small_con, random) -> None:
    from insights.warehouse import build, connect
    from tests.chatbot.conftest import LEADS, SESSIONS, insert

    rows = list(SESSIONS)
    random.shuffle(rows)
    con = connect(":memory:")
    try:
        insert(con, "raw.chat_events", rows)
        insert(con, "raw.leads", LEADS)
        build(con)
        shuffled = chatbot_health(con, **WEEK, **PRICES)
    finally:
        con.close()
    expected = chatbot_health(small_con, **WEEK, **PRICES)
    assert str(shuffled) == str(expected)
