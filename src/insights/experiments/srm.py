"""Sample ratio mismatch: does the split of units across arms match the planned allocation?"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from insights.distributions import chi2_sf
from insights.errors import invalid_parameter

__all__ = ["SrmResult", "srm_test"]


@dataclass(frozen=True)
class SrmResult:
    """Chi-square goodness-of-fit test of the observed arm counts against the planned weights.

    ``is_mismatch`` is True when ``p_value`` is below ``threshold``; a mismatch means the assignment or the logging is
    broken and the effect estimates should not be trusted. ``note`` is ``no_units`` when every count is zero.
    """

    observed: tuple[int, ...]
    expected: tuple[float, ...]
    statistic: float
    df: int
    p_value: float
    threshold: float
    is_mismatch: bool
    method: str
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict, in declaration order."""
        return asdict(self)


def srm_test(
    observed: Sequence[int], expected_weights: Sequence[float] | None = None, *, threshold: float = 0.001
) -> SrmResult:
    """Chi-square test (k - 1 degrees of freedom) of the unit counts of k arms; equal weights by default.

    >>> srm_test([5000, 5400]).is_mismatch
    True
    """
    function = "srm_test"
    counts = list(observed)
    if len(counts) < 2 or any(isinstance(c, bool) or not isinstance(c, int | np.integer) or c < 0 for c in counts):
        raise invalid_parameter("observed", function, "must hold at least two non-negative integer counts", observed)
    k = len(counts)
    if expected_weights is None:
        weights = np.full(k, 1.0 / k)
    else:
        weights = np.asarray(list(expected_weights), dtype=np.float64)
        if weights.shape != (k,) or not np.all(np.isfinite(weights)) or not np.all(weights > 0):
            raise invalid_parameter(
                "expected_weights", function, f"must hold {k} positive finite numbers, one per arm", expected_weights
            )
        weights = weights / weights.sum()
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold < 1:
        raise invalid_parameter("threshold", function, "must be in (0, 1)", threshold)

    total = sum(int(c) for c in counts)
    expected = weights * total
    method = f"chi-square goodness of fit, {k - 1} df, mismatch if p < {threshold:g}"
    observed_tuple = tuple(int(c) for c in counts)
    if total == 0:
        return SrmResult(
            observed_tuple, tuple(expected.tolist()), math.nan, k - 1, math.nan, threshold, False, method, "no_units"
        )
    obs = np.asarray(observed_tuple, dtype=np.float64)
    statistic = float(np.sum((obs - expected) ** 2 / expected))
    p_value = chi2_sf(statistic, k - 1)  # the chi-square survival function
    return SrmResult(
        observed_tuple,
        tuple(expected.tolist()),
        statistic,
        k - 1,
        p_value,
        float(threshold),
        p_value < threshold,
        method,
    )
