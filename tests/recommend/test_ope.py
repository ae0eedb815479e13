"""Off-policy evaluation: a hand-worked example, a per-row reference implementation, simulations with a known truth,
invariants, and the planted content mix of the demo warehouse."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb
import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from insights.datasets.posts import in_best_slot
from insights.errors import InvalidParameterError
from insights.recommend import PolicyEvaluation, evaluate_policy, thompson_allocation

COLUMNS = {"context": "segment", "action": "action", "reward": "reward"}


def frame(rows: list[tuple[str, str, float, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["segment", "action", "reward", "propensity"])


# The hand-worked example: six logged decisions in two contexts.
#   row  context action reward mu    target pi(a|x)  w = pi/mu
#   1    A       a1     1      1/2   1               2
#   2    A       a1     0      1/2   1               2
#   3    A       a2     1      1/2   0               0
#   4    B       a1     0      1/4   1/2             2
#   5    B       a2     1      3/4   1/2             2/3
#   6    B       a2     0      3/4   1/2             2/3
HAND = frame(
    [
        ("A", "a1", 1.0, 0.5),
        ("A", "a1", 0.0, 0.5),
        ("A", "a2", 1.0, 0.5),
        ("B", "a1", 0.0, 0.25),
        ("B", "a2", 1.0, 0.75),
        ("B", "a2", 0.0, 0.75),
    ]
)
HAND_TARGET = {"A": {"a1": 1.0}, "B": {"a1": 0.5, "a2": 0.5}}


def test_a_hand_worked_example() -> None:
    result = evaluate_policy(HAND, HAND_TARGET, propensity="propensity", **COLUMNS)
    logging, ips, snips, dr = (result.estimate(e) for e in ("logging", "ips", "snips", "dr"))
    # logged mean reward: 3 / 6
    assert logging.value == pytest.approx(0.5, abs=1e-15)
    # IPS: terms w r = (2, 0, 0, 0, 2/3, 0), sum 8/3, mean 4/9
    assert ips.value == pytest.approx(4 / 9, abs=1e-15)
    # sample variance of the terms: (sum t^2 - n mean^2) / (n - 1) = (40/9 - 6 * 16/81) / 5 = 88/135; se = sqrt(88/135/6)
    assert ips.se == pytest.approx(math.sqrt(88 / 135 / 6), rel=1e-12)
    # lift terms w r - r = (1, 0, -1, 0, -1/3, 0): mean -1/18, variance (19/9 - 6/324) / 5 = 113/270
    assert ips.lift == pytest.approx(-1 / 18, abs=1e-15)
    assert ips.lift_ci_high - ips.lift == pytest.approx(1.959963984540054 * math.sqrt(113 / 270 / 6), rel=1e-12)
    # SNIPS: sum(w r) / sum(w) = (8/3) / (22/3) = 4/11; influence (w r - V w) / mean(w) with mean(w) = 11/9:
    # w r - V w = (14/11, -8/11, 0, -8/11, 14/33, -8/33), squares sum to 3176/1089 (their mean is 0)
    assert snips.value == pytest.approx(4 / 11, abs=1e-15)
    assert snips.se == pytest.approx(math.sqrt(3176 / 1089 / (11 / 9) ** 2 / 5 / 6), rel=1e-12)
    # ESS = (sum w)^2 / sum w^2 = (22/3)^2 / (116/9) = 121/29; the largest weight is 2
    assert result.ess == pytest.approx(121 / 29, rel=1e-12)
    assert ips.ess == snips.ess == dr.ess == result.ess and logging.ess == 6
    assert result.max_weight == pytest.approx(2.0)
    # DR with cell means q = (A,a1) 1/2, (A,a2) 1, (B,a1) 0, (B,a2) 1/2: direct values DM(A) = 1/2, DM(B) = 1/4;
    # the mu are constant within each cell, so the residuals cancel per cell and DR = (3/2 + 3/4) / 6 = 3/8
    assert dr.value == pytest.approx(3 / 8, abs=1e-15)
    # per-row DR terms: 1/2 + 2 (1 - 1/2) = 3/2, -1/2, 1/2, 1/4, 1/4 + 2/3 * 1/2 = 7/12, -1/12
    terms = np.array([1.5, -0.5, 0.5, 0.25, 7 / 12, -1 / 12])
    assert dr.se == pytest.approx(terms.std(ddof=1) / math.sqrt(6), rel=1e-12)
    # a given model q = (A,a1) .4, (A,a2) .9, (B,a1) .1, (B,a2) .6: DM(A) = .4, DM(B) = .35, terms
    # .4 + 2(.6) = 1.6, .4 + 2(-.4) = -.4, .4, .35 + 2(-.1) = .15, .35 + 2/3(.4) = 37/60, .35 + 2/3(-.6) = -.05;
    # sum 139/60, so DR = 139/360
    model = {"A": {"a1": 0.4, "a2": 0.9}, "B": {"a1": 0.1, "a2": 0.6}}
    given_model = evaluate_policy(HAND, HAND_TARGET, propensity="propensity", reward_model=model, **COLUMNS)
    assert given_model.estimate("dr").value == pytest.approx(139 / 360, abs=1e-15)
    assert given_model.estimate("ips").value == pytest.approx(4 / 9, abs=1e-15)
    assert result.n_rows == result.n_read == 6 and result.n_contexts == 2
    assert result.is_rate and result.note_codes == ("small_ess",)  # an effective 4 rows


def reference(
    data: pd.DataFrame, target: dict[str, dict[str, float]], q: dict[tuple[str, str], float], alpha: float = 0.05
) -> dict[str, tuple[float, float]]:
    """The estimators and their standard errors computed row by row, the textbook way (an independent check)."""
    x, a = data["segment"].to_numpy(), data["action"].to_numpy()
    r, mu = data["reward"].to_numpy(float), data["propensity"].to_numpy(float)
    pi = np.array([target[xi].get(ai, 0.0) for xi, ai in zip(x, a, strict=True)])
    w = pi / mu
    n = len(r)
    direct = np.array([sum(p * q[(xi, b)] for b, p in target[xi].items()) for xi in x])
    dr_terms = direct + w * (r - np.array([q[(xi, ai)] for xi, ai in zip(x, a, strict=True)]))
    v_snips = (w * r).sum() / w.sum()
    snips_influence = (w * r - v_snips * w) / w.mean()

    def se(terms: np.ndarray) -> float:
        return float(terms.std(ddof=1) / math.sqrt(n))

    return {
        "logging": (r.mean(), se(r)),
        "ips": ((w * r).mean(), se(w * r)),
        "snips": (v_snips, se(snips_influence)),
        "dr": (dr_terms.mean(), se(dr_terms)),
        "ess": (w.sum() ** 2 / (w**2).sum(), float("nan")),
        "ips_lift": ((w * r - r).mean(), se(w * r - r)),
        "snips_lift": (v_snips - r.mean(), se(snips_influence - r)),
        "dr_lift": ((dr_terms - r).mean(), se(dr_terms - r)),
    }


def random_log(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Three contexts, three actions; propensities that vary within a (context, action) cell, as when the logging
    policy also used features the evaluation does not see; action c is never taken in context z."""
    x = rng.choice(["x", "y", "z"], size=n, p=[0.5, 0.3, 0.2])
    a = np.where(x == "z", rng.choice(["a", "b"], size=n), rng.choice(["a", "b", "c"], size=n))
    mu = rng.uniform(0.1, 0.9, size=n)
    r = rng.normal(1.0, 0.5, size=n) + (a == "b") * 0.3
    return pd.DataFrame({"segment": x, "action": a, "reward": r, "propensity": mu})


