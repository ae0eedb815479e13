"""Frequentist comparisons of two arms from their sufficient statistics: Welch t, two-proportion z and CUPED.

Every function returns an :class:`EffectResult`. Statistically degenerate input (an empty arm, zero variance, a zero
control mean) gives a result with NaNs where a number cannot be computed and a stable ``note`` code; only a call with
invalid arguments raises :class:`~insights.errors.InvalidParameterError`.

Note codes: ``empty_arm``, ``single_unit_arm``, ``zero_variance``, ``zero_control_mean``, ``nonpositive_mean``
(log-ratio CI needs two positive means), ``zero_covariate_variance`` (CUPED falls back to theta = 0).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from insights.distributions import normal_cdf, normal_ppf, t_cdf, t_ppf
from insights.errors import invalid_parameter
from insights.experiments.summaries import CovarianceStats, SampleStats
from insights.params import check_choice, check_instance, check_open_unit

__all__ = ["EffectResult", "cuped", "proportion_z_test", "welch_test"]

Alternative = Literal["two-sided", "greater", "less"]
RelativeCI = Literal["delta", "log"]
_ALTERNATIVES = ("two-sided", "greater", "less")
_RELATIVE_CIS = ("delta", "log")
_NAN = math.nan


@dataclass(frozen=True)
class EffectResult:
    """Treatment versus control: absolute effect (treatment - control) and relative effect (treatment / control - 1).

    One-sided alternatives give a one-sided interval (one bound infinite). ``method`` names every choice made;
    ``note`` is None or a stable code explaining NaNs. ``theta`` and ``variance_reduction`` are set by CUPED only
    (``variance_reduction`` = 1 - adjusted variance of the effect / unadjusted variance). ``se`` is the standard error
    of the absolute effect that the interval is built from (for proportions the unpooled, Wald one; for CUPED the
    adjusted one); it is NaN wherever the interval is, and is what inverse-variance weighting across segments reads.
    """

    control_mean: float
    treatment_mean: float
    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    df: float
    relative: float
    relative_ci_low: float
    relative_ci_high: float
    method: str
    note: str | None = None
    theta: float | None = None
    variance_reduction: float | None = None
    se: float = _NAN

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict, in declaration order."""
        return asdict(self)


def _cdf(x: float, df: float | None) -> float:
    return normal_cdf(x) if df is None else t_cdf(x, df)


def _p_value(statistic: float, alternative: str, df: float | None) -> float:
    if alternative == "greater":
        return _cdf(-statistic, df)
    if alternative == "less":
        return _cdf(statistic, df)
    return min(1.0, 2.0 * _cdf(-abs(statistic), df))


def _quantile(alpha: float, alternative: str, df: float | None) -> float:
    level = 1 - alpha / 2 if alternative == "two-sided" else 1 - alpha
    return normal_ppf(level) if df is None else t_ppf(level, df)


def _interval(center: float, half_width: float, alternative: str) -> tuple[float, float]:
    low = -math.inf if alternative == "less" else center - half_width
    high = math.inf if alternative == "greater" else center + half_width
    return low, high


def _relative(
    c_mean: float, t_mean: float, c_var_mean: float, t_var_mean: float, q: float, alternative: str, method: str
) -> tuple[float, float, float, str | None]:
    """Relative effect and its CI; ``*_var_mean`` are the variances of the two arm means."""
    if c_mean == 0:
        return _NAN, _NAN, _NAN, "zero_control_mean"
    relative = t_mean / c_mean - 1
    if method == "log":
        if c_mean < 0 or t_mean <= 0:
            return relative, _NAN, _NAN, "nonpositive_mean"
        se_log = math.sqrt(t_var_mean / t_mean**2 + c_var_mean / c_mean**2)
        low, high = _interval(math.log(t_mean / c_mean), q * se_log, alternative)
        return relative, math.exp(low) - 1, math.exp(high) - 1, None
    # Delta method for the ratio of two independent means.
    se = math.sqrt(t_var_mean / c_mean**2 + t_mean**2 * c_var_mean / c_mean**4)
    low, high = _interval(relative, q * se, alternative)
    return relative, low, high, None


def compare_estimates(
    c_mean: float,
    t_mean: float,
    c_var_mean: float,
    t_var_mean: float,
    *,
    df: float | None = None,
    alpha: float,
    alternative: str,
    relative_ci: str,
    method: str,
    note: str | None = None,
    theta: float | None = None,
    variance_reduction: float | None = None,
) -> EffectResult:
    """The comparison of two arm estimates from their values and the variances of those estimates: normal (z), or
    Student's t with ``df`` degrees of freedom.

    Shared by every test whose interval is estimate +- quantile x SE (Welch, CUPED, ratios, quantiles); ``note`` is
    kept unless the relative effect adds its own.
    """
    effect = t_mean - c_mean
    se2 = c_var_mean + t_var_mean
    if not se2 > 0:
        return EffectResult(
            c_mean, t_mean, effect, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, method, "zero_variance",
            theta, variance_reduction,
        )  # fmt: skip
    se = math.sqrt(se2)
    statistic = effect / se
    q = _quantile(alpha, alternative, df)
    low, high = _interval(effect, q * se, alternative)
    relative, r_low, r_high, rel_note = _relative(c_mean, t_mean, c_var_mean, t_var_mean, q, alternative, relative_ci)
    return EffectResult(
        c_mean,
        t_mean,
        effect,
        low,
        high,
        _p_value(statistic, alternative, df),
        statistic,
        _NAN if df is None else df,
        relative,
        r_low,
        r_high,
        method,
        rel_note or note,
        theta,
        variance_reduction,
        se,
    )


