"""Always-valid inference safe under continuous peeking: the mixture SPRT (mSPRT).

Johari, Pekelis, Koomen, Walsh (2017), "Peeking at A/B tests". For the difference of means
``theta = mean_t - mean_c`` with estimate ``d`` and variance ``V = var_c / n_c + var_t / n_t`` (normal approximation,
plug-in variances), mixing the alternative over ``theta ~ N(0, tau2)`` gives the likelihood ratio against theta0::

    Lambda = sqrt(V / (V + tau2)) * exp(tau2 * (d - theta0)^2 / (2 V (V + tau2)))

The always-valid p-value is the running minimum of ``1 / Lambda(0)`` over looks; the confidence sequence is the
running intersection of ``{theta0 : Lambda(theta0) < 1 / alpha}``, i.e. ``d`` plus or minus
``sqrt(V (V + tau2) / tau2 * (2 log(1 / alpha) + log((V + tau2) / V)))``. Pass each look's result as ``previous`` to
the next look to carry both running quantities. ``tau2`` is on the scale of the squared effect: choose it near the
square of the effects you expect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from insights.errors import invalid_parameter
from insights.experiments.summaries import SampleStats

__all__ = ["MsprtResult", "msprt", "msprt_from_effect"]


@dataclass(frozen=True)
class MsprtResult:
    """One look of an mSPRT: the always-valid p-value and confidence sequence, carried over all looks so far.

    ``note`` is ``"too_few_units"`` (an arm has fewer than 2 units) or ``"zero_variance"`` when this look cannot be
    evaluated; the running values from ``previous`` (or p = 1 and an unbounded sequence) are then kept.
    """

    effect: float
    se: float
    always_valid_p: float
    cs_low: float
    cs_high: float
    is_significant: bool
    alpha: float
    tau2: float
    n_looks: int
    note: str | None = None


def msprt(
    control: SampleStats,
    treatment: SampleStats,
    *,
    tau2: float,
    alpha: float = 0.05,
    previous: MsprtResult | None = None,
) -> MsprtResult:
    """Evaluate one look at cumulative statistics; chain looks through ``previous``.

    >>> r = msprt(SampleStats(5000, 0.0, 1.0), SampleStats(5000, 0.06, 1.0), tau2=0.01)
    >>> r.is_significant, round(r.always_valid_p, 4)
    (False, 0.0673)
    """
    if control.n < 2 or treatment.n < 2:
        return msprt_from_effect(math.nan, math.nan, tau2=tau2, alpha=alpha, previous=previous, note="too_few_units")
    effect = treatment.mean - control.mean
    var = control.variance / control.n + treatment.variance / treatment.n
    return msprt_from_effect(
        effect, math.sqrt(var) if var >= 0 else math.nan, tau2=tau2, alpha=alpha, previous=previous
    )


def msprt_from_effect(
    effect: float,
    se: float,
    *,
    tau2: float,
    alpha: float = 0.05,
    previous: MsprtResult | None = None,
    note: str | None = None,
) -> MsprtResult:
    """One look from an effect estimate and its standard error (for CUPED, ratio and quantile results).

    A NaN effect or standard error carries the previous look (``note`` ``no_estimate`` unless given).
    """
    function = "msprt"
    if not (isinstance(alpha, float) and 0 < alpha < 1):
        raise invalid_parameter("alpha", function, "must be in (0, 1)", alpha)
    if not (isinstance(tau2, int | float) and math.isfinite(tau2) and tau2 > 0):
        raise invalid_parameter("tau2", function, "must be a positive finite number", tau2)
    if previous is not None and (previous.alpha != alpha or previous.tau2 != tau2):
        raise invalid_parameter(
            "previous", function, f"must come from a look with the same alpha={alpha} and tau2={tau2}", previous
        )
    prior_p = 1.0 if previous is None else previous.always_valid_p
    prior_low = -math.inf if previous is None else previous.cs_low
    prior_high = math.inf if previous is None else previous.cs_high
    n_looks = 1 if previous is None else previous.n_looks + 1

    def carried(note: str, effect: float, se: float) -> MsprtResult:
        return MsprtResult(effect, se, prior_p, prior_low, prior_high, prior_p <= alpha, alpha, tau2, n_looks, note)

    if note is not None or not (math.isfinite(effect) and math.isfinite(se)):
        return carried(note or "no_estimate", effect, se)
    var = se * se
    if not var > 0:
        return carried("zero_variance", effect, 0.0)
    log_lambda = 0.5 * math.log(var / (var + tau2)) + tau2 * effect**2 / (2 * var * (var + tau2))
    p_value = min(prior_p, 1.0, math.exp(-log_lambda))
    half = math.sqrt(var * (var + tau2) / tau2 * (2 * math.log(1 / alpha) + math.log((var + tau2) / var)))
    return MsprtResult(
        effect=effect,
        se=math.sqrt(var),
        always_valid_p=p_value,
        cs_low=max(prior_low, effect - half),
        cs_high=min(prior_high, effect + half),
        is_significant=p_value <= alpha,
        alpha=alpha,
        tau2=tau2,
        n_looks=n_looks,
    )
