"""Every public callable of insights.funnels refuses a wrong call in the one sentence shape of the project."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pytest

import insights.funnels as fu
from tests.test_parameter_errors import assert_one_sentence, missing_wrong_calls

#: results are built by Funnel.compute, not by callers
NOT_CALLED_BY_USERS = {"FunnelBreakdown", "FunnelGroup", "FunnelOverTime", "FunnelPeriod", "FunnelResult", "FunnelStep"}

CON = duckdb.connect()
EVENTS = CON.sql(
    "SELECT 's1' AS session_id, 'u1' AS user_id, TIMESTAMPTZ '2026-03-02 09:00:00+00' AS ts, 'a' AS event, "
    "'web' AS channel, DATE '2026-03-02' AS day"
)
AB = fu.Funnel(["a", "b"])

WRONG_CALLS: dict[str, Callable[[], object]] = {
    "Funnel": lambda: fu.Funnel(["a"]),
    "Step": lambda: fu.Step(where="SELECT * FROM secrets"),
    "wilson_interval": lambda: fu.wilson_interval(5, 3),
    "Funnel.compute": lambda: AB.compute(EVENTS, period="month"),
    "Funnel.units": lambda: AB.units(EVENTS, start="yesterday"),
    # every other parameter, once
    "Funnel steps type": lambda: fu.Funnel("a, b"),  # type: ignore[arg-type]
    "Funnel steps item": lambda: fu.Funnel(["a", 3]),  # type: ignore[list-item]
    "Funnel steps names": lambda: fu.Funnel(["a", "a"]),
    "Funnel steps event name": lambda: fu.Funnel(["a", "Lead Captured"]),
    "Funnel unit": lambda: fu.Funnel(["a", "b"], unit="account"),
    "Funnel window": lambda: fu.Funnel(["a", "b"], window="a fortnight"),
    "Funnel window sign": lambda: fu.Funnel(["a", "b"], window="0 days"),
    "Funnel mode": lambda: fu.Funnel(["a", "b"], mode="loose"),
    "Funnel exclude": lambda: fu.Funnel(["a", "b"], exclude="handoff"),  # type: ignore[arg-type]
    "Funnel where": lambda: fu.Funnel(["a", "b"], where="read_csv('x.csv') IS NULL"),
    "Step event": lambda: fu.Step(""),
    "Step name": lambda: fu.Step(where="role = 'user'"),
    "Step nothing": lambda: fu.Step(),
    "wilson alpha": lambda: fu.wilson_interval(1, 3, alpha=1.5),
    "compute con": lambda: AB.compute("events.parquet"),  # type: ignore[arg-type]
    "compute events": lambda: AB.compute(CON, events="no_such_table"),
    "compute events with a relation": lambda: AB.compute(EVENTS, events="x"),
    "compute column": lambda: fu.Funnel(["a", fu.Step(where="score > 3", name="high")]).compute(EVENTS),
    "compute exclude column": lambda: fu.Funnel(["a", "b"], exclude=[fu.Step(where="x", name="x")]).compute(EVENTS),
    "compute where column": lambda: fu.Funnel(["a", "b"], where="role = 'user'").compute(EVENTS),
    "compute unit column": lambda: fu.Funnel(["a", "b"], unit="user").compute(EVENTS.project("session_id, ts, event")),
    "compute ts type": lambda: AB.compute(EVENTS.project("session_id, day AS ts, event")),
    "compute start": lambda: AB.compute(EVENTS, start=20260302),  # type: ignore[arg-type]
    "compute end": lambda: AB.compute(EVENTS, start="2026-03-02", end="2026-03-01"),
    "compute breakdown": lambda: AB.compute(EVENTS, breakdown="colour"),
    "compute max_breakdown_values": lambda: AB.compute(EVENTS, breakdown="channel", max_breakdown_values=0),
    "compute alpha": lambda: AB.compute(EVENTS, alpha=0.0),
}


def test_every_public_callable_has_a_wrong_call() -> None:
    missing = missing_wrong_calls(fu, WRONG_CALLS, NOT_CALLED_BY_USERS)
    missing += sorted({"Funnel.compute", "Funnel.units"} - set(WRONG_CALLS))
    assert not missing, f"add a wrong call for {missing}"


@pytest.mark.parametrize("name", sorted(WRONG_CALLS))
def test_a_wrong_call_reads_as_one_sentence(name: str) -> None:
    assert_one_sentence(WRONG_CALLS[name])


def test_importing_the_package_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, insights.funnels; print(sorted(m for m in ('duckdb', 'sqlglot', 'numpy', 'plotly') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
