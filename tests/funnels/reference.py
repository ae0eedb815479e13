"""A plain-Python funnel, written from the rules in docs/funnels.md one attempt at a time, to check the engine against.

It shares no code with insights.funnels: steps are Python predicates on a row (a dict), every attempt is followed
step by step with plain loops, and nothing is optimised (no running state, no dropped rows, no range filter).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
Predicate = Callable[[Row], bool]


@dataclass
class Outcome:
    """One unit: its furthest step (0 when it never entered), whether an exclusion removed it, and for each step
    k >= 2 it reached, the time to k at its first conversion (microseconds)."""

    furthest: int = 0
    excluded: bool = False
    waits: dict[int, int] = field(default_factory=dict)


def _matches(predicate: Predicate, row: Row) -> bool:
    try:
        return bool(predicate(row))
    except TypeError:  # a comparison with None: SQL's NULL, which is not true
        return False


def reference_funnel(
    rows: Sequence[Row],
    *,
    unit: str,
    steps: Sequence[Predicate],
    exclusions: Sequence[Predicate] = (),
    mode: str = "ordered",
    window: int,
    start: int | None = None,
    end: int | None = None,
    where: Predicate | None = None,
) -> dict[Any, Outcome]:
    """Every unit with a row that passes ``where``; times (``ts``, ``window``, ``start``, ``end``) in microseconds."""
    n = len(steps)
    by_unit: dict[Any, list[tuple[int, int, int, Row]]] = {}
    for row in rows:
        if where is not None and not _matches(where, row):
            continue
        matched = [k for k in range(1, n + 1) if _matches(steps[k - 1], row)]
        excluded = any(_matches(p, row) for p in exclusions)
        # the documented tie rule: time, then session_seq, then the steps matched (bit k - 1 for step k, bit n for
        # an exclusion) read as a number
        order = sum(1 << (k - 1) for k in matched) + ((1 << n) if excluded else 0)
        by_unit.setdefault(row[unit], []).append((row["ts"], row.get("session_seq") or 0, order, row))
    return {
        key: _unit(
            [r for *_, r in sorted(items, key=lambda item: item[:3])],
            steps,
            exclusions,
            mode,
            window,
            start,
            end,
        )
        for key, items in by_unit.items()
    }


def _unit(
    rows: list[Row],
    steps: Sequence[Predicate],
    exclusions: Sequence[Predicate],
    mode: str,
    window: int,
    start: int | None,
    end: int | None,
) -> Outcome:
    n = len(steps)
    attempts = [
        i
        for i, row in enumerate(rows)
        if _matches(steps[0], row) and (start is None or row["ts"] >= start) and (end is None or row["ts"] < end)
    ]
    outcome = Outcome()
    # the first conversion to each step: (position or time it completed, start time of the attempt)
    first: dict[int, tuple[int, int]] = {}
    for i in attempts:
        t1 = rows[i]["ts"]
        deadline = t1 + window
        if any(_matches(p, rows[j]) for j in range(i, len(rows)) if rows[j]["ts"] <= deadline for p in exclusions):
            outcome.excluded = True
        reached = 1
        completions: dict[int, int] = {}  # step -> position (ordered, strict) or time (any order) it completed
        times: dict[int, int] = {}
        if mode == "ordered":
            position = i
            for k in range(2, n + 1):
                nxt = next(
                    (
                        j
                        for j in range(position + 1, len(rows))
                        if rows[j]["ts"] <= deadline and _matches(steps[k - 1], rows[j])
                    ),
                    None,
                )
                if nxt is None:
                    break
                position, reached = nxt, k
                completions[k], times[k] = nxt, rows[nxt]["ts"]
        elif mode == "strict":
            for k in range(2, n + 1):
                j = i + k - 1
                if j >= len(rows) or rows[j]["ts"] > deadline or not _matches(steps[k - 1], rows[j]):
                    break
                reached = k
                completions[k], times[k] = j, rows[j]["ts"]
        else:  # any order: steps 2.. each somewhere after the step-1 row, within the window
            seen: list[int] = []
            for k in range(2, n + 1):
                hit = next(
                    (
                        rows[j]["ts"]
                        for j in range(i + 1, len(rows))
                        if rows[j]["ts"] <= deadline and _matches(steps[k - 1], rows[j])
                    ),
                    None,
                )
                if hit is None:
                    break
                seen.append(hit)
                reached = k
                completions[k] = times[k] = max(seen)
        outcome.furthest = max(outcome.furthest, reached)
        for k, done in completions.items():
            # the earliest completion wins; among attempts that complete at the same point, the latest start
            if k not in first or done < first[k][0] or (done == first[k][0] and t1 > first[k][1]):
                first[k] = (done, t1)
                outcome.waits[k] = times[k] - t1
    return outcome
