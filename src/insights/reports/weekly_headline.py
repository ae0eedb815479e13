"""The headline of the weekly report: the week's main numbers, each against the week before and the weekly
average of the 4 weeks before, the one-line headline for the report index, and notes on weeks the data
does not (fully) cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev group

from insights.reports import _text
from insights.reports.sections import Section
from insights.reports.weekly_queries import WeeklyData


@dataclass(frozen=True)
class HeadlineMetric:
    """One headline number: this week, the week before, and the weekly average of the 4 weeks before."""

    key: str
    label: str
    unit: str  # count, amount or rate
    value: float | None
    previous: float | None
    average_4_weeks: float | None
    definition: str

    def change_vs_previous(self) -> str:
        return self._change(self.previous)

    def change_vs_average(self) -> str:
        return self._change(self.average_4_weeks)

    def _change(self, base: float | None) -> str:
        if self.unit == "rate":
            return _text.change_of_rate(self.value, base)
        return _text.change_of_count(self.value, base)

    def times(self, noun: str) -> str:
        """This week's value with its noun: '1 post', '321 chat sessions'."""
        return _text.plural(_text.number_or_zero(self.value), noun)

    def formatted(self, value: float | None = None) -> str:
        x = self.value if value is None else value
        if self.unit == "rate":
            return _text.rate(x)
        return _text.count(x)


def _count_metric(
    data: WeeklyData,
    key: str,
    label: str,
    unit: str,
    weekly: dict[int, float],
    first_at: datetime | None,
    definition: str,
) -> HeadlineMetric:
    def value(index: int) -> float | None:
        return weekly.get(index, 0.0) if data.covered(first_at, index) else None

    current = weekly.get(0, 0.0)
    before = [v for v in (value(i) for i in range(-4, 0)) if v is not None]
    return HeadlineMetric(
        key=key,
        label=label,
        unit=unit,
        value=current,
        previous=value(-1),
        average_4_weeks=sum(before) / len(before) if before else None,
        definition=definition,
    )


def headline_metrics(data: WeeklyData) -> list[HeadlineMetric]:
    """The headline numbers of the week, each with its previous week and 4-week average."""
    age = data.age_days
    first_post = data.first_at("posts")
    metrics = [
        _count_metric(
            data,
            "posts_published",
            "Posts published",
            "count",
            {k: float(v) for k, v in data.posts_published.items()},
            first_post,
            "posts whose published_at is in the week",
        )
    ]
    cohorts = data.cohorts

    def cohort_covered(index: int) -> bool:
        return data.covered(first_post, index, shift_days=data.age_days)

    def impressions(index: int) -> float | None:
        row = cohorts.get(index)
        if row is None:
            return 0.0 if cohort_covered(index) or index == 0 else None
        return _text.number_or_zero(row["impressions"]) if row["n_measured"] else None

    def engagement(indexes: list[int]) -> float | None:
        rows = [cohorts[i] for i in indexes if i in cohorts]
        return _text.ratio(
            sum(_text.number_or_zero(r["engagements"]) for r in rows),
            sum(_text.number_or_zero(r["impressions"]) for r in rows),
        )

    before = [i for i in range(-4, 0) if cohort_covered(i)]
    before_impressions = [x for x in (impressions(i) for i in before) if x is not None]
    metrics += [
        HeadlineMetric(
            key=f"impressions_{age}d",
            label=f"Impressions at {age} days",
            unit="count",
            value=impressions(0),
            previous=impressions(-1) if cohort_covered(-1) else None,
            average_4_weeks=sum(before_impressions) / len(before_impressions) if before_impressions else None,
            definition=f"impressions {age} days after publishing, summed over the posts that turned {age} days "
            "old in the week (posts not yet measured at that age are left out)",
        ),
        HeadlineMetric(
            key=f"engagement_rate_{age}d",
            label=f"Engagement rate at {age} days",
            unit="rate",
            value=engagement([0]),
            previous=engagement([-1]) if cohort_covered(-1) else None,
            average_4_weeks=engagement(before) if before else None,
            definition=f"(likes + comments + shares + saves) / impressions, both at {age} days, summed over the "
            f"same posts; the 4-week figure pools the 4 weeks' posts",
        ),
    ]
    first_session, first_lead = data.first_at("chat_sessions"), data.first_at("leads")
    sessions = {k: float(v) for k, v in data.sessions.items()}
    metrics.append(
        _count_metric(
            data, "chat_sessions", "Chat sessions", "count", sessions, first_session, "sessions started in the week"
        )
    )

    def lead_events(event: str, column: str = "n_leads") -> dict[int, float]:
        return {k: _text.number_or_zero(row[column]) for (k, e), row in data.leads.items() if e == event}

    metrics += [
        _count_metric(
            data,
            "leads",
            "New leads",
            "count",
            lead_events("created"),
            first_lead,
            "leads created in the week (their first stage change), from every source",
        ),
        _count_metric(
            data,
            "qualified_leads",
            "Leads qualified",
            "count",
            lead_events("qualified"),
            first_lead,
            "leads that reached mql or beyond in the week (their first change into mql, sql, opportunity or won)",
        ),
        _count_metric(data, "deals_won", "Deals won", "count", lead_events("won"), first_lead, "leads won in the week"),
        _count_metric(
            data,
            "won_revenue",
            "Won revenue",
            "amount",
            lead_events("won", "value"),
            first_lead,
            "sum of the value of the leads won in the week (the value recorded with the won stage)",
        ),
    ]
    return metrics


