"""Every public callable of the allocation and off-policy evaluation refuses a wrong call with the one sentence
shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pandas as pd
import pytest

import insights.recommend as rec
from tests.recommend import test_errors_segments as segment_errors
from tests.test_parameter_errors import assert_one_sentence, missing_wrong_calls

#: results and records are built by the functions that return them; the exception is raised, not called
NOT_CALLED_BY_USERS = {
    "Allocation",
    "AllocationNotFoundError",
    "ArmAllocation",
    "Choices",
    "PolicyEstimate",
    "PolicyEvaluation",
    "PolicyNote",
}

ARMS = [
    {"segment": "s", "arm": "a", "mean": 0.05, "log_se": 0.1},
    {"segment": "s", "arm": "b", "mean": 0.04, "log_se": 0.1},
    {"segment": "t", "arm": "a", "mean": 0.02, "log_se": 0.2},
]
ALLOCATION = rec.thompson_allocation(ARMS, draws=100)
LOGGED = pd.DataFrame(
    {"segment": ["s", "s", "t"], "action": ["a", "b", "a"], "reward": [1.0, 0.0, 1.0], "propensity": [0.5, 0.5, 1.0]}
)
POLICY = {"s": {"a": 1.0}, "t": {"a": 1.0}}
EVALUATION = rec.evaluate_policy(LOGGED, POLICY, propensity="propensity")


def arm(**changes: object) -> list[dict[str, object]]:
    return [{**ARMS[0], **changes}]


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(":memory:")
    yield connection
    connection.close()


def wrong_calls(con: Any) -> dict[str, Callable[[], object]]:
    evaluate = rec.evaluate_policy
    return {
        # one per public callable (the first of each name is the one the coverage test counts)
        "thompson_allocation": lambda: rec.thompson_allocation(arm(mean=-1.0)),
        "read_allocation": lambda: rec.read_allocation(con, run_id=42),  # type: ignore[arg-type]
        "evaluate_policy": lambda: evaluate(LOGGED, POLICY, alpha=2.0),
        "Allocation.write": lambda: ALLOCATION.write(None),  # type: ignore[arg-type]
        "Allocation.choose": lambda: ALLOCATION.choose("nowhere", 3),
        "Allocation.probabilities": lambda: ALLOCATION.probabilities("nowhere"),
        "PolicyEvaluation.estimate": lambda: EVALUATION.estimate("best"),
        # and the other rules
        "thompson arms type": lambda: rec.thompson_allocation(42),
        "thompson arms empty": lambda: rec.thompson_allocation([]),
        "thompson arms fields": lambda: rec.thompson_allocation([{"segment": "s", "arm": "a", "mean": 0.1}]),
        "thompson arms columns": lambda: rec.thompson_allocation(pd.DataFrame(ARMS).drop(columns="log_se")),
        "thompson arms repeated": lambda: rec.thompson_allocation(ARMS + ARMS[:1]),
        "thompson arms segment": lambda: rec.thompson_allocation(arm(segment=None)),
        "thompson arms log_se": lambda: rec.thompson_allocation(arm(log_se=-0.1)),
        "thompson arms mean nan": lambda: rec.thompson_allocation(arm(mean=float("nan"))),
        "thompson arms n_posts": lambda: rec.thompson_allocation(arm(n_posts=2.5)),
        "thompson arms file": lambda: rec.thompson_allocation("missing.parquet"),
        "thompson draws": lambda: rec.thompson_allocation(ARMS, draws=0),
        "thompson seed": lambda: rec.thompson_allocation(ARMS, seed=-1),
        "thompson min_probability": lambda: rec.thompson_allocation(ARMS, min_probability=1.5),
        "thompson min_probability per segment": lambda: rec.thompson_allocation(ARMS, min_probability=0.6),
        "thompson alpha": lambda: rec.thompson_allocation(ARMS, alpha=0.0),
        "read_allocation con": lambda: rec.read_allocation("warehouse.duckdb"),  # type: ignore[arg-type]
        "write run_id": lambda: ALLOCATION.write(con, run_id=""),
        "write valid_from": lambda: ALLOCATION.write(con, valid_from="next week"),
        "write valid_to": lambda: ALLOCATION.write(con, valid_from="2026-03-09", valid_to="2026-03-02"),
        "choose n": lambda: ALLOCATION.choose("s", 0),
        "choose seed": lambda: ALLOCATION.choose("s", 3, seed=1.5),  # type: ignore[arg-type]
        "evaluate logged": lambda: evaluate(42, POLICY),
        "evaluate context": lambda: evaluate(LOGGED, POLICY, context="platform"),
        "evaluate reward query": lambda: evaluate(LOGGED, POLICY, reward="(SELECT 1)"),
        "evaluate reward type": lambda: evaluate(LOGGED.assign(reward="high"), POLICY),
        "evaluate propensity": lambda: evaluate(LOGGED, POLICY, propensity="mu"),
        "evaluate target type": lambda: evaluate(LOGGED, 42),
        "evaluate target empty": lambda: evaluate(LOGGED, {}),
        "evaluate target sum": lambda: evaluate(LOGGED, {"s": {"a": 0.5, "b": 0.4}, "t": {"a": 1.0}}),
        "evaluate target probability": lambda: evaluate(LOGGED, {"s": {"a": 1.5, "b": -0.5}, "t": "a"}),
        "evaluate target context": lambda: evaluate(LOGGED, {"s": "a"}),
        "evaluate target table": lambda: evaluate(LOGGED, pd.DataFrame({"segment": ["s"], "action": ["a"]})),
        "evaluate target repeated": lambda: evaluate(
            LOGGED, pd.DataFrame({"segment": ["s", "s", "t"], "arm": ["a", "a", "a"], "probability": [0.5, 0.5, 1.0]})
        ),
        "evaluate reward_model name": lambda: evaluate(LOGGED, POLICY, reward_model="forest"),
        "evaluate reward_model type": lambda: evaluate(LOGGED, POLICY, reward_model=42),
        "evaluate reward_model coverage": lambda: evaluate(LOGGED, POLICY, reward_model={"s": {"a": 0.5}}),
        "evaluate reward_model value": lambda: evaluate(LOGGED, POLICY, reward_model={"s": {"a": "high"}}),
        "evaluate units": lambda: evaluate(LOGGED, POLICY, units=""),
        "evaluate reward_label": lambda: evaluate(LOGGED, POLICY, reward_label=3),  # type: ignore[arg-type]
    }


def test_every_public_callable_has_a_wrong_call(con: duckdb.DuckDBPyConnection) -> None:
    # load every submodule: none may shadow a public name of the package
    import insights.recommend.ope
    import insights.recommend.thompson  # noqa: F401

    calls = {**wrong_calls(con), **segment_errors.WRONG_CALLS}  # recommend's own are tested there
    missing = missing_wrong_calls(rec, calls, NOT_CALLED_BY_USERS | segment_errors.NOT_CALLED_BY_USERS)
    assert not missing, f"add a wrong call for {missing}"


@pytest.mark.parametrize("name", sorted(wrong_calls(None)))
def test_a_wrong_call_reads_as_one_sentence(con: duckdb.DuckDBPyConnection, name: str) -> None:
    assert_one_sentence(wrong_calls(con)[name])


def test_importing_the_package_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, insights.recommend; "
        "print(sorted(m for m in ('duckdb', 'sqlglot', 'numpy', 'scipy', 'pandas', 'plotly') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
