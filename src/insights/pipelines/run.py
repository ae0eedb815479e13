"""Running pipelines: one period on request (`pipeline run`), or every due period, oldest first (`pipeline due --run`).

The notebook itself is run by the report runner (`insights.reports.runner.run_report`); a pipeline only decides
which period, fills the parameters and checks that the output it expects was written. The runner is a
parameter, so tests (and other schedulers) can pass their own function with run_report's signature.

>>> result = run_pipeline("weekly")  # doctest: +SKIP
>>> result.status, str(result.output)  # doctest: +SKIP
('ran', 'reports/weekly/2026-W46/report.html')
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from insights import config
from insights.errors import WarehouseNotFoundError, invalid_parameter
from insights.pipelines.schedule import ScheduledRun, as_utc, due_runs, format_utc, latest_run, run_for_period
from insights.pipelines.spec import NOTEBOOKS_DIR, PIPELINES_DIR, REPORTS_DIR, PipelineSpec, find_spec, load_specs

#: run_report's signature: (notebook, parameters, *, reports_root, notebooks_dir, force, period) -> a ReportRun.
Runner = Callable[..., Any]
Status = Literal["ran", "skipped", "failed", "not run"]
LOCK_NAME = ".pipelines.lock"


@dataclass(frozen=True)
class PipelineRun:
    """What happened to one scheduled run: ran, skipped (already written), failed, or not run."""

    pipeline: str
    period: str
    scheduled_at: datetime
    parameters: dict[str, Any]
    output: Path
    status: Status
    seconds: float = 0.0
    error: str = ""
    headline: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("ran", "skipped")

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "period": self.period,
            "scheduled_at": self.scheduled_at.isoformat(),
            "parameters": self.parameters,
            "output": str(self.output),
            "status": self.status,
            "seconds": round(self.seconds, 2),
            "error": self.error or None,
            "headline": self.headline or None,
        }

    def __str__(self) -> str:
        what = f"{self.pipeline} {self.period}"
        if self.status == "ran":
            text = f"ran {what} in {self.seconds:.1f} s: {self.output}"
            return f"{text}\n  {self.headline}" if self.headline else text
        if self.status == "skipped":
            return f"skipped {what}: {self.output} is already written (--force writes it again)"
        if self.status == "not run":
            return f"not run {what}: {self.error}"
        return f"FAILED {what} after {self.seconds:.1f} s: {self.error}"


@dataclass(frozen=True)
class DueReport:
    """What `pipeline due` found at `now`, and, with --run, what running it did."""

    now: datetime
    pipelines: tuple[str, ...]
    due: tuple[ScheduledRun, ...]
    runs: tuple[PipelineRun, ...] = ()
    ran: bool = False
    busy: str = ""

    @property
    def failed(self) -> bool:
        return any(r.status == "failed" for r in self.runs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "pipelines": list(self.pipelines),
            "due": [r.to_dict() for r in self.due],
            "runs": [r.to_dict() for r in self.runs] if self.ran else None,
            "busy": self.busy or None,
            "failed": self.failed,
        }

    def __str__(self) -> str:
        when = format_utc(self.now)
        if self.busy:
            return f"Nothing was run at {when}: {self.busy}"
        if not self.pipelines:
            return f"No pipelines to check at {when}."
        if not self.due:
            return f"Nothing is due at {when}: the recent outputs of {', '.join(self.pipelines)} all exist."
        lines = [f"Due at {when}, oldest first:"]
        lines += [
            f"  {r.pipeline:<16} {r.period.label:<10}  due since {format_utc(r.scheduled_at)}  -> {r.output}"
            for r in self.due
        ]
        if self.ran:
            lines.append("")
            lines += [str(r) for r in self.runs]
        return "\n".join(lines)


def run_pipeline(
    name: str,
    *,
    period: str | None = None,
    force: bool = False,
    now: datetime | None = None,
    db: str | os.PathLike[str] | None = None,
    pipelines_dir: Path = PIPELINES_DIR,
    notebooks_dir: Path = NOTEBOOKS_DIR,
    reports_root: Path = REPORTS_DIR,
    runner: Runner | None = None,
) -> PipelineRun:
    """Run one pipeline for `period` (a label such as 2026-W10; default: the latest period its schedule reached).

    An output that already exists is skipped unless `force`. A failing run returns status 'failed' with the
    error; a wrong name, period or spec raises.
    """
    fn = "pipeline run"
    now = as_utc(now or datetime.now(UTC))
    spec = find_spec(name, pipelines_dir, notebooks_dir=notebooks_dir, function=fn)
    kind = spec.period_kind
    if period is None:
        scheduled = latest_run(spec, now, reports_root=reports_root)
        if scheduled is None:
            raise invalid_parameter("period", fn, f"must be given: the schedule of {spec.path} never fired", period)
    else:
        chosen = kind.parse(period, function=fn)
        local_today = now.astimezone(spec.zone).date()
        if chosen.end >= local_today:
            rule = (
                f"must be {kind.article} {kind.description} that has ended (it is {local_today} in {spec.timezone}), "
                "so that a partial period never takes the place of the complete one"
            )
            raise invalid_parameter("period", fn, rule, period)
        scheduled = run_for_period(spec, chosen, reports_root=reports_root)
    with _exclusive(reports_root) as busy:
        if busy:
            return _not_run(spec, scheduled, busy)
        return run_scheduled(
            spec, scheduled, force=force, db=db, notebooks_dir=notebooks_dir, reports_root=reports_root, runner=runner
        )


def check_due(
    *,
    now: datetime | None = None,
    run: bool = False,
    db: str | os.PathLike[str] | None = None,
    pipelines_dir: Path = PIPELINES_DIR,
    notebooks_dir: Path = NOTEBOOKS_DIR,
    reports_root: Path = REPORTS_DIR,
    runner: Runner | None = None,
    progress: Callable[[str], None] | None = None,
) -> DueReport:
    """Find the periods that are due and not yet produced; with `run`, run them oldest first.

    After a pipeline's run fails, its later periods are not run this time (they would most likely fail the
    same way, and running them out of order would break "oldest first"); other pipelines still run.
    """
    now = as_utc(now or datetime.now(UTC))
    specs = load_specs(pipelines_dir, notebooks_dir=notebooks_dir)
    names = tuple(s.name for s in specs)
    due = tuple(due_runs(specs, now, reports_root=reports_root))
    if not run or not due:
        return DueReport(now, names, due, ran=run)
    by_name = {s.name: s for s in specs}
    results: list[PipelineRun] = []
    with _exclusive(reports_root) as busy:
        if busy:
            return DueReport(now, names, due, ran=True, busy=busy)
        failed: set[str] = set()
        for scheduled in due:
            spec = by_name[scheduled.pipeline]
            if spec.name in failed:
                reason = "an earlier period of this pipeline failed; it runs again at the next check"
                results.append(_not_run(spec, scheduled, reason))
                continue
            if progress is not None:
                progress(f"running {spec.name} {scheduled.period.label} ...")
            result = run_scheduled(
                spec,
                scheduled,
                force=False,
                db=db,
                notebooks_dir=notebooks_dir,
                reports_root=reports_root,
                runner=runner,
            )
            if result.status == "failed":
                failed.add(spec.name)
            results.append(result)
    return DueReport(now, names, due, tuple(results), ran=True)


def run_scheduled(
    spec: PipelineSpec,
    scheduled: ScheduledRun,
    *,
    force: bool = False,
    db: str | os.PathLike[str] | None = None,
    notebooks_dir: Path = NOTEBOOKS_DIR,
    reports_root: Path = REPORTS_DIR,
    runner: Runner | None = None,
) -> PipelineRun:
    """Run the notebook of `spec` for one period through the report runner and check its output."""
    parameters = _parameters(spec, scheduled, db)
    runner = runner or load_runner()
    started = time.perf_counter()

    def result(status: Status, error: str = "", headline: str = "") -> PipelineRun:
        return PipelineRun(
            spec.name,
            scheduled.period.label,
            scheduled.scheduled_at,
            parameters,
            scheduled.output,
            status,
            time.perf_counter() - started,
            error,
            headline,
        )

    try:
        report = runner(
            spec.notebook,
            parameters,
            reports_root=reports_root,
            notebooks_dir=notebooks_dir,
            force=force,
            period=scheduled.period.label,
        )
    except Exception as exc:  # any failure of the run is reported, so the remaining runs still happen
        message = " ".join(str(exc).split()) or type(exc).__name__
        return result("failed", message)
    written = getattr(report, "html_path", None)
    if written is not None and Path(written).resolve() != scheduled.output.resolve():
        return result(
            "failed",
            f"the runner wrote {written}, not the output {scheduled.output} that {spec.path} names; "
            "make the spec's output match where the report is written",
        )
    if not scheduled.output.is_file():
        return result("failed", f"the run finished but {scheduled.output} does not exist")
    headline = str(getattr(report, "headline", "") or "")
    return result("skipped" if getattr(report, "skipped", False) else "ran", headline=headline)


def load_runner() -> Runner:
    """The real runner: `insights.reports.runner.run_report` (imported on first use; it needs the reports extra)."""
    from insights.reports.runner import run_report

    return run_report


def _parameters(spec: PipelineSpec, scheduled: ScheduledRun, db: str | os.PathLike[str] | None) -> dict[str, Any]:
    uses_db = any(isinstance(v, str) and "{db}" in v for v in spec.parameters.values())
    db_text = ""
    if uses_db:
        db_file = config.db_path(db)
        if not db_file.is_file():
            raise WarehouseNotFoundError(
                f"The warehouse {db_file} that pipeline {spec.name} reads does not exist; run 'insights demo' or "
                "'insights ingest' to create it, or pass --db with the path of an existing warehouse."
            )
        # The notebook runs on its own kernel: give it an absolute path, whatever its working directory.
        db_text = str(db_file.resolve())
    return spec.parameters_for(scheduled.period, db=db_text)


def _not_run(spec: PipelineSpec, scheduled: ScheduledRun, reason: str) -> PipelineRun:
    return PipelineRun(
        spec.name,
        scheduled.period.label,
        scheduled.scheduled_at,
        spec.parameters_for(scheduled.period),
        scheduled.output,
        "not run",
        error=reason,
    )


@contextlib.contextmanager
def _exclusive(reports_root: Path) -> Iterator[str]:
    """Hold a lock on the reports folder; yields '' when held, else why not (another run is going on).

    An hourly trigger can fire while a long catch-up is still running; the second one then does nothing.
    The lock is released by the operating system if the process dies.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, runs are still written atomically by the runner
        yield ""
        return
    reports_root.mkdir(parents=True, exist_ok=True)
    lock_path = reports_root / LOCK_NAME
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield f"another pipeline run holds {lock_path}; it will be picked up by the next check if still due"
            return
        try:
            yield ""
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
