"""Quantile metrics (median, p90 response time): difference of two arms' quantiles from order statistics.

Each arm is summarised by a :class:`QuantileStats` record: the sample quantile and a distribution-free confidence
interval, both order statistics. :func:`quantile_ranks` says which three order statistics to fetch, so the warehouse
returns three values per arm instead of the rows.

- The point estimate is the order statistic of rank ceil(n q) (at least 1): the inverse of the empirical
  distribution function, DuckDB's ``quantile_disc(x, q)`` and numpy's ``method="inverted_cdf"``. No interpolation,
  so the estimate is always an observed value. ``q`` is read as the decimal it prints as (0.07 is 7/100), as DuckDB
  reads a decimal literal; numpy multiplies in binary floating point, where 100 * 0.07 = 7.000000000000001, and
  takes the 8th of 100 values where DuckDB and this module take the 7th.
- The interval is the exact binomial one of ``scipy.stats.quantile_test(x, p=q).confidence_interval()``: the number
  of units below the true quantile is Binomial(n, q), so the order statistics of ranks
  ``binom.ppf(alpha / 2, n, q)`` and ``binom.isf(alpha / 2, n, q) + 1`` bound it with at least 1 - alpha coverage.

:func:`quantile_test` then follows Deng, Knoblich & Lu (2018, "Applying the Delta Method in Metric Analytics"):
each arm's standard error is the width of its interval divided by 2 z(1 - alpha / 2), and the
difference of the two quantiles is compared with a normal distribution. The exact interval covers at least
1 - alpha, so the test is conservative in small arms (simulated A/A tests on lognormal values at alpha = 0.05: about
3% rejected for the 90th percentile with 500 units per arm, 4.6% with 2,000). The values must be one per randomisation
unit (one response time per user, say); quantiles of finer units (all sessions of randomised users) need the
clustered variance of that paper, which this module does not do.

Note codes: ``empty_arm``, ``too_few_units`` (an arm is too small for its interval at this level: a bound would
need an order statistic outside 1..n), ``zero_variance`` (both intervals have zero width, as with many ties),
``zero_control_mean`` and ``nonpositive_mean`` (relative effect, as for means).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from insights.distributions import normal_ppf
from insights.errors import invalid_parameter
from insights.experiments.frequentist import (
    _ALTERNATIVES,
    _RELATIVE_CIS,
    Alternative,
    EffectResult,
    RelativeCI,
    compare_estimates,
)
from insights.experiments.summaries import _as_vector
from insights.params import check_choice, check_count, check_instance, check_int, check_open_unit

__all__ = ["QuantileStats", "quantile_ranks", "quantile_test"]

_NAN = math.nan


def quantile_ranks(n: int, q: float, alpha: float = 0.05) -> tuple[int, int, int]:
    """The 1-based ranks of the order statistics that give the q-quantile and its 1 - alpha interval from n values.

    Returns (estimate, lower, upper). A bound the sample is too small for is 0 (lower) or n + 1 (upper): there is
    nothing to fetch, and the record's bound is NaN. In SQL, number the values of each arm with
    ``row_number() OVER (PARTITION BY variant ORDER BY value)`` and keep these three ranks.

    >>> quantile_ranks(100, 0.5)
    (50, 40, 61)
    >>> quantile_ranks(5, 0.9)
    (5, 3, 6)
    """
    function = "quantile_ranks"
    n = check_int("n", function, n, 1)
    q = check_open_unit("q", function, q)
    alpha = check_open_unit("alpha", function, alpha)
    return _ranks(n, q, alpha)


def _ranks(n: int, q: float, alpha: float) -> tuple[int, int, int]:
    estimate = max(1, math.ceil(n * Fraction(repr(q))))
    # The same arithmetic as scipy.stats.quantile_test(...).confidence_interval(), shifted to 1-based ranks.
    from scipy import stats as sps  # only quantile metrics need the binomial quantiles: keep the import off the path

    lower = int(sps.binom.ppf(alpha / 2, n, q))
    upper = int(sps.binom.isf(alpha / 2, n, q)) + 1
    return estimate, lower, upper


@dataclass(frozen=True)
class QuantileStats:
    """One arm's q-quantile: the number of units, the estimate and its distribution-free 1 - alpha interval.

    Build it with :meth:`from_values`, or from the three order statistics that :func:`quantile_ranks` names. An
    empty arm has NaN estimate and bounds; a bound the sample is too small for is NaN. Unlike the moment records,
    quantiles do not add: pooling days or segments means fetching the order statistics of the pooled units.

    >>> stats = QuantileStats.from_values(range(1, 101), q=0.5)
    >>> stats.estimate, stats.ci_low, stats.ci_high
    (50.0, 40.0, 61.0)
    """

    n: int
    q: float
    estimate: float
    ci_low: float
    ci_high: float
    alpha: float = 0.05

    def __post_init__(self) -> None:
        function = "QuantileStats"
        check_count("n", function, self.n)
        check_open_unit("q", function, self.q)
        check_open_unit("alpha", function, self.alpha)
        if self.n > 0 and not math.isfinite(self.estimate):
            raise invalid_parameter("estimate", function, "must be a finite number when n > 0", self.estimate)
        if not self.ci_low <= self.estimate and not math.isnan(self.ci_low):
            raise invalid_parameter("ci_low", function, f"must be at most the estimate ({self.estimate})", self.ci_low)
        if not self.estimate <= self.ci_high and not math.isnan(self.ci_high):
            raise invalid_parameter(
                "ci_high", function, f"must be at least the estimate ({self.estimate})", self.ci_high
            )

    @classmethod
    def from_values(cls, values: ArrayLike, q: float, alpha: float = 0.05) -> QuantileStats:
        """Summarise unit-level values (a one-dimensional array of finite numbers, one per randomisation unit)."""
        function = "QuantileStats.from_values"
        array = np.sort(_as_vector(values, "values", function))
        q = check_open_unit("q", function, q)
        alpha = check_open_unit("alpha", function, alpha)
        n = int(array.size)
        if n == 0:
            return cls(0, q, _NAN, _NAN, _NAN, alpha)
        estimate, lower, upper = _ranks(n, q, alpha)
        return cls(
            n,
            q,
            float(array[estimate - 1]),
            float(array[lower - 1]) if lower >= 1 else _NAN,
            float(array[upper - 1]) if upper <= n else _NAN,
            alpha,
        )

    @property
    def se(self) -> float:
        """Standard error of the estimate: the interval's width over 2 z(1 - alpha / 2) (NaN if a bound is)."""
        return (self.ci_high - self.ci_low) / (2 * normal_ppf(1 - self.alpha / 2))

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict, in declaration order."""
        return asdict(self)


def quantile_test(
    control: QuantileStats,
    treatment: QuantileStats,
    *,
    alternative: Alternative = "two-sided",
    relative_ci: RelativeCI = "delta",
) -> EffectResult:
    """Compare two arms' q-quantiles: normal test of the difference, SEs from the order-statistic intervals.

    Both records must share ``q`` and ``alpha``; ``alpha`` sets the level of the effect's interval as well. The
    effect is the difference of the estimates; its SE is sqrt(se_control^2 + se_treatment^2) (see
    :attr:`QuantileStats.se`); ``df`` is NaN. The relative effect treats the two SEs as those of the arm estimates,
    by the delta method (default) or on the log of the ratio.

    >>> control = QuantileStats.from_values(range(1, 201), q=0.5)
    >>> treatment = QuantileStats.from_values(range(41, 241), q=0.5)
    >>> r = quantile_test(control, treatment)
    >>> r.effect, r.p_value < 0.05
    (40.0, True)
    """
    function = "quantile_test"
    check_instance("control", function, control, QuantileStats)
    check_instance("treatment", function, treatment, QuantileStats)
    if treatment.q != control.q:
        raise invalid_parameter("treatment", function, f"must have the q of control ({control.q})", treatment.q)
    if treatment.alpha != control.alpha:
        raise invalid_parameter(
            "treatment", function, f"must have the alpha of control ({control.alpha})", treatment.alpha
        )
    check_choice("alternative", function, alternative, _ALTERNATIVES)
    check_choice("relative_ci", function, relative_ci, _RELATIVE_CIS)
    alpha = control.alpha
    method = (
        f"difference of quantiles (q={control.q:g}), per-arm exact binomial order-statistic CI at "
        f"{(1 - alpha) * 100:g}%, SE = CI width / (2 z), normal, {alternative}, "
        f"relative CI by {'delta method' if relative_ci == 'delta' else 'log ratio'}"
    )

    def degenerate(note: str, effect: float = _NAN) -> EffectResult:
        return EffectResult(
            control.estimate,
            treatment.estimate,
            effect,
            _NAN,
            _NAN,
            _NAN,
            _NAN,
            _NAN,
            _NAN,
            _NAN,
            _NAN,
            method,
            note,
        )

    if control.n == 0 or treatment.n == 0:
        return degenerate("empty_arm")
    effect = treatment.estimate - control.estimate
    c_se, t_se = control.se, treatment.se
    if math.isnan(c_se) or math.isnan(t_se):
        return degenerate("too_few_units", effect)
    if c_se == 0 and t_se == 0:
        return degenerate("zero_variance", effect)
    return compare_estimates(
        control.estimate,
        treatment.estimate,
        c_se**2,
        t_se**2,
        alpha=alpha,
        alternative=alternative,
        relative_ci=relative_ci,
        method=method,
    )
