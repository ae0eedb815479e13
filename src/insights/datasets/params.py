"""Checking the generators' parameters at the door, in the one sentence shape of insights.errors."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

from insights.datasets.timeline import default_end
from insights.errors import invalid_parameter


def check_int(name: str, function: str, value: object, minimum: int) -> int:
    """An int (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid_parameter(name, function, f"must be an integer >= {minimum}", value)
    return value


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


def check_path(name: str, function: str, value: object) -> Path:
    """A str or os.PathLike."""
    if not isinstance(value, str | os.PathLike) or str(value) == "":
        raise invalid_parameter(name, function, "must be a path (str or os.PathLike)", value)
    return Path(value)


def check_end(function: str, value: object) -> date:
    """The last day of the data: a date, an ISO date string, or None for the last complete week."""
    if value is None:
        return default_end()
    if isinstance(value, datetime):
        raise invalid_parameter("end", function, "must be a date (not a datetime), an ISO date string or None", value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise invalid_parameter("end", function, "must be a date, an ISO date string such as '2026-03-01' or None", value)
