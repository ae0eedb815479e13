"""When a pipeline runs, which period each run covers, and what is due.

A spec's cron schedule is read on the wall clock of its time zone. Each scheduled time maps to the last
complete period at that local date (`period:` in the spec), so many scheduled times can cover one period
(an hourly schedule with `previous_iso_week` covers each week 168 times). A period is *due* when one of its
scheduled times has passed and its output file does not exist yet; `pipeline due` looks back over the
spec's last `catch_up` periods, so a trigger that missed runs (machine off, CI skipped) catches up, oldest first.

Daylight saving time: a scheduled wall-clock time that does not exist (spring forward) happens after the gap,
one that happens twice (fall back) counts once, at its first occurrence, as cron daemons do.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from glob import escape as glob_escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from insights.errors import InsightsError
from insights.pipelines.periods import Period, PeriodKind
from insights.pipelines.spec import REPORTS_DIR, PipelineSpec

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")
_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_DAY_ABBREVIATIONS = {name[:3].lower(): i for i, name in enumerate(_DAY_NAMES)}


class PipelineDependencyError(InsightsError, ImportError):
    """An optional package the pipelines need is not installed."""


@dataclass(frozen=True)
class ScheduledRun:
    """The run of a pipeline that covers one period: when it became due and where its output goes."""

    pipeline: str
    period: Period
    #: The first scheduled time (UTC) that covers the period: the run has been due since then.
    scheduled_at: datetime
    #: The output file (the reports folder joined with the spec's output).
    output: Path
    produced: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "period": self.period.label,
            "period_start": self.period.start.isoformat(),
            "period_end": self.period.end.isoformat(),
            "scheduled_at": self.scheduled_at.isoformat(),
            "output": str(self.output),
            "produced": self.produced,
        }


def expand_cron(expression: str) -> str:
    """The five-field form of a schedule (aliases such as @weekly expanded)."""
    expression = " ".join(expression.split())
    return ALIASES.get(expression.lower(), expression)


def check_cron(expression: str) -> str | None:
    """What is wrong with a cron expression, or None when it is a valid five-field schedule that fires."""
    croniter, _ = _croniter()
    if expression.startswith("@") and expression.lower() not in ALIASES:
        return f"{expression} is not a known alias"
    expanded = expand_cron(expression)
    n_fields = len(expanded.split())
    if n_fields != 5:
        return f"it has {n_fields} field{'s' if n_fields != 1 else ''}"
    # croniter's own messages do not say which field is wrong: try each field alone first.
    for i, (name, value) in enumerate(zip(_FIELD_NAMES, expanded.split(), strict=True)):
        alone = " ".join(value if j == i else "*" for j in range(5))
        try:
            croniter(alone, datetime(2000, 1, 1))
        except (ValueError, KeyError, TypeError, IndexError):
            return f"the {name} field {value!r} is out of range or malformed"
    try:
        croniter(expanded, datetime(2000, 1, 1)).get_next(datetime)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        detail = re.sub(r"^\[[^\]]*\]\s*", "", str(exc)).strip() or type(exc).__name__
        return "it never fires" if "failed to find" in detail else detail
    return None


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def recent_runs(
    spec: PipelineSpec, now: datetime, *, count: int | None = None, reports_root: Path = REPORTS_DIR
) -> list[ScheduledRun]:
    """The runs covering the last `count` periods (default: the spec's catch_up) whose time has come, newest first.

    Each period appears once, with the first scheduled time that covers it.
    """
    croniter, bad_date = _croniter()
    count = spec.catch_up if count is None else count
    now = as_utc(now)
    zone = spec.zone
    expression = expand_cron(spec.schedule)
    kind = spec.period_kind
    # croniter's get_prev is strict; one second more includes a run scheduled exactly at `now`.
    cursor = _wall_clock(now, zone) + timedelta(seconds=1)
    runs: list[ScheduledRun] = []
    while len(runs) < count:
        try:
            local = croniter(expression, cursor).get_prev(datetime)
        except bad_date:
            break
        cursor = local
        if _instant(local, zone) > now:
            continue  # a wall-clock time in the repeated hour of a fall-back night, not reached yet
        period = kind.last_complete(local.date())
        # Every scheduled time from the end of the period on covers it (until the next period ends):
        # jump there, so the next get_prev lands in the window of the period before.
        window_start = datetime.combine(period.end + timedelta(days=1), time())
        first = croniter(expression, window_start - timedelta(seconds=1)).get_next(datetime)
        output = reports_root / spec.output_for(period)
        runs.append(ScheduledRun(spec.name, period, _instant(first, zone), output, output.is_file()))
        cursor = window_start
    return runs


def latest_run(spec: PipelineSpec, now: datetime, *, reports_root: Path = REPORTS_DIR) -> ScheduledRun | None:
    """The run for the most recent period the schedule has reached, produced or not."""
    runs = recent_runs(spec, now, count=1, reports_root=reports_root)
    return runs[0] if runs else None


def due_runs(specs: Iterable[PipelineSpec], now: datetime, *, reports_root: Path = REPORTS_DIR) -> list[ScheduledRun]:
    """Runs whose time has come and whose output does not exist, within each spec's catch_up, oldest first."""
    due = [run for spec in specs for run in recent_runs(spec, now, reports_root=reports_root) if not run.produced]
    return sorted(due, key=lambda r: (r.scheduled_at, r.period.start, r.pipeline))


def run_for_period(spec: PipelineSpec, period: Period, *, reports_root: Path = REPORTS_DIR) -> ScheduledRun:
    """The run that covers a given period (its first scheduled time after the period ended)."""
    croniter, bad_date = _croniter()
    window_start = datetime.combine(period.end + timedelta(days=1), time())
    try:
        first = croniter(expand_cron(spec.schedule), window_start - timedelta(seconds=1)).get_next(datetime)
        scheduled_at = _instant(first, spec.zone)
    except bad_date:
        scheduled_at = _instant(window_start, spec.zone)
    output = reports_root / spec.output_for(period)
    return ScheduledRun(spec.name, period, scheduled_at, output, output.is_file())


def next_run(spec: PipelineSpec, now: datetime) -> datetime | None:
    """The next scheduled time after `now` (UTC), or None if the schedule never fires again."""
    croniter, bad_date = _croniter()
    now = as_utc(now)
    iterator = croniter(expand_cron(spec.schedule), _wall_clock(now, spec.zone))
    for _ in range(1000):  # more than one pass only around a fall-back night
        try:
            candidate = _instant(iterator.get_next(datetime), spec.zone)
        except bad_date:
            return None
        if candidate > now:
            return candidate
    return None


def produced_outputs(spec: PipelineSpec, reports_root: Path = REPORTS_DIR) -> list[tuple[Period, Path]]:
    """Every existing output of the spec in the reports folder, oldest period first."""
    kind = spec.period_kind
    pattern, regex = _output_patterns(spec.output)
    found: dict[Period, Path] = {}
    for path in reports_root.glob(pattern):
        relative = path.relative_to(reports_root).as_posix()
        match = regex.fullmatch(relative)
        if match is None or not path.is_file():
            continue
        period = _period_from_match(kind, match.groupdict())
        if period is not None and spec.output_for(period).as_posix() == relative:
            found[period] = path
    return sorted(found.items())


def describe_cron(expression: str, timezone: str = "UTC") -> str:
    """The schedule in words when it has a common shape, else the cron expression.

    >>> describe_cron("0 6 * * 1")
    'every Monday at 06:00 UTC'
    >>> describe_cron("15 * * * *", "Europe/Paris")
    'every hour at minute 15 (Europe/Paris)'
    """
    minute, hour, day, month, weekday = expand_cron(expression).split()
    zone = f" {timezone}" if timezone == "UTC" else f" ({timezone})"
    if minute.isdigit() and hour == "*" and day == month == weekday == "*":
        return f"every hour at minute {int(minute)}{zone}"
    if minute.isdigit() and hour.isdigit() and month == "*":
        at = f"{int(hour):02d}:{int(minute):02d}"
        if day == "*" and weekday == "*":
            return f"every day at {at}{zone}"
        days = _weekdays_in_words(weekday)
        if day == "*" and days is not None:
            return f"every {days} at {at}{zone}"
        if day.isdigit() and weekday == "*":
            return f"on day {int(day)} of every month at {at}{zone}"
    return f"cron '{expression}'{zone}"


def _croniter() -> tuple[Any, type[Exception]]:
    try:
        from croniter import CroniterBadDateError, croniter  # type: ignore[import-untyped]
    except ImportError:
        raise PipelineDependencyError(
            "Pipelines need the croniter package, part of the reports extra; install it with "
            "pip install 'insights[reports]' (make setup does)."
        ) from None
    return croniter, CroniterBadDateError


def _wall_clock(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _instant(wall_clock: datetime, zone: ZoneInfo) -> datetime:
    # fold=0: a repeated time means its first occurrence; a skipped time gets the offset from before the gap,
    # which puts it just after the gap (02:30 on a spring-forward night in Paris happens at 03:30 summer time).
    return wall_clock.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _output_patterns(template: str) -> tuple[str, re.Pattern[str]]:
    glob_parts: list[str] = []
    regex_parts: list[str] = []
    seen: set[str] = set()
    for literal, name, _, _ in string.Formatter().parse(template):
        glob_parts.append(glob_escape(literal))
        regex_parts.append(re.escape(literal))
        if name is None:
            continue
        glob_parts.append("*")
        regex_parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>[^/]+)")
        seen.add(name)
    return "".join(glob_parts), re.compile("".join(regex_parts))


def _period_from_match(kind: PeriodKind, values: dict[str, str]) -> Period | None:
    try:
        for key in (kind.placeholder, "period"):
            if key in values:
                return kind.parse(values[key])
        for key in ("start", "end"):
            if key in values:
                return kind.containing(date.fromisoformat(values[key]))
    except ValueError:
        return None
    return None


def _weekdays_in_words(field: str) -> str | None:
    try:
        if "-" in field and "," not in field:
            first, last = (_weekday_number(b) for b in field.split("-", 1))
            return f"{_DAY_NAMES[first % 7]} to {_DAY_NAMES[last % 7]}" if first < last else None
        names = [_DAY_NAMES[_weekday_number(part) % 7] for part in field.split(",")]
    except ValueError:
        return None
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _weekday_number(text: str) -> int:
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    if text.lower() in _DAY_ABBREVIATIONS:
        return _DAY_ABBREVIATIONS[text.lower()]
    raise ValueError(text)


@dataclass(frozen=True)
class PipelineStatus:
    """One pipeline as `pipeline list` shows it: its schedule, next run, last output and what is due."""

    spec: PipelineSpec
    next_run: datetime | None
    last_produced: tuple[Period, Path] | None
    due: tuple[ScheduledRun, ...]

    @property
    def schedule_text(self) -> str:
        return describe_cron(self.spec.schedule, self.spec.timezone)

    def to_dict(self) -> dict[str, Any]:
        last = self.last_produced
        return {
            **self.spec.to_dict(),
            "schedule_text": self.schedule_text,
            "next_run": self.next_run.isoformat() if self.next_run else None,
            "last_produced": {"period": last[0].label, "output": str(last[1])} if last else None,
            "due": [r.to_dict() for r in self.due],
        }

    def __str__(self) -> str:
        spec = self.spec
        kind = spec.period_kind
        parameters = ", ".join(f"{k}={v}" for k, v in spec.parameters.items())
        last = self.last_produced
        lines = [
            f"{spec.name}" + (f": {spec.description}" if spec.description else ""),
            f"  notebook       {spec.notebook}" + (f" ({parameters})" if parameters else ""),
            f"  schedule       {self.schedule_text} ('{spec.schedule}'), each run covers the previous "
            f"{kind.description}",
            f"  next run       {self._next_run_text()}",
            f"  last produced  {f'{last[0].label}  {last[1]}' if last else 'nothing yet'}",
            f"  due now        {', '.join(r.period.label for r in self.due) or 'nothing'}"
            + (f" (of the last {spec.catch_up} {kind.description}s)" if spec.catch_up > 1 else ""),
        ]
        return "\n".join(lines)

    def _next_run_text(self) -> str:
        if self.next_run is None:
            return "never"
        text = format_utc(self.next_run)
        if self.spec.timezone != "UTC":
            local = self.next_run.astimezone(self.spec.zone)
            text += f" ({local:%Y-%m-%d %H:%M} {self.spec.timezone})"
        return text


@dataclass(frozen=True)
class PipelineList:
    """Every pipeline's status at `now`."""

    now: datetime
    pipelines_dir: Path
    statuses: tuple[PipelineStatus, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "pipelines": [s.to_dict() for s in self.statuses]}

    def __str__(self) -> str:
        if not self.statuses:
            return f"No pipelines in {self.pipelines_dir}/ (one YAML spec per scheduled job; see docs/scheduling.md)."
        return "\n\n".join(str(s) for s in self.statuses)


def pipeline_statuses(
    specs: Iterable[PipelineSpec], now: datetime, *, pipelines_dir: Path, reports_root: Path = REPORTS_DIR
) -> PipelineList:
    """The status of each spec at `now`, for `pipeline list`."""
    now = as_utc(now)
    statuses = []
    for spec in specs:
        produced = produced_outputs(spec, reports_root)
        due = tuple(r for r in reversed(recent_runs(spec, now, reports_root=reports_root)) if not r.produced)
        statuses.append(PipelineStatus(spec, next_run(spec, now), produced[-1] if produced else None, due))
    return PipelineList(now, pipelines_dir, tuple(statuses))


def format_utc(moment: datetime) -> str:
    """A time as 'YYYY-MM-DD HH:MM UTC'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
