"""Run a report notebook with papermill on a real kernel, export it to HTML, record a manifest, atomically.

    reports/<name>/<period>/report.html     the page a marketer opens (outputs only, offline)
    reports/<name>/<period>/report.ipynb    the executed notebook, for an analyst
    reports/<name>/<period>/manifest.json   parameters, versions, warehouse fingerprint, row counts, durations
    reports/index.html                      every run, newest first
    reports/_failed/<name>-<period>-<time>.ipynb   the partly executed copy of a run that failed

Reports filed by group add one folder: an experiment readout is reports/experiment/<experiment id>/<day>/.

A run is written into a hidden folder beside its final place and renamed into place when complete, so a
reader (or a web server) never sees half a report. A finished period is skipped unless `force=True`.

>>> run = weekly()  # doctest: +SKIP
>>> run.html_path  # doctest: +SKIP
PosixPath('reports/weekly/2026-W46/report.html')
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from insights import __version__, config
from insights.errors import InsightsError, invalid_parameter
from insights.reports.catalog import (
    REPORTS_PARAMETER,
    RUNNER_PARAMETERS,
    SUMMARY_PARAMETER,
    ReportNotebook,
    chatbot_request,
    find_report,
    plan_week,
)
from insights.reports.index import MANIFEST_NAME, update_index, write_atomic
from insights.reports.weeks import IsoWeek

HTML_NAME = "report.html"
NOTEBOOK_NAME = "report.ipynb"
FAILED_DIR = "_failed"
_SUMMARY_FILE = "summary.json"
PERIOD_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
KERNEL_NAME = "python3"


class ReportFailedError(InsightsError, RuntimeError):
    """A report notebook raised, or its kernel died; the partly executed copy is kept under reports/_failed/."""

    def __init__(self, message: str, failed_notebook: Path | None = None) -> None:
        super().__init__(message)
        self.failed_notebook = failed_notebook


@dataclass(frozen=True)
class ReportRun:
    """One report run: where its files are, whether it was skipped, and how long each stage took.

    `durations` holds seconds per stage: `query` (the report's SQL, measured inside the notebook),
    `execute` (the whole notebook on its kernel, queries included), `export` (HTML) and `total`.
    """

    name: str
    period: str
    html_path: Path
    notebook_path: Path
    manifest_path: Path
    skipped: bool
    durations: dict[str, float] = field(default_factory=dict)
    headline: str = ""
    index_path: Path | None = None
    group: str | None = None

    @property
    def label(self) -> str:
        """'weekly', or 'experiment exp-bot-prompt-v2' for a report filed by group."""
        return f"{self.name} {self.group}" if self.group else self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "group": self.group,
            "period": self.period,
            "html_path": str(self.html_path),
            "notebook_path": str(self.notebook_path),
            "manifest_path": str(self.manifest_path),
            "skipped": self.skipped,
            "durations": self.durations,
            "headline": self.headline,
            "index_path": str(self.index_path) if self.index_path else None,
        }

    def __str__(self) -> str:
        if self.skipped:
            return (
                f"The {self.label} report for {self.period} is already written, so it was skipped "
                f"(--force writes it again): {self.html_path}"
            )
        d = self.durations
        lines = [
            f"Wrote the {self.label} report for {self.period} in {d.get('total', 0.0):.1f} s "
            f"(queries {d.get('query', 0.0):.1f} s, notebook {d.get('execute', 0.0):.1f} s, "
            f"HTML {d.get('export', 0.0):.1f} s)."
        ]
        if self.headline:
            lines.append(f"  {self.headline}")
        lines.append(f"Report: {self.html_path}")
        if self.index_path:
            lines.append(f"Index:  {self.index_path}")
        return "\n".join(lines)


def run_report(
    name: str,
    parameters: Mapping[str, Any],
    *,
    reports_root: Path = Path("reports"),
    notebooks_dir: Path = Path("notebooks"),
    force: bool = False,
    period: str | None = None,
    group: str | None = None,
) -> ReportRun:
    """Run `notebooks_dir/<name>.ipynb` with `parameters`; write its HTML, executed notebook and manifest.

    The run lands in `reports_root/<name>/<period>/`, or `reports_root/<name>/<group>/<period>/` with a
    `group` (an experiment readout is filed under its experiment's id). `period` defaults to the `week`
    parameter when there is one, else to the UTC time of the run (so such runs never collide). Every
    parameter must be declared in the notebook's tagged parameters cell. If the folder already holds a
    finished run it is returned with `skipped=True`, unless `force`. A failing notebook raises
    ReportFailedError and leaves its partly executed copy in `reports_root/_failed/`; the finished run of
    the period, if any, stays as it was. A notebook that declares `reports_dir` is told the reports folder.
    """
    fn = "run_report"
    started = time.perf_counter()
    notebook = find_report(name, Path(notebooks_dir))
    if not isinstance(parameters, Mapping):
        raise invalid_parameter("parameters", fn, "must be a mapping of parameter names to values", parameters)
    unknown = [k for k in parameters if k not in notebook.parameter_names or k in RUNNER_PARAMETERS]
    if unknown:
        declared = ", ".join(p.name for p in notebook.user_parameters) or "none"
        raise invalid_parameter(
            "parameters", fn, f"must name parameters declared in {notebook.path} ({declared})", unknown[0]
        )
    created = datetime.now(UTC)
    if period is None:
        week = parameters.get("week")
        period = str(week) if week else created.strftime("%Y%m%dT%H%M%SZ")
    if not isinstance(period, str) or not PERIOD_PATTERN.match(period):
        raise invalid_parameter(
            "period", fn, "must be a label of letters, digits, '.', '_' or '-' (at most 64)", period
        )
    if group is not None and (not isinstance(group, str) or not PERIOD_PATTERN.match(group)):
        raise invalid_parameter(
            "group", fn, "must be None or a label of letters, digits, '.', '_' or '-' (at most 64)", group
        )
    reports_root = Path(reports_root)
    final_dir = reports_root / name / group / period if group else reports_root / name / period
    if (final_dir / MANIFEST_NAME).is_file() and not force:
        return _finished_run(name, period, final_dir, reports_root, skipped=True, group=group)

    work_dir = final_dir.parent / f".{period}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    work_dir.mkdir(parents=True)
    try:
        run_parameters = dict(parameters)
        db = parameters.get("db") if "db" in parameters else None
        fingerprint = warehouse_fingerprint(db) if "db" in notebook.parameter_names else None
        if SUMMARY_PARAMETER in notebook.parameter_names:
            run_parameters[SUMMARY_PARAMETER] = str((work_dir / _SUMMARY_FILE).resolve())
        if REPORTS_PARAMETER in notebook.parameter_names:
            run_parameters[REPORTS_PARAMETER] = str(reports_root.resolve())

        t0 = time.perf_counter()
        failed_label = f"{group}-{period}" if group else period
        _execute(notebook, work_dir / NOTEBOOK_NAME, run_parameters, reports_root, failed_label)
        execute_seconds = time.perf_counter() - t0

        summary = _read_summary(work_dir / _SUMMARY_FILE)
        title = str(summary.get("title") or f"{notebook.title} {period}")

        t0 = time.perf_counter()
        html = _export(work_dir / NOTEBOOK_NAME, title=title, period=period, notebook=notebook, created=created)
        (work_dir / HTML_NAME).write_text(html, encoding="utf-8")
        export_seconds = time.perf_counter() - t0

        durations = {
            "query": round(float(summary.get("query_seconds") or 0.0), 3),
            "execute": round(execute_seconds, 3),
            "export": round(export_seconds, 3),
        }
        durations["total"] = round(time.perf_counter() - started, 3)
        manifest = {
            "name": name,
            "group": group,
            "period": period,
            "title": title,
            "headline": str(summary.get("headline") or ""),
            "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "notebook": str(notebook.path),
            "parameters": _jsonable(dict(parameters)),
            "insights_version": __version__,
            "python": sys.version.split()[0],
            "git": git_state(Path(notebooks_dir)),
            "warehouse": fingerprint,
            "row_counts": summary.get("row_counts") or {},
            "charts": summary.get("charts"),
            "durations": durations,
            "files": {"html": HTML_NAME, "notebook": NOTEBOOK_NAME},
        }
        write_atomic(work_dir / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
        _publish(work_dir, final_dir)
    finally:
        if work_dir.exists():
            shutil.rmtree(work_dir, ignore_errors=True)
    update_index(reports_root)
    return _finished_run(name, period, final_dir, reports_root, skipped=False, group=group)


def weekly(
    week: IsoWeek | str | None = None,
    *,
    db: str | os.PathLike[str] | None = None,
    force: bool = False,
    reports_root: Path = Path("reports"),
    notebooks_dir: Path = Path("notebooks"),
) -> ReportRun:
    """Write the weekly report of `week` ('YYYY-Www' or an IsoWeek; default: the last complete ISO week).

    `db` defaults to $INSIGHTS_DB, else data/insights.duckdb. The notebook gets the warehouse's absolute
    path, so it reads the same file whatever the kernel's working directory.
    """
    iso_week = _as_week(week)
    db_file = existing_warehouse(db)
    return run_report(
        "weekly",
        {"week": str(iso_week), "db": str(db_file.resolve())},
        reports_root=reports_root,
        notebooks_dir=notebooks_dir,
        force=force,
        period=str(iso_week),
    )


def chatbot(
    start: date | str | None = None,
    end: date | str | None = None,
    *,
    breakdown: str | None = None,
    db: str | os.PathLike[str] | None = None,
    force: bool = False,
    reports_root: Path = Path("reports"),
    notebooks_dir: Path = Path("notebooks"),
) -> ReportRun:
    """Write the chatbot-funnel report of the sessions started in [start, end) ('YYYY-MM-DD' or dates; `end`
    exclusive): `reports/chatbot/<start>_<end>[_<breakdown>]/report.html`.

    `end` defaults to the start of the current ISO week (so the last complete week is the last one read) and
    `start` to 28 days before `end`. The days and the breakdown are checked here (`catalog.chatbot_request`),
    before a kernel starts, as is the warehouse.
    """
    first, last, breakdown = chatbot_request(start, end, breakdown, "report chatbot")
    db_file = existing_warehouse(db)
    period = f"{first.isoformat()}_{last.isoformat()}" + (f"_{breakdown}" if breakdown else "")
    return run_report(
        "chatbot",
        {"start": first.isoformat(), "end": last.isoformat(), "breakdown": breakdown, "db": str(db_file.resolve())},
        reports_root=reports_root,
        notebooks_dir=notebooks_dir,
        force=force,
        period=period,
    )


def plan(
    week: IsoWeek | str | None = None,
    *,
    timezone: str = "UTC",
    record: bool = True,
    db: str | os.PathLike[str] | None = None,
    force: bool = False,
    reports_root: Path = Path("reports"),
    notebooks_dir: Path = Path("notebooks"),
) -> ReportRun:
    """Write the "what to post next week" report of `week` ('YYYY-Www'; default: next week):
    `reports/plan/<YYYY-Www>/report.html`.

    With `record` (the default), next week's content mix is first written to the warehouse's
    `recommend.allocations` (one run, its probabilities and a run id), and the report shows that recorded
    allocation, so the posts published from it can be judged later against the probabilities they were drawn
    with. A report that already exists is skipped (unless `force`), and then nothing is recorded either.
    """
    the_week = plan_week(week, "report plan")
    db_file = existing_warehouse(db)
    period = str(the_week)
    allocation_run = None
    if record and (force or not (reports_root / "plan" / period / MANIFEST_NAME).exists()):
        allocation_run = _record_allocation(db_file, the_week, timezone)
    return run_report(
        "plan",
        {"week": period, "timezone": timezone, "allocation_run": allocation_run, "db": str(db_file.resolve())},
        reports_root=reports_root,
        notebooks_dir=notebooks_dir,
        force=force,
        period=period,
    )


def _record_allocation(db_file: Path, week: IsoWeek, timezone: str) -> str:
    """Compute next week's allocation and write it to the warehouse; its run id."""
    from insights.reports.plan import plan_allocation
    from insights.warehouse import connect

    con = connect(db_file)
    try:
        allocation = plan_allocation(con, week, timezone=timezone)
        return str(allocation.write(con, valid_from=week.start, valid_to=week.end))
    finally:
        con.close()


def experiment_readout(
    experiment_id: str,
    *,
    db: str | os.PathLike[str] | None = None,
    as_of: str | date | None = None,
    force: bool = False,
    reports_root: Path = Path("reports"),
    notebooks_dir: Path = Path("notebooks"),
    experiments_dir: str | os.PathLike[str] = Path("experiments"),
) -> ReportRun:
    """Write the readout page of an experiment: `reports/experiment/<id>/<day>/report.html`.

    The page reads the data up to the end of `as_of` ('YYYY-MM-DD' or a date), or all the data when it is None;
    `<day>` is `as_of`, else today's UTC date, so a day's readout is skipped once written (unless `force`). The
    id must be defined in `experiments_dir` and the definition must be valid: both are checked here, before a
    kernel starts, as is the warehouse. The notebook gets absolute paths, whatever its working directory.
    """
    from insights.reports.experiment import load_definition, parse_as_of
    from insights.reports.experiment_catalog import definition_path

    if isinstance(as_of, datetime):
        raise invalid_parameter("as_of", "experiment_readout", "must be a day ('YYYY-MM-DD' or a date) or None", as_of)
    path = definition_path(experiment_id, experiments_dir)
    db_file = existing_warehouse(db)
    until = parse_as_of(as_of, "experiment_readout")
    load_definition(experiment_id, experiments_dir)  # the engine's validation: one sentence naming file and key
    day = (until - timedelta(days=1)).date() if until is not None else datetime.now(UTC).date()
    return run_report(
        "experiment",
        {
            "experiment_id": experiment_id,
            "db": str(db_file.resolve()),
            "as_of": day.isoformat() if until is not None else None,
            "experiments_dir": str(path.parent.resolve()),
        },
        reports_root=reports_root,
        notebooks_dir=notebooks_dir,
        force=force,
        period=day.isoformat(),
        group=experiment_id,
    )


def existing_warehouse(db: str | os.PathLike[str] | None) -> Path:
    """The warehouse file (`db`, else $INSIGHTS_DB, else data/insights.duckdb); one sentence if it is missing."""
    db_file = config.db_path(db)
    if not db_file.is_file():
        from insights.errors import WarehouseNotFoundError

        raise WarehouseNotFoundError(
            f"The warehouse {db_file} does not exist; run 'insights demo' or 'insights ingest' to create it, "
            "or pass --db with the path of an existing warehouse."
        )
    return db_file


def _as_week(week: object) -> IsoWeek:
    if week is None:
        return IsoWeek.last_complete()
    if isinstance(week, IsoWeek):
        return week
    if isinstance(week, str):
        return IsoWeek.parse(week)  # its error names the rule (YYYY-Www, weeks that exist)
    raise invalid_parameter("week", "weekly", "must be an ISO week written YYYY-Www (like 2026-W09) or None", week)


# -- stages ------------------------------------------------------------------------------------------------


def _execute(
    notebook: ReportNotebook, output: Path, parameters: dict[str, Any], reports_root: Path, period: str
) -> None:
    """Run the notebook on a fresh kernel of this interpreter; on failure keep the partial copy and raise."""
    # papermill ships no type information; it is used through Any.
    papermill: Any = importlib.import_module("papermill")
    execution_error: Any = importlib.import_module("papermill.exceptions").PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(notebook.path),
            str(output),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            log_output=False,
            cwd=str(Path.cwd()),
            kernel_manager_class=_this_python_kernel_manager(),
            # The kernel's own log (e.g. ipykernel's note about unencrypted local TCP) is noise on a report
            # run's terminal; a dead kernel and cell errors are reported below.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except execution_error as exc:
        kept = _keep_failed(output, reports_root, notebook.name, period)
        cell = _template_cell_number(notebook, str(exc.source))
        first_line = _shorten(next((ln.strip() for ln in str(exc.source).splitlines() if ln.strip()), ""), 80)
        evalue = _shorten(" ".join(str(exc.evalue).split()), 300).rstrip(".")
        raise ReportFailedError(
            f"The {notebook.name} notebook failed in cell {cell} (`{first_line}`) with {exc.ename}: {evalue}; "
            f"the partly executed notebook is {kept}.",
            kept,
        ) from None
    except Exception as exc:  # a kernel that died or never started, a timeout
        kept = _keep_failed(output, reports_root, notebook.name, period)
        where = f"; the partly executed notebook is {kept}" if kept else ""
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ReportFailedError(
            f"The {notebook.name} notebook could not run to the end ({type(exc).__name__}: {reason}){where}.", kept
        ) from None


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _this_python_kernel_manager() -> type[Any]:
    """A kernel manager that starts ipykernel's own python3 kernelspec: this interpreter, whatever else is
    installed as 'python3' in the user's Jupyter folders (which would win the kernelspec lookup)."""
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class ThisPythonKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:
            if self._kernel_spec is None:
                self._kernel_spec = KernelSpec(resource_dir=RESOURCES, name=KERNEL_NAME, **get_kernel_dict())
            return self._kernel_spec

    return ThisPythonKernelManager


def _export(output: Path, *, title: str, period: str, notebook: ReportNotebook, created: datetime) -> str:
    import nbformat

    from insights.reports.html import export_html

    read: Any = nbformat.read  # untyped
    nb = read(str(output), as_version=4)
    footer = (
        f"{title} · written {created.strftime('%Y-%m-%d %H:%M')} UTC by insights {__version__} "
        f"from {notebook.path.name}"
    )
    return export_html(nb, title=title, footer=footer)


def _publish(work_dir: Path, final_dir: Path) -> None:
    """Move a complete run into place; a finished run it replaces is swapped out, then deleted."""
    old: Path | None = None
    if final_dir.exists():
        old = final_dir.parent / f".{final_dir.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.rename(final_dir, old)
    try:
        os.rename(work_dir, final_dir)
    except OSError:
        if old is not None:
            os.rename(old, final_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _keep_failed(output: Path, reports_root: Path, name: str, period: str) -> Path | None:
    if not output.is_file():
        return None
    failed_dir = reports_root / FAILED_DIR
    failed_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = failed_dir / f"{name}-{period}-{stamp}.ipynb"
    shutil.move(str(output), target)
    return target


def _template_cell_number(notebook: ReportNotebook, source: str) -> int | str:
    """1-based number of the failing cell in the template notebook (papermill counts its injected cell)."""
    cells = json.loads(notebook.path.read_text(encoding="utf-8"))["cells"]
    for i, cell in enumerate(cells, start=1):
        src = cell.get("source", "")
        if ("".join(src) if isinstance(src, list) else src) == source:
            return i
    return "?"


def _finished_run(
    name: str, period: str, final_dir: Path, reports_root: Path, *, skipped: bool, group: str | None = None
) -> ReportRun:
    """The record of a run whose folder is in place, read back from its manifest."""
    try:
        manifest = json.loads((final_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    return ReportRun(
        name=name,
        period=period,
        html_path=final_dir / HTML_NAME,
        notebook_path=final_dir / NOTEBOOK_NAME,
        manifest_path=final_dir / MANIFEST_NAME,
        skipped=skipped,
        durations={k: float(v) for k, v in (manifest.get("durations") or {}).items()},
        headline=str(manifest.get("headline") or ""),
        index_path=reports_root / "index.html",
        group=group,
    )


def _read_summary(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    finally:
        path.unlink(missing_ok=True)
    return data if isinstance(data, dict) else {}


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, default=str))  # type: ignore[no-any-return]


# -- provenance --------------------------------------------------------------------------------------------


def git_state(where: Path) -> dict[str, Any] | None:
    """The commit checked out at `where` and whether tracked files differ from it; None outside git."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())} if commit else None


def warehouse_fingerprint(db: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """What identifies the warehouse a report read: its loads (ids, files' fingerprints, rows) and file size.

    Two runs with the same fingerprint read the same loaded data. None when the file does not exist.
    """
    import hashlib

    from insights.warehouse import connect

    path = config.db_path(db)
    if not path.is_file():
        return None
    with connect(path, read_only=True) as con:
        rows = con.execute("SELECT load_id, kind, fingerprint, rows_loaded FROM meta.loads ORDER BY load_id").fetchall()
    size = path.stat().st_size
    digest = hashlib.sha256(json.dumps([list(r) for r in rows], default=str).encode())
    digest.update(str(size).encode())
    return {
        "path": str(path.resolve()),
        "size_bytes": size,
        "loads": len(rows),
        "max_load_id": max((int(r[0]) for r in rows), default=None),
        "fingerprint": digest.hexdigest()[:16],
    }
