"""Reading a features table into column arrays: usable posts only, categorical values as strings.

The models accept what :func:`insights.engagement.features.post_features` returns (a DuckDB relation), or the
same columns as a pandas or polars frame. Only the columns a model needs leave the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow.compute as pc

from insights.engagement.design import CATEGORICAL, NONE_LEVEL, Categorical
from insights.tables import require_columns
from insights.warehouse.expressions import quote_identifier

Columns = dict[str, Any]  # name -> Categorical (categorical inputs) or a float64 array


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
    require_columns(relation, needed, name, function)
    n_excluded = 0
    if usable_only and "exclusion" in relation.columns:
        counts = relation.aggregate("count(*) FILTER (WHERE exclusion IS NOT NULL)").fetchall()
        n_excluded = int(counts[0][0])
        relation = relation.filter("exclusion IS NULL")
    selected = []
    for column in dict.fromkeys(needed):
        quoted = quote_identifier(column)
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
