"""The engine side of a readout: one grouped query returns the sufficient statistics of every metric.

:class:`UnitTable` wraps whatever holds one row per unit (a warehouse query, a DuckDB relation or table, a Parquet or
CSV path, a pandas or polars frame). :func:`grouped_stats` builds one SQL statement with sqlglot: per variant (and per
segment and assignment day when asked) the unit count and, per metric, the count, means and covariance matrix of the
metric's variables; winsorization caps come from pooled percentiles computed in the same statement. Only these small
rows reach Python, as addable :class:`~insights.experiments.summaries.MomentStats` records.
:func:`order_statistics` fetches the few order statistics a quantile metric needs.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from insights.errors import DataContractError, invalid_parameter
from insights.experiments.metrics import Mean, Metric, Proportion, Quantile
from insights.experiments.summaries import MomentStats
from insights.warehouse.expressions import parse_expression

if TYPE_CHECKING:
    import duckdb
    from sqlglot import exp

__all__ = ["GroupKey", "GroupedStats", "UnitTable", "grouped_stats", "order_statistics", "parse_expression"]

_TABLE = "units"
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class UnitTable:
    """One row per unit, reachable as ``SELECT * FROM units`` on ``con`` once ``prefix`` (a WITH clause) is added.

    ``sql`` is the statement that produces the rows and ``params`` its bound values; ``columns`` lists the columns.
    Build one with :meth:`from_data`; the warehouse path builds it from an experiment definition.
    """

    con: duckdb.DuckDBPyConnection | None
    sql: str
    params: tuple[Any, ...]
    columns: tuple[str, ...]
    description: str = "the unit table"
    relation: duckdb.DuckDBPyRelation | None = None

    @classmethod
    def from_data(
        cls, data: object, *, con: duckdb.DuckDBPyConnection | None = None, function: str = "analyze"
    ) -> UnitTable:
        """A DuckDB relation, a table or view name (with ``con``), a .parquet/.csv path, or a pandas/polars frame."""
        import duckdb

        from insights.warehouse.connection import scratch

        if isinstance(data, UnitTable):
            return data
        if isinstance(data, duckdb.DuckDBPyRelation):
            # a relation does not tell its connection: queries run through it, naming it as the units table
            return cls(None, "", (), tuple(data.columns), "the relation", data)
        if isinstance(data, os.PathLike) or (isinstance(data, str) and _looks_like_file(data)):
            path = Path(data)
            if not path.is_file():
                raise invalid_parameter("data", function, "must name an existing Parquet or CSV file", str(path))
            suffixes = "".join(path.suffixes).lower()
            reader = "read_parquet" if ".parquet" in suffixes else "read_csv_auto"
            if reader == "read_csv_auto" and not any(s in suffixes for s in (".csv", ".tsv", ".txt")):
                raise invalid_parameter("data", function, "must be a .parquet, .csv or .tsv file", str(path))
            connection = con if con is not None else scratch()
            return cls._of_query(connection, f"SELECT * FROM {reader}(?)", (str(path),), path.name)
        if isinstance(data, str):
            if con is None:
                raise invalid_parameter("con", function, f"must be a DuckDB connection to read the table {data!r}", con)
            return cls._of_query(con, _select_star(data), (), f"the table {data}")
        module = type(data).__module__.split(".")[0]
        if module in ("pandas", "polars", "pyarrow") and hasattr(data, "columns"):
            connection = con if con is not None else scratch()
            view = f"_insights_frame_{id(data):x}"
            connection.register(view, data)
            return cls._of_query(connection, _select_star(view), (), f"the {module} frame")
        raise invalid_parameter(
            "data",
            function,
            "must be a DuckDB relation, a table name, a .parquet/.csv path, or a pandas or polars DataFrame",
            type(data).__name__,
        )

    @classmethod
    def _of_query(
        cls, con: duckdb.DuckDBPyConnection, sql: str, params: tuple[Any, ...], description: str
    ) -> UnitTable:
        import duckdb

        try:
            columns = con.execute(f"SELECT * FROM ({sql}) LIMIT 0", list(params)).description or []
        except duckdb.Error as error:
            raise invalid_parameter(
                "data", "analyze", "must be readable by DuckDB", f"{description}: {error}"
            ) from None
        return cls(con, sql, params, tuple(str(c[0]) for c in columns), description)

    def execute(self, query: exp.Select, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run ``query`` (which reads the table as ``units``); return the column names and the rows."""
        if self.relation is not None:
            result = self.relation.query(_TABLE, query.sql("duckdb"))
            assert result is not None  # a SELECT returns a relation
            return list(result.columns), result.fetchall()
        assert self.con is not None
        # not materialized: the winsorization caps read the units a second time, and a materialized CTE would hold
        # every row in memory
        sql = f"WITH {_TABLE} AS NOT MATERIALIZED ({self.sql}) {query.sql('duckdb')}"
        cursor = self.con.execute(sql, [*self.params, *params])
        return [d[0] for d in cursor.description or []], cursor.fetchall()

    def column(self, text: str, parameter: str, function: str) -> exp.Expr:
        """A column of the table, or a SQL expression over its columns, as a sqlglot expression."""
        from sqlglot import exp

        if text in self.columns:
            return exp.column(text, quoted=True)
        parsed = parse_expression(text)
        if parsed is None or any(c.name not in self.columns for c in parsed.find_all(exp.Column)):
            raise invalid_parameter(
                parameter,
                function,
                f"must be a column of {self.description} or one SQL expression over its columns "
                f"(existing columns: {', '.join(self.columns)})",
                text,
            )
        return parsed


