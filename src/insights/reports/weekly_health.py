"""The weekly report's chatbot-health section: the bot's health metrics against the week before, and what it did not
understand over the last four weeks, grouped into candidate missing intents.

The numbers come from `insights.chatbot` (docs/chatbot.md): `chatbot_health` for the week against the week before,
with intervals, and `fallback_clusters` over the four weeks up to the week's end, so a group's weekly trend has
points to stand on. The metrics' definitions (version, numerator, denominator, unit, window) are printed under the
table.
"""

from __future__ import annotations

import math
from datetime import timedelta

import duckdb
import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev group

from insights.reports import _text
from insights.reports.sections import Chart, Section
from insights.reports.weeks import IsoWeek

#: weeks of fallback messages the clusters are read from (the trend compares their first and second half)
CLUSTER_WEEKS = 4
#: clusters listed in the summary
SUMMARY_CLUSTERS = 3


def health_section(con: duckdb.DuckDBPyConnection, week: IsoWeek) -> Section:
    """Chatbot health of the week against the week before, and the fallback groups of the last four weeks."""
    from insights.chatbot import chatbot_health, fallback_clusters

    report = chatbot_health(con, start=week.start, end=week.end)
    clusters_start = week.end - timedelta(weeks=CLUSTER_WEEKS)
    groups = fallback_clusters(con, start=clusters_start, end=week.end)
    # the health report's own formatting: each metric in its unit (%, ms, tokens, currency), its interval and change
    headers, cells = report.display_table()
    table = pd.DataFrame(cells, columns=headers)
    summary = " ".join(report.summary_lines())
    title = "Chatbot health"
    if not groups.clusters:
        summary += " The bot gave no fallback in the last four weeks."
        charts: tuple[Chart, ...] = ()
    else:
        named = [f"'{c.label}' ({_text.count(c.n_messages)}, e.g. \"{c.examples[0]}\")" for c in groups.clusters]
        growing = [c for c in groups.clusters if c.is_growing]
        summary += (
            f" Over the last {CLUSTER_WEEKS} weeks the messages the bot did not understand fall into "
            f"{_text.plural(len(groups.clusters), 'group')}, candidate missing intents; the largest: "
            f"{_text.join_words(named[:SUMMARY_CLUSTERS])}."
            + (
                f" Growing beyond chance: {_text.join_words([repr(c.label) for c in growing])}."
                if growing
                else " None grew beyond chance."
            )
        )
        top = groups.clusters[0]
        weekly = " / ".join(str(n) for n in top.weekly_counts)
        charts = (
            Chart(
                groups.plot(),
                f"The largest group of fallbacks, '{top.label}', had {weekly} messages in the last "
                f"{_text.plural(len(top.weekly_counts), 'week')}.",
            ),
        )
    shares = [m for m in report.metrics if m.segment is None and m.is_share and math.isfinite(m.value)]
    if shares:
        containment = next((m for m in shares if m.metric == "containment_rate"), shares[0])
        charts += (
            Chart(
                report.plot(),
                f"{containment.label}: {_text.rate(containment.value)} this week "
                f"({_text.rate(containment.ci_low)} to {_text.rate(containment.ci_high)}), "
                f"{_text.rate(containment.previous_value)} the week before.",
            ),
        )
    return Section("chatbot", title, summary, table, charts, notes=tuple(report.footer().splitlines()))
