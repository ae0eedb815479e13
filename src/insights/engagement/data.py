"""Reading a features table into column arrays: usable posts only, categorical values as strings.

The models accept what :func:`insights.engagement.features.post_features` returns (a DuckDB relation), or the
same columns as a pandas or polars frame. Only the columns a model needs leave the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from insights.engagement.design import CATEGORICAL, NONE_LEVEL, Categorical
from insights.errors import invalid_parameter

Columns = dict[str, Any]  # name -> Categorical (categorical inputs) or a float64 array


def as_relation(data: object, name: str, function: str) -> duckdb.DuckDBPyRelation:
    """A DuckDB relation over `data`: a relation, a pandas/polars frame, a pyarrow table or a mapping of columns."""
    if isinstance(data, duckdb.DuckDBPyRelation):
        return data
    from insights.warehouse.connection import scratch

    module = type(data).__module__.split(".")[0]
    table: pa.Table
    if isinstance(data, pa.Table):
        table = data
    elif module == "polars" and hasattr(data, "to_arrow"):
        table = data.to_arrow()
    elif module == "pandas" and hasattr(data, "columns"):
        table = pa.Table.from_pandas(data, preserve_index=False)
    elif isinstance(data, Mapping) and data:
        try:
            table = pa.table({str(k): v for k, v in data.items()})
        except (pa.ArrowException, TypeError, ValueError) as error:
            raise invalid_parameter(name, function, "must hold columns of equal length", str(error)) from None
    else:
        raise invalid_parameter(
            name,
            function,
            "must be post features: a DuckDB relation from post_features, a pandas or polars frame, "
            "a pyarrow table or a dict of columns",
            type(data).__name__,
        )
    return scratch().from_arrow(table)


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
