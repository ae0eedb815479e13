"""The health report's records: one metric, the intent table, the handoff reasons, and the report that holds them.

A notebook, a weekly report and the command line show the same :class:`HealthReport`: a plain-language summary,
the metric table (this period, its interval, the period before and the change) and the definitions footer.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from insights.chatbot._checks import length_text, period_text
from insights.chatbot.definitions import (
    DEFAULT_PRICE_IN_PER_1K,
    DEFAULT_PRICE_OUT_PER_1K,
    HEALTH_DEFINITIONS,
    definitions_footer,
)
from insights.errors import invalid_parameter
from insights.results import TableResult, format_number, format_percent

__all__ = [
    "NOTES",
    "HandoffReason",
    "HandoffReasonTable",
    "HealthMetric",
    "HealthReport",
    "IntentHealth",
    "IntentHealthTable",
]

#: stable note codes -> what they mean, for summaries and documentation
NOTES = {
    "no_sessions": "no session started in the period",
    "no_conversations": "no session had a user message",
    "no_replies": "no user message got a bot reply",
    "no_scores": "the bot logs no intent confidence",
    "no_ratings": "no conversation was rated",
    "no_latency": "the bot logs no latency",
    "not_reported": "the bot logs no token counts",
    "no_leads": "no lead names a session of the period",
    "too_recent": "every lead is younger than the qualification window",
    "no_qualified_leads": "no lead has qualified yet",
    "leads_still_qualifying": "some leads are younger than the qualification window, so this can still fall",
}


@dataclass(frozen=True)
class HealthMetric:
    """One metric for one period (and breakdown value), with its interval and its change from the period before.

    ``value`` is ``numerator / denominator`` for rates and ratios; counts have no denominator; ``ci_low`` and
    ``ci_high`` are NaN where the kind has no interval (counts, percentiles, cost per qualified lead). ``change`` is
    current minus previous, with its interval where the kind has one. ``note`` is a stable code (see ``NOTES``).
    """

    metric: str
    label: str
    kind: str
    unit: str
    segment: str | None
    value: float
    numerator: float
    denominator: float
    ci_low: float
    ci_high: float
    previous_value: float
    previous_ci_low: float
    previous_ci_high: float
    change: float
    change_ci_low: float
    change_ci_high: float
    higher_is_better: bool | None
    note: str | None = None

    @property
    def is_share(self) -> bool:
        return self.kind in ("rate", "ratio")

    @property
    def is_clear_change(self) -> bool:
        """The change's interval excludes zero."""
        return (
            math.isfinite(self.change_ci_low)
            and math.isfinite(self.change_ci_high)
            and (self.change_ci_low > 0 or self.change_ci_high < 0)
        )

    def row(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "segment": self.segment,
            "kind": self.kind,
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "previous_value": self.previous_value,
            "previous_ci_low": self.previous_ci_low,
            "previous_ci_high": self.previous_ci_high,
            "change": self.change,
            "change_ci_low": self.change_ci_low,
            "change_ci_high": self.change_ci_high,
            "unit": self.unit,
            "note": self.note,
        }


@dataclass(frozen=True)
class IntentHealth:
    """One intent in the period: how conversations that start with it go, its replies, and where conversations end.

    Conversations are grouped by the intent of the bot's first reply (``n_conversations``, ``share``,
    ``first_reply_fallback_rate``, ``n_handoffs``); replies by their own intent (``n_replies``, ``fallback_rate``,
    ``low_confidence_rate``, ``mean_confidence``); endings by the conversation's last intent (``n_ending``,
    ``n_abandoned``, ``abandonment_rate``, ``share_of_abandoned``). ``intent`` is "(none)" where the bot logged none.
    """

    intent: str
    n_conversations: int
    share: float
    share_ci_low: float
    share_ci_high: float
    first_reply_fallback_rate: float
    first_reply_fallback_ci_low: float
    first_reply_fallback_ci_high: float
    n_handoffs: int
    n_replies: int
    fallback_rate: float
    fallback_ci_low: float
    fallback_ci_high: float
    low_confidence_rate: float
    low_confidence_ci_low: float
    low_confidence_ci_high: float
    mean_confidence: float
    n_ending: int
    n_abandoned: int
    abandonment_rate: float
    share_of_abandoned: float


