"""The pieces a report is made of: a Chart (a plotly figure and the sentence it supports) and a Section
(a title, a plain-language summary, charts and a table).

A section renders the same way everywhere: `_repr_html_` for any HTML page (summary, then charts, then the
table), `_ipython_display_` in a notebook (the same order, each figure through plotly's active renderer, so
JupyterLab and an exported notebook both draw it), `to_markdown()` for text. Everything taken from the data
is HTML-escaped on the way out: every cell, header and sentence goes through `html.escape`. The DataFrame
itself keeps the raw values.
"""

from __future__ import annotations

import html
import importlib
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev group
import plotly.graph_objects as go  # type: ignore[import-untyped]  # plotly ships no type information
import plotly.io as pio  # type: ignore[import-untyped]

from insights.errors import invalid_parameter
from insights.reports import _text

_CSS = """<style>
.insights-report, .insights-section {font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial,
  sans-serif; color: #1f2937; max-width: 1100px;}
.insights-summary {font-size: 1.05em; line-height: 1.5;}
.insights-takeaway {font-weight: 600; margin: 1.2em 0 0.2em 0;}
.insights-table table {border-collapse: collapse; font-size: 0.9em; margin: 0.8em 0 1.5em 0;}
.insights-table th {text-align: left; border-bottom: 2px solid #d1d5db; padding: 4px 10px;}
.insights-table td {border-bottom: 1px solid #e5e7eb; padding: 4px 10px; vertical-align: top;}
.insights-table td.num {text-align: right; font-variant-numeric: tabular-nums;}
</style>"""


@dataclass(frozen=True)
class Chart:
    """A plotly figure and the one sentence, computed from the same numbers, that says what it shows."""

    figure: go.Figure = field(compare=False)
    takeaway: str

    def to_html(self) -> str:
        """The takeaway, then the figure as a div; the page must load plotly.js once (the report runner does)."""
        figure = pio.to_html(
            self.figure,
            full_html=False,
            include_plotlyjs=False,
            config={"displaylogo": False, "displayModeBar": False, "responsive": True},
        )
        return (
            f'<p class="insights-takeaway">{html.escape(self.takeaway)}</p>\n<div class="insights-chart">{figure}</div>'
        )


@dataclass(frozen=True)
class Section:
    """One part of a report: what it found in plain language, the charts that show it, the table behind it."""

    key: str
    title: str
    summary: str
    table: pd.DataFrame = field(compare=False, repr=False)
    charts: tuple[Chart, ...] = field(default=(), compare=False, repr=False)
    #: small print under the table, one item per line (e.g. the definitions of the metrics shown)
    notes: tuple[str, ...] = ()

    @property
    def takeaways(self) -> tuple[str, ...]:
        return tuple(c.takeaway for c in self.charts)

    def _head_html(self) -> str:
        return (
            f'<h2 id="{html.escape(self.key)}">{html.escape(self.title)}</h2>\n'
            f'<p class="insights-summary">{html.escape(self.summary)}</p>'
        )

    def table_html(self) -> str:
        """The table, formatted for reading (rates as %, counts with separators) and escaped."""
        if self.table.empty:
            return '<div class="insights-table"><p><em>No rows.</em></p></div>'
        shown = display_frame(self.table)
        numeric = [_is_numeric_column(self.table[c]) for c in self.table.columns]
        # A column of long text (a post's text, a finding) gets room, also on pages without this module's CSS.
        wide = [not numeric[j] and shown[c].str.len().max() > 40 for j, c in enumerate(shown.columns)]
        head = "".join(
            ('<th style="min-width: 18em">' if wide[j] else "<th>") + html.escape(str(c)) + "</th>"
            for j, c in enumerate(shown.columns)
        )
        rows = [
            "<tr>"
            + "".join(
                ('<td class="num">' if numeric[j] else "<td>") + html.escape(str(v)) + "</td>"
                for j, v in enumerate(row)
            )
            + "</tr>"
            for row in shown.itertuples(index=False)
        ]
        return (
            f'<div class="insights-table"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows)
            + "\n</tbody></table></div>"
        )

    def _repr_html_(self) -> str:
        parts = [f'<section class="insights-section" data-section="{html.escape(self.key)}">', self._head_html()]
        parts += [chart.to_html() for chart in self.charts]
        parts += [self.table_html(), self.notes_html(), "</section>"]
        return _CSS + "\n" + "\n".join(parts)

    def notes_html(self) -> str:
        """The small print under the table (escaped), or nothing."""
        if not self.notes:
            return ""
        items = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return f'<ul class="insights-notes" style="font-size: 0.8em; color: #6b7280">{items}</ul>'

    def _ipython_display_(self) -> None:
        show_html(_CSS + self._head_html())
        for chart in self.charts:
            show_html(f'<p class="insights-takeaway">{html.escape(chart.takeaway)}</p>')
            _ipython().display(chart.figure)  # through plotly's active renderer
        show_html(self.table_html() + self.notes_html())

    def to_markdown(self) -> str:
        """The section as Markdown: title, summary, each chart's takeaway, the table."""
        lines = [f"## {self.title}", "", self.summary, ""]
        lines += [f"- {t}" for t in self.takeaways]
        if self.takeaways:
            lines.append("")
        lines.append(markdown_table(self.table))
        lines += ["", *self.notes] if self.notes else []
        return "\n".join(lines).rstrip() + "\n"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: key, title, summary, takeaways and the table's rows (no figures)."""
        return {
            "key": self.key,
            "title": self.title,
            "summary": self.summary,
            "takeaways": list(self.takeaways),
            "notes": list(self.notes),
            "table": [{str(k): json_value(v) for k, v in row.items()} for row in self.table.to_dict("records")],
        }


