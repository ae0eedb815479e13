"""ISO weeks: parsing, the last complete week, boundaries, and the arithmetic the weekly report relies on."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insights.errors import InvalidParameterError
from insights.reports.weeks import IsoWeek, weeks_in_year


@pytest.mark.parametrize(
    ("text", "year", "week"),
    [
        ("2026-W46", 2026, 46),
        ("2026-W01", 2026, 1),
        ("2020-W53", 2020, 53),  # 2020 starts on a Wednesday and is a leap year: 53 weeks
        ("2026-W53", 2026, 53),  # 2026 starts on a Thursday: 53 weeks
        ("2026w46", 2026, 46),
        (" 2015-W53 ", 2015, 53),
    ],
)
def test_parse_accepts_iso_week_labels(text: str, year: int, week: int) -> None:
    parsed = IsoWeek.parse(text)
    assert (parsed.year, parsed.week) == (year, week)
    assert parsed.label == f"{year}-W{week:02d}" == str(parsed)


@pytest.mark.parametrize(
    "text",
    ["2026-46", "2026-W5", "W46", "2026-W00", "2026-W54", "2025-W53", "2021-W53", "", "26-W46", "2026-W46x"],
)
def test_parse_refuses_anything_else_in_one_sentence(text: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        IsoWeek.parse(text)
    message = str(info.value)
    assert message.startswith("The 'week' parameter of IsoWeek.parse must")
    assert repr(text) in message


def test_parse_names_the_last_week_of_a_52_week_year() -> None:
    with pytest.raises(InvalidParameterError, match="ISO year 2025 has weeks W01 to W52"):
        IsoWeek.parse("2025-W53")


def test_parse_refuses_a_non_string() -> None:
    with pytest.raises(InvalidParameterError, match="Got 202646 instead"):
        IsoWeek.parse(202646)  # type: ignore[arg-type]


def test_constructor_checks_the_week_exists() -> None:
    with pytest.raises(InvalidParameterError, match="'week' parameter of IsoWeek must be between 1 and 52"):
        IsoWeek(2025, 53)
    with pytest.raises(InvalidParameterError, match="'year' parameter of IsoWeek must be an integer"):
        IsoWeek("2026", 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("year", range(1990, 2041))
def test_weeks_in_year_follows_the_calendar_rule(year: int) -> None:
    # Independent rule: a year has 53 ISO weeks iff it starts on a Thursday, or is a leap year starting on a Wednesday.
    starts = date(year, 1, 1).weekday()
    expected = 53 if starts == 3 or (calendar.isleap(year) and starts == 2) else 52
    assert weeks_in_year(year) == expected


def test_start_and_end_are_mondays_at_midnight_utc() -> None:
    week = IsoWeek(2026, 46)
    assert week.start == datetime(2026, 11, 9, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 16, tzinfo=UTC)
    assert week.start.utcoffset() == timedelta(0)
    assert week.days[0] == date(2026, 11, 9) and week.days[-1] == date(2026, 11, 15)


@pytest.mark.parametrize(
    ("day", "year", "week"),
    [
        (date(2024, 12, 30), 2025, 1),  # a Monday in December that belongs to next year's week 1
        (date(2027, 1, 1), 2026, 53),  # a Friday in January that belongs to last year's week 53
        (date(2026, 1, 1), 2026, 1),
        (date(2021, 1, 3), 2020, 53),
    ],
)
def test_containing_crosses_year_boundaries(day: date, year: int, week: int) -> None:
    assert IsoWeek.containing(day) == IsoWeek(year, week)


def test_start_of_week_one_can_be_in_the_previous_calendar_year() -> None:
    assert IsoWeek(2025, 1).start == datetime(2024, 12, 30, tzinfo=UTC)


def test_previous_crosses_year_boundaries() -> None:
    assert IsoWeek(2026, 1).previous() == IsoWeek(2025, 52)
    assert IsoWeek(2027, 1).previous() == IsoWeek(2026, 53)
    assert IsoWeek(2026, 46).previous(4) == IsoWeek(2026, 42)
    assert IsoWeek(2026, 46).previous(0) == IsoWeek(2026, 46)
    assert IsoWeek(2026, 53).previous(-1) == IsoWeek(2027, 1)


def test_last_complete_on_a_sunday_is_the_week_before() -> None:
    # Sunday 22 Nov 2026 is the last day of W47, which has not ended yet.
    assert IsoWeek.last_complete(date(2026, 11, 22)) == IsoWeek(2026, 46)


def test_last_complete_on_a_monday_is_the_week_that_just_ended() -> None:
    assert IsoWeek.last_complete(date(2026, 11, 23)) == IsoWeek(2026, 47)


def test_last_complete_reads_an_aware_instant_in_utc() -> None:
    # Monday 00:30 in Paris (+01:00) is still Sunday 23:30 UTC.
    paris = timezone(timedelta(hours=1))
    assert IsoWeek.last_complete(datetime(2026, 11, 23, 0, 30, tzinfo=paris)) == IsoWeek(2026, 46)
    assert IsoWeek.last_complete(datetime(2026, 11, 23, 1, 30, tzinfo=paris)) == IsoWeek(2026, 47)


def test_last_complete_defaults_to_today_in_utc() -> None:
    today = datetime.now(UTC).date()
    week = IsoWeek.last_complete()
    assert week.end <= datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    assert week.end + timedelta(days=7) > datetime.combine(today, datetime.min.time(), tzinfo=UTC)


def test_weeks_order_by_time() -> None:
    weeks = [IsoWeek(2026, 2), IsoWeek(2025, 52), IsoWeek(2026, 1)]
    assert sorted(weeks) == [IsoWeek(2025, 52), IsoWeek(2026, 1), IsoWeek(2026, 2)]


@given(st.dates(min_value=date(1900, 1, 8), max_value=date(2200, 12, 24)))
def test_a_day_lies_in_the_week_that_contains_it(day: date) -> None:
    week = IsoWeek.containing(day)
    instant = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    assert week.start <= instant < week.end
    assert week.end - week.start == timedelta(days=7)
    assert IsoWeek.parse(week.label) == week
    assert week.previous().end == week.start


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 1, 1)), st.integers(0, 300), st.integers(0, 300))
def test_previous_adds_up(day: date, n: int, m: int) -> None:
    week = IsoWeek.containing(day)
    assert week.previous(n).previous(m) == week.previous(n + m)
    assert (week.start - week.previous(n).start) == timedelta(weeks=n)
