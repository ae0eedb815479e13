"""Ratio metrics: the ratio of two means per arm, by the delta method, with optional CUPED.

A ratio metric divides two sums over the randomisation units: messages per session, revenue per order, clicks per
impression. When the analysis unit (a session) is finer than the randomisation unit (a user), the sessions of one
user are not independent, and a t test over sessions understates the variance. Summing per randomisation unit keeps
the units independent: each unit's row holds its own numerator x (its messages) and denominator y (its number of
sessions), and each arm's metric is R = mean(x) / mean(y) = sum(x) / sum(y). Its variance, by the delta method
(Deng, Knoblich & Lu 2018, "Applying the Delta Method in Metric Analytics"), is::

    Var(R) = (var_x - 2 R cov_xy + R^2 var_y) / (n mean_y^2)

that is the variance of the mean of the linearised unit values L = (x - R y) / mean_y. The arms are compared with a
normal reference distribution (the delta method is asymptotic; there are no degrees of freedom to speak of).

Note codes: ``empty_arm``, ``zero_denominator_mean`` (an arm's denominator sums to zero, so its ratio is undefined),
``single_unit_arm``, ``zero_variance``, ``zero_control_mean``, ``nonpositive_mean`` (log-ratio CI), and for CUPED
``zero_covariate_variance`` and ``zero_covariate_denominator_mean`` (both fall back to theta = 0, no adjustment).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from insights.errors import invalid_parameter
from insights.experiments.frequentist import (
    _ALTERNATIVES,
    _RELATIVE_CIS,
    Alternative,
    EffectResult,
    RelativeCI,
    compare_estimates,
)
from insights.experiments.summaries import MomentStats
from insights.params import check_choice, check_instance, check_open_unit

__all__ = ["ratio_test"]

_NAN = math.nan


def _check_name(parameter: str, value: object, control: MomentStats, treatment: MomentStats) -> str:
    """A variable name that both arms' records hold."""
    if isinstance(value, str) and value in control.names and value in treatment.names:
        return value
    common = [name for name in control.names if name in treatment.names]
    raise invalid_parameter(parameter, "ratio_test", "must be one of " + ", ".join(common), value)


def _gradient(stats: MomentStats, numerator: str, denominator: str) -> NDArray[np.float64]:
    """Gradient of mean(numerator) / mean(denominator) in the arm's means: the weights of the linearised value.

    With it, the per-unit variance of L = (x - R y) / mean_y is g' cov g, and the covariance of two linearised ratios
    is g' cov g0; a name shared by two roles is handled by adding the two partial derivatives.
    """
    mean_y = float(stats.mean[stats.index(denominator)])
    ratio = float(stats.mean[stats.index(numerator)]) / mean_y
    gradient = np.zeros(len(stats.names))
    gradient[stats.index(numerator)] += 1.0 / mean_y
    gradient[stats.index(denominator)] -= ratio / mean_y
    return gradient


def _ratio(stats: MomentStats, numerator: str, denominator: str) -> float:
    mean_y = float(stats.mean[stats.index(denominator)])
    return _NAN if stats.n == 0 or mean_y == 0 else float(stats.mean[stats.index(numerator)]) / mean_y


