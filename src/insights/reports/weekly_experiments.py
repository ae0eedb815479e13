"""The weekly report's Experiments section: one line per experiment defined in experiments/ that ran during the week.

A line gives the experiment, how many days it had run by the end of the week, the units in each arm, the verdict of
its readout as of the end of the week (the same sentence its readout page gives for that day) and a link to its
latest readout page when one has been written. The readout is computed without its segment breakdowns and daily
looks, which do not change the verdict, to keep the weekly report fast. A definition that cannot be read, or that
names what the warehouse lacks, is a line saying so: it never stops the weekly report.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev group

from insights.errors import InsightsError
from insights.reports import _text
from insights.reports.experiment_catalog import EXPERIMENTS_DIR, known_ids
from insights.reports.sections import Section, display_frame
from insights.reports.weeks import IsoWeek

if TYPE_CHECKING:
    import duckdb

#: Where a weekly page sits below the reports folder (reports/weekly/<week>/report.html): links climb this much.
LINK_PREFIX = "../../"
#: The report name under which readout pages are written (reports/experiment/<id>/<label>/).
READOUT_REPORT = "experiment"

COLUMNS = ("experiment", "experiment_id", "status", "days_running", "units_per_arm", "verdict", "readout")


@dataclass(frozen=True)
class ExperimentsSection(Section):
    """The Experiments section; its table links each experiment's readout page (`links`, one per row)."""

    links: tuple[str | None, ...] = ()

    def table_html(self) -> str:
        if self.table.empty:
            return ""
        shown = display_frame(self.table.drop(columns=["readout"]))
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns) + "<th>Readout</th>"
        rows = []
        for i, row in enumerate(shown.itertuples(index=False)):
            cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in row)
            link = self.links[i] if i < len(self.links) else None
            cells += f'<td><a href="{html.escape(link)}">readout</a></td>' if link else "<td>none yet</td>"
            rows.append(f"<tr>{cells}</tr>")
        return (
            f'<div class="insights-table"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows)
            + "\n</tbody></table></div>"
        )


@dataclass(frozen=True)
class _Line:
    row: dict[str, Any]
    link: str | None
    started: dt.datetime | None = None
    mismatch: bool = False


def experiments_section(
    con: duckdb.DuckDBPyConnection,
    week: IsoWeek,
    *,
    experiments_dir: str | Path | None = EXPERIMENTS_DIR,
    reports_root: str | Path | None = None,
) -> tuple[ExperimentsSection, float]:
    """The section for `week` and the seconds its readouts took (their queries and statistics, not the import of
    the statistics stack).

    `experiments_dir` None (or a folder without definitions) gives a one-line section. Links to readout pages are
    looked up under `reports_root` (None: no links) and written relative to a weekly page
    (reports/weekly/<week>/report.html).
    """
    ids = known_ids(experiments_dir) if experiments_dir is not None else []
    if not ids:
        where = f"{experiments_dir}/" if experiments_dir is not None else "the experiments folder"
        summary = f"No experiments are defined in {where}; a definition there (docs/experiments.md) adds a line here."
        return _section(summary, []), 0.0

    from insights.experiments.definition import ExperimentDefinitionError, load_experiment

    links = readout_links(reports_root)
    lines: list[_Line] = []
    seconds = 0.0
    broken: list[str] = []
    waiting: list[str] = []  # "exp-x (not started)", "exp-y (ended before the week)"
    for experiment_id in ids:
        try:
            experiment = load_experiment(Path(experiments_dir or EXPERIMENTS_DIR) / f"{experiment_id}.yaml")
        except ExperimentDefinitionError as exc:
            broken.append(str(exc).rstrip("."))
            continue
        started = time.perf_counter()
        try:
            line = _line(con, experiment, week, links.get(experiment_id))
        except InsightsError as exc:
            # A definition that names a table or column the warehouse lacks: say so on the experiment's line.
            line = _Line(_row(experiment, "cannot be read out", None, "", str(exc)), links.get(experiment_id))
        seconds += time.perf_counter() - started
        if line is None:
            before = experiment.end is not None and experiment.end <= week.start
            waiting.append(f"{experiment.id} ({'ended before the week' if before else 'not started'})")
        else:
            lines.append(line)

    summary = _summary(week, lines, broken, waiting, len(ids))
    return _section(summary, lines), seconds


