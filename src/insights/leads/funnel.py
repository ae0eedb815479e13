"""The lead stage funnel: new -> mql -> sql -> opportunity -> won, read from marts.leads in one grouped query.

Each step's conversion is "reached at least stage k" over "reached at least stage k-1" among the leads old enough to
have taken the step (see :func:`lead_funnel`), with a Wilson interval; the time a step takes (median, 90th
percentile); and how many leads are still open or were lost at each stage. See docs/attribution.md.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from insights.errors import invalid_parameter
from insights.intervals import wilson_interval
from insights.leads._checks import OPEN_END, OPEN_START, check_connection
from insights.leads._sql import render
from insights.leads.labels import LEAD_DIMENSIONS, lead_label
from insights.params import check_choice, check_open_period, check_open_unit, check_optional_instant
from insights.results import TableResult, format_number, format_percent
from insights.warehouse.connection import first_row

if TYPE_CHECKING:
    import duckdb

__all__ = ["STAGES", "LeadFunnel", "StageRow", "lead_funnel"]

#: the funnel's stages in order; lost is an exit, not a step
STAGES = ("new", "mql", "sql", "opportunity", "won")


@dataclass(frozen=True)
class StageRow:
    """One stage of one group.

    ``n_reached``: leads that reached the stage (or a later one) by ``as_of``. The step into the stage is measured
    on the ``n_eligible`` leads that entered the previous stage at least ``min_age_days`` before ``as_of``;
    ``n_converted`` of them reached this stage, ``conversion_rate`` = n_converted / n_eligible with its Wilson
    interval; ``n_too_young`` entered the previous stage too recently to count. ``median_days`` and ``p90_days``: the
    time from entering the previous stage to entering this one, among the converted eligible leads. ``n_open``:
    leads whose furthest stage is this one and that are neither won nor lost; ``n_lost``: those lost from here.
    The first stage has no step: its rate and times are NaN.
    """

    group: str
    stage: str
    n_reached: int
    n_eligible: int
    n_converted: int
    conversion_rate: float
    ci_low: float
    ci_high: float
    n_too_young: int
    median_days: float
    p90_days: float
    min_age_days: float
    n_open: int
    n_lost: int
    note: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "stage": self.stage,
            "n_reached": self.n_reached,
            "n_eligible": self.n_eligible,
            "n_converted": self.n_converted,
            "conversion_rate": self.conversion_rate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n_too_young": self.n_too_young,
            "median_days": self.median_days,
            "p90_days": self.p90_days,
            "min_age_days": self.min_age_days,
            "n_open": self.n_open,
            "n_lost": self.n_lost,
            "note": self.note,
        }


@dataclass(frozen=True)
class LeadFunnel(TableResult):
    """The lead funnel of the leads created in [start, end), read as of ``as_of``; one :class:`StageRow` per group
    and stage (group ``all`` without a breakdown).

    ``stage(name, group)`` returns one row; ``plot()`` draws the step conversion rates with their intervals.
    """

    by: str | None
    start: dt.datetime | None
    end: dt.datetime | None
    as_of: dt.datetime
    ci_level: float
    min_age_days: Mapping[str, float]
    stages: tuple[StageRow, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        return "Lead funnel" + (f" by {self.by}" if self.by else "")

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups in the order of the table."""
        return tuple(dict.fromkeys(s.group for s in self.stages))

    def stage(self, name: str, group: str | None = None) -> StageRow:
        """The row of stage ``name`` in ``group`` (default: the only group, or 'all')."""
        group = group if group is not None else (self.groups[0] if len(self.groups) == 1 else "all")
        for s in self.stages:
            if s.stage == name and s.group == group:
                return s
        raise KeyError(f"No stage {name!r} in group {group!r}; groups: {', '.join(self.groups)}")

    def rows(self) -> list[dict[str, Any]]:
        return [s.row() for s in self.stages]

    def summary_lines(self) -> list[str]:
        level = format_percent(self.ci_level, 0)
        new = [s for s in self.stages if s.stage == "new"]
        n_leads = sum(s.n_reached for s in new)
        by_stage = {name: sum(s.n_reached for s in self.stages if s.stage == name) for name in STAGES}
        n_lost = sum(s.n_lost for s in self.stages)
        n_open = sum(s.n_open for s in self.stages)
        lines = [
            f"{n_leads:,} leads created, read as of {self.as_of:%Y-%m-%d %H:%M} UTC: "
            f"{by_stage['mql']:,} reached mql, {by_stage['sql']:,} sql, {by_stage['opportunity']:,} opportunity "
            f"and {by_stage['won']:,} were won; {n_open:,} are still open and {n_lost:,} were lost.",
            "Each step counts only leads that entered the previous stage at least its minimum age ago ("
            + ", ".join(f"{k} {format_number(v)} d" for k, v in self.min_age_days.items())
            + f"); intervals are {level} Wilson intervals.",
        ]
        return lines + list(self.notes)

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        headers = ["group", "stage", "reached", "step rate", "interval", "eligible", "too young", "median d", "p90 d"]
        headers += ["open", "lost"]
        cells = []
        for s in self.stages:
            interval = f"{format_percent(s.ci_low)} to {format_percent(s.ci_high)}" if math.isfinite(s.ci_low) else ""
            cells.append(
                [
                    s.group,
                    s.stage,
                    f"{s.n_reached:,}",
                    format_percent(s.conversion_rate) if s.stage != "new" else "",
                    interval,
                    f"{s.n_eligible:,}" if s.stage != "new" else "",
                    f"{s.n_too_young:,}" if s.stage != "new" else "",
                    _days(s.median_days),
                    _days(s.p90_days),
                    f"{s.n_open:,}",
                    f"{s.n_lost:,}",
                ]
            )
        return headers, cells

    def plot(self) -> Any:
        """Step conversion rates (mql, sql, opportunity, won) per group with their intervals (plotly)."""
        from insights._optional import require

        go_ = require("plotly.graph_objects", "reports")
        fig = go_.Figure()
        steps = STAGES[1:]
        for group in self.groups:
            shown = [self.stage(name, group) for name in steps]
            rate = [s.conversion_rate * 100 if math.isfinite(s.conversion_rate) else None for s in shown]
            high = [(s.ci_high - s.conversion_rate) * 100 if math.isfinite(s.ci_high) else 0 for s in shown]
            low = [(s.conversion_rate - s.ci_low) * 100 if math.isfinite(s.ci_low) else 0 for s in shown]
            fig.add_trace(
                go_.Bar(
                    x=[f"{STAGES[i]} -> {name}" for i, name in enumerate(steps)],
                    y=rate,
                    name=html.escape(group),
                    error_y={"type": "data", "symmetric": False, "array": high, "arrayminus": low},
                )
            )
        fig.update_layout(
            title=html.escape(f"{self.title}: step conversion ({format_percent(self.ci_level, 0)} interval)"),
            yaxis_title="leads that took the step (%)",
            barmode="group",
            margin={"l": 20, "r": 20, "t": 50, "b": 40},
        )
        return fig


