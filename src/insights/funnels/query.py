"""The engine side of a funnel: one grouped pass over the events computes every unit's furthest step.

The statement (built with sqlglot, run in DuckDB):

1. ``base_rows``: the events in range (from ``start`` to ``end`` plus the window, through ``where``), each reduced to
   its unit, its time in microseconds, its tie-breaker (``session_seq`` when the log has it) and a bit mask of the
   steps it matches (bit k - 1 for step k; one more bit for any exclusion). Step 1 only counts from ``start`` to
   ``end``: later rows can finish a conversion but not start one.
2. ``per_unit``: ``GROUP BY unit``. Each row is packed into one 128-bit integer (time, tie-breaker, mask), so sorting
   the unit's list of integers orders its rows, and rows that tie on all three are interchangeable. A
   ``list_reduce`` walks the sorted list once with a small state (:func:`state_reduce`): for ordered and strict
   funnels forward, for any-order funnels backward. The state gives the unit's furthest step, whether an exclusion
   removed it, and the time to each step.
3. The summary: counts of units per furthest step and quantiles of the times, for the whole funnel, per entry period
   and per breakdown value, in one ``GROUPING SETS`` aggregate. Only those few rows reach Python.

Ordered-funnel state (the idea behind ClickHouse's ``windowFunnel``): for each step k, the latest step-1 time of an
attempt that has reached step k so far. When a row matches step k and the latest attempt at step k - 1 started no
more than the window before it, that attempt reaches step k. Keeping only the latest start per step is enough: a
later start has a later deadline, so it can go wherever an earlier one can.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from insights.errors import invalid_parameter
from insights.funnels.steps import Step

if TYPE_CHECKING:
    import duckdb
    from sqlglot import exp

__all__ = [
    "MODES",
    "POST_COLUMNS",
    "UNITS",
    "Breakdown",
    "EventSource",
    "FunnelQuery",
]

MODES = ("ordered", "strict", "any_order")
#: unit -> the column that identifies it in the event log
UNITS = {"session": "session_id", "user": "user_id"}
#: attributes of a unit's entry post, read from marts.lineage through the session the unit entered in
POST_COLUMNS = ("platform", "content_type", "origin", "model", "prompt_id", "prompt_version", "campaign")
DEFAULT_EVENTS = "staging.chat_events"
_VIEW = "funnel_events"
#: packed row = ((time + 2^61) << 64) + (tie-breaker << 24) + mask: time first, then tie-breaker, then mask
_TIME_OFFSET = 2**61
_SEQ_MAX = 2**40 - 1
_MASK_BITS = 24
MAX_STEPS = _MASK_BITS - 1  # one bit is kept for the exclusions


@dataclass(frozen=True)
class EventSource:
    """The event log a funnel reads, as a DuckDB relation, with its column names and types."""

    relation: duckdb.DuckDBPyRelation
    columns: dict[str, str]
    description: str

    @classmethod
    def resolve(cls, source: object, events: object, function: str) -> EventSource:
        """A connection (its ``events`` table, ``staging.chat_events`` by default) or a DuckDB relation."""
        import duckdb

        if isinstance(source, duckdb.DuckDBPyRelation):
            if events is not None:
                raise invalid_parameter(
                    "events", function, "must be None when the first argument is a relation", events
                )
            return cls._of(source, "the relation")
        if not isinstance(source, duckdb.DuckDBPyConnection):
            raise invalid_parameter(
                "con", function, "must be a DuckDB connection or a DuckDB relation of events", type(source).__name__
            )
        if events is None:
            events = DEFAULT_EVENTS
        if isinstance(events, duckdb.DuckDBPyRelation):
            return cls._of(events, "the relation")
        if not isinstance(events, str) or not events.strip():
            raise invalid_parameter(
                "events", function, "must be None, a table or view name, or a DuckDB relation", events
            )
        try:
            relation = source.table(events)
        except duckdb.Error as error:
            first_line = str(error).splitlines()[0]
            raise invalid_parameter(
                "events", function, "must name a table or view the connection can read", f"{events} ({first_line})"
            ) from None
        return cls._of(relation, f"the table {events}")

    @classmethod
    def _of(cls, relation: duckdb.DuckDBPyRelation, description: str) -> EventSource:
        types = [str(t) for t in relation.types]
        return cls(relation, dict(zip(relation.columns, types, strict=True)), description)

    def require(self, names: set[str], parameter: str, function: str) -> None:
        """Fail in one sentence when the log lacks a column a parameter needs."""
        missing = sorted(names - set(self.columns))
        if missing:
            raise invalid_parameter(
                parameter,
                function,
                f"must only use columns of {self.description} (existing columns: {', '.join(self.columns)})",
                ", ".join(missing),
            )

    def run(self, query: exp.Expr) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run ``query`` (which reads the log as ``funnel_events``): column names and rows."""
        result = self.query(query)
        return list(result.columns), result.fetchall()

    def query(self, query: exp.Expr) -> duckdb.DuckDBPyRelation:
        """``query`` as a lazy relation over the log."""
        result = self.relation.query(_VIEW, query.sql("duckdb"))
        assert result is not None  # a SELECT gives a relation
        return result

    def has_lineage(self) -> bool:
        """Whether marts.lineage is reachable from the log's connection (a built warehouse)."""
        import duckdb

        try:
            probe = self.relation.query(_VIEW, "SELECT session_id FROM marts.lineage LIMIT 0")
            assert probe is not None
            probe.fetchall()
        except duckdb.Error:
            return False
        return True


