"""What a report notebook calls to show a report: plain language first, charts second, all text escaped.

Inside a notebook run by papermill, plotly's default renderer emits a mimetype nbconvert cannot draw, so
charts vanish from the HTML without a word. `setup()` makes every figure, shown here or with `fig.show()`,
an HTML output whose first instance carries plotly.js (offline, embedded once) and whose later instances
reuse it.

    from insights.reports import render
    render.setup()
    render.show(report)                  # a WeeklyReport, or anything with .sections
    render.save_summary(report, summary_path)   # headline and row counts for the run's manifest
"""

from __future__ import annotations

import importlib
import json
import math
import numbers
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from insights.reports.html import escape

RENDERER_NAME = "insights_html"
#: Rows a report table shows before it says how many more there are.
MAX_TABLE_ROWS = 25
CHART_HEIGHT_PX = 380


class _PlotlyEmbedder:
    """Turns figures into HTML; the first one carries the plotly.js bundle, the others use it."""

    def __init__(self) -> None:
        self.bundle_sent = False
        self.charts = 0

    def figure_html(self, figure: Any) -> str:
        pio = _plotly_io()
        include = not self.bundle_sent
        self.bundle_sent = True
        self.charts += 1
        page: str = pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=include,
            include_mathjax=False,
            default_width="100%",
            default_height=f"{CHART_HEIGHT_PX}px",
            config={"displaylogo": False, "responsive": True},
        )
        return f'<div class="insights-plot">{page}</div>'


_EMBEDDER = _PlotlyEmbedder()


def setup() -> None:
    """Make plotly draw every figure as self-contained HTML (plotly.js embedded once, never from a CDN)."""
    pio = _plotly_io()
    mimetype_renderer: Any = importlib.import_module("plotly.io.base_renderers").MimetypeRenderer

    class _InsightsHtmlRenderer(mimetype_renderer):  # type: ignore[misc]  # a base class typed Any
        def to_mimebundle(self, fig_dict: Any) -> dict[str, str]:
            return {"text/html": _EMBEDDER.figure_html(fig_dict)}

    pio.renderers[RENDERER_NAME] = _InsightsHtmlRenderer()
    pio.renderers.default = RENDERER_NAME


def chart_html(figure: Any, takeaway: str = "") -> str:
    """One chart with its one-sentence takeaway under it."""
    caption = f'<p class="insights-takeaway">{escape(takeaway)}</p>' if takeaway else ""
    return f'<figure class="insights-chart">{_EMBEDDER.figure_html(figure)}{caption}</figure>'