def _select_star(name: str) -> str:
    from sqlglot import exp

    return exp.select("*").from_(exp.to_table(name, quoted=True) if "." not in name else _dotted(name)).sql("duckdb")


def _dotted(name: str) -> exp.Table:
    from sqlglot import exp

    parts = name.split(".")
    return exp.table_(parts[-1], db=parts[-2], catalog=parts[-3] if len(parts) > 2 else None, quoted=True)


def _looks_like_file(text: str) -> bool:
    return text.lower().endswith((".parquet", ".csv", ".tsv", ".txt", ".csv.gz", ".parquet.gz")) or os.sep in text


#: (variant, segment values, assignment day or None)
GroupKey = tuple[str, tuple[str | None, ...], Any]


@dataclass
class GroupedStats:
    """The rows of the grouped query: per group the number of units and one record per metric."""

    segments: tuple[str, ...]
    by_day: bool
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    n_units: dict[GroupKey, int] = field(default_factory=dict)
    stats: dict[GroupKey, dict[str, MomentStats]] = field(default_factory=dict)

    def variants(self) -> list[str]:
        return sorted({key[0] for key in self.n_units})

    def collapse(self, key: Callable[[GroupKey], Hashable]) -> dict[Hashable, dict[str, MomentStats]]:
        """Sum the records of the groups that share ``key(group)``: one pass, every metric."""
        out: dict[Hashable, dict[str, MomentStats]] = {}
        for group, by_metric in self.stats.items():
            target = out.setdefault(key(group), {})
            for label, record in by_metric.items():
                target[label] = target[label] + record if label in target else record
        return out

    @functools.cached_property
    def _totals(self) -> dict[Hashable, dict[str, MomentStats]]:
        return self.collapse(lambda key: key[0])

    def total(self, variant: str, label: str) -> MomentStats:
        """The record of one metric in one variant, summed over days and segments (summed once, on first use)."""
        by_metric = self._totals.get(variant)
        return by_metric[label] if by_metric is not None else MomentStats.empty(self.names[label])

    def units(self, variant: str) -> int:
        return sum(n for key, n in self.n_units.items() if key[0] == variant)

    def days(self) -> list[Any]:
        return sorted({key[2] for key in self.n_units if key[2] is not None})


def _names(metric: Metric) -> tuple[str, ...]:
    return tuple(metric.variables())


