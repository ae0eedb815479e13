"""The Wilson score interval, pinned to statsmodels."""

from __future__ import annotations

import math

import pytest

from insights.intervals import wilson_interval


@pytest.mark.parametrize(
    ("successes", "n", "alpha"),
    [(0, 10, 0.05), (1, 10, 0.05), (12, 80, 0.05), (50, 100, 0.05), (99, 100, 0.05), (100, 100, 0.05), (3, 7, 0.1),
     (17_000, 20_000, 0.01), (1, 1, 0.05), (0, 1, 0.05), (1_957, 14_526, 0.001)],
)  # fmt: skip
def test_wilson_equals_statsmodels(successes: int, n: int, alpha: float) -> None:
    from statsmodels.stats.proportion import proportion_confint

    # statsmodels.stats.proportion.proportion_confint(successes, n, alpha, method="wilson")
    expected = proportion_confint(successes, n, alpha, method="wilson")
    assert wilson_interval(successes, n, alpha) == pytest.approx(expected, abs=1e-14)


def test_wilson_reference_values() -> None:
    # proportion_confint(12, 80, 0.05, method="wilson") -> (0.08794040506163546, 0.24413228561323347)
    low, high = wilson_interval(12, 80)
    assert (round(low, 10), round(high, 10)) == (0.0879404051, 0.2441322856)


def test_wilson_without_units_is_undefined() -> None:
    assert all(math.isnan(x) for x in wilson_interval(0, 0))
