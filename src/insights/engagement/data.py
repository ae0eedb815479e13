"""Reading a features table into column arrays: usable posts only, categorical values as strings.

The models accept what :func:`insights.engagement.features.post_features` returns (a DuckDB relation), or the
same columns as a pandas or polars frame. Only the columns a model needs leave the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from insights.engagement.design import CATEGORICAL, NONE_LEVEL, Categorical
from insights.errors import invalid_parameter

Columns = dict[str, Any]  # name -> Categorical (categorical inputs) or a float64 array


def as_relation(data: object, name: str, function: str) -> duckdb.DuckDBPyRelation:
    """A DuckDB relation over `data` (a relation, or a pandas/polars frame)."""
    if isinstance(data, duckdb.DuckDBPyRelation):
        return data
    module = type(data).__module__.split(".")[0]
    if module in ("pandas", "polars") or isinstance(data, pa.Table):
        return duckdb.connect().from_arrow(data if isinstance(data, pa.Table) else _to_arrow(data))
    raise invalid_parameter(
        name, function, "must be a DuckDB relation from post_features or a pandas/polars frame", type(data).__name__
    )


def _to_arrow(frame: Any) -> pa.Table:
    if type(frame).__module__.startswith("polars"):
        return frame.to_arrow()
    return pa.Table.from_pandas(frame, preserve_index=False)


def fetch(
    relation: duckdb.DuckDBPyRelation,
    needed: Sequence[str],
    name: str,
    function: str,
    *,
    usable_only: bool = True,
) -> tuple[Columns, int]:
    """The `needed` columns of the usable rows (exclusion IS NULL), and how many rows were left out.

    Categorical inputs come as :class:`Categorical` (codes and levels, dictionary-encoded by Arrow, so no
    Python string per row); everything else as float64 arrays.
    """
    missing = [c for c in needed if c not in relation.columns]
    if missing:
        raise invalid_parameter(
            name,
            function,
            f"must have the columns {', '.join(missing)} (existing columns: {', '.join(relation.columns)})",
            type(relation).__name__,
        )
    n_excluded = 0
    if usable_only and "exclusion" in relation.columns:
        counts = relation.aggregate("count(*) FILTER (WHERE exclusion IS NOT NULL)").fetchall()
        n_excluded = int(counts[0][0])
        relation = relation.filter("exclusion IS NULL")
    selected = []
    for column in dict.fromkeys(needed):
        quoted = '"' + column.replace('"', '""') + '"'
        if column in CATEGORICAL:
            selected.append(f"coalesce(CAST({quoted} AS VARCHAR), '{NONE_LEVEL}') AS {quoted}")
        else:
            selected.append(quoted)
    table = relation.select(", ".join(selected)).to_arrow_table()
    out: Columns = {}
    for column in table.column_names:
        values = table.column(column)
        if column in CATEGORICAL:
            encoded = pc.dictionary_encode(values.combine_chunks())
            codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)
            out[column] = Categorical(codes=codes, levels=tuple(str(v) for v in encoded.dictionary.to_pylist()))
        else:
            out[column] = values.to_numpy(zero_copy_only=False).astype(np.float64)
    return out, n_excluded
