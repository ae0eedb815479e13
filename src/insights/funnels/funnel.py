"""``Funnel``: ordered steps, a unit, a conversion window measured from step 1, and a mode; computed in the engine.

>>> funnel = Funnel(
...     steps=["session_start", Step(where="role = 'user'", name="user_message"), "lead_captured"],
...     unit="session",
...     window="1 day",
... )
>>> funnel.step_names
('session_start', 'user_message', 'lead_captured')
>>> result = funnel.compute(con, start="2026-01-01", end="2026-02-01", breakdown="channel")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from insights.errors import invalid_parameter
from insights.funnels.query import MAX_STEPS, MODES, POST_COLUMNS, UNITS, Breakdown, EventSource, FunnelQuery
from insights.funnels.result import (
    FunnelBreakdown,
    FunnelGroup,
    FunnelOverTime,
    FunnelPeriod,
    FunnelResult,
    FunnelStep,
)
from insights.funnels.steps import Step, as_steps
from insights.funnels.timing import MICROS, from_micros, parse_window, to_micros
from insights.params import check_choice, check_int, check_open_period, check_open_unit
from insights.warehouse.expressions import parse_expression

if TYPE_CHECKING:
    import duckdb

__all__ = ["PERIODS", "Funnel"]

PERIODS = ("day", "week")
_EPOCH_DATE = dt.date(1970, 1, 1)
_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


@dataclass(frozen=True, init=False)
class Funnel:
    """A funnel definition. The constructor only checks and stores the settings; :meth:`compute` runs it.

    - ``steps``: two or more steps, each an event type (``"lead_captured"``) or a :class:`Step` (a SQL condition,
      optionally with an event);
    - ``unit``: ``"session"`` (``session_id``) or ``"user"`` (``user_id``);
    - ``window``: how long after its step-1 time an attempt may take to reach the other steps (``"7 days"``,
      ``"30 minutes"`` or a ``timedelta``); an event exactly at the end of the window still counts;
    - ``mode``: ``"ordered"`` (other events may come between steps), ``"strict"`` (each step must be the unit's very
      next event after the previous step) or ``"any_order"`` (steps 2.. in any order after step 1);
    - ``exclude``: exclusion steps; a unit with an exclusion event from one of its step-1 events to the end of that
      attempt's window is left out of the whole funnel;
    - ``where``: a SQL condition that picks the events the funnel sees at all (in strict mode, what counts as an
      event between two steps).

    A unit may start the funnel several times (every step-1 event starts an attempt with its own window); it counts
    at the furthest step any of its attempts reached. See docs/funnels.md for every rule.
    """

    steps: tuple[Step, ...]
    unit: str
    window: dt.timedelta
    mode: str
    exclude: tuple[Step, ...]
    where: str | None

    def __init__(
        self,
        steps: Sequence[str | Step],
        *,
        unit: str = "session",
        window: str | dt.timedelta = "7 days",
        mode: str = "ordered",
        exclude: Sequence[str | Step] = (),
        where: str | None = None,
    ) -> None:
        function = "Funnel"
        checked = as_steps("steps", function, steps, minimum=2)
        if len(checked) > MAX_STEPS:
            raise invalid_parameter("steps", function, f"must hold at most {MAX_STEPS} steps", len(checked))
        names = [step.label for step in checked]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise invalid_parameter(
                "steps", function, "must have distinct names (pass Step(..., name=...))", duplicates
            )
        object.__setattr__(self, "steps", checked)
        object.__setattr__(self, "unit", check_choice("unit", function, unit, tuple(UNITS)))
        object.__setattr__(self, "window", parse_window(window, "window", function))
        object.__setattr__(self, "mode", check_choice("mode", function, mode, MODES))
        object.__setattr__(self, "exclude", as_steps("exclude", function, exclude, minimum=0))
        if where is not None and (not isinstance(where, str) or parse_expression(where) is None):
            raise invalid_parameter(
                "where", function, "must be None or one SQL condition over the event columns", where
            )
        object.__setattr__(self, "where", where)

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(step.label for step in self.steps)

    @property
    def unit_column(self) -> str:
        return UNITS[self.unit]

    def compute(
        self,
        con: duckdb.DuckDBPyConnection | duckdb.DuckDBPyRelation,
        *,
        events: str | duckdb.DuckDBPyRelation | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        breakdown: str | None = None,
        period: str = "day",
        max_breakdown_values: int = 10,
        alpha: float = 0.05,
    ) -> FunnelResult:
        """Run the funnel over the events: one statement, only small aggregates come back.

        ``con`` is a DuckDB connection (the funnel reads ``events``, by default ``staging.chat_events``) or a DuckDB
        relation of events. ``start``/``end`` bound the step-1 times of the attempts that count (dates are midnight
        UTC; ``end`` is exclusive); later steps may come up to the window after ``end``. ``breakdown`` names a
        column of the events (the value on the unit's first step-1 event) or an attribute of the post the unit
        entered from (``platform``, ``content_type``, ``origin``, ``model``, ``prompt_id``, ``prompt_version``,
        ``campaign``, through ``marts.lineage``); past ``max_breakdown_values`` values the rest are pooled as
        "(other)". ``period`` groups entries by ``"day"`` or ``"week"`` (ISO weeks, UTC). Intervals are 1 - ``alpha``.
        """
        function = "Funnel.compute"
        period = check_choice("period", function, period, PERIODS)
        max_breakdown_values = check_int("max_breakdown_values", function, max_breakdown_values, 1)
        alpha = check_open_unit("alpha", function, alpha)
        source, query = self._prepare(con, events, start, end, function)
        spec = self._breakdown(source, breakdown, max_breakdown_values, function)
        query = dataclasses.replace(query, breakdown=spec, period=period)
        columns, rows = source.run(query.summary())
        return self._result(query, [dict(zip(columns, row, strict=True)) for row in rows], alpha)

    def units(
        self,
        con: duckdb.DuckDBPyConnection | duckdb.DuckDBPyRelation,
        *,
        events: str | duckdb.DuckDBPyRelation | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
    ) -> duckdb.DuckDBPyRelation:
        """One row per unit seen in the period, as a lazy DuckDB relation, to join to experiment assignments.

        Columns: the unit's id (``session_id`` or ``user_id``), ``entered_at`` (its first step-1 time; NULL when it
        never entered), ``is_excluded``, ``furthest_step`` (0 when it never entered or was excluded) and
        ``reached_<step name>`` (1 or 0) per step. Units whose events match no step may be absent: left-join the
        assignments to this relation and count a missing unit as 0.

        >>> units = funnel.units(con, start="2026-01-05")  # doctest: +SKIP
        >>> table = con.sql("SELECT a.variant, coalesce(u.reached_lead_captured, 0) AS reached_lead_captured "
        ...                 "FROM staging.assignments a LEFT JOIN units u ON u.user_id = a.unit_id")  # doctest: +SKIP
        """
        function = "Funnel.units"
        source, query = self._prepare(con, events, start, end, function)
        return source.query(query.units(self.step_names))

    # --- internals ---------------------------------------------------------------------------------------------------

    def _prepare(
        self, con: object, events: object, start: object, end: object, function: str
    ) -> tuple[EventSource, FunnelQuery]:
        from sqlglot import exp

        source = EventSource.resolve(con, events, function)
        begin, finish = check_open_period(function, start, end)
        missing = sorted({self.unit_column, "ts"} - set(source.columns))
        if missing:
            raise invalid_parameter(
                "con",
                function,
                f"must give events with the columns {self.unit_column} and ts "
                f"(existing columns in {source.description}: {', '.join(source.columns)})",
                "missing " + ", ".join(missing),
            )
        if not source.columns["ts"].startswith("TIMESTAMP"):
            raise invalid_parameter(
                "con",
                function,
                f"must give events whose ts column is a timestamp in {source.description}",
                source.columns["ts"],
            )
        for step in self.steps:
            source.require(step.columns(), "steps", function)
        for step in self.exclude:
            source.require(step.columns(), "exclude", function)
        if self.where is not None:
            parsed = parse_expression(self.where)
            assert parsed is not None
            source.require({c.name for c in parsed.find_all(exp.Column)}, "where", function)
        seq_type = source.columns.get("session_seq")
        if seq_type is not None and seq_type not in _INTEGER_TYPES:
            raise invalid_parameter(
                "con",
                function,
                f"must give events whose session_seq column is an integer in {source.description}",
                seq_type,
            )
        query = FunnelQuery(
            steps=self.steps,
            exclusions=self.exclude,
            mode=self.mode,
            unit_column=self.unit_column,
            window_us=to_micros(self.window),
            start_us=None if begin is None else to_micros(begin),
            end_us=None if finish is None else to_micros(finish),
            where=self.where,
            has_seq=seq_type is not None,
        )
        return source, query

    def _breakdown(self, source: EventSource, breakdown: object, cap: int, function: str) -> Breakdown | None:
        if breakdown is None:
            return None
        choices = f"a column of {source.description} or an entry post attribute ({', '.join(POST_COLUMNS)})"
        if not isinstance(breakdown, str):
            raise invalid_parameter("breakdown", function, f"must be None, {choices}", breakdown)
        if breakdown in source.columns:
            return Breakdown(breakdown, from_post=False, max_values=cap)
        column = breakdown.removeprefix("post.")
        if column not in POST_COLUMNS:
            raise invalid_parameter(
                "breakdown",
                function,
                f"must be None, {choices}; existing columns: {', '.join(source.columns)}",
                breakdown,
            )
        if "session_id" not in source.columns or not source.has_lineage():
            raise invalid_parameter(
                "breakdown",
                function,
                "must be a column of the events unless their connection has marts.lineage and they have session_id "
                "(entry post attributes come from the warehouse)",
                breakdown,
            )
        return Breakdown(column, from_post=True, max_values=cap)

    def _result(self, query: FunnelQuery, records: list[dict[str, Any]], alpha: float) -> FunnelResult:
        n = len(self.steps)
        names = self.step_names
        with_buckets = query.breakdown is not None

        def counts(record: dict[str, Any]) -> tuple[int, ...]:
            return tuple(int(record[f"n_{k}"]) for k in range(1, n + 1))

        def times(record: dict[str, Any]) -> list[tuple[float | None, float | None]]:
            out: list[tuple[float | None, float | None]] = [(None, None)]
            for k in range(2, n + 1):
                q = record[f"q_{k}"]
                out.append((None, None) if q is None else (q[0] / MICROS, q[1] / MICROS))
            return out

        total = next(
            (r for r in records if r["all_periods"] == 1 and (not with_buckets or r["all_buckets"] == 1)),
            None,
        )
        empty: dict[str, Any] = {"n_excluded": 0, "observed_ticks": None} | {f"n_{k}": 0 for k in range(1, n + 1)}
        empty |= {f"q_{k}": None for k in range(2, n + 1)}
        total = total if total is not None else empty
        step_counts = counts(total)
        step_times = times(total)
        steps = tuple(FunnelStep.build(i, names[i], step_counts, step_times, alpha) for i in range(n))
        observed: int | None = None if total["observed_ticks"] is None else int(total["observed_ticks"])

        periods: list[FunnelPeriod] = []
        for record in sorted((r for r in records if r["all_periods"] == 0), key=lambda r: int(r["period_index"])):
            index = int(record["period_index"])
            if query.period == "day":
                first_day, length = _EPOCH_DATE + dt.timedelta(days=index), 1
            else:
                first_day, length = _EPOCH_DATE + dt.timedelta(days=7 * index - 3), 7
            last_entry = to_micros(dt.datetime.combine(first_day, dt.time(), dt.UTC) + dt.timedelta(days=length)) - 1
            if query.end_us is not None:
                last_entry = min(last_entry, query.end_us - 1)
            complete = observed is not None and last_entry + query.window_us <= observed
            periods.append(FunnelPeriod(first_day, counts(record), complete))
        over_time = FunnelOverTime(query.period, names, tuple(periods), alpha)

        breakdown = None
        if query.breakdown is not None:
            groups: list[FunnelGroup] = []
            labels = {0: "value", 1: "other", 2: "missing"}
            for record in (r for r in records if r["all_buckets"] == 0):
                kind = labels[int(record["bucket_kind"])]
                value = record["bucket"] if kind == "value" else f"({kind})"
                median, p90 = times(record)[-1]
                groups.append(FunnelGroup(str(value), kind, counts(record), median, p90))
            order = {"value": 0, "other": 1, "missing": 2}
            groups.sort(key=lambda g: (order[g.kind], -g.n_units[0], g.value))
            breakdown = FunnelBreakdown(
                query.breakdown.column,
                query.breakdown.from_post,
                names,
                tuple(groups),
                query.breakdown.max_values,
                alpha,
            )
        return FunnelResult(
            steps=steps,
            unit=self.unit,
            window=self.window,
            mode=self.mode,
            exclusions=tuple(step.describe() for step in self.exclude),
            start=None if query.start_us is None else from_micros(query.start_us),
            end=None if query.end_us is None else from_micros(query.end_us),
            observed_until=None if observed is None else from_micros(observed),
            n_excluded=int(total["n_excluded"]),
            alpha=alpha,
            over_time=over_time,
            breakdown=breakdown,
        )