def ratio_test(
    control: MomentStats,
    treatment: MomentStats,
    *,
    numerator: str,
    denominator: str,
    covariate_numerator: str | None = None,
    covariate_denominator: str | None = None,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
    relative_ci: RelativeCI = "delta",
) -> EffectResult:
    """Compare the ratio of means mean(numerator) / mean(denominator) of two arms, by the delta method.

    ``control`` and ``treatment`` are each arm's :class:`~insights.experiments.summaries.MomentStats` over the
    randomisation units (one row per user: its numerator and denominator sums, and the pre-period ones for CUPED).
    The effect is R_treatment - R_control, tested against a normal distribution; ``df`` is NaN. The relative CI uses
    the same normal quantile, by the delta method (default) or on the log of the ratio.

    With both ``covariate_numerator`` and ``covariate_denominator`` (the same ratio in the pre-period), CUPED is
    applied to the linearised ratios: theta = pooled within-arm cov(L, L0) / pooled within-arm var(L0), where L and
    L0 are each arm's linearised metric and covariate ratios, so a treatment effect does not leak into theta (as in
    :func:`~insights.experiments.frequentist.cuped`). Each arm's adjusted ratio is R - theta (R0 - R0_pooled), with
    R0_pooled = pooled mean(covariate_numerator) / pooled mean(covariate_denominator), and its per-unit variance is
    var(L) - 2 theta cov(L, L0) + theta^2 var(L0). ``theta`` and ``variance_reduction`` are filled as by ``cuped``.

    >>> names = ("messages", "sessions")
    >>> control = MomentStats.from_values(names, [[3, 1], [5, 2], [4, 2], [9, 3]])
    >>> treatment = MomentStats.from_values(names, [[6, 2], [7, 2], [2, 1], [8, 2]])
    >>> r = ratio_test(control, treatment, numerator="messages", denominator="sessions")
    >>> round(r.control_mean, 3), round(r.treatment_mean, 3), round(r.effect, 3), r.note
    (2.625, 3.286, 0.661, None)
    """
    function = "ratio_test"
    check_instance("control", function, control, MomentStats)
    check_instance("treatment", function, treatment, MomentStats)
    numerator = _check_name("numerator", numerator, control, treatment)
    denominator = _check_name("denominator", denominator, control, treatment)
    if (covariate_numerator is None) != (covariate_denominator is None):
        missing = "covariate_denominator" if covariate_denominator is None else "covariate_numerator"
        other = "covariate_numerator" if missing == "covariate_denominator" else "covariate_denominator"
        raise invalid_parameter(missing, function, f"must be given together with {other}", None)
    covariates: tuple[str, str] | None = None
    if covariate_numerator is not None:
        covariates = (
            _check_name("covariate_numerator", covariate_numerator, control, treatment),
            _check_name("covariate_denominator", covariate_denominator, control, treatment),
        )
    alpha = check_open_unit("alpha", function, alpha)
    check_choice("alternative", function, alternative, _ALTERNATIVES)
    check_choice("relative_ci", function, relative_ci, _RELATIVE_CIS)
    method = (
        f"ratio of means, delta method, normal, {alternative}, "
        f"relative CI by {'delta method' if relative_ci == 'delta' else 'log ratio'}"
    )
    # theta and variance_reduction stay None without CUPED, and NaN when CUPED cannot get that far.
    theta: float | None = None
    reduction: float | None = None
    if covariates is not None:
        method = "CUPED for a ratio (linearised ratios, theta from pooled within-arm covariance), " + method
        theta, reduction = _NAN, _NAN

    def degenerate(c_ratio: float, t_ratio: float, note: str, effect: float = _NAN) -> EffectResult:
        return EffectResult(
            c_ratio, t_ratio, effect, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, method, note, theta, reduction
        )

    if control.n == 0 or treatment.n == 0:
        return degenerate(_NAN, _NAN, "empty_arm")
    c_ratio, t_ratio = _ratio(control, numerator, denominator), _ratio(treatment, numerator, denominator)
    if math.isnan(c_ratio) or math.isnan(t_ratio):
        return degenerate(c_ratio, t_ratio, "zero_denominator_mean")
    if control.n == 1 or treatment.n == 1:
        return degenerate(c_ratio, t_ratio, "single_unit_arm", t_ratio - c_ratio)

    arms = (control, treatment)
    gradients = [_gradient(arm, numerator, denominator) for arm in arms]
    raw_vars = [max(float(g @ arm.cov @ g), 0.0) for g, arm in zip(gradients, arms, strict=True)]
    means, unit_vars = [c_ratio, t_ratio], list(raw_vars)
    extra_note: str | None = None
    if covariates is not None:
        pooled = control + treatment
        pre_ratios = [_ratio(arm, *covariates) for arm in (*arms, pooled)]
        if any(math.isnan(r) for r in pre_ratios):
            theta, extra_note = 0.0, "zero_covariate_denominator_mean"
        else:
            pre_gradients = [_gradient(arm, *covariates) for arm in arms]
            m2_pre = sum((arm.n - 1) * float(g0 @ arm.cov @ g0) for g0, arm in zip(pre_gradients, arms, strict=True))
            m_cross = sum(
                (arm.n - 1) * float(g @ arm.cov @ g0) for g, g0, arm in zip(gradients, pre_gradients, arms, strict=True)
            )
            theta = 0.0 if m2_pre <= 0 else m_cross / m2_pre
            extra_note = "zero_covariate_variance" if m2_pre <= 0 else None
            for i, (arm, g, g0) in enumerate(zip(arms, gradients, pre_gradients, strict=True)):
                means[i] -= theta * (pre_ratios[i] - pre_ratios[2])
                adjusted = g - theta * g0
                unit_vars[i] = max(float(adjusted @ arm.cov @ adjusted), 0.0)

    c_var_mean, t_var_mean = unit_vars[0] / control.n, unit_vars[1] / treatment.n
    raw_var = raw_vars[0] / control.n + raw_vars[1] / treatment.n
    if covariates is not None:
        reduction = 1 - (c_var_mean + t_var_mean) / raw_var if raw_var > 0 else _NAN
    c_mean, t_mean = means
    if c_var_mean + t_var_mean == 0:
        return degenerate(c_mean, t_mean, "zero_variance", t_mean - c_mean)
    return compare_estimates(
        c_mean,
        t_mean,
        c_var_mean,
        t_var_mean,
        alpha=alpha,
        alternative=alternative,
        relative_ci=relative_ci,
        method=method,
        note=extra_note,
        theta=theta,
        variance_reduction=reduction,
    )
