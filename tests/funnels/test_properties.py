"""Invariants of the engine, checked with hypothesis on random logs full of ties: it agrees with the plain-Python
reference in every mode, no step ever has more units than the one before, and the order of the rows never matters."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insights.funnels import Funnel, Step
from tests.funnels.reference import Predicate, reference_funnel

BASE = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
SECOND = 1_000_000
BASE_US = int(BASE.timestamp()) * SECOND

#: step conditions as the engine reads them (SQL) and as the reference reads them (Python)
CONDITIONS: list[tuple[Step | str, Predicate]] = [
    ("a", lambda r: r["event"] == "a"),
    ("b", lambda r: r["event"] == "b"),
    ("c", lambda r: r["event"] == "c"),
    (Step(where="role = 'user'", name="user_row"), lambda r: r["role"] == "user"),
    (Step(where="role = 'bot' AND flag", name="flagged_bot"), lambda r: r["role"] == "bot" and r["flag"] is True),
    (Step("b", where="role = 'user'", name="user_b"), lambda r: r["event"] == "b" and r["role"] == "user"),
    (Step(where="event = 'c' OR flag", name="c_or_flag"), lambda r: r["event"] == "c" or r["flag"] is True),
]
EXCLUSIONS: list[tuple[Step | str, Predicate]] = [
    ("x", lambda r: r["event"] == "x"),
    (
        Step(where="role = 'bot' AND NOT flag", name="unflagged_bot"),
        lambda r: r["role"] == "bot" and r["flag"] is False,
    ),
]
WHERES: list[tuple[str, Predicate]] = [
    ("role = 'user' OR event IS NOT NULL", lambda r: r["role"] == "user" or r["event"] is not None),
]


@st.composite
def logs(draw: st.DrawFn) -> dict[str, Any]:
    """A few units with up to a dozen rows each on a coarse clock (many equal timestamps), and a random funnel."""
    n_sessions = draw(st.integers(1, 5))
    sessions = [(f"s{i}", f"u{draw(st.integers(0, 1))}") for i in range(n_sessions)]
    rows = []
    for session_id, user_id in sessions:
        for _ in range(draw(st.integers(0, 10))):
            rows.append(
                {
                    "session_id": session_id,
                    "user_id": user_id,
                    "ts": BASE_US + draw(st.integers(0, 12)) * SECOND,
                    "event": draw(st.sampled_from([None, "a", "b", "c", "x"])),
                    "role": draw(st.sampled_from(["user", "bot"])),
                    "flag": draw(st.sampled_from([None, True, False])),
                    "session_seq": draw(st.integers(0, 3)),
                }
            )
    n_steps = draw(st.integers(2, 4))
    steps = [draw(st.sampled_from(range(len(CONDITIONS)))) for _ in range(n_steps)]
    bounds = draw(st.sampled_from([(None, None), (2, None), (None, 8), (1, 6)]))
    return {
        "rows": rows,
        "steps": steps,
        "exclusions": draw(st.sampled_from([(), (0,), (1,), (0, 1)])),
        "window": draw(st.integers(0, 6)) * SECOND + draw(st.sampled_from([0, 1])),
        "unit": draw(st.sampled_from(["session", "user"])),
        "with_seq": draw(st.booleans()),
        "where": draw(st.sampled_from([None, 0])),
        "start": None if bounds[0] is None else BASE_US + bounds[0] * SECOND,
        "end": None if bounds[1] is None else BASE_US + bounds[1] * SECOND,
    }


def relation(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], with_seq: bool) -> duckdb.DuckDBPyRelation:
    columns: dict[str, Any] = {
        "session_id": pa.array([r["session_id"] for r in rows], pa.string()),
        "user_id": pa.array([r["user_id"] for r in rows], pa.string()),
        "ts": pa.array([r["ts"] for r in rows], pa.timestamp("us", tz="UTC")),
        "event": pa.array([r["event"] for r in rows], pa.string()),
        "role": pa.array([r["role"] for r in rows], pa.string()),
        "flag": pa.array([r["flag"] for r in rows], pa.bool_()),
    }
    if with_seq:
        columns["session_seq"] = pa.array([r["session_seq"] for r in rows], pa.int64())
    return con.from_arrow(pa.table(columns))


def funnel_of(case: dict[str, Any], mode: str) -> Funnel:
    steps = []
    for position, index in enumerate(case["steps"]):
        spec = CONDITIONS[index][0]
        step = Step(spec) if isinstance(spec, str) else spec
        # the same condition may come twice: each step gets its own name
        steps.append(Step(step.event, step.where, name=f"step_{position + 1}"))
    return Funnel(
        steps,
        unit=case["unit"],
        window=dt.timedelta(microseconds=case["window"]) if case["window"] else dt.timedelta(microseconds=1),
        mode=mode,
        exclude=[EXCLUSIONS[i][0] for i in case["exclusions"]],
        where=None if case["where"] is None else WHERES[case["where"]][0],
    )


def reference_of(case: dict[str, Any], mode: str) -> dict[Any, Any]:
    rows = case["rows"] if case["with_seq"] else [{**r, "session_seq": None} for r in case["rows"]]
    return reference_funnel(
        rows,
        unit="session_id" if case["unit"] == "session" else "user_id",
        steps=[CONDITIONS[i][1] for i in case["steps"]],
        exclusions=[EXCLUSIONS[i][1] for i in case["exclusions"]],
        mode=mode,
        window=case["window"] or 1,
        start=case["start"],
        end=case["end"],
        where=None if case["where"] is None else WHERES[case["where"]][1],
    )


def instant(micros: int | None) -> dt.datetime | None:
    return None if micros is None else BASE + dt.timedelta(microseconds=micros - BASE_US)


RUN = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: the invariants below need fewer examples than the comparison with the reference, which covers them too
QUICK = settings(RUN, max_examples=25)


@pytest.mark.parametrize("mode", ["ordered", "strict", "any_order"])
@RUN
@given(case=logs())
def test_the_engine_agrees_with_the_reference(mode: str, case: dict[str, Any]) -> None:
    con = duckdb.connect()
    events = relation(con, case["rows"], case["with_seq"])
    funnel = funnel_of(case, mode)
    expected = reference_of(case, mode)
    bounds = {"start": instant(case["start"]), "end": instant(case["end"])}

    got = {row[0]: row[1:] for row in funnel.units(events, **bounds).fetchall()}
    # a unit whose rows match no step may be absent from the engine's table: it never entered
    for unit, outcome in expected.items():
        furthest = 0 if outcome.excluded else outcome.furthest
        row = got.get(unit)
        if row is None:
            assert outcome.furthest == 0 and not outcome.excluded, unit
            continue
        entered_at, is_excluded, engine_furthest, *reached = row
        assert (engine_furthest, bool(is_excluded)) == (furthest, outcome.excluded), (unit, outcome)
        assert reached == [int(furthest >= k) for k in range(1, len(case["steps"]) + 1)]
        assert (entered_at is not None) == (outcome.furthest >= 1 or outcome.excluded)

    result = funnel.compute(events, **bounds)
    kept = [o for o in expected.values() if not o.excluded]
    assert [s.n_units for s in result.steps] == [
        sum(1 for o in kept if o.furthest >= k) for k in range(1, len(case["steps"]) + 1)
    ]
    assert result.n_excluded == sum(1 for o in expected.values() if o.excluded)
    for step in result.steps[1:]:
        waits = [o.waits[step.step] / SECOND for o in kept if o.furthest >= step.step]
        if not waits:
            assert step.median_seconds is None and step.p90_seconds is None
            continue
        # the engine's quantile_cont interpolates linearly, as numpy's default does
        median, p90 = np.quantile(waits, [0.5, 0.9])
        assert step.median_seconds == pytest.approx(median, abs=1e-9)
        assert step.p90_seconds == pytest.approx(p90, abs=1e-9)


@QUICK
@given(case=logs(), mode=st.sampled_from(["ordered", "strict", "any_order"]), seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_change_any_number(case: dict[str, Any], mode: str, seed: int) -> None:
    con = duckdb.connect()
    shuffled = list(case["rows"])
    random.Random(seed).shuffle(shuffled)
    funnel = funnel_of(case, mode)
    bounds = {"start": instant(case["start"]), "end": instant(case["end"])}
    results = [
        funnel.compute(relation(con, rows, case["with_seq"]), breakdown="role", **bounds)
        for rows in (case["rows"], shuffled)
    ]
    assert results[0] == results[1]
    units = [
        sorted(funnel.units(relation(con, rows, case["with_seq"]), **bounds).fetchall())
        for rows in (case["rows"], shuffled)
    ]
    assert units[0] == units[1]


@QUICK
@given(case=logs(), mode=st.sampled_from(["ordered", "strict", "any_order"]))
def test_no_step_has_more_units_than_the_one_before(case: dict[str, Any], mode: str) -> None:
    con = duckdb.connect()
    result = funnel_of(case, mode).compute(relation(con, case["rows"], case["with_seq"]), breakdown="role")
    tables = [[s.n_units for s in result.steps]]
    tables += [list(p.n_units) for p in result.over_time.periods]
    assert result.breakdown is not None
    tables += [list(g.n_units) for g in result.breakdown.groups]
    for counts in tables:
        assert all(later <= earlier for earlier, later in itertools.pairwise(counts)), counts
    for step in result.steps:
        for rate in (step.overall_rate, step.step_rate):
            assert rate is None or 0 <= rate <= 1
        assert step.overall_ci_low is None or step.overall_ci_low <= (step.overall_rate or 0) <= (
            step.overall_ci_high or 0
        )
    assert not any(math.isnan(s.median_seconds or 0) for s in result.steps)
