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


def check_positive(name: str, function: str, value: object) -> float:
    """A finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise invalid_parameter(name, function, "must be a finite number > 0", value)
    return float(value)
