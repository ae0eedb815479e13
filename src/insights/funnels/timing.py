"""Durations and instants a funnel is given: conversion windows ("7 days") and period bounds (dates, ISO strings).

Every instant is read as UTC: a date is its midnight UTC, a datetime without an offset is taken to be UTC.

>>> parse_window("7 days", "window", "Funnel")
datetime.timedelta(days=7)
>>> format_duration(5400.0)
'1.5 h'
"""

from __future__ import annotations

import datetime as dt
import math
import re

from insights.errors import invalid_parameter

__all__ = ["MICROS", "format_duration", "format_window", "parse_window", "to_micros"]

MICROS = 1_000_000
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
_WINDOW = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week)s?\s*\Z")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def parse_window(value: object, name: str, function: str) -> dt.timedelta:
    """A positive duration: a ``timedelta`` or text like "30 minutes", "36 hours", "7 days", "2 weeks"."""
    rule = "must be a positive timedelta or a duration like '7 days' (seconds, minutes, hours, days or weeks)"
    if isinstance(value, dt.timedelta):
        window = value
    elif isinstance(value, str) and (match := _WINDOW.match(value.lower())):
        window = dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    else:
        raise invalid_parameter(name, function, rule, value)
    if window <= dt.timedelta(0):
        raise invalid_parameter(name, function, rule, value)
    return window


def format_window(window: dt.timedelta) -> str:
    """The window in the largest whole unit up to days: '7 days', '90 minutes', '1 hour'."""
    seconds = window.total_seconds()
    for unit in ("day", "hour", "minute"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} seconds"


def format_duration(seconds: float | None) -> str:
    """A duration for people: '45 s', '12 min', '3.2 h', '2.5 d'; 'n/a' when missing."""
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def to_micros(value: dt.datetime | dt.timedelta) -> int:
    """Microseconds since 1970-01-01 UTC (an instant), or in a duration: what the engine's ``epoch_us`` returns."""
    delta = value - _EPOCH if isinstance(value, dt.datetime) else value
    return (delta.days * 86400 + delta.seconds) * MICROS + delta.microseconds


def from_micros(micros: int) -> dt.datetime:
    """The UTC instant ``micros`` microseconds after 1970-01-01."""
    return _EPOCH + dt.timedelta(microseconds=micros)
