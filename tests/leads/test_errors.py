"""Every public callable of insights.leads refuses a wrong call with the one sentence shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pytest

import insights.leads as leads
from tests.test_parameter_errors import assert_one_sentence, missing_wrong_calls

#: results are built by the functions that return them, not by callers
RESULTS = {"Attribution", "ChannelCredit", "Journeys", "LeadFunnel", "StageRow"}

JOURNEYS = leads.Journeys.from_paths([["a", "b"], ["b"]], [True, False])


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(":memory:")
    yield connection
    connection.close()


def wrong_calls(con: Any) -> dict[str, Callable[[], object]]:
    return {
        # one per public callable (the first of each name is the one the coverage test counts)
        "attribute": lambda: leads.attribute(JOURNEYS, ["last_click"]),
        "journeys": lambda: leads.journeys(con, touch="tiktok"),
        "lead_funnel": lambda: leads.lead_funnel(None),  # type: ignore[arg-type]
        "Journeys.from_paths": lambda: leads.Journeys.from_paths([[]], [True]),
        # and the other rules
        "attribute journeys": lambda: leads.attribute([["a"]]),  # type: ignore[arg-type]
        "attribute models empty": lambda: leads.attribute(JOURNEYS, []),
        "attribute models repeated": lambda: leads.attribute(JOURNEYS, ["linear", "linear"]),
        "attribute models str": lambda: leads.attribute(JOURNEYS, "linear"),
        "attribute half_life_days": lambda: leads.attribute(JOURNEYS, half_life_days=0),
        "attribute position_weights sum": lambda: leads.attribute(JOURNEYS, position_weights=(0.5, 0.5, 0.5)),
        "attribute position_weights size": lambda: leads.attribute(JOURNEYS, position_weights=(0.5, 0.5)),
        "attribute bootstrap": lambda: leads.attribute(JOURNEYS, bootstrap=-1),
        "attribute ci_level": lambda: leads.attribute(JOURNEYS, ci_level=95),
        "attribute seed": lambda: leads.attribute(JOURNEYS, seed=1.5),  # type: ignore[arg-type]
        "journeys con": lambda: leads.journeys("warehouse.duckdb"),  # type: ignore[arg-type]
        "journeys start": lambda: leads.journeys(con, start="last week"),
        "journeys end before start": lambda: leads.journeys(con, start="2026-02-01", end="2026-01-01"),
        "journeys lookback_days": lambda: leads.journeys(con, lookback_days=-3),
        "journeys conversion": lambda: leads.journeys(con, conversion="purchase"),
        "journeys value": lambda: leads.journeys(con, value="profit"),
        "journeys revenue of leads": lambda: leads.journeys(con, value="revenue"),
        "lead_funnel by": lambda: leads.lead_funnel(con, by="weather"),
        "lead_funnel as_of": lambda: leads.lead_funnel(con, as_of=20260301),  # type: ignore[arg-type]
        "lead_funnel end": lambda: leads.lead_funnel(con, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 1)),
        "lead_funnel min_age_days stage": lambda: leads.lead_funnel(con, min_age_days={"new": 1}),
        "lead_funnel min_age_days value": lambda: leads.lead_funnel(con, min_age_days={"mql": -1}),
        "lead_funnel min_age_days type": lambda: leads.lead_funnel(con, min_age_days=3),  # type: ignore[arg-type]
        "lead_funnel ci_level": lambda: leads.lead_funnel(con, ci_level=1.0),
        "from_paths paths": lambda: leads.Journeys.from_paths("ab", [True]),  # type: ignore[arg-type]
        "from_paths is_converted length": lambda: leads.Journeys.from_paths([["a"]], [True, False]),
        "from_paths is_converted type": lambda: leads.Journeys.from_paths([["a"]], [1]),  # type: ignore[list-item]
        "from_paths n_journeys": lambda: leads.Journeys.from_paths([["a"]], [True], n_journeys=[0]),
        "from_paths values": lambda: leads.Journeys.from_paths([["a"]], [True], values=[-1.0], value="revenue"),
        "from_paths values of counts": lambda: leads.Journeys.from_paths([["a"]], [True], values=[3.0]),
        "from_paths ages_days": lambda: leads.Journeys.from_paths([["a", "b"]], [True], ages_days=[[1]]),
        "from_paths channels": lambda: leads.Journeys.from_paths([["a", "b"]], [True], channels=["a"]),
        "from_paths value": lambda: leads.Journeys.from_paths([["a"]], [True], value="margin"),
    }


def test_every_public_callable_has_a_wrong_call(con: duckdb.DuckDBPyConnection) -> None:
    # load every submodule: none may shadow a public name of the package
    import insights.leads.attribution
    import insights.leads.funnel
    import insights.leads.paths  # noqa: F401

    calls = wrong_calls(con)
    missing = missing_wrong_calls(leads, calls, RESULTS)
    assert not missing, f"add a wrong call for {missing}"
    assert "Journeys.from_paths" in calls  # the one record users build themselves


@pytest.mark.parametrize("name", sorted(wrong_calls(None)))
def test_a_wrong_call_reads_as_one_sentence(con: duckdb.DuckDBPyConnection, name: str) -> None:
    assert_one_sentence(wrong_calls(con)[name])
