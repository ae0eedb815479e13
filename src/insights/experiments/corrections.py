"""Multiple-testing corrections: adjusted p-values for a family of tests chosen by the caller."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from insights.errors import invalid_parameter

__all__ = ["CORRECTION_METHODS", "adjust_pvalues"]

CorrectionMethod = Literal["holm", "hochberg", "bonferroni", "sidak", "bh", "by"]
CORRECTION_METHODS: tuple[str, ...] = ("holm", "hochberg", "bonferroni", "sidak", "bh", "by")


def adjust_pvalues(p_values: ArrayLike, method: CorrectionMethod = "holm") -> NDArray[np.float64]:
    """Adjusted p-values in the input order, capped at 1 and monotone in the raw p-values.

    Methods: ``holm`` (step-down Bonferroni, family-wise error), ``hochberg`` (step-up, family-wise error under
    independence or positive dependence), ``bonferroni``, ``sidak`` (1 - (1 - p)^m), ``bh`` (Benjamini-Hochberg false
    discovery rate), ``by`` (Benjamini-Yekutieli, false discovery rate under any dependence).

    >>> adjust_pvalues([0.01, 0.04, 0.03], method="holm").round(2).tolist()
    [0.03, 0.06, 0.06]
    """
    function = "adjust_pvalues"
    if method not in CORRECTION_METHODS:
        raise invalid_parameter("method", function, "must be one of " + ", ".join(CORRECTION_METHODS), method)
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise invalid_parameter("p_values", function, "must be one-dimensional", f"an array of shape {p.shape}")
    if not np.all((p >= 0) & (p <= 1)):
        raise invalid_parameter("p_values", function, "must contain only numbers in [0, 1]", p.tolist())
    m = p.size
    if m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    if method == "sidak":
        with np.errstate(divide="ignore"):  # p = 1 gives log1p(-1) = -inf and correctly an adjusted value of 1
            return np.asarray(-np.expm1(m * np.log1p(-p)), dtype=np.float64)

    order = np.argsort(p, kind="stable")
    ranked = p[order]
    rank = np.arange(1, m + 1)
    if method == "holm":
        adjusted = np.maximum.accumulate((m - rank + 1) * ranked)
    else:
        if method == "hochberg":
            scaled = (m - rank + 1) * ranked
        else:
            scaled = ranked * m / rank
            if method == "by":
                scaled = scaled * np.sum(1.0 / rank)
        # Step-up: each adjusted value is the smallest scaled value at or above its rank.
        adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    result = np.empty(m, dtype=np.float64)
    result[order] = np.minimum(adjusted, 1.0)
    return result
