"""The few distribution functions the statistics need, in plain Python: normal, Student t and chi-square.

A readout or a health report evaluates a handful of tail probabilities and quantiles. Importing ``scipy.special``
for them costs about a third of a second, more than the whole grouped query on a million units, so they are computed
here with the standard library. Each agrees with scipy's ``special.ndtr``/``ndtri``/``stdtr``/``stdtrit``/``chdtrc``
to about 1e-12 relative (tests/test_distributions.py compares them over a grid, far tails and huge degrees of freedom
included).

Methods:
- the normal through ``math.erfc`` and ``statistics.NormalDist.inv_cdf`` (Wichura's AS 241);
- the t tail as the regularized incomplete beta ``I_x(df/2, 1/2)`` by its continued fraction (modified Lentz) below
  1e4 degrees of freedom, and by Hill's normalizing transform above, where the fraction loses digits;
- the t density with ``log Gamma(a + 1/2) - log Gamma(a)`` from a Stirling series, so that millions of degrees of
  freedom lose no digits, and the t quantile by safeguarded Newton steps from the normal quantile;
- the chi-square tail as the regularized upper incomplete gamma function (series below ``a + 1``, continued fraction
  above).
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ["chi2_sf", "normal_cdf", "normal_ppf", "t_cdf", "t_ppf"]

_STANDARD = NormalDist()
_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_PI = 0.5 * math.log(math.pi)
_EPS = 1e-16
_TINY = 1e-300
_MAX_TERMS = 100_000
#: from this many degrees of freedom on, the t tail comes from Hill's normalizing transform
_HILL_DF = 1e4
#: beyond this many degrees of freedom the t and the normal distribution agree to double precision
_NORMAL_DF = 1e20


def normal_cdf(x: float) -> float:
    """P(Z <= x) for a standard normal Z, accurate in both tails.

    >>> round(normal_cdf(-1.959963984540054), 12)
    0.025
    """
    return 0.5 * math.erfc(-x / _SQRT2)


def normal_ppf(p: float) -> float:
    """The standard normal quantile: the x with P(Z <= x) = p; -inf at 0 and inf at 1.

    >>> round(normal_ppf(0.975), 12)
    1.959963984540
    """
    if p <= 0.0:
        return -math.inf if p == 0.0 else math.nan
    if p >= 1.0:
        return math.inf if p == 1.0 else math.nan
    return _STANDARD.inv_cdf(p)


def _stirling_tail(z: float) -> float:
    # log Gamma(z) - [(z - 1/2) log z - z + log(2 pi) / 2], asymptotic series; error below 1e-17 for z >= 10
    z2 = z * z
    return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - 1.0 / (1680.0 * z2)) / z2) / z2) / z


def _log_gamma_half_step(a: float) -> float:
    """log Gamma(a + 1/2) - log Gamma(a) without cancellation when ``a`` is large."""
    if a < 10.0:
        return math.lgamma(a + 0.5) - math.lgamma(a)
    return 0.5 * math.log(a) + a * math.log1p(0.5 / a) - 0.5 + _stirling_tail(a + 0.5) - _stirling_tail(a)


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    # the continued fraction of I_x(a, b) (without its prefactor), by the modified Lentz method
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_TERMS):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            step = c * d
            h *= step
        if abs(step - 1.0) < _EPS:
            return h
    return h  # pragma: no cover - the fraction converges in far fewer terms for the arguments used here


def _t_tail_large_df(t: float, df: float) -> float:
    """P(T > t) for t >= 0 and many degrees of freedom, through a normalizing transform of t.

    Hill's transform (G. W. Hill, "Algorithm 395: Student's t-distribution", CACM 13(10), 1970) maps t to a
    standard normal deviate with an error of order df^-4: below 2e-13 relative from 1e4 degrees of freedom on,
    far tails included, where the continued fraction below loses digits in proportion to df.
    """
    a = df - 0.5
    b = 48.0 * a * a
    y = a * math.log1p(t * t / df)
    z = (((((-0.4 * y - 3.3) * y - 24.0) * y - 85.5) / (0.8 * y * y + 100.0 + b) + y + 3.0) / b + 1.0) * math.sqrt(y)
    return 0.5 * math.erfc(z / _SQRT2)


def _t_tail(t: float, df: float) -> float:
    """P(T > t) for t >= 0, as I_x(df/2, 1/2) / 2 with x = df / (df + t^2)."""
    if df >= _HILL_DF:
        return _t_tail_large_df(t, df)
    a = 0.5 * df
    t2 = t * t
    x = df / (df + t2)
    y = t2 / (df + t2)  # 1 - x, computed without cancellation
    # log of x^a (1 - x)^(1/2) / B(a, 1/2), with B(a, 1/2) = Gamma(a) Gamma(1/2) / Gamma(a + 1/2)
    if y == 0.0 or x == 0.0:
        return 0.5 if y == 0.0 else 0.0
    # log x and log(1 - x), each from whichever of x and y is computed without cancellation
    log_x = math.log(x) if x < 0.5 else math.log1p(-y)
    log_y = math.log(y) if y < 0.5 else math.log1p(-x)
    front = math.exp(a * log_x + 0.5 * log_y + _log_gamma_half_step(a) - _LOG_SQRT_PI)
    if x < (a + 1.0) / (a + 2.5):
        return 0.5 * front * _beta_continued_fraction(a, 0.5, x) / a
    return 0.5 * (1.0 - front * _beta_continued_fraction(0.5, a, y) / 0.5)


def t_cdf(x: float, df: float) -> float:
    """P(T <= x) for Student's t with ``df`` > 0 degrees of freedom (any real df; inf gives the normal).

    >>> round(t_cdf(-2.0, 10.0), 12)
    0.036694017385
    """
    if math.isnan(x) or math.isnan(df) or df <= 0:
        return math.nan
    if df > _NORMAL_DF:
        return normal_cdf(x)
    if math.isinf(x):
        return 0.0 if x < 0 else 1.0
    tail = _t_tail(abs(x), df)
    return tail if x < 0 else 1.0 - tail


def _t_density(x: float, df: float) -> float:
    a = 0.5 * df
    return math.exp(_log_gamma_half_step(a) - 0.5 * math.log(df) - _LOG_SQRT_PI - (a + 0.5) * math.log1p(x * x / df))


def t_ppf(p: float, df: float) -> float:
    """The t quantile: the x with P(T <= x) = p.

    >>> round(t_ppf(0.975, 10.0), 12)
    2.228138851986
    """
    if math.isnan(p) or math.isnan(df) or df <= 0 or not 0.0 <= p <= 1.0:
        return math.nan
    if p in (0.0, 1.0):
        return math.inf if p == 1.0 else -math.inf
    if df > _NORMAL_DF:
        return normal_ppf(p)
    if p > 0.5:
        return -t_ppf(1.0 - p, df) if 1.0 - p > 0.0 else math.inf
    # now p <= 1/2 and the quantile is <= 0; solve t_cdf(x) = p in log space, where it is nearly linear in the tail
    if df == 1.0:
        return -1.0 / math.tan(math.pi * p)  # the Cauchy quantile tan(pi (p - 1/2)), without cancelling p - 1/2
    if df == 2.0:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))
    x = normal_ppf(p)
    low, high = -math.inf, 0.0  # F(low) <= p <= F(high), kept as a safeguard for the Newton steps
    log_p = math.log(p)
    for _ in range(200):
        cdf = t_cdf(x, df)
        if cdf > p:
            high = x
        else:
            low = x
        # a Newton step on log F(x) = log p: dx = (log F - log p) F / f
        density = _t_density(x, df)
        candidate = x - (math.log(cdf) - log_p) * cdf / density if cdf > 0 and density > 0 else math.nan
        if not low < candidate < high:
            candidate = (low + high) / 2 if math.isfinite(low) else min(2.0 * high, high - 1.0)
        if abs(candidate - x) <= 1e-15 * max(1.0, abs(x)) or candidate in (low, high):
            return candidate
        x = candidate
    return x


def _gamma_log_front(a: float, x: float) -> float:
    # log of x^a e^-x / Gamma(a)
    return a * math.log(x) - x - math.lgamma(a)


def chi2_sf(x: float, df: float) -> float:
    """P(X > x) for a chi-square X with ``df`` degrees of freedom: the regularized upper gamma Q(df/2, x/2).

    >>> round(chi2_sf(3.841458820694124, 1), 12)
    0.05
    """
    if math.isnan(x) or math.isnan(df) or df <= 0:
        return math.nan
    if x <= 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    a, z = 0.5 * df, 0.5 * x
    if z < a + 1.0:
        # the series of P(a, z); Q = 1 - P, fine here because P is not close to 1 below a + 1
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_TERMS):
            ap += 1.0
            term *= z / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return 1.0 - total * math.exp(_gamma_log_front(a, z))
    # the continued fraction of Q(a, z), modified Lentz
    b = z + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        step = c * d
        h *= step
        if abs(step - 1.0) < _EPS:
            break
    return math.exp(_gamma_log_front(a, z)) * h
