"""The report notebooks in notebooks/ and the parameters each declares in its tagged cell.

A report notebook is an .ipynb file with exactly one code cell tagged `parameters` (papermill's
convention): plain assignments, one per line, each optionally followed by a comment that explains it.
Reading them needs only json and ast, so `insights report list` starts fast.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from insights.errors import InsightsError, invalid_parameter
from insights.params import check_day
from insights.reports.weeks import IsoWeek

#: Report names are file stems that are safe as a folder name and on a command line.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
#: The parameter through which a notebook hands its headline and row counts back to the runner; the runner
#: sets it, a user does not.
SUMMARY_PARAMETER = "summary_path"
#: The parameter through which the runner tells a notebook where the reports folder is (to link other reports'
#: pages); the runner sets it, a user does not.
REPORTS_PARAMETER = "reports_dir"
#: What the chatbot report (notebooks/chatbot.ipynb) can be broken down by: a column of the chat events, or an
#: attribute of the post a session came from. Here, where the command line can read it without the report stack.
CHATBOT_BREAKDOWNS = ("channel", "bot_version", "platform", "content_type", "origin", "prompt_version")
#: days the chatbot report reads when no start is given
CHATBOT_DEFAULT_DAYS = 28
#: The parameters the runner sets itself.
RUNNER_PARAMETERS = (SUMMARY_PARAMETER, REPORTS_PARAMETER)


def chatbot_request(start: object, end: object, breakdown: object, function: str) -> tuple[date, date, str | None]:
    """The chatbot report's period [start, end) and breakdown, checked in one place for the library, the runner and
    the command line. `end` defaults to the start of the current ISO week (the last complete week is the last one
    read), `start` to CHATBOT_DEFAULT_DAYS before `end`."""
    last = check_day("end", function, end) if end is not None else IsoWeek.last_complete().end.date()
    first = check_day("start", function, start) if start is not None else last - timedelta(days=CHATBOT_DEFAULT_DAYS)
    if last <= first:
        raise invalid_parameter("end", function, f"must be after start ({first.isoformat()})", last.isoformat())
    if breakdown is not None and breakdown not in CHATBOT_BREAKDOWNS:
        raise invalid_parameter(
            "breakdown", function, f"must be None or one of {', '.join(CHATBOT_BREAKDOWNS)}", breakdown
        )
    return first, last, breakdown


def plan_week(week: object, function: str) -> IsoWeek:
    """The week the plan report plans: an IsoWeek or 'YYYY-Www', default next week (checked in one place for the
    library, the runner and the command line)."""
    if week is None:
        return IsoWeek.last_complete().previous(-2)
    if isinstance(week, IsoWeek):
        return week
    if isinstance(week, str):
        try:
            return IsoWeek.parse(week)
        except ValueError:
            pass
    raise invalid_parameter("week", function, "must be an ISO week 'YYYY-Www' or None (next week)", week)


class ReportNotFoundError(InsightsError, FileNotFoundError):
    """No report notebook of that name in the notebooks folder."""


class NotebookTemplateError(InsightsError, ValueError):
    """A notebook cannot serve as a report template (no or several parameters cells, unreadable file)."""


@dataclass(frozen=True)
class Parameter:
    """One assignment of a parameters cell: `name = default  # help`."""

    name: str
    default: str
    help: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "default": self.default, "help": self.help}


@dataclass(frozen=True)
class ReportNotebook:
    """A notebook in the notebooks folder, its title and its declared parameters."""

    name: str
    path: Path
    title: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)
    is_report: bool = True

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Every name the parameters cell assigns, the runner's own included."""
        return tuple(p.name for p in self.parameters)

    @property
    def user_parameters(self) -> tuple[Parameter, ...]:
        """The parameters a user may set (all but the runner's own: the summary path and the reports folder)."""
        return tuple(p for p in self.parameters if p.name not in RUNNER_PARAMETERS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "title": self.title,
            "is_report": self.is_report,
            "parameters": [p.to_dict() for p in self.user_parameters],
        }


def read_notebook(path: Path) -> ReportNotebook:
    """Read a notebook's title (its first heading) and the parameters of its tagged cell."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = list(nb["cells"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NotebookTemplateError(f"The notebook {path} cannot be read as a Jupyter notebook: {exc}.") from None
    tagged = [c for c in cells if "parameters" in (c.get("metadata", {}).get("tags") or [])]
    if len(tagged) > 1:
        raise NotebookTemplateError(
            f"The notebook {path} has {len(tagged)} cells tagged 'parameters'; a report notebook has exactly one."
        )
    parameters = _parse_parameters(_source(tagged[0]), path) if tagged else ()
    return ReportNotebook(
        name=path.stem, path=path, title=_title(cells) or path.stem, parameters=parameters, is_report=bool(tagged)
    )


def list_notebooks(notebooks_dir: Path = Path("notebooks")) -> list[ReportNotebook]:
    """Every notebook directly in `notebooks_dir`, sorted by name (report and exploration notebooks)."""
    if not notebooks_dir.is_dir():
        return []
    return [read_notebook(p) for p in sorted(notebooks_dir.glob("*.ipynb")) if not p.name.startswith(".")]


def find_report(name: str, notebooks_dir: Path = Path("notebooks")) -> ReportNotebook:
    """The report notebook `notebooks_dir/<name>.ipynb`; a clear error names the reports that exist."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise invalid_parameter(
            "name",
            "run_report",
            "must be the name of a notebook in the notebooks folder (letters, digits, _ or -)",
            name,
        )
    path = notebooks_dir / f"{name}.ipynb"
    if not path.is_file():
        reports = [nb.name for nb in list_notebooks(notebooks_dir) if nb.is_report]
        choices = ", ".join(reports) if reports else "none"
        raise ReportNotFoundError(f"There is no report notebook {path}; the reports in {notebooks_dir} are: {choices}.")
    notebook = read_notebook(path)
    if not notebook.is_report:
        raise NotebookTemplateError(
            f"The notebook {path} is not a report template: it has no cell tagged 'parameters' "
            "(tag the cell that sets the parameters, as papermill expects)."
        )
    return notebook


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _title(cells: list[dict[str, Any]]) -> str:
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line in _source(cell).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return ""


def _parse_parameters(source: str, path: Path) -> tuple[Parameter, ...]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise NotebookTemplateError(f"The parameters cell of {path} is not valid Python: {exc.msg}.") from None
    lines = source.splitlines()
    found: list[Parameter] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        default = ast.get_source_segment(source, value) or ""
        rest = lines[(value.end_lineno or node.lineno) - 1][value.end_col_offset or 0 :]
        comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
        found.append(Parameter(name=target.id, default=default, help=comment))
    return tuple(found)
