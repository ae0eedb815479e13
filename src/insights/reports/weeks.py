"""ISO weeks, the period of the weekly report: Monday 00:00 UTC to the next Monday 00:00 UTC.

>>> week = IsoWeek.parse("2026-W46")
>>> week.start.isoformat(), week.end.isoformat()
('2026-11-09T00:00:00+00:00', '2026-11-16T00:00:00+00:00')
>>> str(week.previous()), str(IsoWeek.last_complete(date(2026, 11, 22)))
('2026-W45', '2026-W46')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from insights.errors import invalid_parameter

_PATTERN = re.compile(r"(\d{4})-?W(\d{2})", re.IGNORECASE)
_WEEK = timedelta(days=7)


def weeks_in_year(year: int) -> int:
    """52 or 53: the ISO week of 28 December is always the year's last.

    >>> weeks_in_year(2026), weeks_in_year(2020)
    (53, 53)
    """
    return date(year, 12, 28).isocalendar().week


def _utc_date(day: date, function: str) -> date:
    if isinstance(day, datetime):
        # An aware datetime is a point in time: take its UTC calendar day. A naive one is read as UTC.
        return day.astimezone(UTC).date() if day.tzinfo is not None else day.date()
    if not isinstance(day, date):
        raise invalid_parameter("day", function, "must be a date", day)
    return day


@dataclass(frozen=True, order=True)
class IsoWeek:
    """One ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday), in UTC."""

    year: int
    week: int

    def __post_init__(self) -> None:
        for name in ("year", "week"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise invalid_parameter(name, "IsoWeek", "must be an integer", value)
        if not 1 <= self.year <= 9998:
            raise invalid_parameter("year", "IsoWeek", "must be between 1 and 9998", self.year)
        last = weeks_in_year(self.year)
        if not 1 <= self.week <= last:
            raise invalid_parameter(
                "week", "IsoWeek", f"must be between 1 and {last} (ISO year {self.year})", self.week
            )

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Read 'YYYY-Www' (e.g. '2026-W46'; 'YYYYWww' and a lower-case w are accepted too)."""
        match = _PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise invalid_parameter(
                "week", "IsoWeek.parse", "must be an ISO week written YYYY-Www, e.g. 2026-W46", text
            )
        year, week = int(match.group(1)), int(match.group(2))
        if not 1 <= year <= 9998 or not 1 <= week <= weeks_in_year(year):
            rule = f"must name a week that exists: ISO year {year} has weeks W01 to W{weeks_in_year(max(year, 1)):02d}"
            raise invalid_parameter("week", "IsoWeek.parse", rule, text)
        return cls(year, week)

    @classmethod
    def containing(cls, day: date) -> IsoWeek:
        """The week a day (or an instant, taken in UTC) falls in."""
        iso = _utc_date(day, "IsoWeek.containing").isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def last_complete(cls, today: date | None = None) -> IsoWeek:
        """The last week that has fully ended by `today` (default: today in UTC).

        A week ends at the next Monday 00:00 UTC, so on any day, Monday included, it is the week before
        the one `today` is in: on Sunday 22 Nov 2026 that is W46 (9-15 Nov), on Monday 23 Nov it is W47.
        """
        day = datetime.now(UTC).date() if today is None else _utc_date(today, "IsoWeek.last_complete")
        return cls.containing(day).previous()

    @property
    def label(self) -> str:
        """'YYYY-Www', e.g. '2026-W46'."""
        return f"{self.year:04d}-W{self.week:02d}"

    @property
    def start(self) -> datetime:
        """Monday 00:00 UTC, the first instant of the week."""
        return datetime.combine(date.fromisocalendar(self.year, self.week, 1), datetime.min.time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The next Monday 00:00 UTC: the week is the half-open interval [start, end)."""
        return self.start + _WEEK

    @property
    def days(self) -> tuple[date, ...]:
        """Monday to Sunday."""
        first = self.start.date()
        return tuple(first + timedelta(days=i) for i in range(7))

    def previous(self, n: int = 1) -> IsoWeek:
        """The week n weeks earlier (n = 0 is this week; a negative n goes forward)."""
        if not isinstance(n, int) or isinstance(n, bool):
            raise invalid_parameter("n", "IsoWeek.previous", "must be an integer", n)
        try:
            return IsoWeek.containing((self.start - n * _WEEK).date())
        except OverflowError:
            raise invalid_parameter(
                "n", "IsoWeek.previous", f"must stay within the years 1 to 9998 from {self}", n
            ) from None

    def __str__(self) -> str:
        return self.label
