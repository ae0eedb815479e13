"""Build the warehouse: rebuild every model, in dependency order, inside one transaction.

>>> from insights.warehouse import connect
>>> report = build(connect(":memory:"))
>>> report.models[-1].name
'marts.lineage'
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

import duckdb

from insights.errors import WarehouseError
from insights.warehouse._text import text_table
from insights.warehouse.connection import first_row
from insights.warehouse.expressions import quote_identifier
from insights.warehouse.models import Model, SqlDir, list_models


class ModelBuildError(WarehouseError):
    """A model's SQL failed; the build was rolled back and the previous warehouse is intact."""

    def __init__(self, message: str, model: str) -> None:
        super().__init__(message)
        self.model = model


@dataclass(frozen=True)
class ModelBuild:
    """One rebuilt model: its name, row count and build time."""

    name: str
    n_rows: int
    seconds: float


@dataclass(frozen=True)
class BuildReport:
    """What a build did: the models rebuilt, in build order, and the total time."""

    models: tuple[ModelBuild, ...]
    seconds: float

    def __str__(self) -> str:
        rows: list[list[object]] = [[m.name, f"{m.n_rows:,}", f"{m.seconds:.2f}"] for m in self.models]
        rows.append([f"total ({len(self.models)} models)", "", f"{self.seconds:.2f}"])
        return text_table(["model", "rows", "seconds"], rows, right={1, 2})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "seconds": self.seconds,
            "models": [{"name": m.name, "n_rows": m.n_rows, "seconds": m.seconds} for m in self.models],
        }


def build(con: duckdb.DuckDBPyConnection, *, sql_dir: SqlDir | None = None) -> BuildReport:
    """(Re)create every model of `sql_dir` (default: the shipped models) as a table.

    All models are rebuilt in one transaction, so a model that fails leaves every table as it was
    before the build; the failure raises ModelBuildError naming the model.
    """
    models = list_models(sql_dir)
    _check_external_inputs(con, models)
    started = time.perf_counter()
    built: list[ModelBuild] = []
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException as exc:
        raise WarehouseError(
            "build runs its own transaction; commit or roll back the connection's open transaction first."
        ) from exc
    # "7 days" and "30 days" are calendar arithmetic in the session's time zone: in UTC they are always
    # 168 and 720 hours, whatever the caller's connection was set to
    time_zone = _setting(con, "TimeZone")
    current: Model | None = None
    try:
        con.execute("SET TimeZone = 'UTC'")
        for schema in sorted({m.schema for m in models}):
            con.execute("CREATE SCHEMA IF NOT EXISTS " + quote_identifier(schema))
        for current in models:
            t0 = time.perf_counter()
            target = quote_identifier(current.schema) + "." + quote_identifier(current.table)
            con.execute("CREATE OR REPLACE TABLE " + target + " AS\n" + current.body)
            n_rows = _count_rows(con, current)
            built.append(ModelBuild(current.name, n_rows, time.perf_counter() - t0))
        current = None
        con.execute("COMMIT")
    except duckdb.Error as exc:
        _rollback(con)
        name = current.name if current else "(the transaction)"
        where = f" ({current.path})" if current else ""
        raise ModelBuildError(
            f"The model {name}{where} failed to build, so nothing was changed: {exc}", model=name
        ) from exc
    except BaseException:
        # an interrupt must not leave a half-built warehouse or an open transaction behind
        _rollback(con)
        raise
    finally:
        _set_time_zone(con, time_zone)
    return BuildReport(tuple(built), time.perf_counter() - started)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    # a failed COMMIT may already have ended the transaction
    with contextlib.suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    row = first_row(con.execute("SELECT current_setting(?)", [name]))
    return str(row[0]) if row else ""


def _set_time_zone(con: duckdb.DuckDBPyConnection, time_zone: str) -> None:
    from sqlglot import exp

    if time_zone:
        con.execute("SET TimeZone = " + exp.Literal.string(time_zone).sql("duckdb"))


def _count_rows(con: duckdb.DuckDBPyConnection, model: Model) -> int:
    from sqlglot import exp, select

    query = select(exp.Count(this=exp.Star())).from_(exp.table_(model.table, db=model.schema, quoted=True))
    row = first_row(con.execute(query.sql("duckdb")))
    return int(row[0]) if row else 0


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every `schema.table` of the connection's database (tables and views)."""
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database()"
    ).fetchall()
    return {str(r[0]) for r in rows}


def _check_external_inputs(con: duckdb.DuckDBPyConnection, models: list[Model]) -> None:
    names = {m.name for m in models}
    tables = existing_tables(con)
    for model in models:
        missing = [i for i in model.inputs if i not in names and i not in tables]
        if missing:
            raise WarehouseError(
                f"The model {model.name} ({model.path}) reads {', '.join(missing)}, which is neither a model "
                "nor a table in the warehouse; open the warehouse with insights.warehouse.connect, "
                "which creates the raw tables."
            )
