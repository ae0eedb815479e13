"""Negative binomial (NB2) and Poisson regression with a log link and an exposure offset, by IRLS in blocks.

The design matrix is never held whole: each iteration streams row blocks and accumulates X'WX and X'Wz, so
a million posts with a hundred columns stay within a few hundred megabytes. The dispersion `alpha` of NB2
(variance = mu + alpha mu^2) is estimated by maximum likelihood, alternating with the coefficients until
both settle; this is the joint maximum likelihood fit (the same numbers as statsmodels' NegativeBinomial).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

Blocks = Callable[[], Iterator[tuple[slice, npt.NDArray[np.float64]]]]
Array = npt.NDArray[np.float64]


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
    """Maximum likelihood dispersion given the means: Newton steps on log(alpha), from `start`."""

    def score_and_info(log_alpha: float) -> tuple[float, float, float]:
        a = math.exp(log_alpha)
        r = 1.0 / a
        # d loglik / d r, and its derivative
        d1 = np.sum(special.digamma(y + r) - special.digamma(r) + np.log(r / (r + mu)) + (mu - y) / (r + mu))
        d2 = np.sum(
            special.polygamma(1, y + r) - special.polygamma(1, r) + 1 / r - 1 / (r + mu) - (mu - y) / (r + mu) ** 2
        )
        # chain rule to log(alpha): r = exp(-log_alpha)
        g = -r * d1
        h = r * d1 + r * r * d2
        return float(g), float(h), a

    log_alpha = math.log(max(start, 1e-8))
    for _ in range(100):
        g, h, _ = score_and_info(log_alpha)
        step = -g / h if h < 0 else math.copysign(1.0, g)
        step = max(-2.0, min(2.0, step))
        log_alpha += step
        if abs(step) < 1e-10 or log_alpha < math.log(1e-10):
            break
    return math.exp(log_alpha) if log_alpha > math.log(1e-10) else 0.0


def fit_glm(
    blocks: Blocks,
    y: Array,
    offset: Array,
    p: int,
    *,
    family: str = "negative_binomial",
    max_iter: int = 100,
    tol: float = 1e-10,
) -> GlmFit:
    """Fit y ~ Poisson or NB2(exp(X beta + offset)), X given in row blocks (intercept first)."""
    n = len(y)
    beta = np.zeros(p)
    beta[0] = math.log(max(y.sum(), 0.5) / np.exp(offset).sum())
    alpha = 0.0
    estimate_alpha = family == "negative_binomial"
    eta = np.full(n, beta[0]) + offset
    converged = False
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        mu = np.exp(eta)
        weight = mu / (1.0 + alpha * mu)
        working = eta - offset + (y - mu) / mu
        xtwx = np.zeros((p, p))
        xtwz = np.zeros(p)
        for rows, x in blocks():
            xw = x * weight[rows, None]
            xtwx += xw.T @ x
            xtwz += xw.T @ working[rows]
        new_beta: Array = np.asarray(np.linalg.solve(xtwx, xtwz), dtype=np.float64)
        new_eta = np.empty(n)
        for rows, x in blocks():
            new_eta[rows] = x @ new_beta + offset[rows]
        change = float(np.max(np.abs(new_beta - beta)))
        beta, eta = new_beta, new_eta
        new_alpha = alpha
        if estimate_alpha:
            mu = np.exp(eta)
            moment = float(np.sum((y - mu) ** 2 - y) / np.sum(mu**2))
            new_alpha = _alpha_mle(y, mu, alpha if alpha > 0 else max(moment, 1e-4))
        alpha_change = abs(new_alpha - alpha) / max(new_alpha, 1e-12)
        alpha = new_alpha
        if change < tol**0.5 * 1e-2 and alpha_change < 1e-8:
            converged = True
            break
    mu = np.exp(eta)
    weight = mu / (1.0 + alpha * mu)
    score = (y - mu) / (1.0 + alpha * mu)
    bread = np.zeros((p, p))
    meat = np.zeros((p, p))
    for rows, x in blocks():
        bread += (x * weight[rows, None]).T @ x
        xs = x * score[rows, None]
        meat += xs.T @ xs
    cov_model: Array = np.asarray(np.linalg.inv(bread), dtype=np.float64)
    cov_robust = cov_model @ meat @ cov_model
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


def gram(blocks: Blocks, p: int) -> Array:
    """X'X, for finding aliased columns before fitting."""
    out = np.zeros((p, p))
    for _, x in blocks():
        out += x.T @ x
    return out
