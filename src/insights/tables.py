"""What the analysis functions accept as a table, read as one DuckDB relation, and the columns they require of it.

A DuckDB relation is used as it is; a pandas, polars or Arrow frame, a mapping of columns, or a Parquet/CSV path is
read through the in-memory engine (frames in place, without copying them). Nothing here fetches rows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from insights.errors import invalid_parameter

if TYPE_CHECKING:
    import duckdb

#: the modules of the frames read through Arrow
FRAME_MODULES = ("pandas", "polars", "pyarrow")
FILE_SUFFIXES = (".parquet", ".csv", ".tsv", ".csv.gz", ".tsv.gz")


def is_table_like(data: object) -> bool:
    """Whether `data` is a table :func:`as_relation` reads in place (as opposed to, say, a list of records)."""
    import duckdb

    if isinstance(data, duckdb.DuckDBPyRelation | os.PathLike):
        return True
    if isinstance(data, str):
        return data.lower().endswith(FILE_SUFFIXES)
    return type(data).__module__.split(".")[0] in FRAME_MODULES and hasattr(data, "columns")


def as_relation(data: object, name: str, function: str) -> duckdb.DuckDBPyRelation:
    """`data` as a DuckDB relation: a relation as it is; a frame (as Arrow, pandas and polars without a copy where
    their types allow), a mapping of columns or a file through the in-memory engine."""
    import duckdb
    import pyarrow as pa

    from insights.warehouse.connection import scratch

    if isinstance(data, duckdb.DuckDBPyRelation):
        return data
    if isinstance(data, os.PathLike) or (isinstance(data, str) and data.lower().endswith(FILE_SUFFIXES)):
        path = Path(data)
        if not path.is_file():
            raise invalid_parameter(name, function, "must name an existing Parquet or CSV file", str(path))
        con = scratch()
        try:
            if ".parquet" in "".join(path.suffixes).lower():
                return con.read_parquet(str(path))
            return con.read_csv(str(path))
        except duckdb.Error as error:
            raise invalid_parameter(
                name, function, "must be a file DuckDB can read", f"{path.name}: {first_line(error)}"
            ) from None
    module = type(data).__module__.split(".")[0]
    if isinstance(data, pa.Table):
        return scratch().from_arrow(data)
    if module == "polars" and hasattr(data, "to_arrow"):
        return scratch().from_arrow(data.to_arrow())
    if module == "pandas" and hasattr(data, "columns"):
        return scratch().from_arrow(pa.Table.from_pandas(data, preserve_index=False))
    if isinstance(data, Mapping) and data:
        try:
            table = pa.table({str(k): v for k, v in data.items()})
        except (pa.ArrowException, TypeError, ValueError) as error:
            raise invalid_parameter(name, function, "must hold columns of equal length", str(error)) from None
        return scratch().from_arrow(table)
    raise invalid_parameter(
        name,
        function,
        "must be a DuckDB relation, a pandas, polars or Arrow frame, a mapping of columns, or a .parquet/.csv path",
        type(data).__name__,
    )


def require_columns(relation: duckdb.DuckDBPyRelation, needed: Sequence[str], name: str, function: str) -> None:
    """Refuse a relation without every column in `needed`, naming the missing ones and those it has."""
    missing = [c for c in dict.fromkeys(needed) if c not in relation.columns]
    if missing:
        raise invalid_parameter(
            name,
            function,
            f"must have the columns {', '.join(missing)} (existing columns: {', '.join(relation.columns)})",
            f"a table without {', '.join(missing)}",
        )


def first_line(error: Exception) -> str:
    """An engine error's first line: DuckDB adds the query and a caret below it, which a one-sentence error omits."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