@dataclass(frozen=True)
class IntentHealthTable(TableResult):
    """The intent mix of the period, one row per intent, most frequent first."""

    intents: tuple[IntentHealth, ...]
    low_confidence: float
    ci_level: float

    @property
    def title(self) -> str:
        return "Intents"

    def rows(self) -> list[dict[str, Any]]:
        return [dict(vars(i)) for i in self.intents]

    def intent(self, name: str) -> IntentHealth:
        for item in self.intents:
            if item.intent == name:
                return item
        raise KeyError(f"No intent {name!r}; intents: {', '.join(i.intent for i in self.intents)}")

    def summary_lines(self) -> list[str]:
        ranked = [i for i in self.intents if i.n_conversations >= 30 and math.isfinite(i.first_reply_fallback_rate)]
        if not ranked:
            return []
        worst = max(ranked, key=lambda i: i.first_reply_fallback_rate)
        lines = [
            f"The bot misunderstands '{worst.intent}' most often: {format_percent(worst.first_reply_fallback_rate)} "
            f"of the conversations that start with it get a fallback as the first reply."
        ]
        ending = [i for i in self.intents if i.n_ending >= 30]
        if ending:
            top = max(ending, key=lambda i: (i.abandonment_rate, i.n_abandoned))
            lines.append(
                f"Conversations that end on '{top.intent}' are left without a lead or a handoff most often "
                f"({format_percent(top.abandonment_rate)} of them; {format_percent(top.share_of_abandoned)} of all "
                "such endings)."
            )
        return lines

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        headers = [
            "intent",
            "conversations",
            "share",
            "first-reply fallback",
            "fallback per reply",
            f"confidence < {self.low_confidence:g}",
            "abandoned here",
        ]
        cells = [
            [
                i.intent,
                format_number(i.n_conversations),
                _with_ci(i.share, i.share_ci_low, i.share_ci_high),
                _with_ci(i.first_reply_fallback_rate, i.first_reply_fallback_ci_low, i.first_reply_fallback_ci_high),
                _with_ci(i.fallback_rate, i.fallback_ci_low, i.fallback_ci_high),
                _with_ci(i.low_confidence_rate, i.low_confidence_ci_low, i.low_confidence_ci_high),
                format_number(i.n_abandoned),
            ]
            for i in self.intents
        ]
        return headers, cells


@dataclass(frozen=True)
class HandoffReason:
    """Handed-off conversations with one reason, in the period and the one before."""

    reason: str
    n_handoffs: int
    share: float
    previous_n_handoffs: int
    previous_share: float


@dataclass(frozen=True)
class HandoffReasonTable(TableResult):
    """Why conversations went to a person, most frequent reason first (rules in docs/chatbot.md)."""

    reasons: tuple[HandoffReason, ...]

    @property
    def title(self) -> str:
        return "Handoff reasons"

    def rows(self) -> list[dict[str, Any]]:
        return [dict(vars(r)) for r in self.reasons]

    def summary_lines(self) -> list[str]:
        current = [r for r in self.reasons if r.n_handoffs]
        if not current:
            return ["No conversation was handed off to a person in the period."]
        top = current[0]
        return [f"The most common reason for a handoff: {top.reason} ({format_percent(top.share)} of handoffs)."]

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        headers = ["reason", "handoffs", "share", "before", "share before"]
        cells = [
            [
                r.reason,
                format_number(r.n_handoffs),
                format_percent(r.share),
                format_number(r.previous_n_handoffs),
                format_percent(r.previous_share),
            ]
            for r in self.reasons
        ]
        return headers, cells


