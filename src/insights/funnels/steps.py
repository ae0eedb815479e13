"""Funnel steps: which rows of the event log count as reaching a step.

A step matches rows by event type (``Step("lead_captured")``: ``event = 'lead_captured'``), by a SQL condition over
the log's columns (``Step(where="role = 'user'", name="user_message")``), or by both (the condition is added to the
event). The condition goes through :func:`insights.warehouse.expressions.parse_expression`, so it can only compute
over the columns of the row it is given.

>>> Step("lead_captured").name
'lead_captured'
>>> Step(where="role = 'user' AND NOT coalesce(is_fallback, false)", name="user_message").name
'user_message'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from insights.errors import invalid_parameter
from insights.warehouse.expressions import parse_expression

if TYPE_CHECKING:
    from sqlglot import exp

__all__ = ["NAME_PATTERN", "Step", "as_steps"]

#: step names become column names (``reached_<name>``), so they are plain lower-case identifiers
NAME_PATTERN = re.compile(r"[a-z_][a-z0-9_]*\Z")


@dataclass(frozen=True)
class Step:
    """Rows that count as reaching one step: an ``event`` type, a SQL condition ``where``, or both.

    ``name`` labels the step in results and names its column in :meth:`Funnel.units` (``reached_<name>``); it
    defaults to the event when that is a plain identifier, and is required for a condition alone.

    >>> Step("message", where="role = 'user'", name="user_message").where
    "role = 'user'"
    """

    event: str | None = None
    where: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        function = "Step"
        if self.event is not None and (not isinstance(self.event, str) or not self.event.strip()):
            raise invalid_parameter("event", function, "must be None or a non-empty event type", self.event)
        if self.where is not None and (not isinstance(self.where, str) or parse_expression(self.where) is None):
            raise invalid_parameter(
                "where",
                function,
                "must be None or one SQL condition over the event columns (no queries, tables or files)",
                self.where,
            )
        if self.event is None and self.where is None:
            raise invalid_parameter(
                "event", function, "must be given unless 'where' is (a step needs rows to match)", None
            )
        name = self.name
        if name is None and self.event is not None and NAME_PATTERN.match(self.event):
            name = self.event
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise invalid_parameter(
                "name",
                function,
                "must be a lower-case identifier (letters, digits, underscores); it is required when the event "
                "is not one",
                self.name,
            )
        object.__setattr__(self, "name", name)

    @property
    def label(self) -> str:
        """The step's name (always set once the step is built)."""
        assert self.name is not None
        return self.name

    def condition(self) -> exp.Expr:
        """The SQL condition a row must meet, as a sqlglot expression (the event is a string literal)."""
        from sqlglot import exp

        parts: list[exp.Expr] = []
        if self.event is not None:
            parts.append(exp.EQ(this=exp.column("event", quoted=True), expression=exp.Literal.string(self.event)))
        if self.where is not None:
            parsed = parse_expression(self.where)
            assert parsed is not None  # checked when the step was built
            parts.append(exp.Paren(this=parsed))
        return exp.and_(*parts) if len(parts) > 1 else parts[0]

    def columns(self) -> set[str]:
        """The columns of the event log the step reads."""
        from sqlglot import exp

        names = {"event"} if self.event is not None else set()
        if self.where is not None:
            parsed = parse_expression(self.where)
            assert parsed is not None
            names |= {column.name for column in parsed.find_all(exp.Column)}
        return names

    def describe(self) -> str:
        """How a person reads the step: the event, the condition, or both."""
        if self.event is not None and self.where is not None:
            return f"{self.event} where {self.where}"
        return self.event if self.event is not None else f"where {self.where}"


def as_steps(name: str, function: str, value: object, *, minimum: int) -> tuple[Step, ...]:
    """A list of steps from event types (str) and :class:`Step` objects; at least ``minimum`` of them."""
    if isinstance(value, str | Step) or not isinstance(value, Sequence):
        raise invalid_parameter(name, function, "must be a list of event types (str) or Step objects", value)
    steps: list[Step] = []
    for item in value:
        if isinstance(item, Step):
            steps.append(item)
        elif isinstance(item, str):
            try:
                steps.append(Step(item))
            except ValueError:
                raise invalid_parameter(
                    name, function, "must hold event types that are identifiers, or Step objects with a name", item
                ) from None
        else:
            raise invalid_parameter(name, function, "must hold only event types (str) or Step objects", item)
    if len(steps) < minimum:
        raise invalid_parameter(name, function, f"must hold at least {minimum} steps", list(value))
    return tuple(steps)
