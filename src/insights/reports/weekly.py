"""The weekly report as a library: `weekly_report(con, week)` reads the warehouse and returns a WeeklyReport,
plain-language sections with their charts and tables. The weekly notebook only calls it and displays it.

>>> from insights.warehouse import connect
>>> from insights.reports.weekly import weekly_report
>>> con = connect(read_only=True)  # doctest: +SKIP
>>> report = weekly_report(con, "2026-W46")  # doctest: +SKIP
>>> report.headline  # doctest: +SKIP
'47 leads (-15% on last week); 321 chat sessions (-14%); engagement 4.8% of impressions at 7 days (+0.5 pt)'
>>> report.section("engagement")  # doctest: +SKIP

What every number means is in docs/reports.md.
"""

from __future__ import annotations

import html
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from insights.errors import invalid_parameter
from insights.reports import _text
from insights.reports.experiment_catalog import EXPERIMENTS_DIR
from insights.reports.sections import _CSS, Chart, Section, show_html
from insights.reports.weekly_attribution import attribution_section
from insights.reports.weekly_chat import funnel_section, leads_section
from insights.reports.weekly_content import engagement_section, posts_section
from insights.reports.weekly_experiments import experiments_section
from insights.reports.weekly_headline import headline_line, headline_metrics, headline_section
from insights.reports.weekly_health import health_section
from insights.reports.weekly_quality import data_quality_section
from insights.reports.weekly_queries import WeeklyData, fetch_weekly_data
from insights.reports.weeks import IsoWeek

__all__ = ["SECTION_KEYS", "Chart", "Section", "WeeklyReport", "weekly_report"]

#: The sections of a weekly report, in reading order.
SECTION_KEYS = (
    "headline",
    "engagement",
    "posts",
    "funnel",
    "chatbot",
    "leads",
    "attribution",
    "experiments",
    "data_quality",
)


@dataclass(frozen=True)
class WeeklyReport:
    """What happened in one ISO week: a one-line headline and the sections of SECTION_KEYS."""

    week: IsoWeek
    headline: str
    sections: tuple[Section, ...]
    row_counts: dict[str, int] = field(compare=False)
    query_seconds: float = field(compare=False)
    post_age_days: int = 7

    def section(self, key: str) -> Section:
        """The section with this key (one of SECTION_KEYS)."""
        for s in self.sections:
            if s.key == key:
                return s
        choices = ", ".join(s.key for s in self.sections)
        raise invalid_parameter("key", "WeeklyReport.section", f"must be one of {choices}", key)

    @property
    def title(self) -> str:
        return f"Weekly report {_text.week_period(self.week)}"

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(c for s in self.sections for c in s.charts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (no figures): the week, the headline, each section's summary, takeaways and table."""
        return {
            "week": self.week.label,
            "start": self.week.start.isoformat(),
            "end": self.week.end.isoformat(),
            "post_age_days": self.post_age_days,
            "headline": self.headline,
            "sections": [s.to_dict() for s in self.sections],
            "row_counts": dict(self.row_counts),
            "query_seconds": round(self.query_seconds, 4),
        }

    def to_markdown(self) -> str:
        return f"# {self.title}\n\n{self.headline}\n\n" + "\n".join(s.to_markdown() for s in self.sections)

    def _repr_html_(self) -> str:
        parts = [
            f'<div class="insights-report"><h1>{html.escape(self.title)}</h1>',
            f'<p class="insights-summary"><strong>{html.escape(self.headline)}</strong></p>',
        ]
        parts += [s._repr_html_().removeprefix(_CSS) for s in self.sections]
        return _CSS + "\n" + "\n".join(parts) + "</div>"

    def _ipython_display_(self) -> None:
        show_html(f"{_CSS}<h1>{html.escape(self.title)}</h1><p><strong>{html.escape(self.headline)}</strong></p>")
        for s in self.sections:
            s._ipython_display_()

    def __str__(self) -> str:
        return f"{self.title}\n{self.headline}\n\n" + "\n\n".join(f"{s.title}\n{s.summary}" for s in self.sections)


def build_sections(data: WeeklyData) -> tuple[str, tuple[Section, ...]]:
    """The one-line headline and the sections, in reading order, from the week's aggregates."""
    metrics = headline_metrics(data)
    sections = (
        headline_section(data, metrics),
        engagement_section(data),
        posts_section(data),
        funnel_section(data),
        leads_section(data, metrics),
        data_quality_section(data),
    )
    return headline_line(data, metrics), sections


def _coerce_week(week: IsoWeek | str | None) -> IsoWeek:
    if week is None:
        return IsoWeek.last_complete()
    if isinstance(week, IsoWeek):
        return week
    if isinstance(week, str):
        return IsoWeek.parse(week)
    raise invalid_parameter("week", "weekly_report", "must be an IsoWeek, a 'YYYY-Www' string or None", week)


def weekly_report(
    con: duckdb.DuckDBPyConnection,
    week: IsoWeek | str | None = None,
    *,
    experiments_dir: str | os.PathLike[str] | None = EXPERIMENTS_DIR,
    reports_root: str | os.PathLike[str] | None = None,
) -> WeeklyReport:
    """Read one ISO week from the warehouse behind `con` and write it up.

    `week` defaults to the last complete ISO week (UTC). Posts are compared at the fixed age of 7 days
    (marts.posts' `*_7d` columns): engagement and impressions as they stood 7 days after publishing, for the
    posts that reached that age during the week. The Experiments section lists the experiments defined in
    `experiments_dir` (None: none) that ran during the week, each with its verdict as of the week's end, and
    links their latest readout pages found under `reports_root` (None: no links). The connection may be
    read-only; nothing is written, opened or closed.
    """
    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise invalid_parameter("con", "weekly_report", "must be a DuckDB connection to the warehouse", con)
    iso_week = _coerce_week(week)
    # The experiments' readouts (seconds on a big warehouse, plus importing the statistics stack) and the chatbot's
    # health and fallback clusters run on cursors of their own in worker threads while the week's queries and charts
    # are built: DuckDB and scikit-learn release the GIL while they work, so the three overlap.
    started = time.perf_counter()
    cursors = [con.cursor(), con.cursor()]
    try:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="insights-weekly") as pool:
            pending = pool.submit(
                experiments_section,
                cursors[0],
                iso_week,
                experiments_dir=Path(experiments_dir) if experiments_dir is not None else None,
                reports_root=Path(reports_root) if reports_root is not None else None,
            )
            pending_health = pool.submit(health_section, cursors[1], iso_week)
            data = fetch_weekly_data(con, iso_week)
            headline, sections = build_sections(data)
            attribution = attribution_section(con, iso_week)
            health = pending_health.result()
            experiments, _ = pending.result()
    finally:
        for cursor in cursors:
            cursor.close()
    by_key = {s.key: s for s in (*sections, health, attribution, experiments)}
    return WeeklyReport(
        week=iso_week,
        headline=headline,
        sections=tuple(by_key[key] for key in SECTION_KEYS),
        row_counts={**data.row_counts, "query.experiments": len(experiments.table)},
        # wall time: the parts overlap in threads, so their own times add up to more than the report took
        query_seconds=time.perf_counter() - started,
        post_age_days=data.age_days,
    )
