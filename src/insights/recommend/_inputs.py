"""What the recommendation functions check of their inputs: the columns (or SQL expressions over them) a caller
names in a table (read by :func:`insights.tables.as_relation`), and seeds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from insights.errors import invalid_parameter
from insights.warehouse.expressions import parse_expression

if TYPE_CHECKING:
    from sqlglot import exp


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


def check_seed(name: str, function: str, value: object, *, optional: bool = False) -> int | None:
    """A seed for numpy's generator: an integer in [0, 2**63) (it is stored in a BIGINT), or None when allowed."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        rule = "must be None or an integer in [0, 2**63)" if optional else "must be an integer in [0, 2**63)"
        raise invalid_parameter(name, function, rule, value)
    return value
