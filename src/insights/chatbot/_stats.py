"""Addable sufficient statistics of the health metrics and their intervals.

Three shapes cover every interval the health report shows:

- a rate over independent units (conversations, leads): ``k`` of ``n``; Wilson score interval, and Newcombe's hybrid
  score interval for the change between two periods;
- a mean over conversations: count, sum and sum of squares; t interval, and Welch's interval for the change;
- a ratio of two sums over conversations (fallbacks per user message): the sums, their squares and cross product per
  conversation; delta-method interval, which treats the conversation, not the message, as the independent unit
  (a bot that misunderstands a conversation tends to misunderstand all of it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from insights.distributions import normal_ppf, t_ppf
from insights.intervals import wilson_interval as shared_wilson_interval

__all__ = ["MIN_CLUSTERS", "MeanStats", "RateStats", "RatioStats", "newcombe_difference", "wilson_interval"]

NAN = math.nan
#: a ratio's change gets an interval only when both periods have at least this many conversations: with fewer, the
#: delta-method variance (a sum over conversations) is too unstable to call a change real
MIN_CLUSTERS = 30
Interval = tuple[float, float]


def _z(level: float) -> float:
    return normal_ppf(0.5 + level / 2)


def wilson_interval(k: int, n: int, level: float) -> Interval:
    """Wilson score interval of a proportion k / n (NaN without units)."""
    return shared_wilson_interval(k, n, 1 - level)


def newcombe_difference(k1: int, n1: int, k0: int, n0: int, level: float) -> Interval:
    """Newcombe's hybrid score interval (method 10) of k1/n1 - k0/n0, built from the two Wilson intervals."""
    if n1 <= 0 or n0 <= 0:
        return NAN, NAN
    p1, p0 = k1 / n1, k0 / n0
    l1, u1 = wilson_interval(k1, n1, level)
    l0, u0 = wilson_interval(k0, n0, level)
    diff = p1 - p0
    low = diff - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = diff + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return low, high


@dataclass(frozen=True)
class RateStats:
    """``k`` units with the property among ``n``."""

    k: int
    n: int

    def __add__(self, other: RateStats) -> RateStats:
        return RateStats(self.k + other.k, self.n + other.n)

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else NAN

    def interval(self, level: float) -> Interval:
        return wilson_interval(self.k, self.n, level)

    def difference(self, previous: RateStats, level: float) -> tuple[float, float, float]:
        low, high = newcombe_difference(self.k, self.n, previous.k, previous.n, level)
        return self.value - previous.value, low, high


@dataclass(frozen=True)
class MeanStats:
    """Count, sum and sum of squares of one value per unit."""

    n: int
    total: float
    total_sq: float

    def __add__(self, other: MeanStats) -> MeanStats:
        return MeanStats(self.n + other.n, self.total + other.total, self.total_sq + other.total_sq)

    @property
    def value(self) -> float:
        return self.total / self.n if self.n else NAN

    @property
    def variance(self) -> float:
        """Sample variance (n - 1 in the denominator)."""
        if self.n < 2:
            return NAN
        return max(0.0, (self.total_sq - self.total * self.total / self.n) / (self.n - 1))

    def interval(self, level: float) -> Interval:
        if self.n < 2:
            return NAN, NAN
        half = t_ppf(0.5 + level / 2, self.n - 1) * math.sqrt(self.variance / self.n)
        return float(self.value - half), float(self.value + half)

    def difference(self, previous: MeanStats, level: float) -> tuple[float, float, float]:
        diff = self.value - previous.value
        if self.n < 2 or previous.n < 2:
            return diff, NAN, NAN
        a, b = self.variance / self.n, previous.variance / previous.n
        se = math.sqrt(a + b)
        if se == 0:
            return diff, diff, diff
        # Welch-Satterthwaite degrees of freedom
        df = (a + b) ** 2 / (a * a / (self.n - 1) + b * b / (previous.n - 1))
        half = t_ppf(0.5 + level / 2, df) * se
        return float(diff), float(diff - half), float(diff + half)


@dataclass(frozen=True)
class RatioStats:
    """Per-conversation sums y (numerator) and x (denominator) of a ratio sum(y) / sum(x), as sufficient statistics."""

    n: int
    y: float
    x: float
    yy: float
    xx: float
    xy: float

    def __add__(self, other: RatioStats) -> RatioStats:
        return RatioStats(
            self.n + other.n,
            self.y + other.y,
            self.x + other.x,
            self.yy + other.yy,
            self.xx + other.xx,
            self.xy + other.xy,
        )

    @property
    def value(self) -> float:
        return self.y / self.x if self.x else NAN

    @property
    def variance(self) -> float:
        """Delta-method variance of the ratio: sum((y_i - r x_i)^2) / (sum x)^2, conversations as clusters."""
        if not self.x:
            return NAN
        r = self.value
        residual = self.yy - 2 * r * self.xy + r * r * self.xx
        return max(0.0, residual) / (self.x * self.x)

    def interval(self, level: float) -> Interval:
        if not self.x:
            return NAN, NAN
        half = _z(level) * math.sqrt(self.variance)
        return self.value - half, self.value + half

    def share_interval(self, level: float) -> Interval:
        """The interval of a share (0 <= y <= x in every conversation), kept within [0, 1]."""
        low, high = self.interval(level)
        return (max(0.0, low), min(1.0, high)) if self.x else (low, high)

    def difference(self, previous: RatioStats, level: float) -> tuple[float, float, float]:
        diff = self.value - previous.value
        if not self.x or not previous.x or min(self.n, previous.n) < MIN_CLUSTERS:
            return diff, NAN, NAN
        half = _z(level) * math.sqrt(self.variance + previous.variance)
        return diff, diff - half, diff + half
