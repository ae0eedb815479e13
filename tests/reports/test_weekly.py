"""The weekly report on a real (small) demo warehouse, checked against SQL written here, independently.

One warehouse is built per module (400 posts, 4,000 chat sessions: about 3 s). Its last week of data is the
report's week; the demo's planted effects and the partition of posts into weekly cohorts are checked too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import plotly.graph_objects as go
import pytest

from insights.errors import InvalidParameterError, WarehouseError
from insights.reports import _text
from insights.reports.weekly import SECTION_KEYS, WeeklyReport, weekly_report
from insights.reports.weeks import IsoWeek
from insights.warehouse import build, connect

XSS_TEXT = "<script>alert(1)</script><img src=x onerror=alert(2)>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from insights.demo import run_demo

    folder = tmp_path_factory.mktemp("weekly")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("INSIGHTS_DB", raising=False)
        mp.delenv("INSIGHTS_KEY_FILE", raising=False)
        summary = run_demo(db=folder / "demo.duckdb", out_dir=folder / "logs", n_posts=400, n_sessions=4000)
    assert summary.checks_passed
    return Path(summary.db)


@pytest.fixture(scope="module")
def con(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(warehouse, read_only=True)
    yield connection
    connection.close()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> Any:
    row = con.execute(sql, list(params)).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture(scope="module")
def week(con: duckdb.DuckDBPyConnection) -> IsoWeek:
    """The last week of the demo's data, from the data itself."""
    last = scalar(con, "SELECT max(published_at) FROM marts.posts")
    return IsoWeek.containing(last)


@pytest.fixture(scope="module")
def report(con: duckdb.DuckDBPyConnection, week: IsoWeek) -> WeeklyReport:
    return weekly_report(con, week)


def headline_row(report: WeeklyReport, label: str) -> pd.Series:  # type: ignore[type-arg]
    table = report.section("headline").table
    rows = table[table["metric"] == label]
    assert len(rows) == 1, f"no headline row {label!r}: {list(table['metric'])}"
    return rows.iloc[0]


def count_between(con: duckdb.DuckDBPyConnection, table: str, column: str, start: datetime, end: datetime) -> int:
    return int(scalar(con, f"SELECT count(*) FROM {table} WHERE {column} >= ? AND {column} < ?", start, end))


