"""Power, minimum detectable effect and sample size for a two-arm test on a difference.

The formula is the normal approximation for a z test on the absolute difference of two arm means,
with ``n_treatment = ratio * n_control``::

    power = Phi((|delta| * sqrt(n_control) - z * sd_null) / sd_alt) [+ the far tail when two-sided]
    sd^2  = (var_control + var_treatment / ratio) * (1 - cuped_correlation^2)

For a proportion the per-unit variances are ``p (1 - p)`` of each arm (``variance="unpooled"``, the Wald test,
the default), or the pooled rate under the null and the arm rates under the alternative
(``variance="pooled"``, as statsmodels' ``power_proportions_2indep``). Cohen's h (arcsine effect size, statsmodels'
``proportion_effectsize``) is *not* used: it answers a different test than the one the readout runs.
For a mean both arms share ``std``; for a ratio metric pass the delta-method variance per randomization unit
(``n * Var(ratio estimate)``). CUPED multiplies every variance by ``1 - rho^2``.

>>> sample_size(ProportionMetric(baseline_rate=0.1), 0.1, relative=True).n_control
14749
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy import optimize, stats

from insights.errors import invalid_parameter
from insights.params import check_open_unit

__all__ = [
    "MdeResult",
    "MeanMetric",
    "PowerResult",
    "ProportionMetric",
    "RatioMetric",
    "SampleSizeResult",
    "minimum_detectable_effect",
    "power",
    "sample_size",
]


@dataclass(frozen=True)
class ProportionMetric:
    """A rate metric: the control arm's expected rate and how the test estimates the variance."""

    baseline_rate: float
    variance: Literal["unpooled", "pooled"] = "unpooled"

    def __post_init__(self) -> None:
        if not 0 < self.baseline_rate < 1:
            raise invalid_parameter("baseline_rate", "ProportionMetric", "must be in (0, 1)", self.baseline_rate)
        if self.variance not in ("unpooled", "pooled"):
            raise invalid_parameter("variance", "ProportionMetric", "must be one of unpooled, pooled", self.variance)

    @property
    def baseline(self) -> float:
        return self.baseline_rate


@dataclass(frozen=True)
class MeanMetric:
    """A mean metric: the per-unit standard deviation, and the control mean if effects are relative."""

    std: float
    baseline_mean: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.std) and self.std > 0):
            raise invalid_parameter("std", "MeanMetric", "must be a positive finite number", self.std)

    @property
    def baseline(self) -> float | None:
        return self.baseline_mean


@dataclass(frozen=True)
class RatioMetric:
    """A ratio metric: delta-method variance per randomization unit; the control ratio if effects are relative."""

    variance: float
    baseline_ratio: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.variance) and self.variance > 0):
            raise invalid_parameter("variance", "RatioMetric", "must be a positive finite number", self.variance)

    @property
    def baseline(self) -> float | None:
        return self.baseline_ratio


Metric = ProportionMetric | MeanMetric | RatioMetric


@dataclass(frozen=True)
class SampleSizeResult:
    """Units needed per arm (rounded up) and, given daily traffic, the days to collect them.

    ``note`` is ``"zero_effect"`` when the effect is zero (no finite sample detects it); counts are then None.
    """

    n_control: int | None
    n_treatment: int | None
    n_total: int | None
    n_days: int | None
    effect: float
    power: float
    alpha: float
    note: str | None = None


@dataclass(frozen=True)
class MdeResult:
    """The smallest absolute (and, with a baseline, relative) effect detected with the requested power.

    ``note`` is ``"unattainable"`` for a proportion when no rate in (0, 1) reaches the power; effects are then NaN.
    """

    effect: float
    relative_effect: float | None
    n_control: int
    n_treatment: float
    power: float
    alpha: float
    note: str | None = None


@dataclass(frozen=True)
class PowerResult:
    """The probability of a significant result when the effect is real."""

    power: float
    effect: float
    n_control: float
    n_treatment: float
    alpha: float