def _days(value: float) -> str:
    return "" if not math.isfinite(value) else f"{value:.1f}"


def lead_funnel(
    con: duckdb.DuckDBPyConnection,
    *,
    start: dt.date | dt.datetime | str | None = None,
    end: dt.date | dt.datetime | str | None = None,
    by: str | None = None,
    as_of: dt.date | dt.datetime | str | None = None,
    min_age_days: Mapping[str, float] | None = None,
    ci_level: float = 0.95,
) -> LeadFunnel:
    """The funnel of the leads created in [start, end), as of ``as_of`` (default: the latest stage change recorded).

    ``by``: one of ``source``, ``campaign`` (the CRM's), ``platform``, ``content_type``, ``origin``, ``prompt``,
    ``post`` (of the post that started the lead's session, through marts.lineage), or None for one group.
    ``min_age_days``: for any of mql, sql, opportunity, won, the days a lead must have been in the previous stage to
    count in that step; a step left out uses the 95th percentile of its observed delays, rounded up to whole days.

    >>> funnel = lead_funnel(con, by="source")  # doctest: +SKIP
    >>> funnel.stage("mql", "form").conversion_rate  # doctest: +SKIP
    0.284
    """
    function = "lead_funnel"
    con = check_connection(function, con)
    first, last = check_open_period(function, start, end)
    if by is not None:
        check_choice("by", function, by, LEAD_DIMENSIONS)
    read_at = check_optional_instant("as_of", function, as_of)
    ages = _check_min_ages(function, min_age_days)
    ci_level = check_open_unit("ci_level", function, ci_level)

    if read_at is None:
        read_at = _latest_change(con)
    sql = render("lead_funnel", {"__group__": lead_label(by)})
    params: dict[str, Any] = {
        "start": first or OPEN_START,
        "end": last or OPEN_END,
        "as_of": read_at,
        **{f"min_age_{k}": ages.get(name) for k, name in enumerate(STAGES[1:], start=2)},
    }
    fetched = con.execute(sql, params).fetchall()

    rows: list[StageRow] = []
    used: dict[str, float] = {}
    young = 0
    for group, rank, n_reached, n_eligible, n_converted, n_young, median, p90, min_age, n_open, n_lost in fetched:
        name = STAGES[int(rank) - 1]
        note = None
        if rank == 1:
            rate, low, high = math.nan, math.nan, math.nan
        elif n_eligible == 0:
            rate, low, high, note = math.nan, math.nan, math.nan, "no_mature_leads"
        else:
            rate = n_converted / n_eligible
            low, high = wilson_interval(int(n_converted), int(n_eligible), 1 - ci_level)
        if rank > 1:
            used[name] = float(min_age)
            young += int(n_young)
        rows.append(
            StageRow(
                group=str(group),
                stage=name,
                n_reached=int(n_reached),
                n_eligible=int(n_eligible) if rank > 1 else 0,
                n_converted=int(n_converted) if rank > 1 else 0,
                conversion_rate=rate,
                ci_low=low,
                ci_high=high,
                n_too_young=int(n_young),
                median_days=_float(median),
                p90_days=_float(p90),
                min_age_days=float(min_age) if min_age is not None else math.nan,
                n_open=int(n_open),
                n_lost=int(n_lost),
                note=note,
            )
        )
    notes = []
    if not rows:
        notes.append("No leads were created in the period.")
    if young:
        notes.append(
            f"{young:,} step entries are too recent to judge: they are left out of the step rates (column too young)."
        )
    return LeadFunnel(
        by=by,
        start=first,
        end=last,
        as_of=read_at,
        ci_level=ci_level,
        min_age_days={name: used.get(name, ages.get(name, math.nan)) for name in STAGES[1:]},
        stages=tuple(rows),
        notes=tuple(notes),
    )


def _float(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _check_min_ages(function: str, value: object) -> dict[str, float]:
    if value is None:
        return {}
    rule = "must map some of mql, sql, opportunity, won to a number of days >= 0"
    if not isinstance(value, Mapping):
        raise invalid_parameter("min_age_days", function, rule, value)
    ages: dict[str, float] = {}
    for key, days in value.items():
        ok_number = not isinstance(days, bool) and isinstance(days, int | float) and math.isfinite(days) and days >= 0
        if key not in STAGES[1:] or not ok_number:
            raise invalid_parameter("min_age_days", function, rule, dict(value))
        ages[key] = float(days)
    return ages


def _latest_change(con: duckdb.DuckDBPyConnection) -> dt.datetime:
    """The latest stage change in marts.leads: the data's "now" (the epoch when there are no leads)."""
    latest_sql = (
        "SELECT greatest(max(created_at), max(mql_at), max(sql_at), max(opportunity_at), max(won_at), max(lost_at)) "
        "FROM marts.leads"
    )
    row = first_row(con.execute(latest_sql))
    latest = row[0] if row else None
    if latest is None:
        return OPEN_START
    assert isinstance(latest, dt.datetime)
    return latest.astimezone(dt.UTC)