def _changed(metric: HeadlineMetric, against: str = "on last week") -> str:
    """' (+12% on last week)', ' (new)', or nothing when there is no previous week to compare with."""
    change = metric.change_vs_previous()
    if change == "n/a":
        return ""
    if change in ("new", "no change") or not against:
        return f" ({change})"
    return f" ({change} {against})"


def coverage_notes(data: WeeklyData) -> list[str]:
    """Sentences for a week the data does not (fully) cover."""
    week = data.week
    firsts = [t for t in (data.first_at(log) for log in ("posts", "chat_sessions", "leads")) if t is not None]
    lasts = [t for t in (data.last_at(log) for log in ("posts", "chat_sessions", "leads")) if t is not None]
    if not firsts:
        return ["The warehouse holds no posts, chat sessions or leads yet."]
    first, last = min(firsts), max(lasts)
    if week.end <= first:
        return [f"The warehouse has no data for this week: its data starts on {_text.day(first.date())} {first.year}."]
    if week.start > last:
        return [f"The warehouse has no data for this week: its data ends on {_text.day(last.date())} {last.year}."]
    notes = []
    if last < week.end - timedelta(days=1):
        notes.append(f"The data ends on {_text.day(last.date())}, before the week does: the numbers cover part of it.")
    if first > week.start - timedelta(days=28):
        notes.append(
            f"The data starts on {_text.day(first.date())} {first.year}, so comparisons use the weeks since then only."
        )
    return notes


def headline_section(data: WeeklyData, metrics: list[HeadlineMetric]) -> Section:
    m = {x.key: x for x in metrics}
    age = data.age_days
    rate = m[f"engagement_rate_{age}d"]
    cohort = data.cohorts.get(0, {})
    n_cohort, n_measured = int(cohort.get("n_posts", 0)), int(cohort.get("n_measured", 0))
    sentences = [
        f"In {_text.week_period(data.week)} {m['posts_published'].times('post')} went out and "
        f"the chatbot held {m['chat_sessions'].times('chat session')}"
        f"{_changed(m['chat_sessions'])}.",
        f"{_text.sentence_case(m['leads'].times('new lead'))}{_changed(m['leads'])}, "
        f"{m['qualified_leads'].times('lead')} qualified and "
        f"{m['deals_won'].times('deal')} won worth {_text.amount(m['won_revenue'].value)}.",
    ]
    if n_measured:
        sentences.append(
            f"The {_text.plural(n_measured, 'post')} that turned {age} days old this week engaged "
            f"{rate.formatted()} of their impressions at {age} days{_changed(rate)}"
            + (
                f"; {_text.count(n_cohort - n_measured)} more have no metrics at {age} days yet."
                if n_cohort > n_measured
                else "."
            )
        )
    elif n_cohort:
        sentences.append(
            f"None of the {_text.count(n_cohort)} posts that turned {age} days old this week has metrics at that "
            "age yet."
        )
    else:
        sentences.append(f"No post turned {age} days old this week, so there is no engagement rate.")
    sentences += coverage_notes(data)
    table = pd.DataFrame(
        {
            "metric": [x.label for x in metrics],
            "this_week": [x.value for x in metrics],
            "previous_week": [x.previous for x in metrics],
            "change_vs_previous_week": [x.change_vs_previous() for x in metrics],
            "average_4_weeks_before": [x.average_4_weeks for x in metrics],
            "change_vs_average": [x.change_vs_average() for x in metrics],
            "unit": [x.unit for x in metrics],
            "definition": [x.definition for x in metrics],
        }
    ).astype({"this_week": "float64", "previous_week": "float64", "average_4_weeks_before": "float64"})
    return Section("headline", "This week in numbers", " ".join(sentences), table, ())


def headline_line(data: WeeklyData, metrics: list[HeadlineMetric]) -> str:
    """One line for the report index."""
    m = {x.key: x for x in metrics}
    rate = m[f"engagement_rate_{data.age_days}d"]
    parts = [
        f"{m['leads'].times('lead')}{_changed(m['leads'])}",
        f"{m['chat_sessions'].times('chat session')}{_changed(m['chat_sessions'], '')}",
    ]
    if rate.value is not None:
        parts.append(
            f"engagement {rate.formatted()} of impressions at {data.age_days} days"
            + (f" ({rate.change_vs_previous()})" if rate.change_vs_previous() != "n/a" else "")
        )
    return "; ".join(parts)
