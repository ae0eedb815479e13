"""What a funnel returns: the steps with their conversion, the entry periods, the breakdown, and their charts.

Every table is a :class:`~insights.results.TableResult`: it prints, renders in a notebook and converts to pandas,
polars, Arrow or Markdown. Rates come with Wilson score intervals (:func:`insights.intervals.wilson_interval`).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from insights.funnels.timing import format_duration, format_window
from insights.intervals import wilson_interval
from insights.results import TableResult, add_interval_band, format_cell, format_number, format_percent

__all__ = ["FunnelBreakdown", "FunnelGroup", "FunnelOverTime", "FunnelPeriod", "FunnelResult", "FunnelStep"]


def _rate(k: int, n: int, alpha: float) -> tuple[float | None, float | None, float | None]:
    if n == 0:
        return None, None, None
    low, high = wilson_interval(k, n, alpha)
    return k / n, low, high


def _level(alpha: float) -> str:
    return f"{(1 - alpha) * 100:g}%"


def _plural(unit: str, count: int = 2) -> str:
    return unit if count == 1 else f"{unit}s"


@dataclass(frozen=True)
class FunnelStep:
    """One step: units that reached it, conversion from step 1 and from the step before, drop-off, time to it.

    Rates are None where they are not defined (step 1 has no step before it; a step after one nobody reached).
    Times are seconds from step 1 at each unit's first conversion to the step (see docs/funnels.md).
    """

    step: int
    name: str
    n_units: int
    overall_rate: float | None
    overall_ci_low: float | None
    overall_ci_high: float | None
    step_rate: float | None
    step_ci_low: float | None
    step_ci_high: float | None
    n_dropped: int
    median_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def build(
        cls,
        index: int,
        name: str,
        counts: Sequence[int],
        times: Sequence[tuple[float | None, float | None]],
        alpha: float,
    ) -> FunnelStep:
        n = counts[index]
        overall: tuple[float | None, float | None, float | None]
        if index == 0:
            overall = (1.0 if n else None, None, None)
            step: tuple[float | None, float | None, float | None] = (None, None, None)
            dropped = 0
        else:
            overall = _rate(n, counts[0], alpha)
            step = _rate(n, counts[index - 1], alpha)
            dropped = counts[index - 1] - n
        median, p90 = times[index]
        return cls(index + 1, name, n, *overall, *step, dropped, median, p90)


@dataclass(frozen=True)
class FunnelResult(TableResult):
    """A funnel's readout: one row per step, and the entry periods (``over_time``) and ``breakdown`` beside it.

    >>> result = Funnel(["session_start", "lead_captured"], window="1 day").compute(con)  # doctest: +SKIP
    >>> result.steps[-1].overall_rate, result.plot()  # doctest: +SKIP
    """

    steps: tuple[FunnelStep, ...]
    unit: str
    window: dt.timedelta
    mode: str
    exclusions: tuple[str, ...]
    start: dt.datetime | None
    end: dt.datetime | None
    observed_until: dt.datetime | None
    n_excluded: int
    alpha: float
    over_time: FunnelOverTime
    breakdown: FunnelBreakdown | None = None
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        path = " → ".join(s.name for s in self.steps)
        return f"Funnel ({_plural(self.unit)}, {self.mode.replace('_', ' ')}, {format_window(self.window)}): {path}"

    def rows(self) -> list[dict[str, Any]]:
        return [dict(vars(step)) for step in self.steps]

    def summary_lines(self) -> list[str]:
        first, last = self.steps[0], self.steps[-1]
        units = _plural(self.unit, first.n_units)
        window = format_window(self.window)
        if first.n_units == 0:
            lines = [f"No {self.unit} reached {first.name} in the period, so the funnel has no conversions to show."]
        else:
            lines = [
                f"{format_percent(last.overall_rate)} of the {format_number(first.n_units)} {units} that reached "
                f"{first.name} reached {last.name} within {window}" + self._largest_drop() + "."
            ]
        if self.n_excluded:
            lines.append(
                f"{format_number(self.n_excluded)} {_plural(self.unit, self.n_excluded)} left out: an exclusion "
                f"({', '.join(self.exclusions)}) came within {window} of their step 1."
            )
        incomplete = [p for p in self.over_time.periods if not p.is_complete]
        if incomplete and first.n_units:
            lines.append(
                f"Entries from {incomplete[0].period_start:%Y-%m-%d} on have not had their full {window} in the "
                "data yet: their periods are marked incomplete, and later steps may still grow."
            )
        return [*lines, *self.notes]

    def _largest_drop(self) -> str:
        drops = [s for s in self.steps[1:] if s.step_rate is not None]
        if not drops:
            return ""
        worst = min(drops, key=lambda s: (s.step_rate, s.step))
        before = self.steps[worst.step - 2].name
        change = format_percent((worst.step_rate or 0.0) - 1.0, 0, signed=True)
        return f"; the largest drop is between {before} and {worst.name} ({change})"

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        level = _level(self.alpha)
        headers = [
            "step",
            _plural(self.unit),
            "of step 1",
            f"{level} CI",
            "of previous",
            f"{level} CI ",
            "dropped",
            "median time",
            "p90 time",
        ]
        cells = [
            [
                f"{s.step}. {s.name}",
                format_number(s.n_units),
                format_percent(s.overall_rate),
                _interval(s.overall_ci_low, s.overall_ci_high),
                format_percent(s.step_rate) if s.step > 1 else "",
                _interval(s.step_ci_low, s.step_ci_high),
                format_number(s.n_dropped) if s.step > 1 else "",
                format_duration(s.median_seconds) if s.step > 1 else "",
                format_duration(s.p90_seconds) if s.step > 1 else "",
            ]
            for s in self.steps
        ]
        return headers, cells

    def plot(self) -> Any:
        """A plotly funnel chart: units per step, with the share of step 1 and of the previous step."""
        from insights._optional import require

        go_ = require("plotly.graph_objects", "reports")
        # plotly renders a subset of HTML in text: user-written names are escaped
        names = [html.escape(f"{s.step}. {s.name}") for s in self.steps]
        figure = go_.Figure(
            go_.Funnel(
                y=names,
                x=[s.n_units for s in self.steps],
                textinfo="value+percent initial+percent previous",
                marker={"color": "#3182bd"},
            )
        )
        figure.update_layout(
            title=html.escape(self.title),
            margin={"l": 20, "r": 20, "t": 60, "b": 20},
            height=140 + 60 * len(self.steps),
        )
        return figure


def _interval(low: float | None, high: float | None) -> str:
    if low is None or high is None or math.isnan(low):
        return ""
    return f"{format_percent(low)} to {format_percent(high)}"


@dataclass(frozen=True)
class FunnelPeriod:
    """Units that entered in one period (day or ISO week, UTC) and how far they got.

    ``is_complete`` is False while the window of the period's last possible entry has not ended in the data.
    """

    period_start: dt.date
    n_units: tuple[int, ...]
    is_complete: bool


@dataclass(frozen=True)
class FunnelOverTime(TableResult):
    """Conversion by entry period: for each day or week, the units that entered then and the steps they reached."""

    period: str
    step_names: tuple[str, ...]
    periods: tuple[FunnelPeriod, ...]
    alpha: float

    @property
    def title(self) -> str:
        return f"Conversion to {self.step_names[-1]} by {self.period} of entry"

    def rows(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for period in self.periods:
            row: dict[str, Any] = {"period_start": period.period_start, "is_complete": period.is_complete}
            row |= {f"n_{name}": n for name, n in zip(self.step_names, period.n_units, strict=True)}
            for name, n in zip(self.step_names[1:], period.n_units[1:], strict=True):
                row[f"{name}_rate"] = n / period.n_units[0] if period.n_units[0] else None
            _, low, high = _rate(period.n_units[-1], period.n_units[0], self.alpha)
            row |= {"ci_low": low, "ci_high": high}
            out.append(row)
        return out

    def summary_lines(self) -> list[str]:
        incomplete = sum(1 for p in self.periods if not p.is_complete)
        if not incomplete:
            return []
        return [f"The last {incomplete} {_plural(self.period, incomplete)} are incomplete: their window is still open."]

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        level = _level(self.alpha)
        headers = [self.period, *self.step_names, f"to {self.step_names[-1]}", f"{level} CI", "complete"]
        cells = []
        for period in self.periods:
            rate, low, high = _rate(period.n_units[-1], period.n_units[0], self.alpha)
            cells.append(
                [
                    f"{period.period_start:%Y-%m-%d}",
                    *(format_number(n) for n in period.n_units),
                    format_percent(rate),
                    _interval(low, high),
                    format_cell(period.is_complete),
                ]
            )
        return headers, cells

    def plot(self) -> Any:
        """Conversion to the last step by entry period with its interval; incomplete periods drawn hollow and dashed."""
        from insights._optional import require

        go_ = require("plotly.graph_objects", "reports")
        xs, ys, lows, highs = [], [], [], []
        for period in self.periods:
            rate, low, high = _rate(period.n_units[-1], period.n_units[0], self.alpha)
            xs.append(period.period_start.isoformat())
            ys.append(None if rate is None else rate * 100)
            lows.append(None if low is None else low * 100)
            highs.append(None if high is None else high * 100)
        complete = [p.is_complete for p in self.periods]
        figure = go_.Figure()
        add_interval_band(figure, xs, lows, highs, f"{_level(self.alpha)} CI")
        for is_complete, label, dash, symbol in (
            (True, "complete", "solid", "circle"),
            (False, "incomplete", "dot", "circle-open"),
        ):
            figure.add_trace(
                go_.Scatter(
                    x=[x for x, c in zip(xs, complete, strict=True) if c == is_complete],
                    y=[y for y, c in zip(ys, complete, strict=True) if c == is_complete],
                    mode="lines+markers",
                    line={"dash": dash, "color": "#3182bd"},
                    marker={"symbol": symbol, "size": 7},
                    name=label,
                )
            )
        figure.update_layout(
            title=html.escape(self.title),
            xaxis_title=f"{self.period} of entry (UTC)",
            yaxis_title=f"reached {html.escape(self.step_names[-1])} (%)",
            margin={"l": 20, "r": 20, "t": 60, "b": 40},
        )
        return figure


@dataclass(frozen=True)
class FunnelGroup:
    """The funnel of one breakdown value (``kind`` "value"), of every value past the cap ("other"), or of NULL
    ("missing")."""

    value: str
    kind: str
    n_units: tuple[int, ...]
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class FunnelBreakdown(TableResult):
    """The funnel per value of a column of the entry row, or of an attribute of the entry post.

    The ``max_values`` values with the most units entering are shown; the rest are pooled as "(other)", and units
    without a value as "(missing)".
    """

    column: str
    from_post: bool
    step_names: tuple[str, ...]
    groups: tuple[FunnelGroup, ...]
    max_values: int
    alpha: float

    @property
    def title(self) -> str:
        source = "entry post's " if self.from_post else ""
        return f"Funnel by the {source}{self.column}"

    def rows(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for group in self.groups:
            row: dict[str, Any] = {self.column: group.value, "kind": group.kind}
            row |= {f"n_{name}": n for name, n in zip(self.step_names, group.n_units, strict=True)}
            for name, n in zip(self.step_names[1:], group.n_units[1:], strict=True):
                row[f"{name}_rate"] = n / group.n_units[0] if group.n_units[0] else None
            _, low, high = _rate(group.n_units[-1], group.n_units[0], self.alpha)
            row |= {"ci_low": low, "ci_high": high}
            row |= {"median_seconds": group.median_seconds, "p90_seconds": group.p90_seconds}
            out.append(row)
        return out

    def summary_lines(self) -> list[str]:
        ranked = [g for g in self.groups if g.kind == "value" and g.n_units[0] > 0]
        if len(ranked) < 2:
            return []
        rates = {g.value: g.n_units[-1] / g.n_units[0] for g in ranked}
        best = max(ranked, key=lambda g: (rates[g.value], g.value))
        worst = min(ranked, key=lambda g: (rates[g.value], g.value))
        return [
            f"Conversion to {self.step_names[-1]} ranges from {format_percent(rates[worst.value])} "
            f"({worst.value}) to {format_percent(rates[best.value])} ({best.value})."
        ]

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        level = _level(self.alpha)
        headers = [self.column, *self.step_names, f"to {self.step_names[-1]}", f"{level} CI", "median time"]
        cells = []
        for group in self.groups:
            rate, low, high = _rate(group.n_units[-1], group.n_units[0], self.alpha)
            cells.append(
                [
                    group.value,
                    *(format_number(n) for n in group.n_units),
                    format_percent(rate),
                    _interval(low, high),
                    format_duration(group.median_seconds),
                ]
            )
        return headers, cells

    def plot(self) -> Any:
        """A plotly funnel chart with one funnel per breakdown value, side by side."""
        from insights._optional import require

        go_ = require("plotly.graph_objects", "reports")
        names = [html.escape(name) for name in self.step_names]
        figure = go_.Figure()
        for group in self.groups:
            figure.add_trace(
                go_.Funnel(
                    name=html.escape(group.value), y=names, x=list(group.n_units), textinfo="value+percent initial"
                )
            )
        figure.update_layout(
            title=html.escape(self.title),
            margin={"l": 20, "r": 20, "t": 60, "b": 20},
            height=160 + 60 * len(self.step_names),
        )
        return figure
