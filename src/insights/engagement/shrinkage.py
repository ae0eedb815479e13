"""Empirical Bayes shrinkage on the log scale: small cells lean on the pooled estimate, big cells keep their own.

Each cell i has an estimate theta_i (a log rate ratio) with standard error s_i and a pooled value m_i to shrink
toward (the pooled estimate of the same slot or option). The spread of the true cell values around their pooled
values, tau^2, is estimated from the cells themselves by the DerSimonian-Laird moment estimator; then

    shrunk_i = m_i + B_i (theta_i - m_i),   B_i = tau^2 / (tau^2 + s_i^2),   se_i = sqrt(B_i) s_i.

A cell with little data (large s_i) moves most of the way to its pooled value; a cell with a lot of data barely
moves. When the cells differ no more than their noise explains, tau^2 is 0 and every cell takes its pooled value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from insights.errors import invalid_parameter

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Shrunk:
    """Shrunk estimates and standard errors (log scale), the weight each cell kept, and the between-cell spread."""

    estimate: Array
    se: Array
    weight: Array
    tau2: float


def between_variance(theta: Array, se: Array, pooled: Array) -> float:
    """DerSimonian-Laird tau^2 of `theta` around `pooled` (cells without a finite positive se are ignored)."""
    ok = np.isfinite(theta) & np.isfinite(se) & (se > 0)
    if ok.sum() < 2:
        return 0.0
    w = 1.0 / se[ok] ** 2
    q = float(np.sum(w * (theta[ok] - pooled[ok]) ** 2))
    denominator = float(w.sum() - np.sum(w**2) / w.sum())
    if denominator <= 0:
        return 0.0
    return max(0.0, float((q - (ok.sum() - 1)) / denominator))


def shrink(theta: Array, se: Array, pooled: Array | float, tau2: float | None = None) -> Shrunk:
    """Shrink each `theta` toward `pooled` by its own noise; `tau2` is estimated when not given.

    Cells with no estimate (NaN, or an infinite se) take the pooled value with the between-cell spread as
    their uncertainty.

    >>> s = shrink(np.array([0.5, 0.0]), np.array([0.5, 0.01]), 0.0, tau2=0.25)
    >>> [round(float(v), 3) for v in s.estimate]
    [0.25, 0.0]
    """
    fn = "shrink"
    theta = np.asarray(theta, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    if theta.ndim != 1 or se.shape != theta.shape:
        raise invalid_parameter("se", fn, "must have one standard error per estimate", se.shape)
    if np.any(se < 0):
        raise invalid_parameter("se", fn, "must hold standard errors >= 0", float(se.min()))
    try:
        target = np.broadcast_to(np.asarray(pooled, dtype=np.float64), theta.shape)
    except ValueError:
        raise invalid_parameter("pooled", fn, "must be one value or one per estimate", np.shape(pooled)) from None
    if tau2 is not None and (isinstance(tau2, bool) or not isinstance(tau2, int | float) or not tau2 >= 0):
        raise invalid_parameter("tau2", fn, "must be a number >= 0, or None to estimate it", tau2)
    spread = between_variance(theta, se, target) if tau2 is None else float(tau2)
    known = np.isfinite(theta) & np.isfinite(se)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(known, spread / (spread + se**2), 0.0)
        weight = np.where(known & (se == 0), 1.0, weight)
    estimate = np.where(known, target + weight * (np.nan_to_num(theta) - target), target)
    shrunk_se = np.where(known, np.sqrt(weight) * np.nan_to_num(se, posinf=0.0), np.sqrt(spread))
    return Shrunk(estimate=estimate, se=shrunk_se, weight=weight, tau2=spread)


@dataclass(frozen=True)
class CellRatios:
    """Observed over expected engagements per cell, on the log scale, with a standard error robust to overdispersion."""

    observed: Array
    expected: Array
    n_posts: npt.NDArray[np.int64]
    log_ratio: Array
    se: Array


def observed_expected(cell: npt.NDArray[np.int64], n_cells: int, y: Array, mu: Array, dispersion: float) -> CellRatios:
    """Per cell (`cell` holds each post's cell index): log(O/E) and its standard error.

    O and E are the sums of observed and model-expected engagements. The variance of O comes from the fitted
    model, sum(mu + dispersion mu^2) (NB2), not from the cell's own residuals: a cell of two posts that
    happen to agree must not look certain. By the delta method se(log(O/E)) = sqrt(var O) / E. Cells without
    posts (or with O = 0) get NaN and an infinite se.
    """
    observed = np.bincount(cell, weights=y, minlength=n_cells).astype(np.float64)
    expected = np.bincount(cell, weights=mu, minlength=n_cells).astype(np.float64)
    n_posts = np.bincount(cell, minlength=n_cells)
    variance = np.bincount(cell, weights=mu + dispersion * mu**2, minlength=n_cells)
    ok = (observed > 0) & (expected > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where(ok, np.log(observed / expected), np.nan)
        se = np.where(ok, np.sqrt(variance) / expected, np.inf)
    return CellRatios(observed=observed, expected=expected, n_posts=n_posts, log_ratio=log_ratio, se=se)