def grouped_stats(
    table: UnitTable,
    metrics: Sequence[Metric],
    *,
    variant: str,
    segments: Sequence[str] = (),
    day: str | None = None,
    function: str = "analyze",
) -> GroupedStats:
    """Run the one grouped query and return its rows as records (see the module docstring)."""
    from sqlglot import exp

    def alias(kind: str, *index: int) -> str:
        return "_".join([kind, *map(str, index)])

    variant_col = table.column(variant, "variant", function)
    keys: list[exp.Expr] = [exp.cast(variant_col, "VARCHAR").as_("variant")]
    for s, segment in enumerate(segments):
        keys.append(exp.cast(table.column(segment, "segments", function), "VARCHAR").as_(alias("segment", s)))
    if day is not None:
        # days since 1970 (UTC): a cast of TIMESTAMPTZ to DATE goes through the time zone for every row
        micros = exp.Anonymous(this="epoch_us", expressions=[table.column(day, "day", function)])
        keys.append(exp.IntDiv(this=micros, expression=exp.Literal.number(86_400_000_000)).as_("day"))

    counts = _winsorized_counts(table, metrics, function)
    values: list[exp.Expr] = []  # the projection of each metric variable, winsorized when asked
    bounds: list[exp.Expr] = []  # pooled percentiles, computed once over all units
    aggregates: list[exp.Expr] = [exp.Count(this=exp.Star()).as_("n_units")]
    for m, metric in enumerate(metrics):
        names = _names(metric)
        raws = [
            exp.cast(table.column(text, f"metrics[{m}].{role}", function), "DOUBLE")
            for role, text in metric.variables().items()
        ]
        for v, (role, raw) in enumerate(zip(metric.variables(), raws, strict=True)):
            value = _winsorized(raw, metric, role, alias("bound", m, v), bounds, counts.get((m, v), 0))
            if len(raws) > 1:
                # a unit with a missing variable is left out of the whole metric: NULL all its variables here, so the
                # aggregates below (which skip NULLs) need no FILTER, which DuckDB evaluates per aggregate
                missing = exp.or_(*(exp.Is(this=r.copy(), expression=exp.Null()) for r in raws))
                value = exp.Case(ifs=[exp.If(this=missing, true=exp.Null())], default=value)
            values.append(value.as_(alias("v", m, v)))
        cols = [exp.column(alias("v", m, v)) for v in range(len(names))]
        aggregates.append(exp.Count(this=cols[0].copy()).as_(alias("n", m)))
        for v, col in enumerate(cols):
            aggregates.append(exp.Avg(this=col.copy()).as_(alias("mean", m, v)))
            for w in range(v, len(cols)):
                aggregates.append(exp.func("covar_samp", col.copy(), cols[w].copy()).as_(alias("cov", m, v, w)))
        if isinstance(metric, Proportion):
            aggregates.append(exp.Min(this=cols[0].copy()).as_(alias("min", m)))
            aggregates.append(exp.Max(this=cols[0].copy()).as_(alias("max", m)))

    inner = exp.select(*keys, *values).from_(_TABLE)
    if bounds:
        inner = inner.join(exp.select(*bounds).from_(_TABLE).subquery("bounds"), join_type="cross")
    key_names = [k.alias for k in keys]
    query = (
        exp.select(*(exp.column(k) for k in key_names), *aggregates)
        .from_(inner.subquery("projected"))
        .group_by(*(exp.column(k) for k in key_names))
    )
    columns, rows = table.execute(query)
    n_keys = len(key_names)

    out = GroupedStats(tuple(segments), day is not None, {metric.label: _names(metric) for metric in metrics})
    # the engine returns groups in any order: sort them, so records add up in the same order on every run (the
    # engine's own sums of doubles can still differ in the last bits, as its threads add in any order)
    rows.sort(key=lambda row: tuple((value is None, "" if value is None else str(value)) for value in row[:n_keys]))
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        if record["variant"] is None:
            continue  # units without a variant are not in the experiment
        key: GroupKey = (
            record["variant"],
            tuple(record[alias("segment", s)] for s in range(len(segments))),
            None if record.get("day") is None else _EPOCH + dt.timedelta(days=int(record["day"])),
        )
        out.n_units[key] = int(record["n_units"])
        out.stats[key] = {}
        for m, metric in enumerate(metrics):
            names = _names(metric)
            if isinstance(metric, Proportion) and record[alias("n", m)]:
                _check_binary(metric, record[alias("min", m)], record[alias("max", m)], function)
            out.stats[key][metric.label] = _record(record, m, names)
    return out


def _filtered(aggregate: exp.Expr, condition: exp.Expr) -> exp.Expr:
    from sqlglot import exp

    return exp.Filter(this=aggregate, expression=exp.Where(this=condition.copy()))


def _winsorized_counts(table: UnitTable, metrics: Sequence[Metric], function: str) -> dict[tuple[int, int], int]:
    """Non-missing values of every variable a winsorized mean caps: the pooled percentiles need them first."""
    from sqlglot import exp

    wanted = [
        ((m, v), text)
        for m, metric in enumerate(metrics)
        if isinstance(metric, Mean) and (metric.winsorize is not None or metric.winsorize_lower is not None)
        for v, (role, text) in enumerate(metric.variables().items())
    ]
    if not wanted:
        return {}
    query = exp.select(
        *(exp.Count(this=table.column(text, "metrics", function)).as_(f"n_{i}") for i, (_, text) in enumerate(wanted))
    ).from_(_TABLE)
    _, rows = table.execute(query)
    return {key: int(rows[0][i]) for i, (key, _) in enumerate(wanted)}


