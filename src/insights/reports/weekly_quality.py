"""The data-quality section of the weekly report: the loads behind the week, rejected rows, days without
data, chat volume against the trailing median, and post counters that cannot be right.
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from typing import Any

import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev group

from insights.reports import _text, charts
from insights.reports.sections import Chart, Section
from insights.reports.weekly_queries import WeeklyData

#: A day's chat sessions look off below LOW or above HIGH times the median day of the 28 days before the week.
CHAT_VOLUME_LOW = 0.5
CHAT_VOLUME_HIGH = 2.0
#: The median needs at least this many days of history.
MIN_HISTORY_DAYS = 7
_LOG_WORDS = {
    "posts": "posts",
    "post_metrics": "post metric snapshots",
    "chat_events": "chat events",
    "leads": "lead changes",
}
_LOG_TIMESTAMPS = {"posts": "published_at", "post_metrics": "observed_at", "chat_events": "ts", "leads": "changed_at"}


def _days_in_data(data: WeeklyData) -> list[int]:
    """Indexes (0 = Monday) of the week's days that the data reaches: a day after the last record is not a gap."""
    lasts = [t for t in (data.last_at(log) for log in ("posts", "chat_sessions", "leads")) if t is not None]
    firsts = [t for t in (data.first_at(log) for log in ("posts", "chat_sessions", "leads")) if t is not None]
    if not lasts:
        return []
    last_day, first_day = max(lasts).date(), min(firsts).date()
    return [i for i, d in enumerate(data.week.days) if first_day <= d <= last_day]


def _chat_volume(data: WeeklyData) -> tuple[float | None, int, list[tuple[int, int, bool]]]:
    """The median sessions per day over the 28 days before the week, the days it rests on, and each day's check."""
    first = data.first_at("chat_sessions")
    start_day = data.week.start.date()
    history = [
        data.chat_daily.get(i, 0)
        for i in range(-28, 0)
        if first is not None and start_day + timedelta(days=i) >= first.date()
    ]
    median = float(statistics.median(history)) if len(history) >= MIN_HISTORY_DAYS else None
    in_data = set(_days_in_data(data))
    days = []
    for i in range(7):
        n = data.chat_daily.get(i, 0)
        off = (
            median is not None
            and i in in_data
            and (n < CHAT_VOLUME_LOW * median or n > CHAT_VOLUME_HIGH * median)
            and median > 0
        )
        days.append((i, n, off))
    return median, len(history), days


def _reasons_words(reasons: list[dict[str, Any]]) -> str:
    """'most common reason: X (12)' when one stands out, else 'reasons include X, Y and Z'."""
    if not reasons:
        return "no reason recorded"
    if len(reasons) == 1 or reasons[0]["n_rows"] > reasons[1]["n_rows"]:
        return f"most common reason: {reasons[0]['reason']} ({reasons[0]['n_rows']})"
    return "reasons include " + _text.join_words([str(r["reason"]) for r in reasons[:3]])


Finding = dict[str, Any]


def _finding(area: str, check: str, value: int, ok: bool, finding: str) -> Finding:
    return {"area": area, "check": check, "value": value, "status": "ok" if ok else "check", "finding": finding}


def _load_findings(data: WeeklyData) -> tuple[list[Finding], str]:
    """The loads that brought rows dated in the week, those that ran during it, and their rejected rows."""
    found: list[Finding] = []
    carried = [r for r in data.loads if r["carried_week"]]
    ran = [r for r in data.loads if r["ran_in_week"]]
    check = "loads that brought this week's rows"
    if carried:
        loaded_on = sorted({r["loaded_at"].date() for r in carried})
        when = _text.join_words([_text.day(d) for d in loaded_on[:3]]) + (" and later" if len(loaded_on) > 3 else "")
        read = sum(int(r["rows_read"]) for r in carried)
        loaded = sum(int(r["rows_loaded"]) for r in carried)
        duplicates = sum(int(r["rows_duplicate"]) for r in carried)
        found.append(
            _finding(
                "loads",
                check,
                len(carried),
                True,
                f"{_text.plural(len(carried), 'load')} (run on {when}) brought rows dated in the week; they read "
                f"{_text.count(read)} rows, loaded {_text.count(loaded)} and skipped {_text.count(duplicates)} "
                "duplicates.",
            )
        )
    else:
        found.append(_finding("loads", check, 0, False, "No load brought rows dated in this week."))
    if ran:
        loaded = sum(int(r["rows_loaded"]) for r in ran)
        sentence = f"{_text.plural(len(ran), 'load')} ran during the week, loading {_text.count(loaded)} rows."
        found.append(_finding("loads", "loads run during the week", len(ran), True, sentence))
    else:
        found.append(_finding("loads", "loads run during the week", 0, True, "No load ran during the week."))
    n_rejected = sum(int(r["rows_rejected"]) for r in data.loads)
    reasons = data.reject_reasons
    if not n_rejected:
        found.append(_finding("loads", "rejected rows", 0, True, "Those loads rejected no rows."))
        return found, "The loads that brought this week's data rejected no rows."
    found.append(
        _finding(
            "loads",
            "rejected rows",
            n_rejected,
            False,
            f"Those loads rejected {_text.plural(n_rejected, 'row')}; {_reasons_words(reasons)}. "
            "The rows and their lines are in meta.rejects.",
        )
    )
    found += [_finding("loads", "reject reason", int(r["n_rows"]), False, str(r["reason"])) for r in reasons[:3]]
    rejected = _text.plural(n_rejected, "row")
    return found, f"The loads that brought this week's data rejected {rejected} ({_reasons_words(reasons)})."