@dataclass(frozen=True)
class Breakdown:
    """What a unit's breakdown value is: a column of its entry row, or an attribute of its entry post."""

    column: str
    from_post: bool
    max_values: int


@dataclass(frozen=True)
class FunnelQuery:
    """Everything the statement depends on; :meth:`summary` and :meth:`units` build it."""

    steps: tuple[Step, ...]
    exclusions: tuple[Step, ...]
    mode: str
    unit_column: str
    window_us: int
    start_us: int | None
    end_us: int | None
    where: str | None
    has_seq: bool
    breakdown: Breakdown | None = None
    period: str = "day"

    # --- the per-unit table ----------------------------------------------------------------------------------------

    def _ctes(self, with_value: bool) -> list[tuple[str, exp.Expr]]:
        from sqlglot import exp

        from insights.warehouse.expressions import parse_expression

        n = len(self.steps)
        ticks = _parse("epoch_us(ts)")
        # a row without a unit or a time belongs to no unit's sequence
        keep: list[exp.Expr] = [
            exp.Not(this=exp.Is(this=exp.column(self.unit_column, quoted=True), expression=exp.Null())),
            _parse("ts IS NOT NULL"),
        ]
        if self.where is not None:
            parsed = parse_expression(self.where)
            assert parsed is not None
            keep.append(exp.Paren(this=parsed))
        entry_range: list[exp.Expr] = []
        if self.start_us is not None:
            keep.append(exp.GTE(this=ticks.copy(), expression=_number(self.start_us)))
        if self.end_us is not None:
            # nothing after end + window can finish an attempt that started before end
            keep.append(exp.LT(this=ticks.copy(), expression=_number(self.end_us + self.window_us)))
            entry_range.append(exp.LT(this=ticks.copy(), expression=_number(self.end_us)))
        bits: list[exp.Expr] = []
        for k, step in enumerate(self.steps):
            condition = step.condition()
            if k == 0 and entry_range:
                condition = exp.and_(exp.Paren(this=condition), *entry_range)
            bits.append(_bit_if(condition, 1 << k))
        if self.exclusions:
            exclusion = exp.or_(*(exp.Paren(this=step.condition()) for step in self.exclusions))
            bits.append(_bit_if(exclusion, 1 << n))
        mask: exp.Expr = bits[0]
        for bit in bits[1:]:
            mask = exp.Add(this=mask, expression=bit)
        seq = (
            _fill("least(greatest(coalesce(session_seq, 0), 0), _max_)", _max_=_number(_SEQ_MAX))
            if self.has_seq
            else _number(0)
        )
        value = self._row_value() if with_value else exp.Null()
        base = _fill(
            "SELECT _unit_ AS unit_id, _ticks_ AS ticks, CAST(_seq_ AS HUGEINT) AS seq, _mask_ AS mask, "
            "_value_ AS breakdown_value FROM funnel_events WHERE _keep_",
            _unit_=exp.column(self.unit_column, quoted=True),
            _ticks_=ticks,
            _seq_=seq,
            _mask_=mask,
            _value_=value,
            _keep_=exp.and_(*keep),
        )
        packed = _fill(
            "SELECT *, ((CAST(ticks AS HUGEINT) + _offset_) << 64) + (seq << _bits_) + mask AS packed FROM base_rows",
            _offset_=_number(_TIME_OFFSET),
            _bits_=_number(_MASK_BITS),
        )
        descending = self.mode == "any_order"
        rows = _parse("list_sort(list(packed), 'DESC')" if descending else "list_sort(list(packed))")
        elements = _fill(
            "list_transform(_rows_, lambda x: {'t': CAST(x >> 64 AS BIGINT), 'm': CAST(x & _low_ AS INTEGER)})",
            _rows_=rows,
            _low_=_number((1 << _MASK_BITS) - 1),
        )
        entry_value = (
            _parse(
                "struct_extract(min({'packed': packed, 'value': breakdown_value}) FILTER (WHERE mask & 1 = 1), 'value')"
            )
            if with_value
            else exp.Null()
        )
        per_unit = _fill(
            "SELECT unit_id, min(ticks) FILTER (WHERE mask & 1 = 1) AS entry_ticks, _value_ AS entry_value, "
            "_state_ AS state FROM packed_rows WHERE _rows_ GROUP BY unit_id",
            _value_=entry_value,
            _state_=state_reduce(self.mode, n, bool(self.exclusions), self.window_us, elements),
            # rows that match no step change nothing in ordered and any-order funnels; in strict ones they break runs
            _rows_=exp.true() if self.mode == "strict" else _parse("mask <> 0"),
        )
        furthest = exp.Case(
            ifs=[
                exp.If(this=exp.Not(this=exp.Is(this=_state_field(f"f{k}"), expression=exp.Null())), true=_number(k))
                for k in range(n, 1, -1)
            ]
            + [exp.If(this=_parse("entry_ticks IS NOT NULL"), true=_number(1))],
            default=_number(0),
        )
        excluded: exp.Expr = _state_field("ex") if self.exclusions else exp.false()
        columns: list[exp.Expr] = [
            _parse("per_unit.unit_id"),
            _parse("per_unit.entry_ticks"),
            self._unit_value().as_("breakdown_value") if with_value else exp.Null().as_("breakdown_value"),
            exp.func("coalesce", excluded, exp.false()).as_("is_excluded"),
            furthest.as_("furthest_step"),
        ]
        columns += [_state_field(f"f{k}").as_(f"wait_{k}") for k in range(2, n + 1)]
        units = exp.select(*columns, copy=False).from_("per_unit", copy=False)
        if with_value and self.breakdown is not None and self.breakdown.from_post:
            units = units.join(
                "marts.lineage AS lineage",
                on=_parse("lineage.session_id = per_unit.entry_value"),
                join_type="left",
                copy=False,
            )
        return [("base_rows", base), ("packed_rows", packed), ("per_unit", per_unit), ("units", units)]

    def _row_value(self) -> exp.Expr:
        """What each row carries for the breakdown: the column, or the session that leads to the entry post."""
        from sqlglot import exp

        assert self.breakdown is not None
        column = "session_id" if self.breakdown.from_post else self.breakdown.column
        return exp.cast(exp.column(column, quoted=True), "VARCHAR")

    def _unit_value(self) -> exp.Expr:
        from sqlglot import exp

        if self.breakdown is None:
            return exp.Null()
        if self.breakdown.from_post:
            return exp.cast(exp.column(self.breakdown.column, table="lineage", quoted=True), "VARCHAR")
        return _parse("per_unit.entry_value")

    # --- the two statements ----------------------------------------------------------------------------------------

    def summary(self) -> exp.Expr:
        """Counts per furthest step and time quantiles: overall, per entry period and per breakdown bucket."""
        from sqlglot import exp

        n = len(self.steps)
        ctes = self._ctes(with_value=self.breakdown is not None)
        day = _parse("CAST(floor(entry_ticks / 86400000000) AS BIGINT)")
        period = day if self.period == "day" else _fill("CAST(floor((_day_ + 3) / 7) AS BIGINT)", _day_=day)
        entered = (
            exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("units")), "observed.observed_ticks")
            .select(period.as_("period_index"), copy=False)
            .from_("units", copy=False)
            .join("observed", join_type="cross", copy=False)
        )
        sets: list[list[str]] = [[], ["period_index"]]
        if self.breakdown is not None:
            ranked = _fill(
                "SELECT breakdown_value, row_number() OVER (ORDER BY count(*) DESC, breakdown_value) AS value_rank "
                "FROM units WHERE furthest_step >= 1 OR is_excluded GROUP BY breakdown_value"
            )
            ctes.append(("ranked", ranked))
            cap = _number(self.breakdown.max_values)
            kind = _fill(
                "CASE WHEN units.breakdown_value IS NULL THEN 2 WHEN ranked.value_rank <= _cap_ THEN 0 ELSE 1 END",
                _cap_=cap,
            )
            bucket = _fill(
                "CASE WHEN ranked.value_rank <= _cap_ THEN units.breakdown_value END",
                _cap_=cap.copy(),
            )
            entered = entered.select(kind.as_("bucket_kind"), bucket.as_("bucket"), copy=False).join(
                "ranked", on=_parse("ranked.breakdown_value = units.breakdown_value"), join_type="left", copy=False
            )
            sets.append(["bucket_kind", "bucket"])
        entered = entered.where(_parse("furthest_step >= 1 OR is_excluded"), copy=False)
        # the log's last event, whatever the filters: a period is complete when its window ended before it
        ctes.append(("observed", _parse("SELECT max(epoch_us(ts)) AS observed_ticks FROM funnel_events")))
        ctes.append(("entered", entered))

        aggregates: list[exp.Expr] = [
            _parse("grouping(period_index)").as_("all_periods"),
            _parse("count(*) FILTER (WHERE is_excluded)").as_("n_excluded"),
            _parse("max(observed_ticks)").as_("observed_ticks"),
        ]
        if self.breakdown is not None:
            aggregates.append(_parse("grouping(bucket_kind)").as_("all_buckets"))
        for k in range(1, n + 1):
            aggregates.append(
                _fill("count(*) FILTER (WHERE NOT is_excluded AND furthest_step >= _k_)", _k_=_number(k)).as_(f"n_{k}")
            )
        for k in range(2, n + 1):
            aggregates.append(
                _fill(
                    "quantile_cont(_wait_, [0.5, 0.9]) FILTER (WHERE NOT is_excluded)",
                    _wait_=exp.column(f"wait_{k}"),
                ).as_(f"q_{k}")
            )
        keys = [exp.column(name) for names in sets[1:] for name in names]
        grouping = exp.GroupingSets(
            expressions=[exp.Tuple(expressions=[exp.column(name) for name in names]) for names in sets]
        )
        query = exp.select(*keys, *aggregates).from_("entered", copy=False).group_by(grouping, copy=False)
        return _with(query, ctes)

    def units(self, step_names: Sequence[str]) -> exp.Expr:
        """One row per unit: its id, entry time, exclusion, furthest step and a 0/1 column per step."""
        from sqlglot import exp

        ctes = self._ctes(with_value=False)
        columns: list[exp.Expr] = [
            exp.column("unit_id").as_(self.unit_column, quoted=True),
            _parse("to_timestamp(0) + to_microseconds(entry_ticks)").as_("entered_at"),
            exp.column("is_excluded"),
            _parse("CASE WHEN is_excluded THEN 0 ELSE furthest_step END").as_("furthest_step"),
        ]
        for k, name in enumerate(step_names, start=1):
            reached = _fill("CAST(NOT is_excluded AND furthest_step >= _k_ AS INTEGER)", _k_=_number(k))
            columns.append(reached.as_(f"reached_{name}", quoted=True))
        query = exp.select(*columns).from_("units", copy=False)
        return _with(query, ctes)