def _line(con: duckdb.DuckDBPyConnection, experiment: Any, week: IsoWeek, link: str | None) -> _Line | None:
    """The experiment's line, or None when it did not run during the week."""
    from insights.reports.experiment import NoUnitsError, assignment_span, compute_readout

    if experiment.start is not None and experiment.start >= week.end:
        return None  # planned after the week
    if experiment.end is not None and experiment.end <= week.start:
        return None  # over before the week
    span = assignment_span(con, experiment, as_of=week.end)
    started = experiment.start or span.first_assigned_at
    if started is None:
        return None  # no start date and no unit yet: not started
    ended = experiment.end if experiment.end is not None and experiment.end <= week.end else None
    days = math.ceil(((ended or week.end) - started).total_seconds() / 86_400)
    # An end at midnight means the day before was the last one.
    status = f"ended {_text.day((ended - dt.timedelta(microseconds=1)).date())}" if ended else "running"
    try:
        readout, _, _ = compute_readout(con, experiment, as_of=week.end, breakdowns=False, span=span)
    except NoUnitsError:
        return _Line(_row(experiment, status, days, "", "No units assigned yet."), link, started)
    units = " · ".join(f"{arm} {n:,}" for arm, n in readout.n_units.items())
    return _Line(_row(experiment, status, days, units, readout.verdict), link, started, readout.srm.is_mismatch)


def _row(experiment: Any, status: str, days: int | None, units: str, verdict: str) -> dict[str, Any]:
    return {
        "experiment": experiment.title or experiment.id,
        "experiment_id": experiment.id,
        "status": status,
        "days_running": days,
        "units_per_arm": units,
        "verdict": verdict,
        "readout": None,
    }


def _summary(week: IsoWeek, lines: list[_Line], broken: list[str], waiting: list[str], n_defined: int) -> str:
    sentences = []
    if lines:
        named = _text.join_words(
            [
                f"{line.row['experiment']} (day {line.row['days_running']})"
                if line.row["days_running"] is not None
                else str(line.row["experiment"])
                for line in lines
            ]
        )
        sentences.append(f"{_text.plural(len(lines), 'experiment')} ran during the week: {named}.")
        for line in lines:
            if line.mismatch:
                sentences.append(
                    f"{line.row['experiment']} has a sample ratio mismatch: do not trust its effects until its "
                    "assignment or logging is fixed."
                )
    else:
        sentences.append(
            f"None of the {n_defined} defined {'experiment' if n_defined == 1 else 'experiments'} ran during the week."
        )
    if waiting and lines:
        sentences.append(f"Not running during the week: {', '.join(waiting)}.")
    if broken:
        sentences.append(f"{_text.plural(len(broken), 'definition')} cannot be read: " + "; ".join(broken) + ".")
    return " ".join(sentences)


def _section(summary: str, lines: list[_Line]) -> ExperimentsSection:
    rows = []
    for line in lines:
        row = dict(line.row)
        row["readout"] = line.link
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return ExperimentsSection(
        key="experiments",
        title="Experiments",
        summary=summary,
        table=table,
        links=tuple(line.link for line in lines),
    )


def readout_links(reports_root: str | Path | None) -> dict[str, str]:
    """Experiment id -> the link, from a weekly page, to its most recent readout page under `reports_root`."""
    if reports_root is None:
        return {}
    from insights.reports.index import read_entries

    links: dict[str, str] = {}
    for entry in read_entries(Path(reports_root)):  # newest period first
        if entry.name == READOUT_REPORT and entry.group and entry.group not in links:
            links[entry.group] = LINK_PREFIX + quote(entry.html)
    return links
