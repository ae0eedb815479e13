"""The reports' plotly charts, with one look: white background, a title that says what is shown,
labelled axes, this week in one colour and context in grey, a legend only when two series need one.

Labels that come from the data (platforms, sources, channels) are HTML-escaped: plotly.js reads a few
tags in text (<b>, <a href=...>), and a value in a log is not markup. Nothing here shows a figure or
sets a renderer; whoever displays the report does.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]  # plotly ships no type information

ACCENT = "#2563eb"
CONTEXT = "#9ca3af"
ALERT = "#dc2626"
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


def label(text: object) -> str:
    """A category label from the data, safe to give plotly."""
    return html.escape(str(text), quote=False)


def _style(fig: go.Figure, title: str, x_title: str, y_title: str, *, legend: bool = False, height: int = 360) -> None:
    fig.update_layout(
        template="plotly_white",
        title={"text": html.escape(title, quote=False), "x": 0.0, "xanchor": "left", "font": {"size": 16}},
        font={"family": _FONT, "size": 13, "color": "#1f2937"},
        height=height,
        margin={"l": 70, "r": 30, "t": 70, "b": 60},
        showlegend=legend,
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        bargap=0.35,
    )
    fig.update_xaxes(title_text=html.escape(x_title, quote=False), automargin=True)
    fig.update_yaxes(title_text=html.escape(y_title, quote=False), automargin=True)


def rate_bars(
    labels: Sequence[str],
    rates: Sequence[float | None],
    n_posts: Sequence[int],
    *,
    context_rates: Sequence[float | None] | None = None,
    context_name: str = "the 4 weeks before",
    title: str,
    x_title: str,
    y_title: str,
) -> go.Figure:
    """One bar per group for this week's rate, and a grey marker per group for the context period."""
    names = [label(x) for x in labels]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=[None if r is None else r for r in rates],
            name="this week",
            marker_color=ACCENT,
            customdata=list(n_posts),
            hovertemplate="%{x}: %{y:.2%} (%{customdata} posts)<extra></extra>",
        )
    )
    if context_rates is not None:
        _add_context(fig, names, list(context_rates), context_name, horizontal=False, number="%{y:.2%}")
    _style(fig, title, x_title, y_title, legend=context_rates is not None)
    fig.update_yaxes(tickformat=".1%", rangemode="tozero")
    return fig


def count_bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    x_title: str,
    y_title: str,
    context_values: Sequence[float] | None = None,
    context_name: str = "weekly average, 4 weeks before",
) -> go.Figure:
    """Horizontal bars of counts, largest on top, with an optional grey marker per bar for context."""
    names = [label(x) for x in labels]
    fig = go.Figure(
        go.Bar(
            y=names,
            x=list(values),
            orientation="h",
            name="this week",
            marker_color=ACCENT,
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    if context_values is not None:
        _add_context(fig, names, list(context_values), context_name, horizontal=True, number="%{x:,.1f}")
    _style(fig, title, x_title, y_title, legend=context_values is not None, height=max(260, 90 + 42 * len(names)))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(rangemode="tozero")
    return fig


def funnel(steps: Sequence[str], values: Sequence[int], *, title: str) -> go.Figure:
    """A funnel of nested steps; each bar says its count and its share of the first step."""
    fig = go.Figure(
        go.Funnel(
            y=[label(s) for s in steps],
            x=list(values),
            textinfo="value+percent initial",
            marker={"color": ACCENT},
            connector={"fillcolor": "#dbeafe"},
            hovertemplate="%{y}: %{x:,} (%{percentInitial:.1%} of sessions)<extra></extra>",
        )
    )
    _style(fig, title, "sessions", "")
    return fig


def daily_bars(
    days: Sequence[str],
    values: Sequence[int],
    *,
    flagged: Sequence[bool],
    baseline: float | None,
    low: float,
    high: float,
    title: str,
    y_title: str,
) -> go.Figure:
    """One bar per day (flagged days in red) and the baseline with its acceptable band as lines."""
    fig = go.Figure(
        go.Bar(
            x=[label(d) for d in days],
            y=list(values),
            marker_color=[ALERT if f else ACCENT for f in flagged],
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    if baseline is not None:
        fig.add_hline(
            y=baseline,
            line={"color": "#4b5563", "dash": "dash", "width": 1.5},
            annotation_text="trailing median",
            annotation_position="top left",
        )
        for share in (low, high):
            fig.add_hline(
                y=share * baseline,
                line={"color": CONTEXT, "dash": "dot", "width": 1},
                annotation_text=f"{share:.0%} of the median",
                annotation_position="top right",
                annotation_font_color="#6b7280",
            )
    _style(fig, title, "day", y_title)
    fig.update_yaxes(rangemode="tozero")
    return fig


def _add_context(
    fig: go.Figure, names: list[str], values: list[Any], legend_name: str, *, horizontal: bool, number: str
) -> None:
    """The comparison period as diamond markers over the bars (one look for every chart)."""
    category = "%{y}" if horizontal else "%{x}"
    axes = {"y": names, "x": values} if horizontal else {"x": names, "y": values}
    fig.add_trace(
        go.Scatter(
            **axes,
            name=legend_name,
            mode="markers",
            marker={"color": CONTEXT, "symbol": "diamond", "size": 12, "line": {"width": 1, "color": "#4b5563"}},
            hovertemplate=f"{category}: {number} (" + html.escape(legend_name, quote=False) + ")<extra></extra>",
        )
    )


def restyle(fig: go.Figure) -> go.Figure:
    """A figure drawn elsewhere (the experiment engine's plots) in the reports' look, with its text escaped.

    Titles, axis titles, trace names and category labels may carry names a user wrote (variants, metrics), so
    they are escaped as `label` does; numbers and dates are left alone. Returns the same figure, changed in place.
    """
    title = fig.layout.title.text
    fig.update_layout(
        template="plotly_white",
        title={"text": label(title) if title else None, "x": 0.0, "xanchor": "left", "font": {"size": 16}},
        font={"family": _FONT, "size": 13, "color": "#1f2937"},
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
    )
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        if axis.title.text:
            axis.title.text = label(axis.title.text)
        axis.automargin = True
    for trace in fig.data:
        if trace.name:
            trace.name = label(trace.name)
        for attribute in ("x", "y"):
            values = getattr(trace, attribute, None)
            if values is not None and any(isinstance(v, str) for v in values):
                setattr(trace, attribute, [label(v) if isinstance(v, str) else v for v in values])
    return fig