def qualified_between(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> int:
    # From the stage changes, not from the mart: the first change of each lead into a qualified stage.
    return int(
        scalar(
            con,
            """SELECT count(*) FROM (
                   SELECT lead_id, min(changed_at) AS qualified_at FROM staging.leads
                   WHERE stage IN ('mql', 'sql', 'opportunity', 'won') GROUP BY lead_id)
               WHERE qualified_at >= ? AND qualified_at < ?""",
            start,
            end,
        )
    )


def engagement_sql(
    con: duckdb.DuckDBPyConnection, published_from: datetime, published_to: datetime
) -> tuple[float, float, int]:
    row = con.execute(
        """SELECT sum(likes_7d + comments_7d + shares_7d + saves_7d), sum(impressions_7d), count(*)
           FROM marts.posts
           WHERE published_at >= ? AND published_at < ? AND impressions_7d IS NOT NULL""",
        [published_from, published_to],
    ).fetchone()
    assert row is not None
    return float(row[0] or 0), float(row[1] or 0), int(row[2])


# --- the API -------------------------------------------------------------------------------------------


def test_sections_come_in_reading_order(report: WeeklyReport) -> None:
    assert tuple(s.key for s in report.sections) == SECTION_KEYS
    assert report.section("funnel").key == "funnel"
    for section in report.sections:
        assert section.title and section.summary
        assert isinstance(section.table, pd.DataFrame) and not section.table.empty


def test_html_shows_the_summary_then_the_charts_then_the_table(report: WeeklyReport) -> None:
    page = report.section("engagement")._repr_html_()
    summary = page.index('class="insights-summary"')
    takeaway = page.index('class="insights-takeaway"')
    chart = page.index("Plotly.newPlot")
    table = page.index("<table>")
    assert summary < takeaway < chart < table
    assert page.count("Plotly.newPlot") == 3
    assert "cdn.plot.ly" not in page and "<script src" not in page  # the page brings plotly.js once, not each chart


def test_unknown_section_names_the_choices(report: WeeklyReport) -> None:
    with pytest.raises(InvalidParameterError, match="must be one of headline, engagement, posts"):
        report.section("revenue")


def test_default_week_is_the_last_complete_one(con: duckdb.DuckDBPyConnection) -> None:
    default = weekly_report(con)
    assert default.week == IsoWeek.last_complete()
    # The demo ends on the last Sunday before today (docs/demo-data.md), so that week has data.
    assert headline_row(default, "Chat sessions")["this_week"] > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"week": "2026-46"}, "'week' parameter of IsoWeek.parse"),
        ({"week": 202646}, "'week' parameter of weekly_report must be an IsoWeek"),
    ],
)
def test_bad_arguments_raise_one_sentence(con: duckdb.DuckDBPyConnection, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        weekly_report(con, **kwargs)


def test_a_connection_is_required() -> None:
    with pytest.raises(InvalidParameterError, match="'con' parameter of weekly_report must be a DuckDB connection"):
        weekly_report("data/insights.duckdb", "2026-W46")  # type: ignore[arg-type]


def test_an_unbuilt_warehouse_says_what_to_run() -> None:
    empty = connect(":memory:")  # meta and raw tables, no marts
    with pytest.raises(WarehouseError, match=r"no marts\.posts.*insights warehouse build"):
        weekly_report(empty, "2026-W46")


def test_to_dict_is_json_ready(report: WeeklyReport) -> None:
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["week"] == report.week.label
    assert data["headline"] == report.headline
    assert [s["key"] for s in data["sections"]] == list(SECTION_KEYS)
    assert data["row_counts"]["marts.chat_sessions"] == 4000
    assert data["row_counts"]["query.funnel"] >= 1
    assert data["query_seconds"] > 0


def test_importing_the_package_loads_neither_pandas_nor_plotly() -> None:
    code = "import sys, insights.reports; insights.reports.IsoWeek.parse('2026-W01'); print(sorted(m for m in ('pandas', 'plotly') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- headline numbers against independent SQL ----------------------------------------------------------


def test_headline_counts_match_sql(con: duckdb.DuckDBPyConnection, report: WeeklyReport, week: IsoWeek) -> None:
    start, end = week.start, week.end
    expected = {
        "Posts published": count_between(con, "marts.posts", "published_at", start, end),
        "Chat sessions": count_between(con, "marts.chat_sessions", "started_at", start, end),
        "New leads": count_between(con, "marts.leads", "created_at", start, end),
        "Leads qualified": qualified_between(con, start, end),
        "Deals won": count_between(con, "marts.leads", "won_at", start, end),
    }
    for label, value in expected.items():
        assert headline_row(report, label)["this_week"] == value, label
    assert expected["Chat sessions"] > 100 and expected["New leads"] > 0  # the week really has data
    revenue = scalar(
        con, "SELECT coalesce(sum(value), 0) FROM marts.leads WHERE won_at >= ? AND won_at < ?", start, end
    )
    assert headline_row(report, "Won revenue")["this_week"] == pytest.approx(float(revenue))


def test_engagement_is_the_ratio_of_sums_of_the_posts_that_turned_7_days_old(
    con: duckdb.DuckDBPyConnection, report: WeeklyReport, week: IsoWeek
) -> None:
    engagements, impressions, n = engagement_sql(con, week.start - timedelta(days=7), week.end - timedelta(days=7))
    assert n > 10
    assert headline_row(report, "Engagement rate at 7 days")["this_week"] == pytest.approx(engagements / impressions)
    assert headline_row(report, "Impressions at 7 days")["this_week"] == pytest.approx(impressions)
    overall = report.section("engagement").table.iloc[0]
    assert (overall["group"], overall["n_posts"]) == ("all posts", n)
    assert _text.rate(engagements / impressions) in report.headline


def test_changes_are_computed_from_the_previous_weeks(
    con: duckdb.DuckDBPyConnection, report: WeeklyReport, week: IsoWeek
) -> None:
    def sessions(w: IsoWeek) -> int:
        return count_between(con, "marts.chat_sessions", "started_at", w.start, w.end)

    current, previous = sessions(week), sessions(week.previous())
    before = [sessions(week.previous(k)) for k in range(1, 5)]
    row = headline_row(report, "Chat sessions")
    assert row["previous_week"] == previous
    assert row["average_4_weeks_before"] == pytest.approx(sum(before) / 4)
    assert row["change_vs_previous_week"] == f"{(current - previous) / previous:+.0%}"
    assert row["change_vs_average"] == f"{(current - sum(before) / 4) / (sum(before) / 4):+.0%}"
    # the rate moves in percentage points
    e0, i0, _ = engagement_sql(con, week.start - timedelta(days=7), week.end - timedelta(days=7))
    e1, i1, _ = engagement_sql(con, week.start - timedelta(days=14), week.end - timedelta(days=14))
    rate_row = headline_row(report, "Engagement rate at 7 days")
    assert rate_row["previous_week"] == pytest.approx(e1 / i1)
    assert rate_row["change_vs_previous_week"] == f"{(e0 / i0 - e1 / i1) * 100:+.1f} pt"


def test_this_week_of_the_previous_report_is_the_previous_week_of_this_one(
    con: duckdb.DuckDBPyConnection, report: WeeklyReport, week: IsoWeek
) -> None:
    earlier = weekly_report(con, week.previous())
    now, then = report.section("headline").table, earlier.section("headline").table
    pd.testing.assert_series_equal(now["previous_week"], then["this_week"], check_names=False)


def test_headline_line_names_leads_sessions_and_engagement(report: WeeklyReport) -> None:
    leads = int(headline_row(report, "New leads")["this_week"])
    sessions = int(headline_row(report, "Chat sessions")["this_week"])
    assert report.headline.startswith(f"{leads:,} leads (")
    assert f"; {sessions:,} chat sessions (" in report.headline
    assert "of impressions at 7 days" in report.headline


# --- engagement: cohorts, the planted effect, other ages ------------------------------------------------


def test_weekly_cohorts_partition_every_measured_post_and_recover_the_planted_video_effect(
    con: duckdb.DuckDBPyConnection, week: IsoWeek
) -> None:
    first = IsoWeek.containing(scalar(con, "SELECT min(published_at) + INTERVAL 7 DAY FROM marts.posts"))
    sums: dict[str, list[float]] = {}
    weeks, w = [], week
    while w >= first:
        weeks.append(w)
        w = w.previous()
    total_posts = 0
    for w in weeks:
        table = weekly_report(con, w).section("engagement").table
        total_posts += int(table.iloc[0]["n_posts"])
        for _, row in table[table["dimension"] == "content_type"].iterrows():
            s = sums.setdefault(row["group"], [0.0, 0.0])
            s[0] += row["engagements"]
            s[1] += row["impressions"]
    # Every post with 7-day metrics belongs to exactly one week's cohort.
    assert total_posts == scalar(con, "SELECT count(*) FROM marts.posts WHERE impressions_7d IS NOT NULL")
    rows = con.execute(
        """SELECT content_type, sum(likes_7d + comments_7d + shares_7d + saves_7d), sum(impressions_7d)
           FROM marts.posts WHERE impressions_7d IS NOT NULL GROUP BY 1"""
    ).fetchall()
    for content_type, engagements, impressions in rows:
        assert sums[content_type][0] == pytest.approx(engagements)
        assert sums[content_type][1] == pytest.approx(impressions)
    # The demo plants video at 1.8x the engagement of text (docs/demo-data.md).
    video = sums["video"][0] / sums["video"][1]
    text = sums["text"][0] / sums["text"][1]
    assert video > 1.3 * text


def test_engagement_takeaways_name_the_best_and_worst_group_of_the_table(report: WeeklyReport) -> None:
    section = report.section("engagement")
    table = section.table
    charts = section.charts
    assert len(charts) == 3
    content = table[(table["dimension"] == "content_type") & (table["n_posts"] >= 3)]
    best, worst = content.iloc[0], content.iloc[-1]
    takeaway = charts[0].takeaway
    assert takeaway.startswith(best["group"].capitalize() + " posts engaged")
    assert f"as much as {worst['group']} posts this week" in takeaway
    assert _text.rate(best["engagement_rate_7d"]) in takeaway and _text.rate(worst["engagement_rate_7d"]) in takeaway


# --- posts, funnel, leads -------------------------------------------------------------------------------


def test_top_and_bottom_posts_are_ranked_by_rate_above_the_threshold(report: WeeklyReport) -> None:
    table = report.section("posts").table
    top, bottom = table[table["ranking"] == "top"], table[table["ranking"] == "bottom"]
    assert len(top) == 5 and len(bottom) == 5
    rates = list(table["engagement_rate_7d"])
    assert rates == sorted(rates, reverse=True)
    assert set(top["post_id"]).isdisjoint(bottom["post_id"])
    assert (table["text"].str.len() <= 140).all()
    assert table["engagement_rate_7d"].iloc[0] == pytest.approx(
        table["engagements_7d"].iloc[0] / table["impressions_7d"].iloc[0]
    )


def test_funnel_matches_the_chat_log(con: duckdb.DuckDBPyConnection, report: WeeklyReport, week: IsoWeek) -> None:
    row = con.execute(
        """WITH s AS (
               SELECT session_id, min(ts) AS started_at,
                      bool_or(role = 'user' AND is_message) AS has_user,
                      bool_or(event = 'lead_captured') OR session_id IN (SELECT session_id FROM staging.leads WHERE session_id IS NOT NULL) AS captured,
                      bool_or(event = 'handoff' OR role = 'agent') AS handoff
               FROM staging.chat_events GROUP BY session_id)
           SELECT count(*), count(*) FILTER (WHERE has_user), count(*) FILTER (WHERE has_user AND captured),
                  count(*) FILTER (WHERE handoff)
           FROM s WHERE started_at >= ? AND started_at < ?""",
        [week.start, week.end],
    ).fetchone()
    assert row is not None
    table = report.section("funnel").table.set_index("measure")
    assert table.loc["sessions started", "n_sessions"] == row[0]
    assert table.loc["with a user message", "n_sessions"] == row[1]
    assert table.loc["lead captured", "n_sessions"] == row[2]
    assert table.loc["handed off to a person", "n_sessions"] == row[3]
    steps = list(table[table["kind"] == "step"]["n_sessions"])
    assert steps == sorted(steps, reverse=True)  # a funnel never gains sessions
    figure = report.section("funnel").charts[0].figure
    assert list(figure.data[0].x) == steps


def test_lead_sources_add_up_to_the_new_leads(
    con: duckdb.DuckDBPyConnection, report: WeeklyReport, week: IsoWeek
) -> None:
    table = report.section("leads").table
    assert table["n_leads"].sum() == count_between(con, "marts.leads", "created_at", week.start, week.end)
    chatbot = table[table["source"] == "chatbot"]
    assert (chatbot["channel"] != "").all()
    top = table.groupby("source")["n_leads"].sum().idxmax()
    assert report.section("leads").charts[0].takeaway.startswith(top.capitalize() + " brought")


def test_chatbot_health_compares_the_week_with_the_one_before_and_prints_its_definitions(
    con: duckdb.DuckDBPyConnection, report: WeeklyReport, week: IsoWeek
) -> None:
    section = report.section("chatbot")
    table = section.table.set_index("metric")
    n_sessions = count_between(con, "marts.chat_sessions", "started_at", week.start, week.end)
    n_before = count_between(con, "marts.chat_sessions", "started_at", week.start - timedelta(weeks=1), week.start)
    assert table.loc["Sessions", "value"] == f"{n_sessions:,}"
    assert table.loc["Sessions", "previous"] == f"{n_before:,}"
    assert section.summary.startswith(f"{n_sessions:,} chat sessions started")
    assert section.notes[0].startswith("Metric definitions (version ")
    assert any(n.startswith("Containment: ") for n in section.notes)
    # the fallback groups: the largest one's messages per week, as the takeaway says them
    from insights.chatbot import fallback_clusters

    groups = fallback_clusters(con, start=week.end - timedelta(weeks=4), end=week.end)
    top = groups.clusters[0]
    assert " / ".join(str(n) for n in top.weekly_counts) in section.charts[0].takeaway
    assert f"'{top.label}' ({top.n_messages:,}" in section.summary


def test_attribution_shares_the_weeks_chatbot_leads_under_every_model(
    con: duckdb.DuckDBPyConnection, report: WeeklyReport, week: IsoWeek
) -> None:
    from insights.leads import journeys

    section = report.section("attribution")
    table = section.table
    for model in ("last_touch", "first_touch", "linear", "time_decay", "position_based", "markov", "shapley"):
        assert table[f"share_{model}"].sum() == pytest.approx(1.0)
    assert (table["share_low_markov"] <= table["share_markov"]).all()
    assert (table["share_markov"] <= table["share_high_markov"]).all()
    # last touch is a plain count: the platform of the session each lead of the week is attached to
    rows = con.execute(
        "SELECT coalesce(platform, 'direct'), count(*) FROM marts.lineage WHERE lead_id IS NOT NULL "
        "AND session_id IS NOT NULL AND user_id IS NOT NULL AND started_at >= ? AND started_at < ? GROUP BY 1",
        [week.start, week.end],
    ).fetchall()
    n_leads = sum(n for _, n in rows)
    assert journeys(con, start=week.start, end=week.end, touch="platform").n_conversions == n_leads
    assert f"{n_leads:,} chatbot lead" in section.summary
    last_touch = table.set_index("platform")["share_last_touch"]
    assert {p: last_touch[p] for p, _ in rows} == pytest.approx({p: n / n_leads for p, n in rows})
    assert str(table.iloc[0]["platform"]) in section.charts[0].takeaway


def test_every_chart_is_a_titled_plotly_figure_with_a_computed_takeaway(report: WeeklyReport) -> None:
    charts = [c for s in report.sections for c in s.charts]
    assert len(charts) >= 6
    for chart in charts:
        assert isinstance(chart.figure, go.Figure)
        assert chart.figure.layout.title.text
        assert chart.takeaway.endswith(".") and any(ch.isdigit() for ch in chart.takeaway)


# --- data quality ---------------------------------------------------------------------------------------


def test_data_quality_counts_the_rows_of_the_week_and_the_rejects(
    con: duckdb.DuckDBPyConnection, report: WeeklyReport, week: IsoWeek
) -> None:
    table = report.section("data_quality").table.set_index(["area", "check"])
    n_events = count_between(con, "raw.chat_events", "ts", week.start, week.end)
    assert f"{n_events:,} chat events dated in the week" in table.loc[("chat events", "days without data"), "finding"]
    assert table.loc[("chat events", "days without data"), "value"] == 0
    rejected = scalar(con, "SELECT sum(rows_rejected) FROM meta.loads WHERE kind <> 'assignments'")
    assert table.loc[("loads", "rejected rows"), "value"] == rejected > 0
    assert table.loc[("posts", "clicks above impressions"), "value"] == 0


# --- a week without data --------------------------------------------------------------------------------


def test_a_week_before_the_data_gives_zeros_and_notes(con: duckdb.DuckDBPyConnection, week: IsoWeek) -> None:
    empty = weekly_report(con, week.previous(30))
    headline = empty.section("headline").table.set_index("metric")
    assert headline.loc["Chat sessions", "this_week"] == 0
    assert headline.loc["New leads", "this_week"] == 0
    assert pd.isna(headline.loc["Engagement rate at 7 days", "this_week"])
    assert headline.loc["Chat sessions", "change_vs_previous_week"] == "n/a"
    assert "has no data for this week" in empty.section("headline").summary
    assert empty.section("funnel").summary == "No chat sessions started this week."
    assert empty.section("engagement").charts == ()
    assert empty.headline.startswith("0 leads; 0 chat sessions")
    json.dumps(empty.to_dict(), allow_nan=False)
    assert "<section" in empty._repr_html_() and empty.to_markdown()


# --- hostile text and gaps, on a modified copy ----------------------------------------------------------


@pytest.fixture(scope="module")
def tampered(
    warehouse: Path, week: IsoWeek, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A copy with an XSS post (high engagement, more clicks than impressions) and no chat on the week's Wednesday."""
    copy = tmp_path_factory.mktemp("tampered") / "copy.duckdb"
    shutil.copy(warehouse, copy)
    published = week.start - timedelta(days=4)
    wednesday = week.start + timedelta(days=2)
    with connect(copy) as writer:
        writer.execute(
            """INSERT INTO raw.posts (post_id, platform, published_at, content_type, text, origin, observed_at,
                                      impressions, likes, comments, shares, saves, clicks, _load_id, _key)
               VALUES ('xss-1', 'instagram', ?, 'video', ?, 'human', ?, 90000, 40000, 1000, 1000, 1000, 95000, 1, 42)""",
            [published, XSS_TEXT, published + timedelta(days=8)],
        )
        writer.execute(
            "DELETE FROM raw.chat_events WHERE ts >= ? AND ts < ?", [wednesday, wednesday + timedelta(days=1)]
        )
        build(writer)
    reader = connect(copy, read_only=True)
    yield reader
    reader.close()


def test_post_text_is_escaped_in_html_and_kept_raw_in_the_table(
    tampered: duckdb.DuckDBPyConnection, week: IsoWeek
) -> None:
    report = weekly_report(tampered, week)
    section = report.section("posts")
    assert section.table.iloc[0]["text"] == XSS_TEXT  # ranked first; the DataFrame keeps the raw text
    for page in (section._repr_html_(), section.table_html(), report._repr_html_()):
        assert XSS_ESCAPED in page
        assert "<script>alert" not in page and "<img src=x" not in page


def test_gaps_and_impossible_counters_are_flagged(tampered: duckdb.DuckDBPyConnection, week: IsoWeek) -> None:
    section = weekly_report(tampered, week).section("data_quality")
    table = section.table.set_index(["area", "check"])
    wednesday = _text.day((week.start + timedelta(days=2)).date())
    chat = table.loc[("chat events", "days without data")]
    assert (chat["value"], chat["status"]) == (1, "check")
    assert f"none on {wednesday}" in chat["finding"]
    volume = table.loc[("chat sessions", "daily volume vs trailing median")]
    assert volume["status"] == "check" and wednesday in volume["finding"]
    assert table.loc[("posts", "clicks above impressions"), "value"] == 1
    assert f"chat events on {wednesday}" in section.summary
    assert section.charts[0].takeaway == volume["finding"]


# --- the Experiments section ---------------------------------------------------------------------------


EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def _definition(folder: Path, **changes: Any) -> Path:
    """experiments/exp-bot-prompt-v2.yaml copied into `folder` with top-level `changes`; returns the folder."""
    import yaml

    data = yaml.safe_load((EXPERIMENTS / "exp-bot-prompt-v2.yaml").read_text())
    data.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{data['id']}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def _experiments(con: duckdb.DuckDBPyConnection, week: IsoWeek, folder: Path, reports: Path | None = None) -> Any:
    return weekly_report(con, week, experiments_dir=folder, reports_root=reports).section("experiments")


def test_experiments_section_gives_each_running_experiment_its_verdict_as_of_the_end_of_the_week(
    con: duckdb.DuckDBPyConnection, week: IsoWeek
) -> None:
    import warnings

    from insights.experiments import analyze_experiment, load_experiments

    section = _experiments(con, week, EXPERIMENTS)
    table = section.table.set_index("experiment_id")

    shown = 0
    for experiment in load_experiments(EXPERIMENTS):
        first = scalar(con, "SELECT min(assigned_at) FROM staging.assignments WHERE experiment_id = ?", experiment.id)
        if first is None or first >= week.end:
            assert experiment.id not in table.index
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            readout = analyze_experiment(con, experiment, as_of=week.end)
        line = table.loc[experiment.id]
        assert line["verdict"] == readout.verdict
        assert line["units_per_arm"] == " · ".join(f"{arm} {n:,}" for arm, n in readout.n_units.items())
        assert line["days_running"] == -(-(week.end - first).total_seconds() // 86_400)
        assert line["status"] == "running" and line["experiment"] == experiment.title
        assert f"{experiment.title} (day {int(line['days_running'])})" in section.summary
        shown += 1
    assert shown >= 1
    assert section.charts == ()


def test_no_definitions_is_one_line_and_no_table(con: duckdb.DuckDBPyConnection, week: IsoWeek, tmp_path: Path) -> None:
    from insights.reports.render import section_html

    section = _experiments(con, week, tmp_path / "none")

    assert section.summary.startswith("No experiments are defined in ") and section.summary.count(".") == 2
    assert section.table.empty and section.table_html() == ""
    assert "<table" not in section_html(section)


def test_a_definition_that_cannot_be_read_is_a_sentence_not_a_failed_report(
    con: duckdb.DuckDBPyConnection, week: IsoWeek, tmp_path: Path
) -> None:
    folder = _definition(tmp_path / "broken")
    (folder / "exp-broken.yaml").write_text("id: exp-broken\nmetrics: [\n")
    metric = {"role": "primary", "type": "proportion", "table": "marts.nope", "unit_column": "user_id"}
    missing = _definition(tmp_path / "missing", metrics={"x": {**metric, "time_column": "started_at"}})

    section = _experiments(con, week, folder)
    line = _experiments(con, week, missing).table.iloc[0]

    assert "1 definition cannot be read: " in section.summary and "exp-broken.yaml" in section.summary
    assert list(section.table["experiment_id"]) == ["exp-bot-prompt-v2"]
    assert line["status"] == "cannot be read out"
    assert "'marts.nope' is not in the warehouse" in line["verdict"]


def test_experiments_outside_the_week_are_left_out_and_named(
    con: duckdb.DuckDBPyConnection, week: IsoWeek, tmp_path: Path
) -> None:
    ended = _definition(tmp_path / "ended", end=(week.start - timedelta(days=7)).date().isoformat())
    planned = _definition(tmp_path / "planned", start=(week.end + timedelta(days=1)).date().isoformat())
    ending = _definition(tmp_path / "ending", end=(week.start + timedelta(days=3)).date().isoformat())

    assert _experiments(con, week, ended).summary == ("None of the 1 defined experiment ran during the week.")
    assert _experiments(con, week, planned).table.empty
    line = _experiments(con, week, ending).table.iloc[0]
    assert line["status"] == f"ended {_text.day((week.start + timedelta(days=2)).date())}"


def test_each_line_links_the_latest_readout_page(con: duckdb.DuckDBPyConnection, week: IsoWeek, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    for day, created in (("2026-11-01", "2026-11-01T06:00:00Z"), ("2026-11-15", "2026-11-15T06:00:00Z")):
        run = reports / "experiment" / "exp-bot-prompt-v2" / day
        run.mkdir(parents=True)
        manifest = {"name": "experiment", "group": "exp-bot-prompt-v2", "period": day, "created_at": created}
        (run / "manifest.json").write_text(json.dumps(manifest))
    section = _experiments(con, week, EXPERIMENTS, reports)
    html = section.table_html()

    assert section.table["experiment_id"].iloc[0] == "exp-bot-prompt-v2"
    assert section.links[0] == "../../experiment/exp-bot-prompt-v2/2026-11-15/report.html"
    assert '<a href="../../experiment/exp-bot-prompt-v2/2026-11-15/report.html">readout</a>' in html
    assert html.count("<a href=") == 1 and html.count("none yet") == len(section.table) - 1
    assert json.loads(json.dumps(section.to_dict()))["table"][0]["readout"] == section.links[0]


def test_experiment_text_is_escaped_in_the_weekly_section(
    con: duckdb.DuckDBPyConnection, week: IsoWeek, tmp_path: Path
) -> None:
    section = _experiments(con, week, _definition(tmp_path, title=f"Prompt {XSS_TEXT}"))

    assert section.table.iloc[0]["experiment"] == f"Prompt {XSS_TEXT}"  # raw in the DataFrame
    for page in (section._repr_html_(), section.table_html()):
        assert XSS_ESCAPED in page
        assert "<script>alert" not in page and "<img src=x" not in page