@dataclass(frozen=True)
class HealthReport(TableResult):
    """The chatbot's health in [start, end), against the period of the same length before.

    ``metrics`` holds one :class:`HealthMetric` per metric (overall, then per breakdown value); ``intents`` and
    ``handoff_reasons`` are tables of their own; ``footer()`` is the text of the definitions the numbers follow.

    >>> report = chatbot_health(con, start="2026-02-23", end="2026-03-02")  # doctest: +SKIP
    >>> report.metric("handoff_rate").value  # doctest: +SKIP
    0.094
    """

    start: dt.datetime
    end: dt.datetime
    previous_start: dt.datetime | None
    breakdown: str | None
    metrics: tuple[HealthMetric, ...]
    intents: IntentHealthTable
    handoff_reasons: HandoffReasonTable
    as_of: dt.datetime | None
    qualify_days: int
    low_confidence: float
    price_in_per_1k: float
    price_out_per_1k: float
    currency: str
    ci_level: float
    definitions_version: str

    @property
    def title(self) -> str:
        by = f" by {self.breakdown}" if self.breakdown else ""
        return f"Chatbot health{by}, {period_text(self.start, self.end)}"

    def metric(self, name: str, segment: str | None = None) -> HealthMetric:
        """One metric, overall (``segment=None``) or for one breakdown value."""
        for m in self.metrics:
            if m.metric == name and m.segment == segment:
                return m
        raise KeyError(
            f"No metric {name!r} for segment {segment!r}; metrics: {', '.join(HEALTH_DEFINITIONS.names)}; "
            f"segments: {', '.join(self.segments) or 'none'}"
        )

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.segment for m in self.metrics if m.segment is not None))

    def rows(self) -> list[dict[str, Any]]:
        return [m.row() for m in self.metrics]

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        compare = self.previous_start is not None
        headers = ["metric", *(["segment"] if self.breakdown else []), "value", f"{self.ci_level:.0%} interval"]
        headers += ["previous", "change"] if compare else []
        headers.append("note")
        cells = []
        for m in self.metrics:
            row = [m.label, *([m.segment or "all"] if self.breakdown else [])]
            row += [self._format(m, m.value), self._interval(m, m.ci_low, m.ci_high)]
            if compare:
                row += [self._format(m, m.previous_value), self._change(m)]
            row.append(NOTES.get(m.note, m.note or "") if m.note else "")
            cells.append(row)
        return headers, cells

    def _format(self, m: HealthMetric, value: float) -> str:
        if m.is_share:
            return format_percent(value)
        if not math.isfinite(value):
            return "n/a"
        if m.metric.startswith("cost"):
            return f"{value:.3g} {self.currency}"
        if m.kind in ("mean", "quantile"):
            return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"
        return format_number(value)

    def _interval(self, m: HealthMetric, low: float, high: float) -> str:
        if not (math.isfinite(low) and math.isfinite(high)):
            return ""
        return f"{self._format(m, low)} to {self._format(m, high)}"

    def _change(self, m: HealthMetric) -> str:
        if not math.isfinite(m.change):
            return "n/a"
        if m.is_share:
            text = f"{m.change * 100:+.1f} pp"
        elif m.kind in ("count", "quantile"):
            text = f"{m.change:+,.0f}"
        elif m.metric.startswith("cost"):
            text = f"{m.change:+.2g} {self.currency}"
        else:
            text = f"{m.change:+,.2f}" if abs(m.change) < 10 else f"{m.change:+,.0f}"
        return text + (" (clear)" if m.is_clear_change else "")

    def summary_lines(self) -> list[str]:
        m = {x.metric: x for x in self.metrics if x.segment is None}
        before = length_text(self.start, self.end)
        compare = self.previous_start is not None

        def vs(x: HealthMetric) -> str:
            if not compare or not math.isfinite(x.previous_value):
                return ""
            return f" ({before}: {self._format(x, x.previous_value)})"

        n = int(m["n_sessions"].value)
        if n == 0:
            return [f"No chat session started in {period_text(self.start, self.end)}."]
        lines = [
            f"{n:,} chat sessions started{vs(m['n_sessions'])}; {format_percent(m['message_rate'].value)} "
            f"had a message from the user{vs(m['message_rate'])}."
        ]
        if m["n_conversations"].value:
            top_reason = next((r for r in self.handoff_reasons.reasons if r.n_handoffs), None)
            reason = f"; most often {top_reason.reason}" if top_reason else ""
            lines.append(
                f"The bot handled {format_percent(m['containment_rate'].value)} of conversations without a person: "
                f"{format_percent(m['handoff_rate'].value)} were handed off{vs(m['handoff_rate'])}{reason}."
            )
            lines.append(
                f"Its first reply was a fallback in {format_percent(m['first_reply_fallback_rate'].value)} of "
                f"conversations; per user message, {format_percent(m['fallback_rate'].value)} got a fallback"
                f"{vs(m['fallback_rate'])}."
            )
            mql = m["lead_mql_rate"]
            quality = (
                f"; {format_percent(mql.value)} of the leads old enough to judge reached mql within "
                f"{self.qualify_days} days"
                if math.isfinite(mql.value)
                else ""
            )
            lines.append(
                f"{format_percent(m['lead_capture_rate'].value)} of conversations captured a lead"
                f"{vs(m['lead_capture_rate'])}{quality}."
            )
            csat = m["csat_mean"]
            if math.isfinite(csat.value):
                lines.append(
                    f"Mean CSAT {csat.value:.2f}{vs(csat)}, from {format_percent(m['csat_response_rate'].value)} of "
                    "conversations."
                )
            p50, p95 = m["latency_p50_ms"], m["latency_p95_ms"]
            if math.isfinite(p50.value):
                lines.append(f"Bot replies took {p50.value:,.0f} ms at the median and {p95.value:,.0f} ms at the 95th.")
            cost = m["cost_per_conversation"]
            if math.isfinite(cost.value):
                per_lead = m["cost_per_qualified_lead"]
                lead_text = (
                    f" and {self._format(per_lead, per_lead.value)} per qualified lead so far"
                    if math.isfinite(per_lead.value)
                    else ""
                )
                placeholder = (
                    " (placeholder prices: set price_in_per_1k and price_out_per_1k)"
                    if (self.price_in_per_1k, self.price_out_per_1k)
                    == (DEFAULT_PRICE_IN_PER_1K, DEFAULT_PRICE_OUT_PER_1K)
                    else ""
                )
                lines.append(f"LLM cost: {self._format(cost, cost.value)} per conversation{lead_text}{placeholder}.")
        if compare:
            clear = [x for x in self.metrics if x.segment is None and x.is_clear_change]
            if clear:
                parts = [f"{x.label} ({self._change(x).removesuffix(' (clear)')})" for x in clear]
                lines.append(f"Changed beyond chance against {before}: " + ", ".join(parts) + ".")
            else:
                lines.append(f"No metric changed beyond chance against {before}.")
        return lines

    def footer(self) -> str:
        """The definitions of the metrics shown, with this report's parameters, as plain text."""
        return definitions_footer(
            metrics=tuple(dict.fromkeys(m.metric for m in self.metrics)),
            qualify_days=self.qualify_days,
            low_confidence=self.low_confidence,
            price_in_per_1k=self.price_in_per_1k,
            price_out_per_1k=self.price_out_per_1k,
            currency=self.currency,
        )

    def __str__(self) -> str:
        return super().__str__() + "\n\n" + self.footer()

    def to_markdown(self) -> str:
        return super().to_markdown() + "\n\n" + "\n".join(f"<sub>{line}</sub>  " for line in self.footer().split("\n"))

    def _repr_html_(self) -> str:
        import html

        footer = "".join(f"<li>{html.escape(line)}</li>" for line in self.footer().split("\n")[1:])
        head = html.escape(self.footer().split("\n")[0])
        return super()._repr_html_() + f"<div><small>{head}<ul>{footer}</ul></small></div>"

    def plot(self, metrics: Sequence[str] | None = None) -> Any:
        """The shares (rates and ratios) with their intervals, this period against the one before (plotly)."""
        from insights._optional import require

        go = require("plotly.graph_objects", "reports")
        shares = [d.name for d in HEALTH_DEFINITIONS.metrics if d.kind in ("rate", "ratio")]
        chosen = list(shares if metrics is None else metrics)
        unknown = [c for c in chosen if c not in shares]
        if unknown or isinstance(metrics, str):
            raise invalid_parameter(
                "metrics", "HealthReport.plot", "must name rates or ratios (" + ", ".join(shares) + ")", metrics
            )
        labels = [HEALTH_DEFINITIONS[c].label for c in chosen]
        figure = go.Figure()
        segments: list[str | None] = [None, *self.segments]
        for segment in segments:
            items = [self.metric(c, segment) for c in chosen]
            name = segment if segment is not None else "all"
            figure.add_trace(
                go.Scatter(
                    x=[i.value * 100 for i in items],
                    y=labels,
                    mode="markers",
                    name=f"{name}: {period_text(self.start, self.end)}",
                    error_x={
                        "type": "data",
                        "symmetric": False,
                        "array": [(i.ci_high - i.value) * 100 for i in items],
                        "arrayminus": [(i.value - i.ci_low) * 100 for i in items],
                    },
                )
            )
            if self.previous_start is not None and segment is None:
                figure.add_trace(
                    go.Scatter(
                        x=[i.previous_value * 100 for i in items],
                        y=labels,
                        mode="markers",
                        marker={"symbol": "circle-open", "size": 10},
                        name=f"{name}: {length_text(self.start, self.end)}",
                    )
                )
        figure.update_layout(
            title=self.title,
            xaxis_title=f"% ({self.ci_level:.0%} intervals)",
            yaxis={"autorange": "reversed"},
            template="plotly_white",
        )
        return figure


def _with_ci(value: float, low: float, high: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if not (math.isfinite(low) and math.isfinite(high)):
        return format_percent(value)
    return f"{format_percent(value)} ({format_percent(low)}-{format_percent(high)})"
