"""Periods a scheduled run covers: how a run's local date maps to the complete week, day or month it reports on.

A run never covers the period it happens in: at a scheduled time, a pipeline reports on the last *complete*
period in the spec's time zone. The labels are the ones the reports use for their folders, e.g. `2026-W10`
(ISO week, as `insights.reports.weeks.IsoWeek.label`), `2026-03-09` (day) and `2026-03` (month).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from insights.errors import invalid_parameter


@dataclass(frozen=True, order=True)
class Period:
    """One complete period: its first and last day (both inclusive) and its label.

    >>> PERIOD_KINDS["previous_iso_week"].last_complete(date(2026, 3, 11)).label
    '2026-W10'
    """

    start: date
    end: date
    kind: str
    label: str

    @property
    def values(self) -> dict[str, str]:
        """The placeholders this period fills in parameters and output paths."""
        kind = PERIOD_KINDS[self.kind]
        return {
            kind.placeholder: self.label,
            "period": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "label": self.label, "start": self.start.isoformat(), "end": self.end.isoformat()}

    def __str__(self) -> str:
        return self.label


class PeriodKind:
    """How a scheduled run's date maps to the period it covers; subclasses are the `period:` values of a spec."""

    name: str = ""
    #: The placeholder that holds the label, besides the generic {period}.
    placeholder: str = ""
    #: A label, for messages.
    example: str = ""
    description: str = ""
    article: str = "a"

    @property
    def placeholders(self) -> tuple[str, ...]:
        return (self.placeholder, "period", "start", "end")

    def containing(self, day: date) -> Period:
        """The period `day` falls in."""
        raise NotImplementedError

    def last_complete(self, day: date) -> Period:
        """The last period that ended before `day` (the local date of a run)."""
        return self.containing(self.containing(day).start - timedelta(days=1))

    def parse(self, label: str, *, function: str = "parse") -> Period:
        """The period with this label; a label of another shape raises InvalidParameterError."""
        raise NotImplementedError

    def _bad_label(self, label: object, function: str) -> Exception:
        return invalid_parameter(
            "period", function, f"must be {self.article} {self.description} label such as {self.example}", label
        )


class PreviousIsoWeek(PeriodKind):
    name = "previous_iso_week"
    placeholder = "week"
    example = "2026-W10"
    description = "ISO week"
    article = "an"

    def containing(self, day: date) -> Period:
        return self._make(day - timedelta(days=day.weekday()))

    def parse(self, label: str, *, function: str = "parse") -> Period:
        match = re.fullmatch(r"(\d{4})-W(\d{2})", label)
        if match is None:
            raise self._bad_label(label, function)
        try:
            start = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            raise self._bad_label(label, function) from None
        return self._make(start)

    def _make(self, monday: date) -> Period:
        year, week, _ = monday.isocalendar()
        return Period(monday, monday + timedelta(days=6), self.name, f"{year}-W{week:02d}")


class PreviousDay(PeriodKind):
    name = "previous_day"
    placeholder = "day"
    example = "2026-03-09"
    description = "day"

    def containing(self, day: date) -> Period:
        return self._make(day)

    def parse(self, label: str, *, function: str = "parse") -> Period:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", label) is None:
            raise self._bad_label(label, function)
        try:
            return self._make(date.fromisoformat(label))
        except ValueError:
            raise self._bad_label(label, function) from None

    def _make(self, day: date) -> Period:
        return Period(day, day, self.name, day.isoformat())


class PreviousMonth(PeriodKind):
    name = "previous_month"
    placeholder = "month"
    example = "2026-03"
    description = "month"

    def containing(self, day: date) -> Period:
        return self._make(day.replace(day=1))

    def parse(self, label: str, *, function: str = "parse") -> Period:
        match = re.fullmatch(r"(\d{4})-(\d{2})", label)
        if match is None or not 1 <= int(match[2]) <= 12:
            raise self._bad_label(label, function)
        return self._make(date(int(match[1]), int(match[2]), 1))

    def _make(self, first: date) -> Period:
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return Period(first, following - timedelta(days=1), self.name, first.strftime("%Y-%m"))


PERIOD_KINDS: dict[str, PeriodKind] = {k.name: k for k in (PreviousIsoWeek(), PreviousDay(), PreviousMonth())}
