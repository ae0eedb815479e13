"""Chatbot sections of the weekly report: the session funnel (simple counts for now) and the lead sources."""

from __future__ import annotations

from typing import Any

import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev group

from insights.reports import _text, charts
from insights.reports.sections import Chart, Section
from insights.reports.weekly_headline import HeadlineMetric
from insights.reports.weekly_queries import WeeklyData

_STEPS = (
    ("n_sessions", "sessions started"),
    ("n_user_message", "with a user message"),
    ("n_lead_captured", "lead captured"),
    ("n_qualified", "lead qualified so far"),
)
_ALSO = (("n_handoff", "handed off to a person"), ("n_fallback", "at least one bot fallback"))


def _share(part: int, whole: int) -> float | None:
    return _text.ratio(part, whole)


def funnel_section(data: WeeklyData) -> Section:
    """Sessions started in the week, step by step, with handoffs and fallbacks; shares against the 4 weeks before."""
    week = {c: int(data.funnel.get(True, {}).get(c, 0)) for c, _ in (*_STEPS, *_ALSO)}
    before = {c: int(data.funnel.get(False, {}).get(c, 0)) for c, _ in (*_STEPS, *_ALSO)}
    n, n_before = week["n_sessions"], before["n_sessions"]
    records: list[dict[str, Any]] = []
    for i, (column, words) in enumerate(_STEPS):
        previous = week[_STEPS[i - 1][0]] if i else None
        records.append(
            {
                "measure": words,
                "kind": "step",
                "n_sessions": week[column],
                "share_of_sessions": _share(week[column], n),
                "share_of_previous_step": _share(week[column], previous) if previous is not None else None,
                "share_of_sessions_previous_4_weeks": _share(before[column], n_before),
            }
        )
    records += [
        {
            "measure": words,
            "kind": "also",
            "n_sessions": week[column],
            "share_of_sessions": _share(week[column], n),
            "share_of_previous_step": None,
            "share_of_sessions_previous_4_weeks": _share(before[column], n_before),
        }
        for column, words in _ALSO
    ]
    shares = ["share_of_sessions", "share_of_previous_step", "share_of_sessions_previous_4_weeks"]
    table = pd.DataFrame(records).astype(dict.fromkeys(shares, "float64"))
    if not n:
        return Section("funnel", "Chatbot funnel", "No chat sessions started this week.", table, ())

    def part(column: str) -> str:
        return f"{_text.count(week[column])} ({_text.rate(week[column] / n)})"

    handoffs = week["n_handoff"]
    summary = (
        f"Of {_text.plural(n, 'chat session')} started this week, {part('n_user_message')} had a message from the "
        f"user, {part('n_lead_captured')} captured a lead and {part('n_qualified')} brought a lead that has reached "
        f"mql or beyond so far. {_text.sentence_case(_text.plural(handoffs, 'session'))} "
        f"{'was' if handoffs == 1 else 'were'} handed off to a person and {_text.count(week['n_fallback'])} had at "
        "least one bot fallback (a message the bot did not understand). Recent sessions' leads can still qualify, "
        "so the last step may grow."
    )
    # The step that keeps the smallest share of the sessions that reached the step before it.
    steps = [c for c, _ in _STEPS]
    kept = [(i, week[steps[i]] / week[steps[i - 1]]) for i in range(1, len(steps)) if week[steps[i - 1]]]
    worst, share = min(kept, key=lambda pair: pair[1])
    share_before = _share(before[steps[worst]], before[steps[worst - 1]])
    takeaway = (
        f"The biggest drop is from '{_STEPS[worst - 1][1]}' to '{_STEPS[worst][1]}': {_text.rate(share)} of those "
        "sessions went on" + (f" (4 weeks before: {_text.rate(share_before)})." if share_before is not None else ".")
    )
    figure = charts.funnel(
        [words for _, words in _STEPS], [week[c] for c in steps], title="Chat sessions started this week, step by step"
    )
    return Section("funnel", "Chatbot funnel", summary, table, (Chart(figure, takeaway),))


# --- leads ---------------------------------------------------------------------------------------------


def leads_section(data: WeeklyData, metrics: list[HeadlineMetric]) -> Section:
    weeks_before = sum(1 for i in range(-4, 0) if data.covered(data.first_at("leads"), i))
    records = [
        {
            "source": _text.NOT_SET if r["source"] is None else str(r["source"]),
            "channel": "" if r["channel"] is None else str(r["channel"]),
            "n_leads": int(r["n_leads"]),
            "n_qualified_so_far": int(r["n_qualified"]),
            "weekly_average_previous_4_weeks": (int(r["n_leads_previous_4_weeks"]) / weeks_before)
            if weeks_before
            else None,
        }
        for r in data.lead_sources
    ]
    columns = ["source", "channel", "n_leads", "n_qualified_so_far", "weekly_average_previous_4_weeks"]
    table = pd.DataFrame(records, columns=columns).astype({"weekly_average_previous_4_weeks": "float64"})
    table = table.sort_values(["n_leads", "source", "channel"], ascending=[False, True, True]).reset_index(drop=True)
    m = {x.key: x for x in metrics}
    n = int(table["n_leads"].sum())
    by_source = table.groupby("source", sort=False)["n_leads"].sum().sort_values(ascending=False, kind="stable")
    by_source = by_source[by_source > 0]
    tail = (
        f"{m['qualified_leads'].times('lead')} reached mql or beyond this week and "
        f"{m['deals_won'].times('deal')} {'was' if m['deals_won'].value == 1 else 'were'} won, "
        f"worth {_text.amount(m['won_revenue'].value)} (leads from any week)."
    )
    if not n:
        summary = "No new leads were created this week. " + tail
        return Section("leads", "Leads and their sources", summary, table, ())
    parts = [f"{source} {_text.count(count)}" for source, count in by_source.items()]
    summary = f"{_text.plural(n, 'new lead')} this week: {_text.join_words(parts)}. " + tail
    top_source, top_count = str(by_source.index[0]), int(by_source.iloc[0])
    channels = table[(table["source"] == top_source) & (table["channel"] != "") & (table["n_leads"] > 0)]
    takeaway = (
        f"{_text.sentence_case(top_source)} brought {_text.rate(top_count / n)} of this week's new leads "
        f"({_text.count(top_count)} of {_text.count(n)})"
    )
    if not channels.empty:
        busiest = channels.iloc[0]
        takeaway += f"; {busiest['channel']} was its busiest channel ({_text.count(int(busiest['n_leads']))})"
    takeaway += "."
    shown = table[(table["n_leads"] > 0) | (table["weekly_average_previous_4_weeks"].fillna(0) > 0)]
    labels = [s if not c else f"{s} · {c}" for s, c in zip(shown["source"], shown["channel"], strict=True)]
    figure = charts.count_bars(
        labels,
        [int(x) for x in shown["n_leads"]],
        context_values=[0.0 if pd.isna(x) else float(x) for x in shown["weekly_average_previous_4_weeks"]]
        if weeks_before
        else None,
        title="New leads by source and channel",
        x_title="new leads",
        y_title="",
    )
    return Section("leads", "Leads and their sources", summary, table, (Chart(figure, takeaway),))