def _gap_findings(data: WeeklyData) -> tuple[list[Finding], str]:
    """Per log, the days of the week (that the data reaches) without a single row."""
    found: list[Finding] = []
    in_data = _days_in_data(data)
    gaps: list[str] = []
    for log in ("posts", "post_metrics", "chat_events", "leads"):
        per_day = [0] * 7
        for r in data.daily_rows:
            if r["log"] == log and 0 <= r["day_index"] < 7:
                per_day[r["day_index"]] += int(r["n_rows"])
        missing = [i for i in in_data if per_day[i] == 0]
        total, words = sum(per_day), _LOG_WORDS[log]
        if not in_data:
            finding = f"The data does not reach this week: no {words}."
        elif not missing:
            finding = f"{_text.count(total)} {words} dated in the week ({_LOG_TIMESTAMPS[log]}), on every day."
        else:
            days = _text.join_words([_text.day(data.week.days[i]) for i in missing])
            finding = f"{_text.count(total)} {words} dated in the week; none on {days}."
            gaps.append(f"{words} on {days}")
        found.append(
            _finding(words, "days without data", len(missing) if in_data else 7, bool(in_data) and not missing, finding)
        )
    if not in_data:
        return found, "The data does not reach this week."
    if gaps:
        return found, "Days without data: " + "; ".join(gaps) + "."
    return found, "Every log has data on every day of the week."


def _volume_finding(data: WeeklyData) -> tuple[Finding, Chart | None]:
    """Each day's chat sessions against the median day of the 28 days before, with its chart."""
    median, n_history, days = _chat_volume(data)
    flagged = [(i, n) for i, n, off in days if off]
    check = "daily volume vs trailing median"
    band = f"{CHAT_VOLUME_LOW:.0%}-{CHAT_VOLUME_HIGH:.0%}"
    if median is None:
        sentence = (
            f"Only {n_history} days of chat history before the week (at least {MIN_HISTORY_DAYS} needed), "
            "so daily volume is not checked."
        )
    elif not flagged:
        sentence = (
            f"Daily chat sessions stayed within {band} of the median day of the 28 days before "
            f"({_text.count(median)}) on every day of the week."
        )
    else:
        described = [
            f"{_text.day(data.week.days[i])} ({_text.count(n)}, {_text.rate(n / median)} of the median)"
            for i, n in flagged
        ]
        sentence = (
            f"Chat sessions were outside {band} of the median day of the 28 days before ({_text.count(median)}) "
            f"on {_text.join_words(described)}."
        )
    finding = _finding("chat sessions", check, len(flagged), not flagged, sentence)
    if not median and not any(n for _, n, _ in days):
        return finding, None
    figure = charts.daily_bars(
        [_text.day(d) for d in data.week.days],
        [n for _, n, _ in days],
        flagged=[off for _, _, off in days],
        baseline=median,
        low=CHAT_VOLUME_LOW,
        high=CHAT_VOLUME_HIGH,
        title="Chat sessions per day, against the median day of the 28 days before",
        y_title="chat sessions",
    )
    return finding, Chart(figure, sentence)


def _counter_findings(data: WeeklyData) -> list[Finding]:
    """Posts whose counters cannot be right, among those the report talks about."""
    off = data.posts_off
    n_posts = int(off["n_posts"])
    scope = f"{_text.plural(n_posts, 'post')} published in the week or in its {data.age_days}-day cohort"
    found = []
    for column, check, words in (
        ("n_clicks_above_impressions", "clicks above impressions", "more clicks than impressions"),
        ("n_engagements_above_impressions", "engagements above impressions", "more engagements than impressions"),
        ("n_without_metrics", "posts without metrics", "no metric snapshot at all"),
    ):
        value = int(off[column])
        if not n_posts:
            finding = "No post to check."
        elif value:
            finding = f"{_text.count(value)} of the {scope} {'has' if value == 1 else 'have'} {words}."
        elif column == "n_without_metrics":
            finding = f"Each of the {scope} has at least one metric snapshot."
        else:
            finding = f"None of the {scope} has {words}."
        found.append(_finding("posts", check, value, value == 0, finding))
    return found


def data_quality_section(data: WeeklyData) -> Section:
    """Is this week's data complete and plausible? Loads and rejects, gaps, volume, impossible counters."""
    loads, loads_sentence = _load_findings(data)
    gaps, gaps_sentence = _gap_findings(data)
    volume, chart = _volume_finding(data)
    counters = _counter_findings(data)
    table = pd.DataFrame([*loads, *gaps, volume, *counters], columns=["area", "check", "value", "status", "finding"])
    worrying = [f["finding"] for f in (volume, *counters) if f["status"] == "check"]
    if worrying:
        more = f" (and {len(worrying) - 1} more below)" if len(worrying) > 1 else ""
        last = f"Also worth a look: {worrying[0].rstrip('.')}{more}."
    else:
        last = "No metric looks off."
    summary = " ".join([loads_sentence, gaps_sentence, last])
    return Section("data_quality", "Data quality", summary, table, (chart,) if chart else ())
