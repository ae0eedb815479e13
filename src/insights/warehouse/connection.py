"""Opening the warehouse file, and the DDL of its meta and raw schemas (generated from the contract)."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any

import duckdb

from insights import config
from insights.contract import KINDS, Kind
from insights.errors import WarehouseBusyError, WarehouseError, WarehouseNotFoundError

#: Columns every raw table carries besides the contract's.
RAW_SYSTEM_COLUMNS = (
    ("extra", "JSON"),  # unknown source columns, kept rather than dropped
    ("_load_id", "INTEGER"),  # meta.loads row that brought the row in
    ("_key", "UBIGINT"),  # hash of the natural key, for deduplication
    # Only inside a load's transaction: a bad row's reason and content, before it moves to meta.rejects.
    ("_reason", "VARCHAR"),
    ("_raw", "VARCHAR"),
    ("_line", "BIGINT"),
    ("_rowhash", "UBIGINT"),
)

META_DDL = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SEQUENCE IF NOT EXISTS meta.load_ids START 1;
CREATE TABLE IF NOT EXISTS meta.loads (
    load_id INTEGER PRIMARY KEY,
    kind VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    format VARCHAR NOT NULL,
    mapping VARCHAR,
    timezone VARCHAR NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    rows_duplicate BIGINT NOT NULL,
    empty_cells JSON
);
CREATE TABLE IF NOT EXISTS meta.rejects (
    load_id INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    line BIGINT,
    reason VARCHAR NOT NULL,
    raw VARCHAR
);
"""


def first_row(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row of an executed query (None when it has none), reading the result to its end.

    Use it instead of ``fetchone()``: DuckDB 2 keeps a connection busy while a result of ``execute`` is half read,
    and then refuses the caller's next relation on that connection.
    """
    rows = result.fetchall()
    return rows[0] if rows else None


def raw_table_ddl(kind: Kind) -> str:
    """CREATE TABLE statement of a kind's raw table: the contract's columns, then the system columns."""
    cols = [f"    {c.name} {c.sql_type}" for c in kind.columns]
    cols += [f"    {name} {sql_type}" for name, sql_type in RAW_SYSTEM_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS {kind.table} (\n" + ",\n".join(cols) + "\n);"


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the meta and raw schemas and tables if they are missing (idempotent)."""
    con.execute(META_DDL)
    for kind in KINDS.values():
        con.execute(raw_table_ddl(kind))


_LOCK_PATTERN = re.compile(r"Could not set lock|Conflicting lock|lock on file", re.IGNORECASE)
_PID_PATTERN = re.compile(r"PID (\d+)")


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    create: bool | None = None,
    memory_limit: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file; readers pass read_only=True.

    DuckDB lets one process write a file, or several processes read it. A second writer, or a
    reader while a writer works, gets WarehouseBusyError with one clear sentence.
    A writable connection creates the file and the meta/raw schemas when they are missing.

    >>> con = connect(":memory:")
    >>> first_row(con.execute("SELECT count(*) FROM meta.loads"))
    (0,)
    """
    target = str(path) if str(path) == ":memory:" else str(config.db_path(path))
    if create is None:
        create = not read_only
    if target != ":memory:":
        file = Path(target)
        if not file.exists() and (read_only or not create):
            raise WarehouseNotFoundError(
                f"The warehouse {file} does not exist; run 'insights demo' or 'insights ingest' to create it, "
                "or pass --db with the path of an existing warehouse."
            )
        file.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(target, read_only=read_only)
    except duckdb.IOException as exc:
        if _LOCK_PATTERN.search(str(exc)):
            pid = _PID_PATTERN.search(str(exc))
            who = f" (process {pid.group(1)})" if pid else ""
            if read_only:
                message = f"The warehouse {target} is being written by another process{who}; try again when it is done."
            else:
                message = (
                    f"The warehouse {target} is being written by another process{who} (or held open by a reader); "
                    "wait for it to finish, or close that connection, and try again."
                )
            raise WarehouseBusyError(message) from None
        raise WarehouseError(f"The warehouse {target} could not be opened: {exc}") from None
    con.execute("SET TimeZone = 'UTC'")
    # Inside Jupyter, DuckDB ties this setting to ipywidgets; without them there is no bar anyway.
    with contextlib.suppress(duckdb.Error):
        con.execute("SET enable_progress_bar = false")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if not read_only:
        create_raw_tables(con)
    return con


_SCRATCH: list[duckdb.DuckDBPyConnection] = []


def scratch() -> duckdb.DuckDBPyConnection:
    """A connection to an in-memory engine for data that is not in the warehouse (a frame or a file an analyst brings).

    One engine per process, opened on first use; each call returns a new cursor, so what a caller registers on it
    goes away with the cursor (opening an engine costs tens of milliseconds, a cursor almost nothing).
    """
    if not _SCRATCH:
        con = duckdb.connect(":memory:")
        with contextlib.suppress(duckdb.Error):
            con.execute("SET enable_progress_bar = false")
        _SCRATCH.append(con)
    cursor = _SCRATCH[0].cursor()
    cursor.execute("SET TimeZone = 'UTC'")
    return cursor