def _check_common(alpha: float, ratio: float, cuped_correlation: float, function: str) -> None:
    check_open_unit("alpha", function, alpha)
    if not (isinstance(ratio, int | float) and math.isfinite(ratio) and ratio > 0):
        raise invalid_parameter("ratio", function, "must be a positive finite number", ratio)
    if not (isinstance(cuped_correlation, int | float) and -1 < cuped_correlation < 1):
        raise invalid_parameter("cuped_correlation", function, "must be in (-1, 1)", cuped_correlation)


def _absolute_effect(metric: Metric, effect: float, relative: bool, function: str) -> float:
    if not (isinstance(effect, int | float) and math.isfinite(effect)):
        raise invalid_parameter("effect", function, "must be a finite number", effect)
    if relative:
        if metric.baseline is None or metric.baseline == 0:
            raise invalid_parameter("relative", function, "needs a nonzero baseline on the metric", relative)
        delta = float(effect) * metric.baseline
    else:
        delta = float(effect)
    if isinstance(metric, ProportionMetric) and not 0 < metric.baseline_rate + delta < 1:
        raise invalid_parameter("effect", function, "must keep the treatment rate in (0, 1)", effect)
    return delta


def _sds(metric: Metric, delta: float, ratio: float, cuped_correlation: float) -> tuple[float, float]:
    """Standard deviations of the difference under the null and the alternative, per sqrt(n_control)."""
    shrink = 1.0 - cuped_correlation**2
    if isinstance(metric, ProportionMetric):
        p_c = metric.baseline_rate
        p_t = p_c + delta
        var_alt = p_c * (1 - p_c) + p_t * (1 - p_t) / ratio
        if metric.variance == "pooled":
            p_pool = (p_c + ratio * p_t) / (1 + ratio)
            var_null = p_pool * (1 - p_pool) * (1 + 1 / ratio)
        else:
            var_null = var_alt
    elif isinstance(metric, MeanMetric):
        var_null = var_alt = metric.std**2 * (1 + 1 / ratio)
    else:
        var_null = var_alt = metric.variance * (1 + 1 / ratio)
    return math.sqrt(var_null * shrink), math.sqrt(var_alt * shrink)


def _power(delta: float, n_control: float, sd_null: float, sd_alt: float, alpha: float, two_sided: bool) -> float:
    # One-sided tests look in the direction of the effect; two-sided ones add the (tiny) wrong-sign tail.
    crit = stats.norm.isf(alpha / 2 if two_sided else alpha)
    shift = abs(delta) * math.sqrt(n_control) / sd_alt
    ratio = sd_null / sd_alt
    value = float(stats.norm.sf(crit * ratio - shift))
    if two_sided:
        value += float(stats.norm.cdf(-crit * ratio - shift))
    return value


def power(
    metric: Metric,
    effect: float,
    n_control: float,
    *,
    relative: bool = False,
    alpha: float = 0.05,
    two_sided: bool = True,
    ratio: float = 1.0,
    cuped_correlation: float = 0.0,
) -> PowerResult:
    """Power of the z test for ``effect`` with ``n_control`` units in control and ``ratio * n_control`` in treatment.

    >>> round(power(MeanMetric(std=1.0), 0.2, 394).power, 2)
    0.8
    """
    _check_common(alpha, ratio, cuped_correlation, "power")
    if not (isinstance(n_control, int | float) and math.isfinite(n_control) and n_control > 0):
        raise invalid_parameter("n_control", "power", "must be a positive finite number", n_control)
    delta = _absolute_effect(metric, effect, relative, "power")
    sd_null, sd_alt = _sds(metric, delta, ratio, cuped_correlation)
    value = _power(delta, n_control, sd_null, sd_alt, alpha, two_sided)
    return PowerResult(
        power=value, effect=delta, n_control=float(n_control), n_treatment=ratio * n_control, alpha=alpha
    )