def _degenerate(
    control: SampleStats, treatment: SampleStats, method: str, note: str, effect: float = _NAN
) -> EffectResult:
    return EffectResult(
        control.mean, treatment.mean, effect, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, method, note
    )


def _size_note(control: SampleStats, treatment: SampleStats) -> str | None:
    if control.n == 0 or treatment.n == 0:
        return "empty_arm"
    if control.n == 1 or treatment.n == 1:
        return "single_unit_arm"
    return None


def welch_test(
    control: SampleStats,
    treatment: SampleStats,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    relative_ci: RelativeCI = "delta",
) -> EffectResult:
    """Welch's unequal-variance t test of the difference of means, with Welch-Satterthwaite degrees of freedom.

    The relative CI uses the same t quantile, by the delta method (default) or on the log of the ratio of means.

    >>> r = welch_test(SampleStats(100, 10.0, 4.0), SampleStats(100, 11.0, 4.0))
    >>> round(r.effect, 3), round(r.relative, 3), r.note
    (1.0, 0.1, None)
    """
    function = "welch_test"
    check_instance("control", function, control, SampleStats)
    check_instance("treatment", function, treatment, SampleStats)
    alpha = check_open_unit("alpha", function, alpha)
    check_choice("alternative", function, alternative, _ALTERNATIVES)
    check_choice("relative_ci", function, relative_ci, _RELATIVE_CIS)
    method = f"welch t, {alternative}, relative CI by {'delta method' if relative_ci == 'delta' else 'log ratio'}"

    note = _size_note(control, treatment)
    if note is not None:
        effect = treatment.mean - control.mean if note == "single_unit_arm" else _NAN
        return _degenerate(control, treatment, method, note, effect)
    c_var_mean, t_var_mean = control.variance / control.n, treatment.variance / treatment.n
    se2 = c_var_mean + t_var_mean
    if se2 == 0:
        return _degenerate(control, treatment, method, "zero_variance", treatment.mean - control.mean)
    df = se2**2 / (c_var_mean**2 / (control.n - 1) + t_var_mean**2 / (treatment.n - 1))
    return compare_estimates(
        control.mean,
        treatment.mean,
        c_var_mean,
        t_var_mean,
        df=df,
        alpha=alpha,
        alternative=alternative,
        relative_ci=relative_ci,
        method=method,
    )


