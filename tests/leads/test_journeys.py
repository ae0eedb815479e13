"""Journeys built in the engine: the documented rules on a hand-made lineage, and on the demo warehouse against a
plain-Python implementation of the same rules."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import duckdb
import pytest

from insights.leads import Journeys, attribute, journeys
from tests.leads.conftest import day

Entry = tuple[tuple[str, ...], tuple[float, ...], bool, float, int]


def entries(j: Journeys) -> set[Entry]:
    return set(zip(j.paths, j.ages_days, j.is_converted, j.values, j.n_journeys, strict=True))


def test_the_rules_on_a_hand_made_lineage(tiny_lineage: duckdb.DuckDBPyConnection) -> None:
    got = journeys(tiny_lineage, touch="platform")
    assert entries(got) == {
        # L1: u1's sessions up to the lead's session, ages in whole days before the lead's creation
        (("facebook", "direct", "instagram"), (20.0, 10.0, 0.0), True, 1.0, 1),
        # u1 after L1: s4 is 35 days before the last session s5, out of the 30-day window
        (("facebook",), (0.0,), False, 0.0, 1),
        # L2: s6 (an unknown post) is 39 days before: out; L3 comes after L2 with no session between: unattributed
        (("x",), (0.0,), True, 1.0, 1),
        # u3: two sessions at the same instant, ordered by session_id; no lead
        (("direct", "instagram"), (0.0, 0.0), False, 0.0, 1),
        # L4: a touch exactly 30 days before the lead's session still counts
        (("instagram", "facebook"), (30.0, 0.0), True, 1.0, 1),
        # L5: one second more and it does not
        (("direct",), (0.0,), True, 1.0, 1),
    }
    assert (got.n_unattributed, got.n_conversions, got.n_total) == (2, 4, 6)  # L3 and the form lead L6
    assert got.channels == ("direct", "facebook", "instagram", "x")
    assert "2 leads had no session in the lookback window" in str(got)


def test_labels_of_posts_without_the_attribute_and_unknown_posts(tiny_lineage: duckdb.DuckDBPyConnection) -> None:
    got = journeys(tiny_lineage, touch="prompt", lookback_days=60)
    # with 60 days, L2's journey reaches back to s6, whose post was never loaded
    assert (("(unknown post)", "benefit v1"), (39.0, 0.0), True, 1.0, 1) in entries(got)
    assert (("(none)", "direct", "hook v2"), (20.0, 10.0, 0.0), True, 1.0, 1) in entries(got)
    assert set(got.channels) == {"(none)", "(unknown post)", "benefit v1", "direct", "hook v2"}
    origins = journeys(tiny_lineage, touch="origin")
    assert set(origins.channels) == {"ai", "ai_edited", "direct", "human"}


def test_conversions_and_revenue(tiny_lineage: duckdb.DuckDBPyConnection) -> None:
    qualified = journeys(tiny_lineage, conversion="qualified")
    assert qualified.n_conversions == 2  # L1 (won) and L4
    assert (("x",), (0.0,), False, 0.0, 1) in entries(qualified)  # L2 did not qualify: a non-converting journey
    won = journeys(tiny_lineage, conversion="won", value="revenue")
    assert (won.n_conversions, won.total_value, won.n_unattributed) == (1, 1000.0, 0)
    assert (("facebook", "direct", "instagram"), (20.0, 10.0, 0.0), True, 1000.0, 1) in entries(won)


def test_the_period_selects_journey_ends_and_earlier_leads_still_reset(tiny_lineage: duckdb.DuckDBPyConnection) -> None:
    got = journeys(tiny_lineage, start=day(21).date(), end="2026-04-11")
    assert entries(got) == {
        (("facebook",), (0.0,), False, 0.0, 1),  # u1 after L1 (which ended before the period: it still resets)
        (("x",), (0.0,), True, 1.0, 1),
        (("instagram", "facebook"), (30.0, 0.0), True, 1.0, 1),
        (("direct",), (0.0,), True, 1.0, 1),
    }  # u3's sessions all came before the period
    assert got.n_unattributed == 1  # L3; the form lead L6 came before the period


def test_an_empty_period_gives_no_journeys(tiny_lineage: duckdb.DuckDBPyConnection) -> None:
    got = journeys(tiny_lineage, start="2030-01-01")
    assert (got.n_total, got.n_conversions, got.channels) == (0, 0, ())
    result = attribute(got)
    assert result.credits == ()
    assert "No journey converts" in str(result)


def _python_journeys(con: duckdb.DuckDBPyConnection, lookback_days: float) -> Journeys:
    """The documented rules in plain Python over marts.lineage rows (labels by platform)."""
    rows = con.execute(
        """SELECT session_id, user_id, started_at, lead_id, lead_created_at, is_lead,
                  CASE WHEN post_id IS NULL THEN 'direct' WHEN platform IS NULL THEN '(unknown post)' ELSE platform END
           FROM marts.lineage"""
    ).fetchall()
    sessions: dict[str, list[tuple[dt.datetime, str, str]]] = defaultdict(list)
    leads: dict[str, list[tuple[dt.datetime, str, dt.datetime]]] = defaultdict(list)
    n_leads = 0
    for session_id, user, started, lead_id, created, is_lead, label in rows:
        n_leads += bool(is_lead)
        if user is None:
            continue
        if session_id is not None:
            sessions[user].append((started, session_id, label))
        if is_lead:
            leads[user].append((started or created, lead_id, created))
    lookback = dt.timedelta(days=lookback_days)
    paths: list[list[str]] = []
    ages: list[list[int]] = []
    converted: list[bool] = []

    def add(touches: list[tuple[dt.datetime, str, str]], ended: dt.datetime, conv: bool) -> None:
        if touches:
            paths.append([t[2] for t in touches])
            ages.append([max(0, math.floor((ended - t[0]).total_seconds() / 86400)) for t in touches])
            converted.append(conv)

    for user, own in sessions.items():
        own.sort()
        previous = None
        for anchor, _, created in sorted(leads.get(user, [])):
            add([t for t in own if within(t[0], anchor, lookback, previous)], created, True)
            previous = anchor
        last = own[-1][0]
        if previous is None or last > previous:
            add([t for t in own if within(t[0], last, lookback, previous)], last, False)
    result = Journeys.from_paths(paths, converted, ages_days=ages)
    assert result.n_conversions <= n_leads
    return result


def within(at: dt.datetime, anchor: dt.datetime, lookback: dt.timedelta, previous: dt.datetime | None) -> bool:
    """A session at ``at`` is a touch of the journey anchored at ``anchor`` that follows a lead at ``previous``."""
    return at <= anchor and anchor - at <= lookback and (previous is None or at > previous)


@pytest.mark.parametrize("lookback_days", [30, 7])
def test_the_demo_journeys_match_a_python_implementation(
    demo_con: duckdb.DuckDBPyConnection, lookback_days: int
) -> None:
    got = journeys(demo_con, lookback_days=lookback_days)
    expected = _python_journeys(demo_con, lookback_days)
    assert entries(got) == entries(expected)
    # every chatbot lead names its session, so every one of them is attributable; form and event leads are not
    assert (got.n_conversions, got.n_unattributed) == (1957, 1100)


def test_the_one_query_returns_each_distinct_journey_once(demo_con: duckdb.DuckDBPyConnection) -> None:
    got = journeys(demo_con)
    keys = list(zip(got.paths, got.ages_days, got.is_converted, got.values, strict=True))
    assert len(keys) == len(set(keys))
    assert got.n_total == sum(got.n_journeys) and max(got.n_journeys) > 100  # "direct", once, with its count