def test_the_grouped_sums_give_what_a_row_by_row_computation_gives() -> None:
    data = random_log(np.random.default_rng(3), 400)
    target = {"x": {"a": 0.2, "b": 0.5, "c": 0.3}, "y": {"b": 1.0}, "z": {"b": 0.6, "c": 0.4}}
    cells = data.groupby(["segment", "action"])["reward"].mean().to_dict()
    by_action = data.groupby("action")["reward"].mean().to_dict()
    q = {**cells, ("z", "c"): by_action["c"]}  # the documented fallback: the action's mean over all contexts
    expected = reference(data, target, q)
    result = evaluate_policy(data, target, propensity="propensity", **COLUMNS)
    for name in ("logging", "ips", "snips", "dr"):
        e = result.estimate(name)
        assert e.value == pytest.approx(expected[name][0], rel=1e-10), name
        assert e.se == pytest.approx(expected[name][1], rel=1e-9), name
        if name != "logging":
            assert e.lift == pytest.approx(expected[f"{name}_lift"][0], rel=1e-9, abs=1e-12), name
            z = 1.959963984540054  # scipy.stats.norm.ppf(0.975)
            assert (e.lift_ci_high - e.lift) / z == pytest.approx(expected[f"{name}_lift"][1], rel=1e-9), name
    assert result.ess == pytest.approx(expected["ess"][0], rel=1e-10)
    assert "no_support" in result.note_codes and "model_extrapolated" in result.note_codes
    assert not result.is_rate


