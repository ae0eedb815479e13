"""Bayesian readouts: a normal model on the effect, and the exact beta-binomial chance that B beats A.

``bayes_normal`` treats the estimated effect as normal with its sampling variance (the likelihood) and combines it
with a normal prior on the effect (flat when ``prior_var`` is None). The effect is absolute (treatment minus control)
or relative (treatment / control - 1, variance by the delta method).

``beta_binomial_prob_better`` is Evan Miller's closed form for P(p_B > p_A) with Beta posteriors of integer
parameters, summed in log space: exact, no Monte Carlo noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from insights.distributions import normal_cdf, normal_ppf
from insights.errors import invalid_parameter
from insights.experiments.summaries import SampleStats
from insights.params import check_count

__all__ = ["BayesNormalResult", "bayes_from_effect", "bayes_normal", "beta_binomial_prob_better"]


@dataclass(frozen=True)
class BayesNormalResult:
    """Posterior of the effect under the normal model.

    ``expected_loss_treatment`` is E[max(0, -effect)], what shipping the treatment costs if it is worse;
    ``expected_loss_control`` is E[max(0, effect)], what keeping control forgoes.
    ``note`` is a stable code when the data cannot support the model (``"too_few_units"``, ``"zero_variance"``,
    ``"zero_control_mean"``); the numbers are then NaN.
    """

    effect: float
    posterior_mean: float
    posterior_sd: float
    chance_to_beat_control: float
    expected_loss_treatment: float
    expected_loss_control: float
    ci_low: float
    ci_high: float
    ci_level: float
    relative: bool
    note: str | None = None


def _empty(relative: bool, ci_level: float, note: str, effect: float = math.nan) -> BayesNormalResult:
    nan = math.nan
    return BayesNormalResult(effect, nan, nan, nan, nan, nan, nan, nan, ci_level, relative, note)


def bayes_normal(
    control: SampleStats,
    treatment: SampleStats,
    *,
    relative: bool = False,
    prior_mean: float = 0.0,
    prior_var: float | None = None,
    ci_level: float = 0.95,
) -> BayesNormalResult:
    """Chance to beat control, expected losses and a credible interval for the effect.

    >>> r = bayes_normal(SampleStats(1000, 0.10, 0.09), SampleStats(1000, 0.12, 0.1056))
    >>> round(r.chance_to_beat_control, 3)
    0.924
    """
    _check_prior("bayes_normal", prior_mean, prior_var, ci_level)
    if control.n < 2 or treatment.n < 2:
        return _empty(relative, ci_level, "too_few_units")
    var_c = control.variance / control.n
    var_t = treatment.variance / treatment.n
    if relative:
        if control.mean == 0:
            return _empty(relative, ci_level, "zero_control_mean")
        effect = treatment.mean / control.mean - 1
        # Delta method for mean_t / mean_c.
        var = var_t / control.mean**2 + var_c * treatment.mean**2 / control.mean**4
    else:
        effect = treatment.mean - control.mean
        var = var_c + var_t
    if not var > 0:
        return _empty(relative, ci_level, "zero_variance", effect)
    return _posterior(effect, var, prior_mean, prior_var, ci_level, relative)


def bayes_from_effect(
    effect: float,
    se: float,
    *,
    relative: bool = False,
    prior_mean: float = 0.0,
    prior_var: float | None = None,
    ci_level: float = 0.95,
) -> BayesNormalResult:
    """The normal model on an effect already estimated with its standard error (CUPED, ratio, quantile results).

    >>> round(bayes_from_effect(0.02, 0.01).chance_to_beat_control, 4)
    0.9772
    """
    function = "bayes_from_effect"
    _check_prior(function, prior_mean, prior_var, ci_level)
    if not (math.isfinite(effect) and math.isfinite(se)):
        return _empty(relative, ci_level, "no_estimate", effect)
    if not se > 0:
        return _empty(relative, ci_level, "zero_variance", effect)
    return _posterior(effect, se * se, prior_mean, prior_var, ci_level, relative)


def _check_prior(function: str, prior_mean: float, prior_var: float | None, ci_level: float) -> None:
    if not (isinstance(ci_level, float) and 0 < ci_level < 1):
        raise invalid_parameter("ci_level", function, "must be in (0, 1)", ci_level)
    if not (isinstance(prior_mean, int | float) and math.isfinite(prior_mean)):
        raise invalid_parameter("prior_mean", function, "must be a finite number", prior_mean)
    if prior_var is not None and not (
        isinstance(prior_var, int | float) and math.isfinite(prior_var) and prior_var > 0
    ):
        raise invalid_parameter("prior_var", function, "must be a positive finite number or None (flat)", prior_var)


def _posterior(
    effect: float, var: float, prior_mean: float, prior_var: float | None, ci_level: float, relative: bool
) -> BayesNormalResult:
    if prior_var is None:
        post_var, post_mean = var, effect
    else:
        post_var = 1 / (1 / prior_var + 1 / var)
        post_mean = post_var * (prior_mean / prior_var + effect / var)
    sd = math.sqrt(post_var)
    z = post_mean / sd
    density = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)  # the standard normal density
    # E[max(0, -X)] and E[max(0, X)] for X ~ N(mu, sd^2).
    loss_treatment = sd * density - post_mean * normal_cdf(-z)
    loss_control = sd * density + post_mean * normal_cdf(z)
    half = -normal_ppf((1 - ci_level) / 2) * sd
    return BayesNormalResult(
        effect=effect,
        posterior_mean=post_mean,
        posterior_sd=sd,
        chance_to_beat_control=normal_cdf(z),
        expected_loss_treatment=max(loss_treatment, 0.0),
        expected_loss_control=max(loss_control, 0.0),
        ci_low=post_mean - half,
        ci_high=post_mean + half,
        ci_level=ci_level,
        relative=relative,
    )


def _prob_b_beats_a(alpha_a: int, beta_a: int, alpha_b: int, beta_b: int) -> float:
    # Evan Miller: P(p_B > p_A) = sum over i < alpha_B of
    #   t_i = B(alpha_A + i, beta_A + beta_B) / ((beta_B + i) B(1 + i, beta_B) B(alpha_A, beta_A)).
    # Successive terms differ by the rational factor r_i = t_{i+1} / t_i below, so one term (the largest, near the
    # mode) is computed from log-gammas and the rest by running sums of log r_i outward from it: no special
    # functions, and the running sums stay small where the terms matter.
    lg = math.lgamma
    mode = (alpha_a * beta_b - alpha_a - beta_a - beta_b) / (beta_a + 1)  # where r_i crosses 1
    m = min(max(math.ceil(mode), 0), alpha_b - 1)
    log_t_m = (
        lg(beta_a + beta_b)
        - lg(beta_b)
        - lg(alpha_a)
        - lg(beta_a)
        + lg(alpha_a + beta_a)
        + lg(alpha_a + m)
        + lg(beta_b + m)
        - lg(alpha_a + beta_a + beta_b + m)
        - lg(1 + m)
    )
    i = np.arange(alpha_b - 1, dtype=np.float64)
    log_r = np.log((alpha_a + i) * (beta_b + i) / ((alpha_a + beta_a + beta_b + i) * (1 + i)))
    log_terms = np.concatenate([-np.cumsum(log_r[:m][::-1])[::-1], [0.0], np.cumsum(log_r[m:])])
    top = float(log_terms.max())
    return float(math.exp(log_t_m + top) * np.exp(log_terms - top).sum())


def beta_binomial_prob_better(
    a_successes: int,
    a_n: int,
    b_successes: int,
    b_n: int,
    *,
    prior: tuple[int, int] = (1, 1),
) -> float:
    """Exact P(p_B > p_A) for posteriors Beta(prior[0] + successes, prior[1] + failures).

    The sum has one term per unit of the smaller posterior alpha, so it stays exact and fast up to millions of
    conversions.

    >>> round(beta_binomial_prob_better(0, 0, 1, 1), 12)  # Beta(2, 1) against Beta(1, 1): 2/3
    0.666666666667
    """
    a_s, a_total = (
        check_count("a_successes", "beta_binomial_prob_better", a_successes),
        check_count("a_n", "beta_binomial_prob_better", a_n),
    )
    b_s, b_total = (
        check_count("b_successes", "beta_binomial_prob_better", b_successes),
        check_count("b_n", "beta_binomial_prob_better", b_n),
    )
    if a_s > a_total:
        raise invalid_parameter("a_successes", "beta_binomial_prob_better", f"must be at most a_n={a_total}", a_s)
    if b_s > b_total:
        raise invalid_parameter("b_successes", "beta_binomial_prob_better", f"must be at most b_n={b_total}", b_s)
    if not (
        isinstance(prior, tuple)
        and len(prior) == 2
        and all(isinstance(p, int) and not isinstance(p, bool) and p > 0 for p in prior)
    ):
        raise invalid_parameter("prior", "beta_binomial_prob_better", "must be a pair of positive integers", prior)
    alpha_a, beta_a = prior[0] + a_s, prior[1] + a_total - a_s
    alpha_b, beta_b = prior[0] + b_s, prior[1] + b_total - b_s
    # P(B > A) = 1 - P(A > B) (ties have probability zero): sum over whichever alpha is smaller.
    if alpha_b <= alpha_a:
        value = _prob_b_beats_a(alpha_a, beta_a, alpha_b, beta_b)
    else:
        value = 1.0 - _prob_b_beats_a(alpha_b, beta_b, alpha_a, beta_a)
    return min(max(value, 0.0), 1.0)
