"""The tables the recommendation functions read: a DuckDB relation, a pandas/polars/Arrow frame or a Parquet/CSV path,
seen as one DuckDB relation, and the columns (or SQL expressions over them) a caller names in it.

Nothing here fetches rows: the callers aggregate in the engine and bring back only what they need.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from insights.errors import invalid_parameter
from insights.warehouse.expressions import parse_expression

if TYPE_CHECKING:
    import duckdb
    from sqlglot import exp

#: frames DuckDB reads in place (it scans them through Arrow, without copying them into the engine)
_FRAME_MODULES = ("pandas", "polars", "pyarrow")
_FILE_SUFFIXES = (".parquet", ".csv", ".tsv", ".csv.gz", ".tsv.gz")


def is_table_like(data: object) -> bool:
    """Whether `data` is something :func:`as_relation` reads (as opposed to, say, a list of records)."""
    import duckdb

    if isinstance(data, duckdb.DuckDBPyRelation | os.PathLike):
        return True
    if isinstance(data, str):
        return data.lower().endswith(_FILE_SUFFIXES)
    return type(data).__module__.split(".")[0] in _FRAME_MODULES and hasattr(data, "columns")


def as_relation(data: object, *, parameter: str, function: str) -> duckdb.DuckDBPyRelation:
    """`data` as a DuckDB relation: a relation as it is; a frame or a file through the in-memory engine."""
    import duckdb

    from insights.warehouse.connection import scratch

    if isinstance(data, duckdb.DuckDBPyRelation):
        return data
    if isinstance(data, os.PathLike) or (isinstance(data, str) and data.lower().endswith(_FILE_SUFFIXES)):
        path = Path(data)
        if not path.is_file():
            raise invalid_parameter(parameter, function, "must name an existing Parquet or CSV file", str(path))
        con = scratch()
        try:
            if ".parquet" in "".join(path.suffixes).lower():
                return con.read_parquet(str(path))
            return con.read_csv(str(path))
        except duckdb.Error as error:
            raise invalid_parameter(
                parameter, function, "must be a file DuckDB can read", f"{path.name}: {first_line(error)}"
            ) from None
    module = type(data).__module__.split(".")[0]
    if module in _FRAME_MODULES and hasattr(data, "columns"):
        con = scratch()  # a fresh cursor: the registered view goes away with the relation
        view = f"_insights_frame_{id(data):x}"
        con.register(view, data)
        return con.view(view)
    raise invalid_parameter(
        parameter,
        function,
        "must be a DuckDB relation, a pandas or polars DataFrame, or a .parquet/.csv path",
        type(data).__name__,
    )


def column_expression(text: object, columns: Sequence[str], *, parameter: str, function: str, table: str) -> exp.Expr:
    """A column of the table, or one SQL expression over its columns (checked by ``parse_expression``)."""
    from sqlglot import exp

    if not isinstance(text, str) or not text.strip():
        raise invalid_parameter(parameter, function, f"must name a column of {table}", text)
    if text in columns:
        return exp.column(text, quoted=True)
    parsed = parse_expression(text)
    if parsed is None or any(c.name not in columns for c in parsed.find_all(exp.Column)):
        raise invalid_parameter(
            parameter,
            function,
            f"must be a column of {table} or one SQL expression over its columns (existing columns: "
            f"{', '.join(columns)})",
            text,
        )
    return parsed


def require_columns(
    relation: duckdb.DuckDBPyRelation, needed: Sequence[str], *, parameter: str, function: str, table: str
) -> None:
    """Refuse a relation without every column in `needed`, naming the ones it has."""
    missing = [c for c in needed if c not in relation.columns]
    if missing:
        raise invalid_parameter(
            parameter,
            function,
            f"must have the columns {', '.join(needed)} (existing columns: {', '.join(relation.columns)})",
            f"{table} without {', '.join(missing)}",
        )


def first_line(error: Exception) -> str:
    """An engine error's first line: DuckDB adds the query and a caret below it, which a one-sentence error omits."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def check_seed(name: str, function: str, value: object, *, optional: bool = False) -> int | None:
    """A seed for numpy's generator: an integer in [0, 2**63) (it is stored in a BIGINT), or None when allowed."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        rule = "must be None or an integer in [0, 2**63)" if optional else "must be an integer in [0, 2**63)"
        raise invalid_parameter(name, function, rule, value)
    return value
