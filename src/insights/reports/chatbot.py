"""The chatbot-funnel report as a library: `chatbot_report(con, start, end, breakdown)` reads the warehouse for any
date range and returns a ChatbotReport of plain-language sections; `notebooks/chatbot.ipynb` only calls it and
shows it (`insights report chatbot --start ... --end ... [--breakdown ...]`).

Sections, in reading order:
1. `funnel`: the session funnel (session started -> user message -> a reply the bot understood -> lead captured,
   within a day of the session's start) with Wilson intervals, drop-off and time to convert; by `breakdown`;
2. `over_time`: the same funnel by entry day or week, entry periods younger than the window marked incomplete;
3. `health`: the chatbot health metrics against the period of the same length before, with their definitions;
4. `fallbacks`: what the bot did not understand, grouped into candidate missing intents with their weekly trend;
5. `lead_funnel`: the leads the period's sessions brought, new -> mql -> sql -> opportunity -> won;
6. `attribution`: qualified leads and won revenue credited to the prompt versions and platforms of the posts the
   journeys started on, under every model.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb

from insights.errors import invalid_parameter
from insights.reports.catalog import CHATBOT_BREAKDOWNS, chatbot_request
from insights.reports.sections import Section, SectionedReport, section_from_result

__all__ = ["BREAKDOWNS", "ChatbotReport", "chatbot_funnel", "chatbot_report"]

#: what a report can be broken down by: a column of the chat events, or an attribute of the post a session came from
BREAKDOWNS = CHATBOT_BREAKDOWNS
#: the window of the session funnel, from the session's start
FUNNEL_WINDOW = "1 day"


def chatbot_funnel() -> Any:
    """The chatbot's session funnel: started -> user message -> understood reply -> lead captured, within a day."""
    from insights.funnels import Funnel, Step

    return Funnel(
        [
            Step("session_start", name="session_started"),
            Step(where="role = 'user' AND is_message", name="user_message"),
            Step(where="role = 'bot' AND is_message AND NOT coalesce(is_fallback, false)", name="understood_reply"),
            Step("lead_captured"),
        ],
        unit="session",
        window=FUNNEL_WINDOW,
        mode="ordered",
    )


@dataclass(frozen=True)
class ChatbotReport(SectionedReport):
    """The chatbot funnel, health, fallbacks, lead funnel and attribution of the sessions started in [start, end)."""

    start: dt.date
    end: dt.date
    breakdown: str | None
    headline: str
    sections: tuple[Section, ...]
    row_counts: dict[str, int] = field(compare=False, default_factory=dict)
    query_seconds: float = field(compare=False, default=0.0)

    @property
    def title(self) -> str:
        last = self.end - dt.timedelta(days=1)
        by = f", by {self.breakdown}" if self.breakdown else ""
        return f"Chatbot funnel {self.start.isoformat()} to {last.isoformat()}{by}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the period, the headline and each section's summary, takeaways and table (no figures)."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "breakdown": self.breakdown,
            "headline": self.headline,
            "sections": [s.to_dict() for s in self.sections],
        }


def chatbot_report(
    con: duckdb.DuckDBPyConnection,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    *,
    breakdown: str | None = None,
) -> ChatbotReport:
    """Read the sessions started in [start, end) (UTC days; `end` exclusive) and write the chatbot report.

    `end` defaults to the start of the current ISO week and `start` to 28 days before it.

    `breakdown` (one of BREAKDOWNS, or None) splits the funnel and the health metrics by a column of the chat
    events or by an attribute of the post a session came from. The connection may be read-only; nothing is
    written, opened or closed.
    """
    from insights.chatbot import chatbot_health, fallback_clusters
    from insights.leads import attribute, journeys, lead_funnel

    function = "chatbot_report"
    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise invalid_parameter("con", function, "must be a DuckDB connection to the warehouse", con)
    first, stop, breakdown = chatbot_request(start, end, breakdown, function)

    started = time.perf_counter()
    period = "week" if (stop - first).days > 35 else "day"
    funnel = chatbot_funnel().compute(
        con, start=first, end=stop, breakdown=breakdown, period=period, max_breakdown_values=8
    )
    health_breakdown = breakdown if breakdown in ("channel", "bot_version") else None
    health = chatbot_health(con, start=first, end=stop, breakdown=health_breakdown)
    groups = fallback_clusters(con, start=first, end=stop)
    leads = lead_funnel(con, start=first, end=stop, by="prompt")
    qualified = attribute(journeys(con, start=first, end=stop, touch="prompt", conversion="qualified"), seed=0)
    revenue = attribute(
        journeys(con, start=first, end=stop, touch="platform", conversion="won", value="revenue"), seed=0
    )
    query_seconds = time.perf_counter() - started

    sections = [
        section_from_result("funnel", "Chatbot funnel", funnel),
        section_from_result("over_time", f"Funnel by entry {period}", funnel.over_time),
    ]
    if funnel.breakdown is not None:
        sections.append(section_from_result("breakdown", f"Funnel by {breakdown}", funnel.breakdown))
    sections += [
        section_from_result("health", "Chatbot health", health, notes=tuple(health.footer().splitlines())),
        section_from_result("fallbacks", "What the bot did not understand", groups, chart=bool(groups.clusters)),
        section_from_result("lead_funnel", "Lead funnel by prompt", leads),
        section_from_result(
            "attribution",
            "Qualified leads by prompt, under every attribution model",
            qualified,
            chart=qualified.n_conversions > 0,
        ),
        section_from_result(
            "revenue",
            "Won revenue by platform, under every attribution model",
            revenue,
            chart=revenue.n_conversions > 0,
        ),
    ]
    headline = " ".join(funnel.summary_lines()[:1] + health.summary_lines()[1:2])
    return ChatbotReport(
        start=first,
        end=stop,
        breakdown=breakdown,
        headline=headline,
        sections=tuple(sections),
        row_counts={f"rows.{s.key}": len(s.table) for s in sections},
        query_seconds=query_seconds,
    )
