"""SQL text from outside the code: user-written expressions, parsed with sqlglot and refused unless they only compute
over given columns, and identifiers (column and table names), quoted.

Metric, funnel-step and segment definitions accept SQL (``revenue > 100``, ``event = 'handoff'``). Whatever the
text, it may only be one expression over the columns of the rows it is given: no queries, no table or file reads,
no environment lookups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

__all__ = ["parse_expression", "quote_identifier"]


def quote_identifier(name: str) -> str:
    """One identifier (a column or table name, whatever it holds) quoted for DuckDB: `a"b` -> `"a""b"`."""
    from sqlglot import exp  # imported here: command-line paths that never quote skip its import cost

    return str(exp.to_identifier(name, quoted=True).sql("duckdb"))


def parse_expression(text: str) -> exp.Expr | None:
    """One SQL expression (``revenue > 100``, ``coalesce(value, 0)``), or None for anything else.

    Several statements, queries, commands, writes and table references are refused, so a metric's SQL can only
    compute over the columns of the rows it is given.
    """
    import sqlglot
    from sqlglot import exp

    try:
        statements = sqlglot.parse(text, dialect="duckdb")
    except sqlglot.errors.SqlglotError:
        return None
    if len(statements) != 1 or statements[0] is None:
        return None
    parsed = statements[0]
    refused = (exp.Query, exp.Command, exp.DDL, exp.DML, exp.Block, exp.Table, exp.Subquery)
    if isinstance(parsed, refused) or any(isinstance(node, refused) for node in parsed.walk()):
        return None
    for node in parsed.find_all(exp.Func):
        name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
        if name.startswith(_REFUSED_FUNCTION_PREFIXES) or name in _REFUSED_FUNCTIONS:
            return None
    return parsed


#: functions that read files, the environment or other queries: a metric only computes over its rows
_REFUSED_FUNCTIONS = frozenset({"getenv", "glob", "query", "query_table", "current_setting", "sniff_csv"})
_REFUSED_FUNCTION_PREFIXES = ("read_", "parquet_", "duckdb_")
