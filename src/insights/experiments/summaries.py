"""Sufficient statistics of one arm: small, addable records that the warehouse can produce in one grouped pass.

Adding two records gives exactly the record of the pooled units (the parallel-variance formula of Chan, Golub and
LeVeque), so days and segments combine without re-querying the rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from insights.errors import invalid_parameter
from insights.params import check_count

__all__ = ["CovarianceStats", "MomentStats", "SampleStats"]


def _as_vector(values: ArrayLike, name: str, function: str) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise invalid_parameter(name, function, "must be one-dimensional", f"an array of shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise invalid_parameter(name, function, "must contain only finite numbers", "NaN or infinity")
    return array


def _variance(n: int, m2: float) -> float:
    return math.nan if n < 2 else max(m2, 0.0) / (n - 1)


@dataclass(frozen=True)
class SampleStats:
    """Sufficient statistics of one arm for one metric: count, mean and sample variance (ddof=1).

    For a proportion, ``mean`` is the rate p and ``variance`` is p(1 - p) n / (n - 1). An empty arm has NaN mean and
    variance; a one-unit arm has NaN variance. Records add exactly:

    >>> (SampleStats.from_values([1.0, 2.0]) + SampleStats.from_values([3.0])).variance
    1.0
    """

    n: int
    mean: float
    variance: float

    def __post_init__(self) -> None:
        check_count("n", "SampleStats", self.n)
        if self.n >= 2 and not self.variance >= 0:
            raise invalid_parameter("variance", "SampleStats", "must be non-negative", self.variance)

    @classmethod
    def from_values(cls, values: ArrayLike) -> SampleStats:
        """Summarise unit-level values (a one-dimensional array of finite numbers)."""
        array = _as_vector(values, "values", "SampleStats.from_values")
        n = int(array.size)
        if n == 0:
            return cls(0, math.nan, math.nan)
        mean = float(array.mean())
        return cls(n, mean, float(array.var(ddof=1)) if n >= 2 else math.nan)

    @classmethod
    def from_proportion(cls, successes: int, n: int) -> SampleStats:
        """Summarise ``successes`` out of ``n`` binary units."""
        n = check_count("n", "SampleStats.from_proportion", n)
        successes = check_count("successes", "SampleStats.from_proportion", successes)
        if successes > n:
            raise invalid_parameter("successes", "SampleStats.from_proportion", f"must be at most n={n}", successes)
        if n == 0:
            return cls(0, math.nan, math.nan)
        p = successes / n
        return cls(n, p, p * (1.0 - p) * n / (n - 1) if n >= 2 else math.nan)

    @classmethod
    def from_sums(cls, n: int, total: float, total_sq: float) -> SampleStats:
        """Summarise from the count, the sum and the sum of squares (as a SQL ``GROUP BY`` returns them).

        Subtracting squares loses precision when the mean is large next to the spread; prefer centered moments
        from the engine when they are available.
        """
        n = check_count("n", "SampleStats.from_sums", n)
        if n == 0:
            return cls(0, math.nan, math.nan)
        mean = total / n
        return cls(n, mean, _variance(n, total_sq - total * mean))

    @property
    def total(self) -> float:
        """Sum of the values (zero for an empty arm)."""
        return 0.0 if self.n == 0 else self.mean * self.n

    def __add__(self, other: object) -> SampleStats:
        if not isinstance(other, SampleStats):
            return NotImplemented
        if other.n == 0 or self.n == 0:
            return other if self.n == 0 else self
        return (self._moments() + other._moments()).sample("x")

    def _moments(self) -> MomentStats:
        return MomentStats(self.n, ("x",), np.array([self.mean]), np.array([[self.variance]]))


@dataclass(frozen=True)
class CovarianceStats:
    """Sufficient statistics of two metrics measured on the same units of one arm; addable.

    ``x`` is the analysed metric (or a ratio's numerator) and ``y`` the covariate (the pre-period value for CUPED, or
    a ratio's denominator). Variances and the covariance use ddof=1; they are NaN below two units.
    """

    n: int
    mean_x: float
    mean_y: float
    var_x: float
    var_y: float
    cov_xy: float

    def __post_init__(self) -> None:
        check_count("n", "CovarianceStats", self.n)
        if self.n >= 2:
            for name in ("var_x", "var_y"):
                if not getattr(self, name) >= 0:
                    raise invalid_parameter(name, "CovarianceStats", "must be non-negative", getattr(self, name))

    @classmethod
    def from_values(cls, x: ArrayLike, y: ArrayLike) -> CovarianceStats:
        """Summarise paired unit-level values ``x`` (metric) and ``y`` (covariate) of equal length."""
        xs = _as_vector(x, "x", "CovarianceStats.from_values")
        ys = _as_vector(y, "y", "CovarianceStats.from_values")
        if xs.size != ys.size:
            raise invalid_parameter(
                "y", "CovarianceStats.from_values", f"must have the length of x ({xs.size})", ys.size
            )
        n = int(xs.size)
        if n == 0:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan)
        if n == 1:
            return cls(1, float(xs[0]), float(ys[0]), math.nan, math.nan, math.nan)
        cov = np.cov(xs, ys, ddof=1)
        return cls(n, float(xs.mean()), float(ys.mean()), float(cov[0, 0]), float(cov[1, 1]), float(cov[0, 1]))

    @classmethod
    def from_sums(
        cls, n: int, sum_x: float, sum_y: float, sum_xx: float, sum_yy: float, sum_xy: float
    ) -> CovarianceStats:
        """Summarise from the count, sums, sums of squares and the sum of cross products."""
        n = check_count("n", "CovarianceStats.from_sums", n)
        if n == 0:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan)
        mx, my = sum_x / n, sum_y / n
        cov = math.nan if n < 2 else (sum_xy - sum_x * my) / (n - 1)
        return cls(n, mx, my, _variance(n, sum_xx - sum_x * mx), _variance(n, sum_yy - sum_y * my), cov)

    @property
    def x(self) -> SampleStats:
        """The metric's own statistics."""
        return SampleStats(self.n, self.mean_x, self.var_x)

    @property
    def y(self) -> SampleStats:
        """The covariate's own statistics."""
        return SampleStats(self.n, self.mean_y, self.var_y)

    def __add__(self, other: object) -> CovarianceStats:
        if not isinstance(other, CovarianceStats):
            return NotImplemented
        if other.n == 0 or self.n == 0:
            return other if self.n == 0 else self
        return (self._moments() + other._moments()).pair("x", "y")

    def _moments(self) -> MomentStats:
        cov = np.array([[self.var_x, self.cov_xy], [self.cov_xy, self.var_y]])
        return MomentStats(self.n, ("x", "y"), np.array([self.mean_x, self.mean_y]), cov)


@dataclass(frozen=True, eq=False)
class MomentStats:
    """Sufficient statistics of k variables measured on the same units of one arm: count, means, covariance.

    The general, addable record the warehouse returns for one group (variant, and day or segment when asked):
    ``names`` label the variables (a metric, its pre-period covariate, a ratio's numerator and denominator...),
    ``mean`` holds their means and ``cov`` their sample covariance matrix (ddof=1; NaN below two units).
    :meth:`sample` and :meth:`pair` give the one- and two-variable records the tests take.

    >>> a = MomentStats.from_values(("x", "y"), [[1.0, 2.0], [2.0, 4.0]])
    >>> b = MomentStats.from_values(("x", "y"), [[3.0, 5.0]])
    >>> (a + b).pair("x", "y").cov_xy
    1.5
    """

    n: int
    names: tuple[str, ...]
    mean: NDArray[np.float64]
    cov: NDArray[np.float64]

    def __post_init__(self) -> None:
        check_count("n", "MomentStats", self.n)
        k = len(self.names)
        if len(set(self.names)) != k:
            raise invalid_parameter("names", "MomentStats", "must be distinct", self.names)
        mean = np.asarray(self.mean, dtype=np.float64).reshape(-1)
        cov = np.asarray(self.cov, dtype=np.float64)
        if mean.shape != (k,):
            raise invalid_parameter("mean", "MomentStats", f"must hold {k} numbers, one per name", mean.shape)
        if cov.shape != (k, k):
            raise invalid_parameter("cov", "MomentStats", f"must be a {k} x {k} matrix", cov.shape)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "cov", cov)

    @classmethod
    def empty(cls, names: tuple[str, ...]) -> MomentStats:
        """The record of no units."""
        k = len(names)
        return cls(0, names, np.full(k, math.nan), np.full((k, k), math.nan))

    @classmethod
    def from_values(cls, names: tuple[str, ...], rows: ArrayLike) -> MomentStats:
        """Summarise unit-level rows: an n x k array whose columns follow ``names``."""
        array = np.asarray(rows, dtype=np.float64).reshape(-1, len(names))
        if not np.all(np.isfinite(array)):
            raise invalid_parameter("rows", "MomentStats.from_values", "must contain only finite numbers", "NaN")
        n = int(array.shape[0])
        if n == 0:
            return cls.empty(names)
        if n == 1:
            return cls(1, names, array[0], np.full((len(names), len(names)), math.nan))
        return cls(n, names, array.mean(axis=0), np.atleast_2d(np.cov(array, rowvar=False, ddof=1)))

    def index(self, name: str) -> int:
        if name not in self.names:
            raise invalid_parameter("name", "MomentStats", "must be one of " + ", ".join(self.names), name)
        return self.names.index(name)

    def sample(self, name: str) -> SampleStats:
        """The one-variable record of ``name``."""
        i = self.index(name)
        return SampleStats(self.n, float(self.mean[i]), float(self.cov[i, i]))

    def pair(self, x: str, y: str) -> CovarianceStats:
        """The two-variable record of ``x`` (metric or numerator) and ``y`` (covariate or denominator)."""
        i, j = self.index(x), self.index(y)
        c = self.cov
        return CovarianceStats(
            self.n, float(self.mean[i]), float(self.mean[j]), float(c[i, i]), float(c[j, j]), float(c[i, j])
        )

    def select(self, names: tuple[str, ...]) -> MomentStats:
        """The record of a subset (or a reordering) of the variables."""
        idx = [self.index(name) for name in names]
        return MomentStats(self.n, names, self.mean[idx], self.cov[np.ix_(idx, idx)])

    def __add__(self, other: object) -> MomentStats:
        if not isinstance(other, MomentStats):
            return NotImplemented
        if other.names != self.names:
            raise invalid_parameter("other", "MomentStats.__add__", f"must have the names {self.names}", other.names)
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = other.mean - self.mean
        m2 = _m2_matrix(self) + _m2_matrix(other) + np.outer(delta, delta) * (self.n * other.n / n)
        # rounding can leave a variance a hair below zero when all values are equal: clamp the diagonal
        cov = m2 / (n - 1)
        np.fill_diagonal(cov, np.maximum(np.diag(cov), 0.0))
        return MomentStats(n, self.names, self.mean + delta * (other.n / n), cov)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MomentStats):
            return NotImplemented
        return (
            self.n == other.n
            and self.names == other.names
            and np.array_equal(self.mean, other.mean, equal_nan=True)
            and np.array_equal(self.cov, other.cov, equal_nan=True)
        )

    __hash__ = None  # type: ignore[assignment]


def _m2_matrix(stats: MomentStats) -> NDArray[np.float64]:
    """Centered cross-product sums; zero below two units, where the covariance is undefined."""
    k = len(stats.names)
    return np.zeros((k, k)) if stats.n < 2 else stats.cov * (stats.n - 1)
