"""Run the column checks that model headers declare: one SQL query per check.

Each query counts the failing rows and returns up to five example values: the offending values for
unique, accepted_values and relationships, and the row's key (the model's unique column) for not_null.
As in dbt, NULLs pass accepted_values and relationships, and unique ignores NULLs.

>>> from insights.warehouse import build, connect
>>> con = connect(":memory:")
>>> _ = build(con)
>>> run_checks(con).passed
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import duckdb

from insights.errors import WarehouseError
from insights.warehouse._text import text_table
from insights.warehouse.build import existing_tables
from insights.warehouse.connection import first_row
from insights.warehouse.models import Check, Model, Severity, SqlDir, list_models

if TYPE_CHECKING:
    from sqlglot import exp

#: How many distinct failing values a result keeps as examples (the LIMIT in _SUMMARY).
N_EXAMPLES = 5

Status = Literal["pass", "warn", "fail"]

# Reads the CTE "failing" (one row per failing row, column "value"); no identifier comes from outside.
_SUMMARY = (
    "SELECT (SELECT count(*) FROM failing) AS failures, "
    "(SELECT array_agg(value) FROM (SELECT DISTINCT value FROM failing WHERE value IS NOT NULL "
    "ORDER BY value LIMIT 5) AS sample) AS examples"
)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: how many rows fail it, and a few example values."""

    model: str
    column: str
    check: str
    severity: Severity
    failures: int
    examples: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """No failing rows (whatever the severity)."""
        return self.failures == 0

    @property
    def status(self) -> Status:
        """pass, or fail (an error check with failures), or warn (a warn check with failures)."""
        if self.failures == 0:
            return "pass"
        return "warn" if self.severity == "warn" else "fail"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "model": self.model,
            "column": self.column,
            "check": self.check,
            "severity": self.severity,
            "status": self.status,
            "failures": self.failures,
            "examples": list(self.examples),
        }


@dataclass(frozen=True)
class CheckReport:
    """Every check's result; `passed` is False only when a check of severity error fails."""

    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        """Error checks that found failing rows."""
        return tuple(r for r in self.results if r.status == "fail")

    @property
    def warned(self) -> tuple[CheckResult, ...]:
        """Warn checks that found failing rows."""
        return tuple(r for r in self.results if r.status == "warn")

    @property
    def summary(self) -> str:
        n_pass = len(self.results) - len(self.failed) - len(self.warned)
        return f"{len(self.results)} checks: {n_pass} passed, {len(self.failed)} failed, {len(self.warned)} warned"

    def __str__(self) -> str:
        rows = [
            [
                r.status.upper() if r.status == "fail" else r.status,
                r.model,
                r.column,
                _shorten(r.check, 48) + ("" if r.severity == "error" else " (warn)"),
                f"{r.failures:,}",
                ", ".join(_shorten(e) for e in r.examples),
            ]
            for r in self.results
        ]
        table = text_table(["status", "model", "column", "check", "failures", "examples"], rows, right={4})
        return f"{table}\n{self.summary}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "passed": self.passed,
            "n_checks": len(self.results),
            "n_failed": len(self.failed),
            "n_warned": len(self.warned),
            "results": [r.to_dict() for r in self.results],
        }


def run_checks(con: duckdb.DuckDBPyConnection, *, sql_dir: SqlDir | None = None) -> CheckReport:
    """Run every check declared by the models of `sql_dir` (default: the shipped models).

    The models must have been built (see build); a missing table raises WarehouseError.
    """
    models = list_models(sql_dir)
    tables = existing_tables(con)
    missing = sorted({m.name for m in models} - tables)
    if missing:
        raise WarehouseError(f"The warehouse has not been built: {', '.join(missing)} missing; run build() first.")
    results: list[CheckResult] = []
    for model in models:
        for check in model.checks:
            sql, params = check_query(model, check)
            row = first_row(con.execute(sql, list(params)))
            failures, examples = (int(row[0]), row[1] or []) if row else (0, [])
            results.append(
                CheckResult(
                    model=model.name,
                    column=check.column,
                    check=check.label,
                    severity=check.severity,
                    failures=failures,
                    examples=tuple(sorted(str(e) for e in examples)),
                )
            )
    return CheckReport(tuple(results))