def test_a_simulation_with_a_known_logging_policy_recovers_the_true_value() -> None:
    rng = np.random.default_rng(20260301)
    n = 20_000
    p_context = {"x": 0.5, "y": 0.3, "z": 0.2}
    logging = {"x": {"a": 0.6, "b": 0.3, "c": 0.1}, "y": {"a": 0.2, "b": 0.2, "c": 0.6}, "z": {"a": 0.5, "b": 0.5}}
    means = {
        "x": {"a": 0.05, "b": 0.08, "c": 0.12},
        "y": {"a": 0.10, "b": 0.04, "c": 0.06},
        "z": {"a": 0.02, "b": 0.03},
    }
    target = {"x": {"c": 1.0}, "y": {"a": 0.7, "b": 0.3}, "z": {"b": 1.0}}
    # the target's value: sum_x p(x) sum_a pi(a|x) m(x, a) = .5 * .12 + .3 * (.7 * .10 + .3 * .04) + .2 * .03
    truth = 0.5 * 0.12 + 0.3 * (0.7 * 0.10 + 0.3 * 0.04) + 0.2 * 0.03
    data = simulate(rng, n, p_context, logging, means)
    result = evaluate_policy(data, target, propensity="propensity", **COLUMNS)
    for name in ("ips", "snips", "dr"):
        e = result.estimate(name)
        assert e.ci_low < truth < e.ci_high, (name, e)
    logged_value = sum(p_context[x] * sum(logging[x][a] * means[x][a] for a in logging[x]) for x in p_context)
    assert result.estimate("logging").ci_low < logged_value < result.estimate("logging").ci_high
    assert result.estimate("dr").lift_ci_low < truth - logged_value < result.estimate("dr").lift_ci_high


def simulate(
    rng: np.random.Generator,
    n: int,
    p_context: dict[str, float],
    logging: dict[str, dict[str, float]],
    means: dict[str, dict[str, float]],
) -> pd.DataFrame:
    x = rng.choice(list(p_context), size=n, p=list(p_context.values()))
    actions = np.empty(n, dtype=object)
    for context, mix in logging.items():
        pick = x == context
        actions[pick] = rng.choice(list(mix), size=int(pick.sum()), p=list(mix.values()))
    mu = np.array([logging[xi][ai] for xi, ai in zip(x, actions, strict=True)])
    m = np.array([means[xi][ai] for xi, ai in zip(x, actions, strict=True)])
    r = rng.binomial(1, m).astype(float)
    return pd.DataFrame({"segment": x, "action": actions.astype(str), "reward": r, "propensity": mu})


@pytest.mark.slow
def test_the_estimators_are_unbiased_and_their_intervals_cover_over_many_logs() -> None:
    # 300 logs of 2,000 decisions: the mean estimate must sit within 4 standard errors (of that mean) of the truth,
    # and the 95% intervals must cover it in 95% +- 4 binomial standard errors (3.5 points) of the logs
    rng = np.random.default_rng(77)
    p_context = {"x": 0.6, "y": 0.4}
    logging = {"x": {"a": 0.7, "b": 0.3}, "y": {"a": 0.4, "b": 0.6}}
    means = {"x": {"a": 0.3, "b": 0.5}, "y": {"a": 0.6, "b": 0.2}}
    target = {"x": {"b": 1.0}, "y": {"a": 0.5, "b": 0.5}}
    truth = 0.6 * 0.5 + 0.4 * (0.5 * 0.6 + 0.5 * 0.2)
    reps = 300
    values: dict[str, list[float]] = {"ips": [], "snips": [], "dr": []}
    covered = dict.fromkeys(values, 0)
    for _ in range(reps):
        result = evaluate_policy(
            simulate(rng, 2000, p_context, logging, means), target, propensity="propensity", **COLUMNS
        )
        for name in values:
            e = result.estimate(name)
            values[name].append(e.value)
            covered[name] += e.ci_low < truth < e.ci_high
    bound = 4 * math.sqrt(0.95 * 0.05 / reps)
    for name, series in values.items():
        estimates = np.array(series)
        assert abs(estimates.mean() - truth) < 4 * estimates.std(ddof=1) / math.sqrt(reps), name
        assert abs(covered[name] / reps - 0.95) < bound, (name, covered[name])


