"""Numbers and changes written the way the reports say them: '1,234', '3.1%', '+12%', '-0.2 pt', 'new', 'n/a'."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from insights.reports.weeks import IsoWeek

#: How the reports say a missing group value, and the origins of a post.
NOT_SET = "(not set)"
ORIGIN_WORDS = {"human": "human-written", "ai": "AI-drafted", "ai_edited": "AI-drafted, human-edited"}


def number(value: float | None) -> float | None:
    """The value as a float, or None when it is missing (None or NaN)."""
    if value is None:
        return None
    x = float(value)
    return None if math.isnan(x) else x


def number_or_zero(value: Any) -> float:
    """A summed value from SQL as a float; NULL (no rows) is 0."""
    return 0.0 if value is None else float(value)


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is 0 (the ratio is undefined, not zero)."""
    return numerator / denominator if denominator else None


def count(n: float | None) -> str:
    """'1,234' (rounded to a whole number); 'n/a' when missing."""
    x = number(n)
    return "n/a" if x is None else f"{round(x):,}"


def amount(x: float | None) -> str:
    """A money amount without a currency (the logs do not say which): '12,340'."""
    return count(x)


def rate(r: float | None) -> str:
    """'3.1%'; two decimals below 1% so small rates keep a digit ('0.45%'); 'n/a' when undefined."""
    x = number(r)
    if x is None:
        return "n/a"
    return f"{x:.2%}" if abs(x) < 0.01 and x != 0 else f"{x:.1%}"


def relative_change(current: float | None, base: float | None) -> float | None:
    """(current - base) / base, or None when it is undefined (no base, or a base of zero)."""
    c, b = number(current), number(base)
    if c is None or b is None or b == 0:
        return None
    return (c - b) / b


def change_of_count(current: float | None, base: float | None) -> str:
    """How a count moved against a base: '+12%', '-3%', 'no change', 'new' (from zero) or 'n/a' (no base)."""
    c, b = number(current), number(base)
    if c is None or b is None:
        return "n/a"
    if b == 0:
        return "no change" if c == 0 else "new"
    change = (c - b) / b
    if abs(change) < 0.005:
        return "no change"
    return f"{change:+.0%}"


def change_of_rate(current: float | None, base: float | None) -> str:
    """How a rate moved, in percentage points: '+0.3 pt', '-1.2 pt', 'no change'; 'n/a' when either is undefined."""
    c, b = number(current), number(base)
    if c is None or b is None:
        return "n/a"
    points = (c - b) * 100
    if abs(points) < 0.05:
        return "no change"
    return f"{points:+.1f} pt"


def plural(n: float, singular: str, plural_form: str | None = None) -> str:
    """'1 post', '2 posts', '1,204 chat sessions'."""
    word = singular if round(n) == 1 else (plural_form or singular + "s")
    return f"{count(n)} {word}"


def day(d: date) -> str:
    """'Wed 11 Nov'."""
    return f"{d:%a} {d.day} {d:%b}"


def period(start: date, last: date) -> str:
    """A range of days: '9-15 Nov 2026', '26 Oct - 1 Nov 2026', '29 Dec 2025 - 4 Jan 2026'."""
    if start.year != last.year:
        return f"{start.day} {start:%b %Y} - {last.day} {last:%b %Y}"
    if start.month != last.month:
        return f"{start.day} {start:%b} - {last.day} {last:%b %Y}"
    return f"{start.day}-{last.day} {last:%b %Y}"


def week_period(week: IsoWeek) -> str:
    """'2026-W46 (9-15 Nov 2026)'."""
    days = week.days
    return f"{week.label} ({period(days[0], days[-1])})"


def sentence_case(text: str) -> str:
    """First letter upper-cased, the rest left alone ('linkedin posts' -> 'Linkedin posts')."""
    return text[:1].upper() + text[1:]


def join_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