@cache
def check_query(model: Model, check: Check) -> tuple[str, tuple[str, ...]]:
    """The SQL of one check and its parameters; the query returns (failures, examples).

    >>> from insights.warehouse.models import Check, list_models
    >>> model = next(m for m in list_models() if m.name == "marts.chat_sessions")
    >>> print(check_query(model, Check(("session_id",), "not_null"))[0])  # doctest: +NORMALIZE_WHITESPACE
    WITH failing AS (SELECT CAST(NULL AS TEXT) AS value FROM "marts"."chat_sessions"
    WHERE "session_id" IS NULL) SELECT ...
    """
    failing, params = _failing_rows(model, check)
    query = _summary().with_("failing", as_=failing)  # with_ copies, so the cached tree is never changed
    return str(query.sql("duckdb")), tuple(params)


@cache
def _summary() -> exp.Select:
    from sqlglot import exp, parse_one

    summary = parse_one(_SUMMARY, read="duckdb")
    assert isinstance(summary, exp.Select)
    return summary


def _failing_rows(model: Model, check: Check) -> tuple[exp.Select, list[str]]:
    """A SELECT of one row per failing row, with one column "value" (example value or NULL)."""
    from sqlglot import exp, select

    table = exp.table_(model.table, db=model.schema, quoted=True)
    columns = [exp.column(c, quoted=True) for c in check.columns]
    column = columns[0]
    not_null = exp.and_(*(c.is_(exp.null()).not_() for c in columns))

    if check.name == "not_null":
        key = model.key
        value: exp.Cast | exp.Func = (
            _as_text(exp.column(key, quoted=True)) if key and key != check.columns[0] else _as_text(exp.null())
        )
        return select(exp.alias_(value, "value")).from_(table).where(column.is_(exp.null())), []

    if check.name == "unique":
        value = (
            _as_text(column)
            if len(columns) == 1
            else exp.func("concat_ws", exp.Literal.string(", "), *(_as_text(c) for c in columns))
        )
        n_rows = exp.Window(this=exp.Count(this=exp.Star()), partition_by=columns)
        counted = select(exp.alias_(value, "value"), exp.alias_(n_rows, "n_rows")).from_(table).where(not_null)
        return select("value").from_(counted.subquery("counted")).where("n_rows > 1"), []

    if check.name == "accepted_values":
        outside = exp.not_(exp.In(this=_as_text(column), expressions=[exp.Placeholder() for _ in check.args]))
        return (
            select(exp.alias_(_as_text(column), "value")).from_(table).where(exp.and_(not_null, outside)),
            list(check.args),
        )

    if check.name == "relationships":
        parent_schema, parent_table, parent_column = check.args[0].split(".")
        child_value = exp.column(check.columns[0], table="child", quoted=True)
        parent_value = exp.column(parent_column, table="parent", quoted=True)
        parent = exp.table_(parent_table, db=parent_schema, quoted=True, alias="parent")
        return (
            select(exp.alias_(_as_text(child_value), "value"))
            .from_(exp.table_(model.table, db=model.schema, quoted=True, alias="child"))
            .join(parent, on=exp.EQ(this=child_value, expression=parent_value), join_type="left")
            .where(exp.and_(child_value.is_(exp.null()).not_(), parent_value.is_(exp.null()))),
            [],
        )

    raise WarehouseError(f"The check {check.name!r} of {model.name} has no query.")  # parse_model prevents this


def _as_text(expression: exp.Expression) -> exp.Cast:
    from sqlglot import exp

    return exp.cast(expression, "VARCHAR")


def _shorten(value: str, width: int = 40) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"
