"""Negative binomial (NB2) and Poisson regression with a log link and an exposure offset, by IRLS.

The fit only asks its design for X'WX, X'v and X beta (see `Design` in design.py, which computes them by
level sums without building X), so a million posts with a hundred columns stay within a few hundred
megabytes. The dispersion `alpha` of NB2 (variance = mu + alpha mu^2) is estimated by maximum likelihood,
alternating with the coefficients until both settle; this is the joint maximum likelihood fit (the same
numbers as statsmodels' NegativeBinomial).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy import special

Array = npt.NDArray[np.float64]


class Products(Protocol):
    """What the fit needs of a design matrix X (intercept in column 0)."""

    @property
    def p(self) -> int: ...  # columns

    def cross(self, weight: Array) -> Array: ...  # X' diag(weight) X
    def transpose_times(self, values: Array) -> Array: ...  # X' values
    def times(self, beta: Array) -> Array: ...  # X beta


@dataclass(frozen=True)
class DenseDesign:
    """A plain matrix as a design (for small problems and for checking the level-sum design)."""

    x: Array

    @property
    def p(self) -> int:
        return int(self.x.shape[1])

    def cross(self, weight: Array) -> Array:
        return np.asarray((self.x * weight[:, None]).T @ self.x, dtype=np.float64)

    def transpose_times(self, values: Array) -> Array:
        return np.asarray(self.x.T @ values, dtype=np.float64)

    def times(self, beta: Array) -> Array:
        return np.asarray(self.x @ beta, dtype=np.float64)


@dataclass(frozen=True)
class GlmFit:
    """Coefficients, their covariance (model-based and robust), dispersion and fit statistics."""

    coef: Array
    cov_model: Array
    cov_robust: Array
    alpha: float
    log_likelihood: float
    deviance: float
    null_deviance: float
    n_iterations: int
    converged: bool


def _nb_loglik(y: Array, mu: Array, alpha: float) -> float:
    if alpha <= 0:
        return float(np.sum(special.xlogy(y, mu) - mu - special.gammaln(y + 1)))
    r = 1.0 / alpha
    return float(
        np.sum(
            special.gammaln(y + r)
            - special.gammaln(r)
            - special.gammaln(y + 1)
            + r * np.log(r / (r + mu))
            + special.xlogy(y, mu / (r + mu))
        )
    )


def _deviance(y: Array, mu: Array, alpha: float) -> float:
    if alpha <= 0:
        return float(2 * np.sum(special.xlogy(y, y / mu) - (y - mu)))
    r = 1.0 / alpha
    return float(2 * np.sum(special.xlogy(y, y / mu) - (y + r) * np.log((y + r) / (mu + r))))


def _alpha_mle(y: Array, mu: Array, start: float) -> float:
    """Maximum likelihood dispersion given the means: Newton steps on log(alpha), from `start`.

    The digamma and trigamma terms depend on y alone, so they are evaluated once per distinct count.
    """
    values, counts = np.unique(y, return_counts=True)

    def score_and_info(log_alpha: float) -> tuple[float, float]:
        r = math.exp(-log_alpha)
        # d loglik / d r and its derivative; the special functions over distinct counts only
        d1 = float(counts @ special.digamma(values + r)) - len(y) * float(special.digamma(r))
        d1 += float(np.sum(np.log(r / (r + mu)) + (mu - y) / (r + mu)))
        d2 = float(counts @ special.polygamma(1, values + r)) - len(y) * float(special.polygamma(1, r))
        d2 += float(np.sum(1 / r - 1 / (r + mu) - (mu - y) / (r + mu) ** 2))
        # chain rule to log(alpha), with r = exp(-log(alpha))
        return -r * d1, r * d1 + r * r * d2

    log_alpha = math.log(max(start, 1e-8))
    for _ in range(100):
        g, h = score_and_info(log_alpha)
        step = -g / h if h < 0 else math.copysign(1.0, g)
        step = max(-2.0, min(2.0, step))
        log_alpha += step
        if abs(step) < 1e-10 or log_alpha < math.log(1e-10):
            break
    return math.exp(log_alpha) if log_alpha > math.log(1e-10) else 0.0


def fit_glm(
    design: Products,
    y: Array,
    offset: Array,
    *,
    family: str = "negative_binomial",
    max_iter: int = 100,
) -> GlmFit:
    """Fit y ~ Poisson or NB2(exp(X beta + offset)) (X's column 0 is the intercept)."""
    p = design.p
    beta = np.zeros(p)
    beta[0] = math.log(max(y.sum(), 0.5) / np.exp(offset).sum())
    alpha = 0.0
    estimate_alpha = family == "negative_binomial"
    eta = design.times(beta) + offset
    converged = False
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        mu = np.exp(eta)
        weight = mu / (1.0 + alpha * mu)
        working = eta - offset + (y - mu) / mu
        new_beta: Array = np.asarray(
            np.linalg.solve(design.cross(weight), design.transpose_times(weight * working)), dtype=np.float64
        )
        change = float(np.max(np.abs(new_beta - beta)))
        beta = new_beta
        eta = design.times(beta) + offset
        new_alpha = alpha
        if estimate_alpha:
            mu = np.exp(eta)
            moment = float(np.sum((y - mu) ** 2 - y) / np.sum(mu**2))
            new_alpha = _alpha_mle(y, mu, alpha if alpha > 0 else max(moment, 1e-4))
        alpha_change = abs(new_alpha - alpha) / max(new_alpha, 1e-12)
        alpha = new_alpha
        if change < 1e-8 and alpha_change < 1e-8:
            converged = True
            break
    mu = np.exp(eta)
    weight = mu / (1.0 + alpha * mu)
    score = (y - mu) / (1.0 + alpha * mu)
    cov_model: Array = np.asarray(np.linalg.inv(design.cross(weight)), dtype=np.float64)
    cov_robust = cov_model @ design.cross(score**2) @ cov_model
    null_mu = np.exp(offset) * y.sum() / np.exp(offset).sum()
    return GlmFit(
        coef=beta,
        cov_model=cov_model,
        cov_robust=cov_robust,
        alpha=alpha,
        log_likelihood=_nb_loglik(y, mu, alpha),
        deviance=_deviance(y, mu, alpha),
        null_deviance=_deviance(y, null_mu, alpha),
        n_iterations=iterations,
        converged=converged,
    )