def _ipython() -> Any:
    # IPython.display is untyped; it is only needed inside a notebook.
    return importlib.import_module("IPython.display")


def show_html(markup: str) -> None:
    """Display HTML in a notebook."""
    display = _ipython()
    display.display(display.HTML(markup))


def json_value(value: Any) -> Any:
    """A table cell as a JSON value: NaN and NaT as null, timestamps as ISO-8601, numpy scalars as Python."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _is_numeric_column(column: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(column)) and not pd.api.types.is_bool_dtype(column)


def _is_rate(column: str) -> bool:
    return column.endswith("_rate") or "_rate_" in column or column.startswith("share") or "_share" in column


def format_cell(column: str, value: Any, unit: str | None = None) -> str:
    """One cell as the reports write it; `unit` 'rate' formats a number as a percentage."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp | datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, int | float) or hasattr(value, "item"):
        number = float(value)
        if _is_rate(column) or unit == "rate":
            return _text.rate(number)
        if number.is_integer() or abs(number) >= 100 or column.startswith(("n_", "impressions", "engagements")):
            return f"{number:,.0f}"
        return f"{number:,.1f}"
    return str(value)


def display_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every cell formatted as text and headers in words ('n_posts' -> 'N posts')."""
    units = table["unit"] if "unit" in table.columns else None
    columns: dict[str, list[str]] = {}
    for column in table.columns:
        name = str(column)
        values = table[column].tolist()
        row_units = units.tolist() if units is not None else [None] * len(values)
        columns[_header(name)] = [format_cell(name, v, u) for v, u in zip(values, row_units, strict=True)]
    return pd.DataFrame(columns)


def _header(column: str) -> str:
    words = column.replace("_", " ").strip()
    if words.startswith("n "):
        words = words[2:]  # n_posts -> 'Posts'; the cells are counts
    return _text.sentence_case(words)


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (pipes and line breaks in cells escaped)."""
    if table.empty:
        return "_No rows._\n"
    shown = display_frame(table)

    def cell(text: object) -> str:
        return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")

    header = "| " + " | ".join(cell(c) for c in shown.columns) + " |"
    rule = "|" + "|".join("---:" if _is_numeric_column(table[c]) else "---" for c in table.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join([header, rule, *rows]) + "\n"


class SectionedReport:
    """What a report made of sections shares: finding a section by key, Markdown and plain text.

    A subclass (a frozen dataclass) has `headline` and `sections` fields and a `title`.
    """

    headline: str
    sections: tuple[Section, ...]

    @property
    def title(self) -> str:
        return type(self).__name__

    def section(self, key: str) -> Section:
        """The section with this key."""
        for s in self.sections:
            if s.key == key:
                return s
        choices = ", ".join(s.key for s in self.sections)
        raise invalid_parameter("key", f"{type(self).__name__}.section", f"must be one of {choices}", key)

    def to_markdown(self) -> str:
        return f"# {self.title}\n\n{self.headline}\n\n" + "\n".join(s.to_markdown() for s in self.sections)

    def __str__(self) -> str:
        return f"{self.title}\n{self.headline}\n\n" + "\n\n".join(f"{s.title}\n{s.summary}" for s in self.sections)


def section_from_result(
    key: str,
    title: str,
    result: Any,
    *,
    chart: bool = True,
    notes: tuple[str, ...] = (),
    lines: list[str] | None = None,
) -> Section:
    """A report section from an analysis result: its summary (`lines`, default the result's summary lines), its
    formatted table, and its chart with the first summary sentence that carries a number as the takeaway (no chart
    when `chart` is False or none does)."""
    headers, cells = result.display_table()
    lines = result.summary_lines() if lines is None else lines
    takeaway = next((x for x in lines if any(ch.isdigit() for ch in x) and x.endswith(".")), None)
    charts = (Chart(result.plot(), takeaway),) if chart and takeaway else ()
    return Section(key, title, " ".join(lines), pd.DataFrame(cells, columns=headers), charts, notes=notes)
