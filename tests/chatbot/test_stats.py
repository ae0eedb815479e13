"""The interval arithmetic behind the health report, pinned to statsmodels, and its invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights.chatbot._stats import MeanStats, RateStats, RatioStats, newcombe_difference, wilson_interval


def test_wilson_matches_statsmodels() -> None:
    # statsmodels 0.15.0: proportion_confint(37, 412, alpha=0.05, method="wilson")
    assert wilson_interval(37, 412, 0.95) == pytest.approx((0.06585591872396812, 0.12133431247964654), rel=1e-12)
    # proportion_confint(0, 25, alpha=0.10, method="wilson")
    assert wilson_interval(0, 25, 0.90) == pytest.approx((0.0, 0.09765350600605105), abs=1e-12)
    assert all(math.isnan(x) for x in wilson_interval(0, 0, 0.95))


def test_newcombe_matches_statsmodels() -> None:
    # statsmodels 0.15.0: confint_proportions_2indep(52, 480, 37, 412, method="newcomb", compare="diff", alpha=0.05)
    assert newcombe_difference(52, 480, 37, 412, 0.95) == pytest.approx(
        (-0.02155992726161967, 0.05768344690649258), rel=1e-12
    )
    change, low, high = RateStats(52, 480).difference(RateStats(37, 412), 0.95)
    assert change == pytest.approx(52 / 480 - 37 / 412)
    assert (low, high) == pytest.approx((-0.02155992726161967, 0.05768344690649258), rel=1e-12)


X = [4, 5, 3, 5, 1, 4, 4, 2, 5, 5, 3, 4]
Y = [2, 3, 3, 1, 5, 4, 2, 1, 2]


def _mean_stats(values: list[int]) -> MeanStats:
    return MeanStats(len(values), float(sum(values)), float(sum(v * v for v in values)))


def test_mean_interval_and_welch_match_statsmodels() -> None:
    # statsmodels 0.15.0: DescrStatsW(np.array(X, float)).tconfint_mean(alpha=0.05)
    assert _mean_stats(X).interval(0.95) == pytest.approx((2.931607608433678, 4.568392391566322), rel=1e-12)
    # CompareMeans(DescrStatsW(X), DescrStatsW(Y)).tconfint_diff(alpha=0.05, usevar="unequal")
    diff, low, high = _mean_stats(X).difference(_mean_stats(Y), 0.95)
    assert diff == pytest.approx(sum(X) / len(X) - sum(Y) / len(Y))
    assert (low, high) == pytest.approx((-0.02788961609908669, 2.4167785049879758), rel=1e-10)


def test_ratio_interval_matches_a_cluster_robust_mean() -> None:
    # user messages (x) and fallbacks (y) of 8 conversations; the message-level mean with conversation clusters is
    # the ratio: statsmodels 0.15.0, one row per message (1 = fallback):
    #   sm.OLS(y_rows, np.ones(21)).fit(cov_type="cluster", cov_kwds={"groups": conversation, "use_correction": False})
    #   -> params 0.42857142857142855, bse 0.17236543482067932, conf_int(0.05) (0.09074138414331101, 0.7664014729995461)
    x = [3, 1, 4, 2, 5, 3, 1, 2]
    y = [0, 1, 4, 0, 1, 3, 0, 0]
    stats = RatioStats(
        len(x),
        float(sum(y)),
        float(sum(x)),
        float(sum(v * v for v in y)),
        float(sum(v * v for v in x)),
        float(sum(a * b for a, b in zip(x, y, strict=True))),
    )
    assert stats.value == pytest.approx(9 / 21)
    assert math.sqrt(stats.variance) == pytest.approx(0.17236543482067932, rel=1e-12)
    assert stats.interval(0.95) == pytest.approx((0.09074138414331101, 0.7664014729995461), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 10_000), data=st.data(), level=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_a_wilson_interval_holds_its_estimate_and_widens_with_the_level(n: int, data: st.DataObject, level: float):
    k = data.draw(st.integers(0, n))
    low, high = wilson_interval(k, n, level)
    assert 0.0 <= low <= k / n <= high <= 1.0
    wide_low, wide_high = wilson_interval(k, n, 0.999)
    assert wide_low <= low + 1e-15 and wide_high >= high - 1e-15


counts = st.integers(0, 50)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(counts, counts), min_size=1, max_size=30), st.integers(0, 29))
def test_ratio_stats_add_up_whatever_the_split(pairs: list[tuple[int, int]], cut: int) -> None:
    """Conversations summed in any two groups give the record of all of them (segments combine without a query)."""

    def record(rows: list[tuple[int, int]]) -> RatioStats:
        return RatioStats(
            len(rows),
            float(sum(y for y, _ in rows)),
            float(sum(x + y for y, x in rows)),
            float(sum(y * y for y, _ in rows)),
            float(sum((x + y) ** 2 for y, x in rows)),
            float(sum(y * (x + y) for y, x in rows)),
        )

    cut = min(cut, len(pairs))
    whole, parts = record(pairs), record(pairs[:cut]) + record(pairs[cut:])
    assert parts == whole
    if whole.x:
        low, high = whole.interval(0.95)
        assert low <= whole.value <= high
    assert RateStats(3, 10) + RateStats(1, 5) == RateStats(4, 15)
    assert MeanStats(2, 3.0, 5.0) + MeanStats(1, 4.0, 16.0) == MeanStats(3, 7.0, 21.0)