def _solve_n(delta: float, sd_null: float, sd_alt: float, alpha: float, target: float, two_sided: bool) -> float:
    z_alpha = stats.norm.isf(alpha / 2 if two_sided else alpha)
    z_beta = stats.norm.isf(1 - target)
    # The closed form ignores the far tail, so it is an upper bound on the exact root.
    upper = float(((z_alpha * sd_null + z_beta * sd_alt) / delta) ** 2)
    lower = upper * 1e-9

    def gap(n: float) -> float:
        return _power(delta, n, sd_null, sd_alt, alpha, two_sided) - target

    if gap(upper) <= 0:
        return upper
    if gap(lower) >= 0:
        return lower
    return float(optimize.brentq(gap, lower, upper, xtol=1e-10, rtol=1e-14))


def sample_size(
    metric: Metric,
    effect: float,
    *,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = True,
    ratio: float = 1.0,
    cuped_correlation: float = 0.0,
    daily_units: float | None = None,
) -> SampleSizeResult:
    """Units per arm to detect ``effect`` with the requested power; days to get them from ``daily_units`` (all arms).

    >>> sample_size(MeanMetric(std=1.0), 0.2).n_control
    393
    """
    _check_common(alpha, ratio, cuped_correlation, "sample_size")
    target = check_open_unit("power", "sample_size", power)
    if daily_units is not None and not (
        isinstance(daily_units, int | float) and math.isfinite(daily_units) and daily_units > 0
    ):
        raise invalid_parameter("daily_units", "sample_size", "must be a positive finite number or None", daily_units)
    delta = _absolute_effect(metric, effect, relative, "sample_size")
    if delta == 0:
        return SampleSizeResult(None, None, None, None, delta, target, alpha, note="zero_effect")
    sd_null, sd_alt = _sds(metric, delta, ratio, cuped_correlation)
    n = _solve_n(delta, sd_null, sd_alt, alpha, target, two_sided)
    n_control = max(1, math.ceil(n - 1e-9))
    n_treatment = max(1, math.ceil(ratio * n - 1e-9))
    n_total = n_control + n_treatment
    n_days = None if daily_units is None else math.ceil(n_total / daily_units)
    return SampleSizeResult(n_control, n_treatment, n_total, n_days, delta, target, alpha)


def minimum_detectable_effect(
    metric: Metric,
    n_control: int,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = True,
    ratio: float = 1.0,
    cuped_correlation: float = 0.0,
) -> MdeResult:
    """Smallest positive effect detected with the requested power (for a proportion: an increase of the rate).

    >>> round(minimum_detectable_effect(MeanMetric(std=1.0), 393).effect, 3)
    0.2
    """
    _check_common(alpha, ratio, cuped_correlation, "minimum_detectable_effect")
    target = check_open_unit("power", "minimum_detectable_effect", power)
    if not (isinstance(n_control, int | float) and math.isfinite(n_control) and n_control > 0):
        raise invalid_parameter("n_control", "minimum_detectable_effect", "must be a positive number", n_control)
    n = float(n_control)

    def gap(delta: float) -> float:
        sd_null, sd_alt = _sds(metric, delta, ratio, cuped_correlation)
        return _power(delta, n, sd_null, sd_alt, alpha, two_sided) - target

    if isinstance(metric, ProportionMetric):
        upper = (1 - metric.baseline_rate) * (1 - 1e-12)
        if gap(upper) < 0:
            return MdeResult(math.nan, math.nan, n_control, ratio * n, target, alpha, note="unattainable")
    else:
        sd_null, sd_alt = _sds(metric, 1.0, ratio, cuped_correlation)
        z_alpha = stats.norm.isf(alpha / 2 if two_sided else alpha)
        upper = float((z_alpha * sd_null + stats.norm.isf(1 - target) * sd_alt) / math.sqrt(n))
    lower = upper * 1e-12
    if gap(upper) <= 0:
        delta = upper
    elif gap(lower) >= 0:  # the power asked for is at most alpha: any effect reaches it
        delta = lower
    else:
        delta = float(optimize.brentq(gap, lower, upper, xtol=1e-14, rtol=1e-12))
    baseline = metric.baseline
    relative_effect = None if baseline is None or baseline == 0 else delta / baseline
    return MdeResult(delta, relative_effect, n_control, ratio * n, target, alpha)