# --- the state machine -----------------------------------------------------------------------------------------------


def state_reduce(mode: str, n: int, exclusions: bool, window_us: int, elements: exp.Expr) -> exp.Expr:
    """``list_reduce`` of a unit's sorted rows (``{'t': time, 'm': mask}``) into its funnel state.

    Every mode's state has ``f2`` .. ``fn``: the time to step k at the unit's first conversion to it (NULL when it
    never got there), and ``ex`` (with exclusions): an exclusion row came at or after a step-1 row, within the window.
    Each new field is computed from the previous state only, so one row never counts as two consecutive steps.
    """
    from sqlglot import exp

    fields: dict[str, exp.Expr] = {}
    initial: dict[str, exp.Expr] = {}
    t, m = _x("t"), _x("m")

    def has(k: int) -> exp.Expr:  # the row matches step k (k = n + 1: an exclusion)
        return exp.NEQ(this=exp.BitwiseAnd(this=m.copy(), expression=_number(1 << (k - 1))), expression=_number(0))

    def within(later: exp.Expr, earlier: exp.Expr) -> exp.Expr:
        # an event exactly at the end of the window still counts
        return exp.LTE(this=exp.Sub(this=later, expression=earlier), expression=_number(window_us))

    def case(condition: exp.Expr, then: exp.Expr, default: exp.Expr | None = None) -> exp.Expr:
        return exp.Case(ifs=[exp.If(this=condition, true=then)], default=default)

    if mode in ("ordered", "strict"):
        # ordered: l_k = latest step-1 time of an attempt at step k so far; strict: s_k = step-1 time of the run of
        # consecutive rows that ends at the previous row and has reached step k (NULL when there is none)
        prefix = "l" if mode == "ordered" else "s"
        fields[f"{prefix}1"] = case(has(1), t.copy(), _a("l1") if mode == "ordered" else None)
        for k in range(2, n + 1):
            start = _a(f"{prefix}{k - 1}")
            ok = exp.and_(has(k), within(t.copy(), start.copy()))
            if k < n:
                fields[f"{prefix}{k}"] = case(ok, start.copy(), _a(f"{prefix}{k}") if mode == "ordered" else None)
            fields[f"f{k}"] = exp.func(
                "coalesce", _a(f"f{k}"), case(ok.copy(), exp.Sub(this=t.copy(), expression=start))
            )
        if exclusions:
            if mode == "strict":
                fields["l1"] = case(has(1), t.copy(), _a("l1"))  # the latest step-1 time, never reset
            hit = exp.and_(has(n + 1), exp.or_(has(1), within(t.copy(), _a("l1"))))
            fields["ex"] = exp.or_(_a("ex"), exp.func("coalesce", hit, exp.false()))
        for name in fields:
            initial[name] = exp.false() if name == "ex" else exp.cast(exp.Null(), "BIGINT")
    else:
        # any order, walking the rows backwards: nt_k = time of the next row of step k after this one; at a step-1 row
        # the attempt reaches step k when steps 2..k all come within the window. c_k is the completion time of the
        # best attempt so far (the earliest; on a tie the latest start, which the backward walk meets first).
        if exclusions:
            fields["nx"] = case(has(n + 1), t.copy(), _a("nx"))
        for k in range(2, n + 1):
            fields[f"nt{k}"] = case(has(k), t.copy(), _a(f"nt{k}"))
        for k in range(2, n + 1):
            complete = exp.and_(has(1), *(within(_a(f"nt{j}"), t.copy()) for j in range(2, k + 1)))
            later = [_a(f"nt{j}") for j in range(3, k + 1)]
            done = exp.Greatest(this=_a("nt2"), expressions=later) if later else _a("nt2")
            better = exp.and_(
                complete,
                exp.or_(
                    exp.Is(this=_a(f"c{k}"), expression=exp.Null()), exp.LT(this=done.copy(), expression=_a(f"c{k}"))
                ),
            )
            fields[f"c{k}"] = case(better, done.copy(), _a(f"c{k}"))
            fields[f"f{k}"] = case(better.copy(), exp.Sub(this=done.copy(), expression=t.copy()), _a(f"f{k}"))
        if exclusions:
            # the exclusion may be on the step-1 row itself: compare with the next exclusion at or after this row
            upcoming = case(has(n + 1), t.copy(), _a("nx"))
            hit = exp.and_(has(1), within(upcoming, t.copy()))
            fields["ex"] = exp.or_(_a("ex"), exp.func("coalesce", hit, exp.false()))
        for name in fields:
            initial[name] = exp.false() if name == "ex" else exp.cast(exp.Null(), "BIGINT")
    step = exp.Lambda(this=_struct(fields), expressions=[exp.to_identifier("a"), exp.to_identifier("x")])
    return exp.Reduce(this=elements, initial=_struct(initial), merge=step)


