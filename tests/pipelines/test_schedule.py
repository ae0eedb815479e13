"""Cron -> scheduled times -> periods -> what is due, at fixed times: week and year boundaries, time zones, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights.pipelines.periods import PERIOD_KINDS
from insights.pipelines.schedule import (
    describe_cron,
    due_runs,
    next_run,
    pipeline_statuses,
    produced_outputs,
    recent_runs,
)
from insights.pipelines.spec import PipelineSpec
from tests.pipelines.conftest import weeks


def spec(
    schedule: str = "0 6 * * 1",
    *,
    period: str = "previous_iso_week",
    timezone: str = "UTC",
    catch_up: int = 8,
    name: str = "weekly",
) -> PipelineSpec:
    placeholder = PERIOD_KINDS[period].placeholder
    return PipelineSpec(
        name=name,
        notebook=name,
        schedule=schedule,
        period=period,
        output=f"{name}/{{{placeholder}}}/report.html",
        path=Path(f"{name}.yaml"),
        timezone=timezone,
        catch_up=catch_up,
    )


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def labels(runs) -> list[str]:
    return [r.period.label for r in runs]


# -- week boundaries, UTC --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "latest", "since"),
    [
        ("2026-03-08 23:59", "2026-W09", "2026-03-02 06:00"),  # Sunday night: W10 is not over yet
        ("2026-03-09 05:59", "2026-W09", "2026-03-02 06:00"),  # Monday, before the 06:00 run
        ("2026-03-09 06:00", "2026-W10", "2026-03-09 06:00"),  # exactly at the run: due
        ("2026-03-15 23:00", "2026-W10", "2026-03-09 06:00"),
        ("2026-01-05 06:30", "2026-W01", "2026-01-05 06:00"),  # ISO 2026-W01 starts on 2025-12-29
        ("2026-01-04 12:00", "2025-W52", "2025-12-29 06:00"),
        ("2027-01-04 07:00", "2026-W53", "2027-01-04 06:00"),  # 2026 has 53 ISO weeks
    ],
)
def test_the_latest_run_covers_the_last_week_completed_before_the_scheduled_time(now, latest, since):
    runs = recent_runs(spec(), utc(now), count=1)
    assert labels(runs) == weeks(latest)
    assert runs[0].scheduled_at == utc(since)


def test_recent_runs_go_back_catch_up_weeks_newest_first_across_a_year_boundary():
    runs = recent_runs(spec(catch_up=4), utc("2026-01-13 08:00"))
    assert labels(runs) == weeks("2026-W02", "2026-W01", "2025-W52", "2025-W51")
    assert [r.scheduled_at for r in runs] == [
        utc(t) for t in ("2026-01-12 06:00", "2026-01-05 06:00", "2025-12-29 06:00", "2025-12-22 06:00")
    ]


def test_an_hourly_schedule_covers_each_week_once_from_its_first_hour():
    runs = recent_runs(spec("17 * * * *", catch_up=3), utc("2026-03-09 00:16"))
    # 00:17 on Monday 9 March has not come: the latest run (Sunday 23:17) still covers W09
    assert labels(runs) == weeks("2026-W09", "2026-W08", "2026-W07")
    assert runs[0].scheduled_at == utc("2026-03-02 00:17")


def test_a_daily_schedule_covers_the_previous_day():
    runs = recent_runs(spec("30 7 * * *", period="previous_day", catch_up=3), utc("2026-03-01 07:29"))
    assert labels(runs) == ["2026-02-27", "2026-02-26", "2026-02-25"]
    assert runs[0].scheduled_at == utc("2026-02-28 07:30")


def test_a_monthly_schedule_covers_the_previous_month():
    runs = recent_runs(spec("0 8 2 * *", period="previous_month", catch_up=2), utc("2026-03-02 08:00"))
    assert labels(runs) == ["2026-02", "2026-01"]


# -- time zones and daylight saving time ----------------------------------------------------------------


def test_a_schedule_in_new_york_runs_at_six_local_time_on_both_sides_of_the_dst_change():
    # The US moved to summer time on Sunday 8 March 2026: Monday 06:00 is 11:00 UTC before, 10:00 UTC after.
    ny = spec(timezone="America/New_York")
    assert labels(recent_runs(ny, utc("2026-03-09 09:59"), count=1)) == weeks("2026-W09")
    runs = recent_runs(ny, utc("2026-03-09 10:00"), count=2)
    assert labels(runs) == weeks("2026-W10", "2026-W09")
    assert [r.scheduled_at for r in runs] == [utc("2026-03-09 10:00"), utc("2026-03-02 11:00")]
    # the same instant in UTC has already passed 06:00 UTC and covers W10
    assert labels(recent_runs(spec(), utc("2026-03-09 09:59"), count=1)) == weeks("2026-W10")


def test_the_period_follows_the_local_date_not_the_utc_date():
    # Monday 01:30 in Tokyo is Sunday 16:30 UTC: the local week is over, the UTC week is not.
    tokyo = spec("30 1 * * 1", timezone="Asia/Tokyo")
    runs = recent_runs(tokyo, utc("2026-03-08 17:00"), count=1)
    assert labels(runs) == weeks("2026-W10")
    assert runs[0].scheduled_at == utc("2026-03-08 16:30")


def test_a_local_time_skipped_by_spring_forward_runs_after_the_gap_and_a_repeated_one_runs_once():
    berlin = spec("30 2 * * *", period="previous_day", timezone="Europe/Berlin", catch_up=3)
    # 29 March 2026: 02:00 -> 03:00 in Berlin, so 02:30 does not exist; the run happens at 03:30 CEST.
    spring = recent_runs(berlin, utc("2026-03-30 12:00"))
    assert labels(spring) == ["2026-03-29", "2026-03-28", "2026-03-27"]
    assert [r.scheduled_at for r in spring] == [
        utc("2026-03-30 00:30"),
        utc("2026-03-29 01:30"),
        utc("2026-03-28 01:30"),
    ]
    # 25 October 2026: 03:00 -> 02:00, so 02:30 happens twice; the run is the first one (00:30 UTC).
    autumn = recent_runs(berlin, utc("2026-10-25 12:00"))
    assert [r.scheduled_at for r in autumn][:2] == [utc("2026-10-25 00:30"), utc("2026-10-24 00:30")]
    assert next_run(berlin, utc("2026-10-25 00:30")) == utc("2026-10-26 01:30")


def test_next_run_is_the_first_scheduled_time_after_now():
    assert next_run(spec(), utc("2026-03-09 06:00")) == utc("2026-03-16 06:00")
    assert next_run(spec(), utc("2026-03-09 05:59")) == utc("2026-03-09 06:00")
    assert next_run(spec(timezone="Europe/Paris"), utc("2026-03-28 12:00")) == utc("2026-03-30 04:00")


# -- due and catch-up ------------------------------------------------------------------------------------


def test_outputs_missing_for_two_past_weeks_are_both_due_oldest_first(project):
    weekly = spec()
    now = utc("2026-03-10 07:00")
    recent = labels(recent_runs(weekly, now))
    assert recent == weeks(*(f"2026-W{n:02d}" for n in range(10, 2, -1)))
    project.produce("weekly", *[w for w in recent if w not in ("2026-W08", "2026-W09")])
    due = due_runs([weekly], now, reports_root=project.reports)
    assert labels(due) == weeks("2026-W08", "2026-W09")
    assert [r.output for r in due] == [
        project.reports / "weekly" / w / "report.html" for w in weeks("2026-W08", "2026-W09")
    ]
    assert not any(r.produced for r in due)


def test_nothing_is_due_when_the_outputs_exist(project):
    weekly = spec()
    now = utc("2026-03-10 07:00")
    project.produce("weekly", *labels(recent_runs(weekly, now)))
    assert due_runs([weekly], now, reports_root=project.reports) == []


def test_the_look_back_is_bounded_by_catch_up(project):
    # Nothing produced at all (a fresh install, or a machine off for months): only the last catch_up periods.
    due = due_runs([spec(catch_up=3)], utc("2026-03-10 07:00"), reports_root=project.reports)
    assert labels(due) == weeks("2026-W08", "2026-W09", "2026-W10")


def test_a_week_becomes_due_only_when_its_run_time_has_come(project):
    project.produce("weekly", "2026-W09")
    assert due_runs([spec(catch_up=1)], utc("2026-03-09 05:59"), reports_root=project.reports) == []
    assert labels(due_runs([spec(catch_up=1)], utc("2026-03-09 06:00"), reports_root=project.reports)) == weeks(
        "2026-W10"
    )


def test_due_runs_of_several_pipelines_are_ordered_by_when_they_became_due(project):
    weekly = spec(catch_up=2)
    daily = spec("0 5 * * *", period="previous_day", catch_up=2, name="daily")
    due = due_runs([weekly, daily], utc("2026-03-10 07:00"), reports_root=project.reports)
    assert [(r.pipeline, r.period.label) for r in due] == [
        ("weekly", "2026-W09"),
        ("daily", "2026-03-08"),
        ("weekly", "2026-W10"),
        ("daily", "2026-03-09"),
    ]
    assert [r.scheduled_at for r in due] == sorted(r.scheduled_at for r in due)


def test_list_shows_the_last_produced_output_and_the_next_run(project):
    weekly = spec()
    project.produce("weekly", "2026-W01", "2026-W07")
    (project.reports / "weekly" / "not-a-week").mkdir()
    (project.reports / "weekly" / "not-a-week" / "report.html").write_text("")
    assert [p.label for p, _ in produced_outputs(weekly, project.reports)] == weeks("2026-W01", "2026-W07")
    listing = pipeline_statuses(
        [weekly], utc("2026-03-10 07:00"), pipelines_dir=project.pipelines, reports_root=project.reports
    )
    status = listing.to_dict()["pipelines"][0]
    assert status["last_produced"] == {
        "period": "2026-W07",
        "output": str(project.reports / "weekly" / "2026-W07" / "report.html"),
    }
    assert status["next_run"] == "2026-03-16T06:00:00+00:00"
    assert status["schedule_text"] == "every Monday at 06:00 UTC"
    assert [d["period"] for d in status["due"]] == weeks(
        "2026-W03", "2026-W04", "2026-W05", "2026-W06", "2026-W08", "2026-W09", "2026-W10"
    )
    text = str(listing)
    assert "last produced  2026-W07" in text and "next run       2026-03-16 06:00 UTC" in text


@pytest.mark.parametrize(
    ("expression", "timezone", "words"),
    [
        ("0 6 * * 1", "UTC", "every Monday at 06:00 UTC"),
        ("@weekly", "UTC", "every Sunday at 00:00 UTC"),
        ("30 7 * * *", "Europe/Paris", "every day at 07:30 (Europe/Paris)"),
        ("5 * * * *", "UTC", "every hour at minute 5 UTC"),
        ("0 6 * * mon-fri", "UTC", "every Monday to Friday at 06:00 UTC"),
        ("0 6 * * 1,3,5", "UTC", "every Monday, Wednesday and Friday at 06:00 UTC"),
        ("0 8 2 * *", "UTC", "on day 2 of every month at 08:00 UTC"),
        ("*/15 9-17 * * *", "UTC", "cron '*/15 9-17 * * *' UTC"),
    ],
)
def test_schedules_are_described_in_words_when_they_have_a_common_shape(expression, timezone, words):
    assert describe_cron(expression, timezone) == words


# -- properties -----------------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@settings(max_examples=60, deadline=None)
@given(now=moments, catch_up=st.integers(1, 5))
def test_the_weekly_runs_agree_with_a_direct_calendar_computation(now, catch_up):
    runs = recent_runs(spec(catch_up=catch_up), now)
    # The latest Monday 06:00 UTC at or before now, computed without cron:
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), datetime.min.time(), tzinfo=UTC)
    latest = monday + timedelta(hours=6)
    if latest > now:
        latest -= timedelta(days=7)
    assert [r.scheduled_at for r in runs] == [latest - timedelta(days=7 * i) for i in range(catch_up)]
    assert [r.period.start for r in runs] == [latest.date() - timedelta(days=7 * (i + 1)) for i in range(catch_up)]


@settings(max_examples=60, deadline=None)
@given(
    now=moments,
    schedule=st.sampled_from(["0 6 * * 1", "17 * * * *", "0 0 * * *", "45 23 * * 0", "0 5 1 * *"]),
    period=st.sampled_from(sorted(PERIOD_KINDS)),
    timezone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]),
)
def test_recent_runs_cover_distinct_complete_periods_newest_first(now, schedule, period, timezone):
    pipeline = spec(schedule, period=period, timezone=timezone, catch_up=4)
    runs = recent_runs(pipeline, now)
    assert len(runs) == 4
    starts = [r.period.start for r in runs]
    assert starts == sorted(starts, reverse=True) and len(set(starts)) == 4
    for run in runs:
        assert run.scheduled_at <= now
        local_day = run.scheduled_at.astimezone(pipeline.zone).date()
        assert run.period.end < local_day  # a run never covers a period that is not over
        assert run.period == PERIOD_KINDS[period].last_complete(local_day)


@given(day=st.dates(min_value=date(1900, 1, 8), max_value=date(9998, 12, 1)))
def test_week_labels_agree_with_the_reports_iso_week(day):
    from insights.reports.weeks import IsoWeek

    kind = PERIOD_KINDS["previous_iso_week"]
    assert kind.last_complete(day).label == IsoWeek.last_complete(day).label
    assert kind.containing(day).label == IsoWeek.containing(day).label
    assert kind.parse(IsoWeek.containing(day).label).start == IsoWeek.containing(day).start.date()


def test_the_catch_up_example_of_the_docs(project):
    # docs/scheduling.md: the machine was off from Friday 27 February to Wednesday 11 March 2026.
    weekly = spec()
    project.produce("weekly", *[f"2026-W{n:02d}" for n in range(1, 9)])
    due = due_runs([weekly], utc("2026-03-11 09:00"), reports_root=project.reports)
    assert labels(due) == weeks("2026-W09", "2026-W10")
    assert [r.scheduled_at for r in due] == [utc("2026-03-02 06:00"), utc("2026-03-09 06:00")]


def test_list_shows_the_next_run_on_the_specs_own_clock_too(project):
    paris = spec(timezone="Europe/Paris", catch_up=1)
    listing = pipeline_statuses(
        [paris], utc("2026-03-28 12:00"), pipelines_dir=project.pipelines, reports_root=project.reports
    )
    assert "next run       2026-03-30 04:00 UTC (2026-03-30 06:00 Europe/Paris)" in str(listing)
    assert "every Monday at 06:00 (Europe/Paris)" in str(listing)
