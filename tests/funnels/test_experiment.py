"""Funnel steps as experiment metrics: the unit table joins the assignments, and analyze reads each step's rate over
every exposed unit (a unit with no events counts as not converted)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from insights.experiments import Proportion, analyze
from insights.funnels import Funnel

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """20 users per arm. A: 16 start a session, 5 leave a lead; B: 18 start, 10 leave a lead; the others never chat."""
    con = duckdb.connect()
    con.execute("CREATE TABLE assignments (unit_id VARCHAR, variant VARCHAR)")
    con.execute("CREATE TABLE events (session_id VARCHAR, user_id VARCHAR, ts TIMESTAMPTZ, event VARCHAR)")
    plan = {"A": (range(0, 16), range(0, 5)), "B": (range(20, 38), range(20, 30))}
    for variant, users in (("A", range(0, 20)), ("B", range(20, 40))):
        con.executemany("INSERT INTO assignments VALUES (?, ?)", [[f"u{i:02d}", variant] for i in users])
        started, captured = plan[variant]
        for i in started:
            con.execute("INSERT INTO events VALUES (?, ?, ?, 'session_start')", [f"s{i:02d}", f"u{i:02d}", T0])
            if i in captured:
                at = T0 + dt.timedelta(minutes=3)
                con.execute("INSERT INTO events VALUES (?, ?, ?, 'lead_captured')", [f"s{i:02d}", f"u{i:02d}", at])
    return con


def test_each_steps_rate_over_all_exposed_units(con: duckdb.DuckDBPyConnection) -> None:
    funnel = Funnel(["session_start", "lead_captured"], unit="user", window="7 days")
    units = funnel.units(con, events="events")  # noqa: F841  (the SQL below reads it by name)
    table = con.sql(
        """
        SELECT a.unit_id, a.variant,
               coalesce(u.reached_session_start, 0) AS reached_session_start,
               coalesce(u.reached_lead_captured, 0) AS reached_lead_captured
        FROM assignments AS a LEFT JOIN units AS u ON u.user_id = a.unit_id
        """
    )
    readout = analyze(
        table,
        [Proportion("reached_session_start"), Proportion("reached_lead_captured")],
        variant="variant",
        control="A",
    )
    assert readout.n_units == {"A": 20, "B": 20}
    effects = {r.metric: r.effect for r in readout.results}
    # 18/20 - 16/20 and 10/20 - 5/20: the denominators are every assigned user, not the users who started
    assert effects["reached_session_start"].effect == pytest.approx(0.9 - 0.8)
    assert effects["reached_lead_captured"].effect == pytest.approx(0.5 - 0.25)
    from statsmodels.stats.proportion import proportions_ztest

    # proportions_ztest([10, 5], [20, 20]) -> (1.6329931618554525, 0.10247043485974942), pooled as analyze's default
    _, p_value = proportions_ztest([10, 5], [20, 20])
    assert effects["reached_lead_captured"].p_value == pytest.approx(p_value, rel=1e-9)
