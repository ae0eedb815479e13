"""The package's static queries (.sql files beside this module) with their placeholders filled by sqlglot.

A query names what varies with the call as placeholder columns (``__group__``, ``__channel__``); :func:`render`
replaces each with an expression chosen from a fixed table of SQL snippets, so no user text ever reaches the SQL.
Values (dates, windows) stay bound parameters (``$start``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp


@functools.cache
def _template(name: str) -> exp.Expr:
    import sqlglot

    text = files("insights.leads").joinpath("sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")
    return sqlglot.parse_one(text, dialect="duckdb")


@functools.cache
def snippet(text: str) -> exp.Expr:
    """A constant SQL expression of this package, parsed once."""
    import sqlglot

    return sqlglot.parse_one(text, dialect="duckdb")


def fill(expression: exp.Expr, placeholders: Mapping[str, exp.Expr]) -> exp.Expr:
    """``expression`` with every column named like a key of ``placeholders`` replaced by its value."""
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in placeholders:
            return placeholders[node.name].copy()
        return node

    return expression.copy().transform(replace)


def render(name: str, placeholders: Mapping[str, exp.Expr]) -> str:
    """The query ``name`` (``sql/<name>.sql``) as DuckDB SQL, its placeholders filled."""
    return fill(_template(name), placeholders).sql("duckdb")
