"""Checking parameters at the door, in the one sentence shape of insights.errors.

Every public function validates its arguments with these, so a wrong call always reads the same:
"The 'alpha' parameter of welch_test must be in (0, 1). Got 1.5 instead."
"""

from __future__ import annotations

import datetime as dt
import numbers
import os
from pathlib import Path

from insights.errors import invalid_parameter


def check_int(name: str, function: str, value: object, minimum: int) -> int:
    """An int (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid_parameter(name, function, f"must be an integer >= {minimum}", value)
    return value


def check_count(name: str, function: str, value: object) -> int:
    """A non-negative whole number (Python or numpy integer, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise invalid_parameter(name, function, "must be a non-negative integer", value)
    return int(value)


def check_open_unit(name: str, function: str, value: object) -> float:
    """A number strictly between 0 and 1 (a significance level, a power, a probability)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise invalid_parameter(name, function, "must be in (0, 1)", value)
    return float(value)


def check_choice(name: str, function: str, value: object, choices: tuple[str, ...]) -> str:
    """One of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise invalid_parameter(name, function, "must be one of " + ", ".join(choices), value)
    return value


def check_bool(name: str, function: str, value: object) -> bool:
    """True or False."""
    if not isinstance(value, bool):
        raise invalid_parameter(name, function, "must be True or False", value)
    return value


def check_instance(name: str, function: str, value: object, kind: type) -> None:
    """An instance of `kind` (the message names the type that was given)."""
    if not isinstance(value, kind):
        raise invalid_parameter(name, function, f"must be a {kind.__name__}", type(value).__name__)


def check_path(name: str, function: str, value: object) -> Path:
    """A str or os.PathLike."""
    if not isinstance(value, str | os.PathLike) or str(value) == "":
        raise invalid_parameter(name, function, "must be a path (str or os.PathLike)", value)
    return Path(value)


_INSTANT = "a date, a datetime or an ISO-8601 string such as '2026-02-23'"


def check_day(name: str, function: str, value: object, rule: str = "must be a day ('YYYY-MM-DD' or a date)") -> dt.date:
    """A calendar day: a date (not a datetime) or an ISO string 'YYYY-MM-DD'."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise invalid_parameter(name, function, rule, value)


def check_instant(name: str, function: str, value: object) -> dt.datetime:
    """A date (its midnight UTC), a datetime (naive means UTC) or an ISO-8601 string of either, as an aware UTC
    datetime: how every period bound of the analysis functions is read."""
    parsed: object = value
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if isinstance(parsed, dt.datetime):
        return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
    if isinstance(parsed, dt.date):
        return dt.datetime(parsed.year, parsed.month, parsed.day, tzinfo=dt.UTC)
    raise invalid_parameter(name, function, f"must be {_INSTANT}", value)


def check_optional_instant(name: str, function: str, value: object) -> dt.datetime | None:
    """None (an open bound), or an instant as :func:`check_instant` reads it."""
    if value is None:
        return None
    try:
        return check_instant(name, function, value)
    except ValueError:
        raise invalid_parameter(name, function, f"must be None, {_INSTANT}", value) from None


def check_period(function: str, start: object, end: object) -> tuple[dt.datetime, dt.datetime]:
    """The period [start, end) in UTC; `end` must come after `start`."""
    first, last = check_instant("start", function, start), check_instant("end", function, end)
    _check_order(function, first, last, end)
    return first, last


def check_open_period(function: str, start: object, end: object) -> tuple[dt.datetime | None, dt.datetime | None]:
    """As :func:`check_period`, but either bound may be None (open)."""
    first, last = check_optional_instant("start", function, start), check_optional_instant("end", function, end)
    if first is not None and last is not None:
        _check_order(function, first, last, end)
    return first, last


def _check_order(function: str, first: dt.datetime, last: dt.datetime, end: object) -> None:
    if last <= first:
        raise invalid_parameter("end", function, f"must be after start ({first.isoformat()})", end)
