"""Checks at the door shared by the chatbot functions: the connection; and how a period reads in a sentence."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from insights.errors import WarehouseError, invalid_parameter

if TYPE_CHECKING:
    import duckdb


#: the warehouse models the chatbot functions read
REQUIRED_TABLES = ("staging.chat_events", "marts.chat_sessions", "marts.leads")


def check_connection(function: str, con: object) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to a built warehouse (one that has the chat models)."""
    import duckdb

    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise invalid_parameter("con", function, "must be a DuckDB connection to the warehouse", type(con).__name__)
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('staging', 'marts')"
    ).fetchall()
    present = {str(r[0]) for r in rows}
    missing = [t for t in REQUIRED_TABLES if t not in present]
    if missing:
        raise WarehouseError(
            f"The warehouse has no {', '.join(missing)}: build it first (insights warehouse build), "
            "or pass a connection to a built warehouse."
        )
    return con


def period_text(start: dt.datetime, end: dt.datetime) -> str:
    """'2026-02-23 to 2026-03-01' for whole UTC days (end exclusive), else both instants."""
    midnight = dt.time(0, tzinfo=dt.UTC)
    if start.timetz() == midnight and end.timetz() == midnight:
        last = (end - dt.timedelta(days=1)).date()
        return start.date().isoformat() if last == start.date() else f"{start.date()} to {last}"
    return f"{start.isoformat()} to {end.isoformat()}"


def length_text(start: dt.datetime, end: dt.datetime) -> str:
    """How the previous period of the same length reads: 'the week before', 'the 28 days before'."""
    days = (end - start) / dt.timedelta(days=1)
    if days == 7:
        return "the week before"
    if days.is_integer():
        return f"the {int(days)} day{'s' if days != 1 else ''} before"
    return "the period of the same length before"
