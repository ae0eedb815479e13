"""One way for analysis results to show themselves: a title, a plain-language summary and a table.

A result record subclasses `TableResult` and says what it holds (`rows`: machine values, one dict a row)
and how a person reads it (`title`, `summary_lines`, and optionally `display_table` for formatted
cells). It then prints as a table in a terminal, renders as HTML in a notebook, and converts to
pandas, polars, Arrow or Markdown, with pandas and polars imported only when asked for.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any


def format_percent(value: float | None, digits: int = 1, *, signed: bool = False) -> str:
    """A share as a percentage: 0.1234 -> '12.3%' ('+12.3%' when `signed`); 'n/a' when missing.

    >>> format_percent(0.1234), format_percent(-0.05, 0, signed=True), format_percent(None)
    ('12.3%', '-5%', 'n/a')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value * 100:{'+' if signed else ''}.{digits}f}%"


def format_number(value: float | None) -> str:
    """Four significant digits with thousands separators; whole numbers exactly: 1234567 -> '1,234,567'.

    >>> format_number(1234567), format_number(0.012345), format_number(float("nan"))
    ('1,234,567', '0.01235', 'n/a')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}"


def format_cell(value: object) -> str:
    """How a table cell reads: numbers through `format_number`, None as '', the rest as str."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return format_number(value)
    return str(value)


def text_table(headers: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, for a terminal."""
    rows = [list(headers), *[list(r) for r in cells]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def markdown_rows(headers: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table (pipes in cells escaped)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    return "\n".join(lines)


def html_rows(headers: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    """An HTML table, every cell escaped."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in cells)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class TableResult:
    """Base of result records that read as a titled table with a plain-language summary.

    Subclasses define `title`, `rows()` and `summary_lines()`; `display_table()` may format the
    cells for people (the default shows every column of `rows()` through `format_cell`).
    """

    @property
    def title(self) -> str:
        return type(self).__name__

    def rows(self) -> list[dict[str, Any]]:
        """One dict per table row, machine values (what to_pandas/to_polars/to_arrow hold)."""
        raise NotImplementedError

    def summary_lines(self) -> list[str]:
        """Plain-language sentences shown above the table."""
        return []

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        """Headers and formatted cells for people."""
        rows = self.rows()
        headers = list(rows[0]) if rows else []
        return headers, [[format_cell(row[h]) for h in headers] for row in rows]

    def to_pandas(self) -> Any:
        """The table as a pandas DataFrame."""
        from insights._optional import require

        pd = require("pandas", "pandas")
        rows = self.rows()
        return pd.DataFrame(rows) if rows else pd.DataFrame(columns=self.display_table()[0])

    def to_polars(self) -> Any:
        """The table as a polars DataFrame."""
        from insights._optional import require

        return require("polars", "polars").DataFrame(self.rows(), strict=False)

    def to_arrow(self) -> Any:
        """The table as a pyarrow Table."""
        import pyarrow as pa

        return pa.Table.from_pylist(self.rows())

    def to_markdown(self) -> str:
        """Title, summary and the table as GitHub-flavoured Markdown."""
        headers, cells = self.display_table()
        lines = [f"**{self.title}**", ""]
        lines += [*self.summary_lines(), ""] if self.summary_lines() else []
        lines.append(markdown_rows(headers, cells) if headers else "(no rows)")
        return "\n".join(lines)

    def __str__(self) -> str:
        headers, cells = self.display_table()
        table = text_table(headers, cells) if headers else "(no rows)"
        return "\n".join([self.title, *self.summary_lines(), "", table])

    def _repr_html_(self) -> str:
        headers, cells = self.display_table()
        summary = "".join(f"<p>{html.escape(s)}</p>" for s in self.summary_lines())
        table = html_rows(headers, cells) if headers else "<p>(no rows)</p>"
        return f"<div><p><strong>{html.escape(self.title)}</strong></p>{summary}{table}</div>"


def add_interval_band(figure: Any, x: Sequence[Any], low: Sequence[Any], high: Sequence[Any], name: str) -> None:
    """Shade the band between `low` and `high` on a plotly figure (one legend entry, `name`)."""
    from insights._optional import require

    go = require("plotly.graph_objects", "reports")
    figure.add_trace(go.Scatter(x=list(x), y=list(high), mode="lines", line={"width": 0}, showlegend=False))
    figure.add_trace(
        go.Scatter(
            x=list(x),
            y=list(low),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(49,130,189,0.2)",
            name=name,
        )
    )