def proportion_z_test(
    control: SampleStats,
    treatment: SampleStats,
    *,
    pooled: bool = True,
    continuity: bool = False,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    relative_ci: RelativeCI = "delta",
) -> EffectResult:
    """Two-proportion z test on records built with :meth:`SampleStats.from_proportion`.

    Only ``n`` and ``mean`` (the rate) are read; the variance is recomputed as p(1 - p) / n. The test statistic uses
    the pooled standard error (default, as under the null both rates are equal) or the unpooled one; the CI always
    uses the unpooled (Wald) standard error. With ``continuity`` the difference is moved towards zero by
    (1/n_control + 1/n_treatment) / 2 for the statistic (Yates) and the CI is widened by the same amount.

    >>> r = proportion_z_test(SampleStats.from_proportion(100, 1000), SampleStats.from_proportion(130, 1000))
    >>> round(r.effect, 3), r.p_value < 0.05
    (0.03, True)
    """
    function = "proportion_z_test"
    check_instance("control", function, control, SampleStats)
    check_instance("treatment", function, treatment, SampleStats)
    for name in ("pooled", "continuity"):
        value = pooled if name == "pooled" else continuity
        if not isinstance(value, bool):
            raise invalid_parameter(name, function, "must be True or False", value)
    alpha = check_open_unit("alpha", function, alpha)
    check_choice("alternative", function, alternative, _ALTERNATIVES)
    check_choice("relative_ci", function, relative_ci, _RELATIVE_CIS)
    for name, arm in (("control", control), ("treatment", treatment)):
        if arm.n > 0 and not 0 <= arm.mean <= 1:
            raise invalid_parameter(name, function, "must have a mean (rate) in [0, 1]", arm.mean)
    method = (
        f"two-proportion z, {'pooled' if pooled else 'unpooled'} SE for the test, unpooled SE for the CI, "
        f"{'with' if continuity else 'no'} continuity correction, {alternative}, "
        f"relative CI by {'delta method' if relative_ci == 'delta' else 'log ratio'}"
    )
    if control.n == 0 or treatment.n == 0:
        return _degenerate(control, treatment, method, "empty_arm")
    p_c, p_t = control.mean, treatment.mean
    effect = p_t - p_c
    c_var_mean, t_var_mean = p_c * (1 - p_c) / control.n, p_t * (1 - p_t) / treatment.n
    se_ci = math.sqrt(c_var_mean + t_var_mean)
    if pooled:
        p = (control.total + treatment.total) / (control.n + treatment.n)
        se_test = math.sqrt(p * (1 - p) * (1 / control.n + 1 / treatment.n))
    else:
        se_test = se_ci
    if se_test == 0:
        return _degenerate(control, treatment, method, "zero_variance", effect)
    correction = (1 / control.n + 1 / treatment.n) / 2 if continuity else 0.0
    if alternative == "greater":
        shifted = effect - correction
    elif alternative == "less":
        shifted = effect + correction
    else:
        shifted = math.copysign(max(abs(effect) - correction, 0.0), effect)
    statistic = shifted / se_test
    q = _quantile(alpha, alternative, None)
    low, high = _interval(effect, q * se_ci + correction, alternative)
    if se_ci == 0:
        low, high = _NAN, _NAN
    relative, r_low, r_high, note = _relative(p_c, p_t, c_var_mean, t_var_mean, q, alternative, relative_ci)
    if se_ci == 0:
        r_low, r_high = _NAN, _NAN
        note = note or "zero_variance"
    return EffectResult(
        p_c,
        p_t,
        effect,
        low,
        high,
        _p_value(statistic, alternative, None),
        statistic,
        _NAN,
        relative,
        r_low,
        r_high,
        method,
        note,
        se=se_ci if se_ci > 0 else _NAN,
    )


def cuped(
    control: CovarianceStats,
    treatment: CovarianceStats,
    *,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    relative_ci: RelativeCI = "delta",
) -> EffectResult:
    """CUPED: Welch test on the metric ``x`` adjusted by the pre-period covariate ``y``.

    theta = pooled within-arm covariance(x, y) / pooled within-arm variance(y), so a treatment effect on ``x`` does not
    leak into theta. Each arm's adjusted mean is mean_x - theta (mean_y - overall mean_y), which keeps the control mean
    on the metric's scale for the relative effect; the adjusted variance is var_x - 2 theta cov_xy + theta^2 var_y.
    The uncertainty of theta itself is ignored, as is usual. If the covariate has no variance, theta is 0 and the note
    is ``zero_covariate_variance``.
    """
    function = "cuped"
    check_instance("control", function, control, CovarianceStats)
    check_instance("treatment", function, treatment, CovarianceStats)
    alpha = check_open_unit("alpha", function, alpha)
    check_choice("alternative", function, alternative, _ALTERNATIVES)
    check_choice("relative_ci", function, relative_ci, _RELATIVE_CIS)
    note = _size_note(control.x, treatment.x)
    if note is not None:
        raw = welch_test(control.x, treatment.x, alpha=alpha, alternative=alternative, relative_ci=relative_ci)
        return _with_cuped(raw, _NAN, _NAN, None)
    m2_y = control.var_y * (control.n - 1) + treatment.var_y * (treatment.n - 1)
    m_xy = control.cov_xy * (control.n - 1) + treatment.cov_xy * (treatment.n - 1)
    theta = 0.0 if m2_y == 0 else m_xy / m2_y
    mean_y = (control.mean_y * control.n + treatment.mean_y * treatment.n) / (control.n + treatment.n)

    def adjust(arm: CovarianceStats) -> SampleStats:
        variance = arm.var_x - 2 * theta * arm.cov_xy + theta**2 * arm.var_y
        return SampleStats(arm.n, arm.mean_x - theta * (arm.mean_y - mean_y), max(variance, 0.0))

    adjusted = welch_test(
        adjust(control), adjust(treatment), alpha=alpha, alternative=alternative, relative_ci=relative_ci
    )
    raw_var = control.var_x / control.n + treatment.var_x / treatment.n
    adj_c, adj_t = adjust(control), adjust(treatment)
    adj_var = adj_c.variance / adj_c.n + adj_t.variance / adj_t.n
    reduction = 1 - adj_var / raw_var if raw_var > 0 else _NAN
    extra = "zero_covariate_variance" if m2_y == 0 else None
    return _with_cuped(adjusted, theta, reduction, extra)


def _with_cuped(result: EffectResult, theta: float, reduction: float, extra_note: str | None) -> EffectResult:
    fields = result.to_dict()
    fields["method"] = "CUPED (theta from pooled within-arm covariance), " + result.method
    fields["note"] = result.note or extra_note
    fields["theta"] = theta
    fields["variance_reduction"] = reduction
    return EffectResult(**fields)
