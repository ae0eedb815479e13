"""The Wilson score interval of a conversion rate: ``successes`` of ``n`` units, shared by the funnels, the lead
funnel and the chatbot health metrics.

Wilson's interval inverts the score test, so unlike the plain normal (Wald) interval it stays inside [0, 1] and
keeps close to its nominal coverage for rates near 0 or 1 and for small steps of a funnel.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from insights.errors import invalid_parameter
from insights.params import check_count, check_open_unit

__all__ = ["wilson_interval"]


def wilson_interval(successes: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """The two-sided 1 - ``alpha`` Wilson score interval of ``successes / n``; (nan, nan) when ``n`` is 0.

    >>> [round(x, 4) for x in wilson_interval(12, 80)]
    [0.0879, 0.2441]
    """
    function = "wilson_interval"
    successes = check_count("successes", function, successes)
    n = check_count("n", function, n)
    alpha = check_open_unit("alpha", function, alpha)
    if successes > n:
        raise invalid_parameter("successes", function, f"must be at most n ({n})", successes)
    if n == 0:
        return math.nan, math.nan
    z = NormalDist().inv_cdf(1 - alpha / 2)
    p = successes / n
    z2n = z * z / n
    center = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    # the bounds are exact at the edges: 0 of n cannot have a lower bound above 0, n of n an upper bound below 1
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == n else min(1.0, center + half)
    return low, high