def _percentile(raw: exp.Expr, q: float, n: int) -> exp.Expr:
    """The pooled q-quantile of ``raw`` over its ``n`` values, interpolated linearly as ``quantile_cont`` does.

    Only the values beyond it are kept: ``max(x, k)`` holds the k largest (``min`` the k smallest), so memory grows
    with (1 - q) n, not n. Equal to ``quantile_cont`` up to the last bit of rounding.
    """
    from sqlglot import exp

    if n == 0:
        return exp.cast(exp.Null(), "DOUBLE")
    position = (n - 1) * q
    low = math.floor(position)
    fraction = position - low
    # keep the ascending indices low and low + 1 (the values the interpolation needs) with as few others as can be
    if q >= 0.5:
        k = n - low  # the k largest are the ascending indices low .. n - 1
        kept, at_low, at_high = exp.func("max", raw, exp.Literal.number(k)), 1, min(2, k)
    else:
        k = min(low + 2, n)  # the k smallest are the ascending indices 0 .. k - 1
        kept, at_low, at_high = exp.func("min", raw, exp.Literal.number(k)), low + 1, min(low + 2, k)
    kept = exp.func("list_sort", kept)
    # list_extract is 1-based; written as an anonymous call so that no dialect rule shifts the index
    first = exp.Anonymous(this="list_extract", expressions=[kept.copy(), exp.Literal.number(at_low)])
    second = exp.Anonymous(this="list_extract", expressions=[kept.copy(), exp.Literal.number(at_high)])
    step = exp.Paren(this=exp.Sub(this=second, expression=first.copy()))
    return exp.Add(this=first, expression=exp.Mul(this=exp.Literal.number(repr(fraction)), expression=step))


def _winsorized(raw: exp.Expr, metric: Metric, role: str, bound: str, bounds: list[exp.Expr], n: int) -> exp.Expr:
    """Cap (and floor) a Mean's value and covariate at pooled percentiles of themselves."""
    from sqlglot import exp

    if not isinstance(metric, Mean) or role not in ("value", "covariate"):
        return raw
    capped = raw
    if metric.winsorize is not None:
        bounds.append(_percentile(raw.copy(), metric.winsorize, n).as_(bound + "_hi"))
        capped = exp.func("least", capped, exp.column(bound + "_hi"))
    if metric.winsorize_lower is not None:
        bounds.append(_percentile(raw.copy(), metric.winsorize_lower, n).as_(bound + "_lo"))
        capped = exp.func("greatest", capped, exp.column(bound + "_lo"))
    return capped


def _record(row: dict[str, Any], m: int, names: tuple[str, ...]) -> MomentStats:
    n = int(row[f"n_{m}"])
    k = len(names)
    if n == 0:
        return MomentStats.empty(names)
    mean = np.array([row[f"mean_{m}_{v}"] for v in range(k)], dtype=np.float64)
    cov = np.full((k, k), np.nan)
    if n >= 2:
        for v in range(k):
            for w in range(v, k):
                cov[v, w] = cov[w, v] = row[f"cov_{m}_{v}_{w}"]
    return MomentStats(n, names, mean, cov)


def _check_binary(metric: Proportion, low: float, high: float, function: str) -> None:
    if low < 0 or high > 1:
        raise DataContractError(
            f"The proportion metric {metric.label!r} must hold true/false or 0/1 per unit, "
            f"but its column {metric.column!r} has values from {low:g} to {high:g}; "
            f"use Mean for a per-unit amount. ({function})"
        )


def order_statistics(
    table: UnitTable,
    metric: Quantile,
    *,
    variant: str,
    ranks: dict[str, Sequence[int]],
    counts: dict[str, int],
    function: str = "analyze",
) -> dict[str, list[float]]:
    """The values at the given 1-based ranks of ``metric``'s column, per variant (NULLs left out).

    DuckDB's ``quantile_disc(x, f)`` returns the value of 0-based index ceil(n f) - 1, so f = (r - 0.5) / n hits
    rank r exactly; one aggregate per variant, filtered to that variant, in one statement.
    """
    from sqlglot import exp

    value = exp.cast(table.column(metric.column, "metrics.column", function), "DOUBLE")
    variant_col = exp.cast(table.column(variant, "variant", function), "VARCHAR")
    aggregates: list[exp.Expr] = []
    order = [name for name in ranks if counts.get(name, 0) > 0]
    for i, name in enumerate(order):
        n = counts[name]
        fractions = exp.Array(expressions=[exp.Literal.number(repr((r - 0.5) / n)) for r in ranks[name]])
        condition = exp.and_(
            # the variant names come from the table itself; sqlglot quotes them as string literals
            exp.EQ(this=variant_col.copy(), expression=exp.Literal.string(name)),
            exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())),
        )
        aggregates.append(_filtered(exp.func("quantile_disc", value.copy(), fractions), condition).as_(f"q_{i}"))
    if not aggregates:
        return {}
    query = exp.select(*aggregates).from_(_TABLE)
    _, rows = table.execute(query)
    row = rows[0]  # an aggregate without GROUP BY returns one row
    return {name: [float(v) for v in row[i]] for i, name in enumerate(order)}