# --- small sqlglot helpers -------------------------------------------------------------------------------------------


def _parse(text: str) -> exp.Expr:
    import sqlglot

    return sqlglot.parse_one(text, dialect="duckdb")


def _fill(template: str, **parts: exp.Expr) -> exp.Expr:
    """Parse a fixed SQL template and put expressions in place of its placeholder columns (``_name_``)."""
    from sqlglot import exp

    tree = _parse(template)
    for node in list(tree.find_all(exp.Column)):
        if not node.table and node.name in parts:
            node.replace(parts[node.name].copy())
    return tree


def _with(query: exp.Select, ctes: list[tuple[str, exp.Expr]]) -> exp.Expr:
    for name, body in ctes:
        # the per-unit state is materialized: inlined, DuckDB would run the list_reduce once per field it reads
        query = query.with_(name, as_=body, materialized=True if name == "per_unit" else None, copy=False)
    return query


def _number(value: int) -> exp.Expr:
    from sqlglot import exp

    return exp.Literal.number(value)


def _bit_if(condition: exp.Expr, bit: int) -> exp.Expr:
    from sqlglot import exp

    return exp.Case(ifs=[exp.If(this=condition, true=_number(bit))], default=_number(0))


def _x(name: str) -> exp.Expr:
    from sqlglot import exp

    return exp.column(name, table="x")


def _a(name: str) -> exp.Expr:
    from sqlglot import exp

    return exp.column(name, table="a")


def _state_field(name: str) -> exp.Expr:
    from sqlglot import exp

    return exp.StructExtract(this=exp.column("state"), expression=exp.Literal.string(name))


def _struct(fields: dict[str, exp.Expr]) -> exp.Expr:
    from sqlglot import exp

    return exp.Struct(
        expressions=[exp.PropertyEQ(this=exp.to_identifier(name), expression=value) for name, value in fields.items()]
    )