def test_the_logging_policy_as_target_has_an_effective_sample_of_every_row() -> None:
    rng = np.random.default_rng(5)
    logging = {"x": {"a": 0.7, "b": 0.3}, "y": {"a": 0.25, "b": 0.75}}
    data = simulate(rng, 3000, {"x": 0.5, "y": 0.5}, logging, {"x": {"a": 0.3, "b": 0.5}, "y": {"a": 0.6, "b": 0.2}})
    result = evaluate_policy(data, logging, propensity="propensity", **COLUMNS)
    assert result.ess == pytest.approx(3000, rel=1e-12)
    assert result.max_weight == pytest.approx(1.0, rel=1e-12)
    mean = data["reward"].mean()
    for name in ("ips", "snips"):
        assert result.estimate(name).value == pytest.approx(mean, rel=1e-12), name
    # DR adds mean(sum_a mu(a|x) q(x, a) - q(x, a_i)), zero only in expectation: the drawn shares of the actions
    # differ from mu; its lift over the logged mean is within noise
    dr = result.estimate("dr")
    assert dr.lift_ci_low < 0 < dr.lift_ci_high and abs(dr.lift) < 0.01
    # with estimated propensities, the empirical logging policy (each action's share in its context) as the target
    # gives every row weight 1: all three estimators are the logged mean
    shares = data.groupby("segment")["action"].value_counts(normalize=True)
    empirical: dict[str, dict[str, float]] = {}
    for (x, a), share in shares.items():
        empirical.setdefault(x, {})[a] = float(share)
    estimated = evaluate_policy(data, empirical, **COLUMNS)
    assert estimated.ess == pytest.approx(3000, rel=1e-12)
    for name in ("ips", "snips", "dr"):
        assert estimated.estimate(name).value == pytest.approx(mean, rel=1e-12), name


def test_doubly_robust_is_the_model_value_when_the_model_is_exact_and_the_residuals_zero() -> None:
    rng = np.random.default_rng(8)
    means = {"x": {"a": 0.3, "b": 0.5, "c": 0.1}, "y": {"a": 0.6, "b": 0.2, "c": 0.9}}
    logging = {"x": {"a": 0.5, "b": 0.4, "c": 0.1}, "y": {"a": 0.3, "b": 0.3, "c": 0.4}}
    data = simulate(rng, 1000, {"x": 0.5, "y": 0.5}, logging, means)
    data["reward"] = [means[x][a] for x, a in zip(data["segment"], data["action"], strict=True)]
    target = {"x": {"a": 0.5, "c": 0.5}, "y": {"c": 1.0}}
    result = evaluate_policy(data, target, propensity="propensity", reward_model=means, **COLUMNS)
    direct = np.where(data["segment"] == "x", 0.5 * 0.3 + 0.5 * 0.1, 0.9)
    dr = result.estimate("dr")
    assert dr.value == pytest.approx(direct.mean(), rel=1e-12)
    assert dr.se == pytest.approx(direct.std(ddof=1) / math.sqrt(1000), rel=1e-9)
    # a model table (columns segment, action, predicted_reward) says the same as the mapping
    table = pd.DataFrame(
        [(x, a, m) for x, arms in means.items() for a, m in arms.items()],
        columns=["segment", "action", "predicted_reward"],
    )
    as_table = evaluate_policy(data, target, propensity="propensity", reward_model=table, **COLUMNS)
    assert as_table.estimate("dr").value == pytest.approx(dr.value, rel=1e-12)


def same_rows(first: list[dict[str, Any]], second: list[dict[str, Any]], rel: float = 1e-9) -> bool:
    """Equal rows: numbers to `rel` (NaN equals NaN), everything else exactly."""
    if len(first) != len(second):
        return False
    for one, other in zip(first, second, strict=True):
        if one.keys() != other.keys():
            return False
        for key, value in one.items():
            if isinstance(value, float):
                if math.isnan(value) != math.isnan(other[key]):
                    return False
                if not math.isnan(value) and other[key] != pytest.approx(value, rel=rel, abs=1e-12):
                    return False
            elif value != other[key]:
                return False
    return True


