"""Parameter checks shared by the lead funnel and the journeys, in the one sentence shape of insights.errors."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from insights.errors import invalid_parameter
from insights.params import check_instance

if TYPE_CHECKING:
    import duckdb

#: the earliest and latest instants a period may reach when the caller leaves an end open
OPEN_START = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
OPEN_END = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def check_connection(function: str, con: object) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (the analysis packages never open the warehouse themselves)."""
    import duckdb

    check_instance("con", function, con, duckdb.DuckDBPyConnection)
    assert isinstance(con, duckdb.DuckDBPyConnection)
    return con


def check_instant(name: str, function: str, value: object) -> dt.datetime | None:
    """None, a date (its midnight, UTC), a datetime (naive ones read as UTC) or an ISO-8601 string of either."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise invalid_parameter(name, function, "must be a date, a datetime or an ISO-8601 string", value) from None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    raise invalid_parameter(name, function, "must be a date, a datetime or an ISO-8601 string", value)


def check_period(function: str, start: object, end: object) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``start`` and ``end`` as UTC instants (None: open), with start before end."""
    first = check_instant("start", function, start)
    last = check_instant("end", function, end)
    if first is not None and last is not None and last <= first:
        raise invalid_parameter("end", function, f"must be after start ({first.isoformat()})", end)
    return first, last


def check_positive(name: str, function: str, value: object) -> float:
    """A finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise invalid_parameter(name, function, "must be a finite number > 0", value)
    return float(value)
