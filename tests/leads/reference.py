"""Independent reference implementations for the attribution tests, written for clarity, not speed: exact rational
arithmetic (fractions), brute force over every ordering of the channels, and the absorbing chain solved by Gaussian
elimination on the chain with a channel actually removed. None of it shares code with insights.leads."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

Journey = tuple[tuple[str, ...], bool, int]  # path, converted, how many times


def shapley_by_permutations(journeys: Sequence[Journey], channels: Sequence[str]) -> dict[str, Fraction]:
    """Shapley values of v(S) = conversions of the converting journeys whose channels all lie in S, as the average
    marginal contribution over all orderings of the channels (k! of them)."""

    def v(coalition: frozenset[str]) -> Fraction:
        return Fraction(sum(n for path, conv, n in journeys if conv and set(path) <= coalition))

    totals = dict.fromkeys(channels, Fraction(0))
    orderings = list(itertools.permutations(channels))
    for order in orderings:
        members: frozenset[str] = frozenset()
        for channel in order:
            totals[channel] += v(members | {channel}) - v(members)
            members = members | {channel}
    return {c: t / len(orderings) for c, t in totals.items()}


def _solve(matrix: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction]:
    """Gaussian elimination with exact fractions (the matrix is non-singular)."""
    n = len(rhs)
    a = [[*row, b] for row, b in zip(matrix, rhs, strict=True)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(n):
            if r != col and a[r][col] != 0:
                factor = a[r][col] / a[col][col]
                a[r] = [x - factor * y for x, y in zip(a[r], a[col], strict=True)]
    return [a[i][n] / a[i][i] for i in range(n)]


def conversion_probability(journeys: Sequence[Journey], channels: Sequence[str], removed: str | None) -> Fraction:
    """P(reach conversion from start) in the first-order chain fitted to the journeys, with ``removed`` (if any)
    turned into a dead end: every transition into it goes to null instead."""
    counts: Counter[tuple[str, str]] = Counter()
    for path, conv, n in journeys:
        states = ["(start)", *path, "(conversion)" if conv else "(null)"]
        for a, b in itertools.pairwise(states):
            counts[(a, b)] += n
    transient = ["(start)", *channels]
    out = Counter[str]()
    for (a, _), n in counts.items():
        out[a] += n
    index = {s: i for i, s in enumerate(transient)}
    # x = Q x + r over the transient states; the removed channel converts with probability 0
    matrix = [[Fraction(int(i == j)) for j in range(len(transient))] for i in range(len(transient))]
    rhs = [Fraction(0)] * len(transient)
    for (a, b), n in counts.items():
        if a == removed or out[a] == 0:
            continue
        p = Fraction(n, out[a])
        if b == "(conversion)":
            rhs[index[a]] += p
        elif b in index:
            matrix[index[a]][index[b]] -= p
    return _solve(matrix, rhs)[0]


def removal_effects(journeys: Sequence[Journey], channels: Sequence[str]) -> dict[str, Fraction]:
    """1 - P(conversion without the channel) / P(conversion), per channel."""
    total = conversion_probability(journeys, channels, None)
    return {c: 1 - conversion_probability(journeys, channels, c) / total for c in channels}


def markov_credits(journeys: Sequence[Journey], channels: Sequence[str]) -> dict[str, float]:
    """Conversions shared in proportion to the removal effects."""
    effects = removal_effects(journeys, channels)
    total = sum(effects.values())
    conversions = sum(n for _, conv, n in journeys if conv)
    return {c: float(e / total * conversions) if total else 0.0 for c, e in effects.items()}


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