row = st.tuples(
    st.sampled_from(["x", "y"]),
    st.sampled_from(["a", "b", "c"]),
    st.floats(-5, 5, allow_nan=False),
    st.floats(0.05, 1.0),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(row, min_size=3, max_size=30), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_row_order(rows: list[tuple[str, str, float, float]], shuffler: Any) -> None:
    data = frame(list(rows))
    shuffled = list(rows)
    shuffler.shuffle(shuffled)
    target = {"x": {"a": 0.5, "b": 0.5}, "y": {"c": 1.0}}
    contexts = {r[0] for r in rows}
    target = {x: p for x, p in target.items() if x in contexts}
    first = evaluate_policy(data, target, propensity="propensity", **COLUMNS)
    second = evaluate_policy(frame(shuffled), target, propensity="propensity", **COLUMNS)
    assert first.note_codes == second.note_codes
    # the engine adds rows in any order: equal up to rounding, which a nearly constant combination of correlated
    # columns (the SNIPS influence when the rewards barely differ) amplifies to about 1e-10
    assert same_rows(first.rows(), second.rows(), rel=1e-7)


def test_every_kind_of_logged_table_gives_the_same_answer(tmp_path: Path) -> None:
    import polars as pl

    data = random_log(np.random.default_rng(1), 200)
    data.to_parquet(tmp_path / "log.parquet")
    target = {"x": {"a": 1.0}, "y": {"b": 1.0}, "z": {"a": 0.5, "b": 0.5}}
    expected = evaluate_policy(data, target, propensity="propensity", **COLUMNS).rows()
    con = duckdb.connect()
    for logged in (
        pl.from_pandas(data),
        tmp_path / "log.parquet",
        str(tmp_path / "log.parquet"),
        con.sql("SELECT * FROM read_parquet(?)", params=[str(tmp_path / "log.parquet")]),
    ):
        rows = evaluate_policy(logged, target, propensity="propensity", **COLUMNS).rows()
        assert same_rows(expected, rows), type(logged).__name__
    # the target as a table, with the logged data's column names or as segment/arm/probability
    as_table = pd.DataFrame(
        [("x", "a", 1.0), ("y", "b", 1.0), ("z", "a", 0.5), ("z", "b", 0.5)], columns=["segment", "arm", "probability"]
    )
    rows = evaluate_policy(data, as_table, propensity="propensity", **COLUMNS).rows()
    assert same_rows(expected, rows)


def test_an_allocation_is_a_policy_to_evaluate() -> None:
    data = random_log(np.random.default_rng(2), 300)
    allocation = thompson_allocation(
        [
            {"segment": x, "arm": a, "mean": 0.05 + 0.01 * i, "log_se": 0.3}
            for x in ("x", "y", "z")
            for i, a in enumerate(("a", "b"))
        ],
        seed=1,
    )
    from_allocation = evaluate_policy(data, allocation, propensity="propensity", **COLUMNS)
    from_mapping = evaluate_policy(data, allocation.as_policy(), propensity="propensity", **COLUMNS)
    assert same_rows(from_allocation.rows(), from_mapping.rows(), rel=0.0)


def test_the_notes_say_what_limits_the_estimates() -> None:
    rows = [
        ("A", "a1", 1.0, 0.5),
        ("A", "a1", 0.0, None),  # no propensity
        ("A", "a2", 1.0, 0.0),  # a taken action with probability 0
        ("A", "a2", 1.0, 1.5),  # not a probability
        ("B", "a1", float("nan"), 0.5),  # no reward
        ("B", "a1", 0.0, 0.25),
    ]
    result = evaluate_policy(frame(rows), {"A": {"a1": 0.5, "a3": 0.5}, "B": "a1"}, propensity="propensity", **COLUMNS)
    assert result.note_codes == (
        "missing_values",
        "propensity_missing",
        "propensity_zero",
        "propensity_above_one",
        "model_extrapolated",
        "no_support",
        "small_ess",
    )
    assert result.n_read == 6 and result.n_rows == 2
    text = "\n".join(result.summary_lines())
    assert "1 decisions without a logging probability were left out." in text
    assert "a3 on A" in text
    # the target's mass on never-logged actions, averaged over the logged rows: context A (1 row) puts 1/2 on a3
    assert "puts 25.0% of its weight" in text

    none = evaluate_policy(frame(rows[:1]), {"A": {"a9": 1.0}}, propensity="propensity", **COLUMNS)
    assert "no_overlap" in none.note_codes and math.isnan(none.estimate("snips").value)
    assert none.estimate("ips").value == 0.0
    assert none.headline().estimator == "dr"

    empty = evaluate_policy(frame(rows[2:5]), {"A": "a1"}, propensity="propensity", **COLUMNS)
    assert empty.n_rows == 0 and "no_rows" in empty.note_codes
    assert all(math.isnan(e.value) for e in empty.estimates)
    assert "No logged row can be used" in str(empty)


def test_contexts_the_target_does_not_cover_are_refused() -> None:
    with pytest.raises(InvalidParameterError, match=r"every context of the logged data .*missing: B"):
        evaluate_policy(HAND, {"A": {"a1": 1.0}}, propensity="propensity", **COLUMNS)


def test_the_summary_reads_as_a_readout() -> None:
    result = evaluate_policy(
        HAND,
        HAND_TARGET,
        propensity="propensity",
        reward_label="engagement per impression",
        units="posts",
        policy_label="the recommendation",
        **COLUMNS,
    )
    first, second = result.summary_lines()[:2]
    assert first == (
        "Following the recommendation would have given about 37.50% engagement per impression (95% interval "
        f"{result.estimate('dr').ci_low:.2%} to {result.estimate('dr').ci_high:.2%}) against 50.00% from the logged "
        "posts; the estimate rests on an effective 4 of 6 posts."
    )
    assert second.startswith("That is -12.50 pts, -25% (95% interval")
    assert second.endswith(
        "not clearly different from what was done (doubly robust estimate; the others are in the table)."
    )
    assert result.title == "Off-policy evaluation of the recommendation"
    assert result.to_pandas()["estimator"].tolist() == ["logging", "ips", "snips", "dr"]
    assert "doubly robust" in result.to_markdown()
    assert len(result.plot().data) == 1


def demo_content_mix_sql() -> str:
    from insights.datasets.truth import EngagementTruth

    mix = EngagementTruth().content_mix
    whens = " ".join(
        f"WHEN platform = '{p}' AND content_type = '{c}' THEN {share}"
        for p, shares in mix.items()
        for c, share in shares.items()
    )
    return f"CASE {whens} END"


def test_always_video_on_the_demo_recovers_the_planted_value(
    demo_warehouse: Any, demo_con: duckdb.DuckDBPyConnection
) -> None:
    from insights.engagement.features import post_features

    truth = demo_warehouse[1].truth.engagement
    posts = post_features(demo_con).filter("exclusion IS NULL")
    logged = posts.project(f"*, {demo_content_mix_sql()} AS propensity")
    target = {platform: {"video": 1.0} for platform, mix in truth.content_mix.items() if "video" in mix}
    assert len(target) == 4  # every platform has video

    # the truth: over the logged posts (their account, origin and slot as drawn), the planted expected rate of the
    # same post as a video; the post's mean-one lognormal noise and the Poisson counts leave that mean unchanged
    rows = posts.project("account_id, platform, origin, epoch_ms(published_at) AS ms").fetchall()
    slot = in_best_slot(np.array([r[3] for r in rows], dtype=np.int64), np.array([r[1] for r in rows]), truth)
    expected = float(
        np.mean([truth.expected_rate(r[0], r[1], "video", r[2], bool(s)) for r, s in zip(rows, slot, strict=True)])
    )
    assert expected == pytest.approx(0.0523, abs=1e-4)

    common: dict[str, Any] = {"context": "platform", "action": "content_type", "reward": "engagement_rate"}
    known = evaluate_policy(logged, target, propensity="propensity", **common)
    assert known.n_rows == 1837 and known.notes == ()
    for name in ("snips", "dr"):
        e = known.estimate(name)
        assert e.ci_low < expected < e.ci_high, (name, e)
    # videos are 15-30% of the posts on each platform: the effective sample is about a fifth of the posts
    assert 250 < known.ess < 450
    assert known.estimate("dr").lift_ci_low > 0  # video beats the planted mix: ratio 1.8 against about 1.3 on average

    estimated = evaluate_policy(logged, target, **common)
    assert estimated.note_codes == ("propensity_estimated",)
    for name in ("ips", "snips", "dr"):
        a, b = known.estimate(name), estimated.estimate(name)
        assert b.value == pytest.approx(a.value, rel=0.05), name
        assert b.ci_low < expected < b.ci_high, name


def test_a_result_is_a_frozen_record() -> None:
    result = evaluate_policy(HAND, HAND_TARGET, propensity="propensity", **COLUMNS)
    assert isinstance(result, PolicyEvaluation)
    with pytest.raises(AttributeError):
        result.ess = 1.0  # type: ignore[misc]
