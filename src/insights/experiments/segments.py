"""Does the treatment effect differ between segments? A heterogeneity test of per-segment effects.

Segment readouts (new versus returning users, one per channel) invite reading differences between segments into
noise. :func:`interaction_test` asks first whether the per-segment effects differ more than their standard errors
allow. Note code: ``too_few_segments`` (fewer than two segments with a usable effect and standard error).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from insights.distributions import chi2_sf
from insights.errors import invalid_parameter
from insights.experiments.frequentist import EffectResult

__all__ = ["InteractionResult", "interaction_test"]


@dataclass(frozen=True)
class InteractionResult:
    """Cochran's Q test of treatment x segment interaction.

    ``statistic`` is Q, chi-square with ``df`` = ``n_segments`` - 1 degrees of freedom under no interaction (all
    segments share one effect). ``n_segments`` counts the segments used; ``n_left_out`` those left out because
    their effect or standard error is NaN (a degenerate segment, see the segment's own ``note``). ``note`` is
    ``too_few_segments`` when fewer than two are usable; the numbers are then NaN.
    """

    statistic: float
    df: float
    p_value: float
    method: str
    note: str | None
    n_segments: int
    n_left_out: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict, in declaration order."""
        return asdict(self)


def interaction_test(effects: Sequence[EffectResult]) -> InteractionResult:
    """Test whether per-segment absolute effects differ: Cochran's Q with inverse-variance weights.

    ``effects`` holds one :class:`~insights.experiments.frequentist.EffectResult` per segment (from any of the tests:
    Welch, z, CUPED, ratio, quantile), and reads each one's ``effect`` and ``se``. With weights w = 1 / se^2 and the
    weighted mean effect e_w = sum(w e) / sum(w), Q = sum(w (e - e_w)^2), compared with chi-square on k - 1 df.

    This is the Wald test of the interaction terms in the fully interacted model y ~ segment + arm + segment x arm
    with a separate variance for every segment x arm cell (the saturated model estimated by Welch's per-cell
    variances, which ordinary least squares with HC2 standard errors reproduces): there the arm coefficients of the k
    segments are the k per-segment effects, estimated independently with variances se^2, and the hypothesis "no
    interaction" is the k - 1 contrasts effect_s - effect_1 = 0. For independent estimates with a diagonal covariance
    V, the Wald statistic of those contrasts, (C e)' (C V C')^-1 (C e), equals Q. The segments must be disjoint
    (each unit in exactly one), or the effects are not independent.

    >>> a = EffectResult(1.0, 1.2, 0.2, 0.0, 0.4, 0.05, 1.96, math.nan, 0.2, 0.0, 0.4, "welch t", se=0.1)
    >>> b = EffectResult(1.0, 0.9, -0.1, -0.3, 0.1, 0.3, -1.0, math.nan, -0.1, -0.3, 0.1, "welch t", se=0.1)
    >>> r = interaction_test([a, b])
    >>> round(r.statistic, 3), r.df, round(r.p_value, 4)
    (4.5, 1.0, 0.0339)
    """
    function = "interaction_test"
    if isinstance(effects, EffectResult) or not isinstance(effects, Sequence):
        raise invalid_parameter("effects", function, "must be a sequence of EffectResult", type(effects).__name__)
    for item in effects:
        if not isinstance(item, EffectResult):
            raise invalid_parameter("effects", function, "must hold only EffectResult records", type(item).__name__)
    usable = [r for r in effects if math.isfinite(r.effect) and math.isfinite(r.se) and r.se > 0]
    k, left_out = len(usable), len(effects) - len(usable)
    method = f"Cochran's Q (inverse-variance weights) over {k} segments, chi-square with {max(k - 1, 0)} df" + (
        f", {left_out} segments without a usable effect and SE left out" if left_out else ""
    )
    if k < 2:
        return InteractionResult(math.nan, math.nan, math.nan, method, "too_few_segments", k, left_out)
    effect = np.array([r.effect for r in usable])
    weight = 1.0 / np.array([r.se for r in usable]) ** 2
    pooled = float(np.sum(weight * effect) / np.sum(weight))
    statistic = float(np.sum(weight * (effect - pooled) ** 2))
    df = k - 1
    return InteractionResult(statistic, float(df), chi2_sf(statistic, df), method, None, k, left_out)
