"""The generators' parameter checks: the shared ones of insights.params, and the data's last day."""

from __future__ import annotations

from datetime import date, datetime

from insights.datasets.timeline import default_end
from insights.errors import invalid_parameter
from insights.params import check_bool, check_choice, check_day, check_int, check_path

__all__ = ["check_bool", "check_choice", "check_end", "check_int", "check_path"]


def check_end(function: str, value: object) -> date:
    """The last day of the data: a date, an ISO date string, or None for the last complete week."""
    if value is None:
        return default_end()
    if isinstance(value, datetime):
        raise invalid_parameter("end", function, "must be a date (not a datetime), an ISO date string or None", value)
    return check_day("end", function, value, "must be a date, an ISO date string such as '2026-03-01' or None")
