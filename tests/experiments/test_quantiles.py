"""Quantiles from order statistics: the estimate pinned to DuckDB, the interval to scipy, the test by simulation."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from insights.errors import InvalidParameterError
from insights.experiments.quantiles import QuantileStats, quantile_ranks, quantile_test

VALUES = [
    12.1, 9.8, 11.4, 10.2, 13.5, 8.9, 10.7, 12.8, 15.3, 9.1, 11.0, 14.2, 10.9, 12.2, 9.5,
    13.1, 11.7, 10.4, 16.8, 12.6, 11.2, 9.9, 13.9, 10.1, 12.4, 18.5, 11.5, 10.6, 12.9, 9.3,
]  # fmt: skip


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


# --- one arm: estimate and interval ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "alpha", "estimate", "low", "high"),
    [
        # scipy 1.17.1: scipy.stats.quantile_test(VALUES, q=0, p=0.5).confidence_interval(confidence_level=0.95);
        # numpy 2.4.6: numpy.quantile(VALUES, 0.5, method="inverted_cdf")
        (0.5, 0.05, 11.4, 10.6, 12.6),
        # scipy 1.17.1: scipy.stats.quantile_test(VALUES, q=0, p=0.9).confidence_interval(confidence_level=0.9)
        (0.9, 0.1, 14.2, 13.1, 18.5),
        # scipy 1.17.1: scipy.stats.quantile_test(VALUES, q=0, p=0.25).confidence_interval(confidence_level=0.95)
        (0.25, 0.05, 10.2, 9.3, 11.0),
    ],
)
def test_interval_matches_scipy_quantile_test(q: float, alpha: float, estimate: float, low: float, high: float) -> None:
    stats = QuantileStats.from_values(VALUES, q, alpha)
    assert (stats.n, stats.estimate, stats.ci_low, stats.ci_high) == (30, estimate, low, high)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-50, 50).map(float), min_size=1, max_size=120),
    st.floats(0.01, 0.99),
    st.sampled_from([0.01, 0.05, 0.1, 0.2]),
)
def test_interval_equals_scipy_for_any_sample(values: list[float], q: float, alpha: float) -> None:
    stats = QuantileStats.from_values(values, q, alpha)
    reference = sps.quantile_test(values, q=0, p=q).confidence_interval(confidence_level=1 - alpha)
    for ours, theirs in ((stats.ci_low, reference.low), (stats.ci_high, reference.high)):
        assert (math.isnan(ours) and math.isnan(theirs)) or ours == theirs
    estimate, lower, upper = quantile_ranks(len(values), q, alpha)
    assert 0 <= lower <= estimate <= upper <= len(values) + 1
    assert estimate >= 1


def test_estimate_is_duckdb_quantile_disc() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT n, x FROM range(1, 121) AS a(n), LATERAL (SELECT x FROM range(1, n + 1) b(x))"
    )
    for q in [0.01, 0.07, 0.1, 0.14, 0.25, 0.29, 0.5, 0.57, 0.75, 0.9, 0.95, 0.99]:
        # DuckDB 2.0.0: SELECT n, quantile_disc(x, q) FROM t GROUP BY n  (x = 1..n, so the value is its rank)
        rows = con.execute(f"SELECT n, quantile_disc(x, {q}) FROM t GROUP BY n").fetchall()
        for n, value in rows:
            assert quantile_ranks(n, q)[0] == value, (n, q)
    # numpy's inverted_cdf agrees except where n q in binary floating point lands just above a whole number.
    assert np.quantile(np.arange(1.0, 101.0), 0.07, method="inverted_cdf") == 8.0
    assert quantile_ranks(100, 0.07)[0] == 7


def test_fetching_three_order_statistics_in_sql_gives_the_same_record() -> None:
    rng = np.random.default_rng(3)
    values = rng.lognormal(3.0, 1.0, size=1000).round(2)
    con = duckdb.connect()
    con.execute("CREATE TABLE latency AS SELECT unnest(?::DOUBLE[]) AS value", [values.tolist()])
    n = con.execute("SELECT count(*) FROM latency").fetchone()[0]  # type: ignore[index]
    ranks = quantile_ranks(n, 0.9, 0.05)
    fetched = dict(
        con.execute(
            "SELECT rank, value FROM (SELECT value, row_number() OVER (ORDER BY value) AS rank FROM latency) "
            "WHERE rank IN (?, ?, ?)",
            list(ranks),
        ).fetchall()
    )
    from_sql = QuantileStats(n, 0.9, *(fetched[r] for r in ranks), alpha=0.05)
    assert from_sql == QuantileStats.from_values(values, 0.9)


def test_small_samples_have_no_bound_to_fetch() -> None:
    assert quantile_ranks(5, 0.9) == (5, 3, 6)  # the upper bound would be the 6th of 5 values
    small = QuantileStats.from_values([1.0, 2.0, 3.0, 4.0, 5.0], 0.9)
    assert small.estimate == 5.0 and small.ci_low == 3.0 and math.isnan(small.ci_high) and math.isnan(small.se)
    assert quantile_ranks(1, 0.5) == (1, 0, 2)
    empty = QuantileStats.from_values([], 0.5)
    assert empty.n == 0 and math.isnan(empty.estimate)


# --- two arms ----------------------------------------------------------------------------------------------------


def test_quantile_test_is_a_normal_test_with_se_from_the_interval_widths() -> None:
    rng = np.random.default_rng(11)
    a, b = rng.lognormal(3.0, 1.0, size=400), rng.lognormal(3.2, 1.0, size=500)
    control, treatment = QuantileStats.from_values(a, 0.9), QuantileStats.from_values(b, 0.9)
    result = quantile_test(control, treatment)
    z = sps.norm.ppf(0.975)
    se = []
    for values in (a, b):
        # scipy 1.17.1: the arm's 95% interval, then SE = width / (2 z) (Deng, Knoblich & Lu 2018)
        ci = sps.quantile_test(values, q=0, p=0.9).confidence_interval(confidence_level=0.95)
        se.append((ci.high - ci.low) / (2 * z))
    effect = treatment.estimate - control.estimate
    assert close(result.se, math.hypot(*se))
    assert close(result.effect, effect) and close(result.statistic, effect / result.se)
    assert close(result.p_value, 2 * sps.norm.sf(abs(effect) / result.se))
    assert close(result.ci_low, effect - z * result.se)
    rel_se = math.sqrt(se[1] ** 2 / control.estimate**2 + treatment.estimate**2 * se[0] ** 2 / control.estimate**4)
    assert close(result.relative_ci_high, treatment.estimate / control.estimate - 1 + z * rel_se)
    assert math.isnan(result.df) and result.note is None
    assert result.method == (
        "difference of quantiles (q=0.9), per-arm exact binomial order-statistic CI at 95%, SE = CI width / (2 z), "
        "normal, two-sided, relative CI by delta method"
    )
    greater = quantile_test(control, treatment, alternative="greater", relative_ci="log")
    assert close(greater.p_value, sps.norm.sf(effect / result.se)) and greater.ci_high == math.inf


N_EXPERIMENTS = 400
ALPHA = 0.05
TOLERANCE = 3 * math.sqrt(ALPHA * (1 - ALPHA) / N_EXPERIMENTS)  # three binomial standard deviations


def test_aa_experiments_on_a_skewed_metric_reject_at_about_the_nominal_rate() -> None:
    rng = np.random.default_rng(20260816)
    rejected: dict[float, list[bool]] = {0.5: [], 0.9: []}
    covered = []
    true_p90 = math.exp(3.0 + sps.norm.ppf(0.9))
    for _ in range(N_EXPERIMENTS):
        a, b = rng.lognormal(3.0, 1.0, size=(2, 2000))
        for q, flags in rejected.items():
            control, treatment = QuantileStats.from_values(a, q), QuantileStats.from_values(b, q)
            flags.append(quantile_test(control, treatment).p_value < ALPHA)
        arm = QuantileStats.from_values(a, 0.9)
        covered.append(arm.ci_low <= true_p90 <= arm.ci_high)
    for q, flags in rejected.items():
        assert abs(np.mean(flags) - ALPHA) <= TOLERANCE, (q, np.mean(flags))
    # The exact interval covers at least 1 - alpha (95.6% for n = 2000, q = 0.9, by the binomial), so only
    # under-coverage would be a fault.
    assert np.mean(covered) >= 1 - ALPHA - TOLERANCE


# --- degenerate input and invalid arguments ----------------------------------------------------------------------


def test_degenerate_input_gives_a_note() -> None:
    wide = QuantileStats.from_values(range(1, 201), 0.5)
    assert quantile_test(QuantileStats.from_values([], 0.5), wide).note == "empty_arm"
    too_few = quantile_test(QuantileStats.from_values([1.0, 2.0, 3.0], 0.5), wide)
    assert too_few.note == "too_few_units" and too_few.effect == 100.0 - 2.0 and math.isnan(too_few.p_value)
    ties = quantile_test(QuantileStats.from_values([3.0] * 50, 0.5), QuantileStats.from_values([4.0] * 60, 0.5))
    assert ties.note == "zero_variance" and ties.effect == 1.0 and math.isnan(ties.se)
    zeros = QuantileStats.from_values([0.0] * 60 + [1.0] * 40, 0.5)
    assert quantile_test(zeros, wide).note == "zero_control_mean"
    negative = QuantileStats.from_values(np.arange(-100.0, 50.0), 0.5)
    assert quantile_test(negative, wide, relative_ci="log").note == "nonpositive_mean"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: quantile_ranks(0, 0.5),
            "The 'n' parameter of quantile_ranks must be an integer >= 1. Got 0 instead.",
        ),
        (
            lambda: quantile_ranks(10, 1.5),
            "The 'q' parameter of quantile_ranks must be in (0, 1). Got 1.5 instead.",
        ),
        (
            lambda: QuantileStats.from_values([1.0, math.nan], 0.5),
            "The 'values' parameter of QuantileStats.from_values must contain only finite numbers. "
            "Got 'NaN or infinity' instead.",
        ),
        (
            lambda: QuantileStats(10, 0.5, 3.0, 4.0, 5.0),
            "The 'ci_low' parameter of QuantileStats must be at most the estimate (3.0). Got 4.0 instead.",
        ),
        (
            lambda: quantile_test(QuantileStats(10, 0.5, 3.0, 2.0, 5.0), QuantileStats(10, 0.9, 3.0, 2.0, 5.0)),
            "The 'treatment' parameter of quantile_test must have the q of control (0.5). Got 0.9 instead.",
        ),
        (
            lambda: quantile_test(
                QuantileStats(10, 0.5, 3.0, 2.0, 5.0), QuantileStats(10, 0.5, 3.0, 2.0, 5.0, alpha=0.1)
            ),
            "The 'treatment' parameter of quantile_test must have the alpha of control (0.05). Got 0.1 instead.",
        ),
        (
            lambda: quantile_test(QuantileStats(10, 0.5, 3.0, 2.0, 5.0), [3.0]),  # type: ignore[arg-type]
            "The 'treatment' parameter of quantile_test must be a QuantileStats. Got 'list' instead.",
        ),
    ],
)
def test_invalid_arguments_raise_one_sentence(call: object, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        call()  # type: ignore[operator]
    assert str(info.value) == message