def table_html(table: Any, *, max_rows: int = MAX_TABLE_ROWS) -> str:
    """A DataFrame as an escaped HTML table (the markup of Section.table_html): numbers right-aligned and
    rounded, long tables cut with a note saying how many rows there are."""
    if table is None or len(table.columns) == 0:
        return ""
    if len(table) == 0:
        return '<div class="insights-table"><p><em>No rows.</em></p></div>'
    shown = table.head(max_rows)
    numeric = [_is_numeric_column(shown[c]) for c in shown.columns]
    head = "".join(
        f'<th class="num">{escape(c)}</th>' if num else f"<th>{escape(c)}</th>"
        for c, num in zip(shown.columns, numeric, strict=True)
    )
    body = []
    for row in shown.itertuples(index=False, name=None):
        cells = "".join(
            f'<td class="num">{escape(format_value(v))}</td>' if num else f"<td>{escape(format_value(v))}</td>"
            for v, num in zip(row, numeric, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    note = ""
    if len(table) > max_rows:
        note = f'<p class="insights-note">Showing {max_rows} of {len(table):,} rows.</p>'
    return (
        f'<div class="insights-table"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
        f"{note}</div>"
    )


#: A text column whose longest value has more characters than this gets room to be read (posts' texts).
LONG_TEXT_CHARS = 40


def with_text_columns(markup: str, table: Any) -> str:
    """Give a table's long text columns (post texts) a readable width with a <colgroup>.

    Without it a wide table squeezes its one prose column to a sliver beside the numbers.
    """
    if table is None or not len(table) or "<table>" not in markup:
        return markup
    cols = []
    for name in table.columns:
        values = [v for v in table[name].tolist() if isinstance(v, str)]
        long = bool(values) and max(len(v) for v in values) > LONG_TEXT_CHARS
        cols.append('<col class="insights-long-text">' if long else "<col>")
    if not any("long" in c for c in cols):
        return markup
    return markup.replace("<table>", f"<table><colgroup>{''.join(cols)}</colgroup>", 1)


def format_value(value: Any) -> str:
    """A cell as a reader wants it: thousands separators, at most 3 significant decimals, blank for missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        x = float(value)
        if math.isnan(x):
            return ""
        if math.isinf(x):
            return "∞" if x > 0 else "-∞"
        if x == int(x) and abs(x) < 1e15:
            return f"{int(x):,}"
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.3g}" if abs(x) < 1 else f"{x:,.2f}"
    text = str(value)
    return "" if text in ("NaT", "nan", "<NA>") else text


def section_html(section: Any) -> str:
    """A report section: title, plain-language summary, each chart with its takeaway, then the table."""
    parts = [
        f'<section class="insights-section" id="{escape(getattr(section, "key", ""))}">',
        f"<h2>{escape(section.title)}</h2>",
    ]
    summary = getattr(section, "summary", "")
    if summary:
        parts.append(f'<p class="insights-summary">{escape(summary)}</p>')
    for chart in getattr(section, "charts", ()) or ():
        parts.append(chart_html(chart.figure, getattr(chart, "takeaway", "")))
    # A Section formats its own table (rates as %, headers in words, every cell escaped); anything else with a
    # DataFrame gets the generic table.
    own_table = getattr(section, "table_html", None)
    table = getattr(section, "table", None)
    parts.append(with_text_columns(own_table(), table) if callable(own_table) else table_html(table))
    notes = getattr(section, "notes_html", None)
    if callable(notes):
        parts.append(notes())
    parts.append("</section>")
    return "\n".join(parts)


def header_html(title: str, headline: str = "", kicker: str = "") -> str:
    """The top of a report: what it is, for when, and its one-line headline."""
    return (
        '<header class="insights-report-header">'
        + (f'<p class="insights-kicker">{escape(kicker)}</p>' if kicker else "")
        + f"<h1>{escape(title)}</h1>"
        + (f'<p class="insights-headline">{escape(headline)}</p>' if headline else "")
        + "</header>"
    )


def _display_html(markup: str) -> None:
    ipython_display: Any = importlib.import_module("IPython.display")  # untyped
    ipython_display.display(ipython_display.HTML(markup))


def _plotly_io() -> Any:
    # plotly ships no type information; it is used through Any.
    return importlib.import_module("plotly.io")


def show_markup(markup: str) -> None:
    """Display ready-made report markup (already escaped) in the notebook as one output."""
    _display_html(markup)


def show_header(title: str, headline: str = "", kicker: str = "") -> None:
    """Display a report's header in the notebook."""
    _display_html(header_html(title, headline, kicker))


def show_sections(sections: Iterable[Any]) -> None:
    """Display each section as one output, in order."""
    setup()
    for section in sections:
        _display_html(section_html(section))


def show(report: Any, *, title: str | None = None, kicker: str = "") -> None:
    """Display a whole report: header with its headline, then every section."""
    show_header(title or _report_title(report), str(getattr(report, "headline", "") or ""), kicker)
    show_sections(report.sections)


def show_weekly(report: Any) -> None:
    """Display a weekly report: its dates as the title, the headline, then every section."""
    week = getattr(report, "week", None)
    if week is None:
        show(report)
        return
    show(report, title=week_span(week), kicker=f"Weekly report · {week}")


def week_span(week: Any) -> str:
    """'9–15 November 2026': Monday to Sunday of an IsoWeek, in words."""
    first, last = week.days[0], week.days[-1]
    if first.month == last.month:
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"


def save_summary(report: Any, path: str | Path | None) -> None:
    """Write what the run's manifest records about a report (headline, row counts, query time) as JSON.

    The runner passes `path` as the notebook's `summary_path` parameter; None (a notebook opened by hand)
    writes nothing.
    """
    if not path:
        return
    summary = {
        "title": _report_title(report),
        "headline": str(getattr(report, "headline", "") or ""),
        "row_counts": {str(k): int(v) for k, v in dict(getattr(report, "row_counts", {}) or {}).items()},
        "query_seconds": float(getattr(report, "query_seconds", 0.0) or 0.0),
        "charts": sum(len(getattr(s, "charts", ()) or ()) for s in report.sections),
    }
    Path(path).write_text(json.dumps(summary, indent=2), encoding="utf-8")


def _report_title(report: Any) -> str:
    title = getattr(report, "title", None)
    if title:
        return str(title)
    week = getattr(report, "week", None)
    return f"Weekly report {week}" if week is not None else "Report"


def _is_numeric_column(column: Any) -> bool:
    values = [v for v in column.tolist() if v is not None]
    return bool(values) and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
