"""Pipeline specs: one YAML file per scheduled job in pipelines/, parsed and validated strictly.

    name: weekly                      # must equal the file name (pipelines/weekly.yaml)
    description: The weekly marketing report.
    notebook: weekly                  # a report notebook in notebooks/
    parameters:                       # passed to the notebook; placeholders are filled per run
      week: "{week}"
    schedule: "0 6 * * 1"             # cron: minute hour day-of-month month day-of-week
    timezone: UTC                     # the zone the schedule and the period are read in (default UTC)
    period: previous_iso_week         # previous_iso_week | previous_day | previous_month
    output: weekly/{week}/report.html # inside the reports folder; exists = the period is produced
    catch_up: 8                       # how many recent periods `pipeline due` looks back (default 8)

Every problem is one sentence naming the file and the key. See docs/scheduling.md.
"""

from __future__ import annotations

import difflib
import keyword
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from insights.errors import ConfigurationError, invalid_parameter
from insights.pipelines.periods import PERIOD_KINDS, Period, PeriodKind

#: The default folders, relative to the working directory (the project checkout).
PIPELINES_DIR = Path("pipelines")
NOTEBOOKS_DIR = Path("notebooks")
REPORTS_DIR = Path("reports")

#: Where the report runner (insights.reports.runner.run_report) writes a run's page, inside the reports folder;
#: a spec's output must name that file, or `pipeline due` would never see the period as produced.
RUNNER_OUTPUT = "{notebook}/{label}/report.html"
DEFAULT_CATCH_UP = 8
MAX_CATCH_UP = 366
REQUIRED_KEYS = ("name", "notebook", "schedule", "period", "output")
OPTIONAL_KEYS = ("description", "parameters", "timezone", "catch_up")
KNOWN_KEYS = (*REQUIRED_KEYS, *OPTIONAL_KEYS)
#: Placeholders parameters may use besides the period's own.
PARAMETER_EXTRAS = ("db",)
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")

Scalar = str | int | float | bool | None


class PipelineSpecError(ConfigurationError):
    """A pipeline spec file is unreadable or breaks a rule of the spec format."""


@dataclass(frozen=True)
class PipelineSpec:
    """One validated pipeline spec."""

    name: str
    notebook: str
    schedule: str
    period: str
    output: str
    path: Path
    description: str = ""
    parameters: Mapping[str, Scalar] = field(default_factory=dict)
    timezone: str = "UTC"
    catch_up: int = DEFAULT_CATCH_UP

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def period_kind(self) -> PeriodKind:
        return PERIOD_KINDS[self.period]

    def parameters_for(self, period: Period, *, db: str = "") -> dict[str, Scalar]:
        """The notebook parameters of the run that covers `period`, placeholders filled.

        >>> spec = PipelineSpec("w", "weekly", "0 6 * * 1", "previous_iso_week", "w/{week}.html", Path("w.yaml"),
        ...                     parameters={"week": "{week}", "top_n": 10})
        >>> spec.parameters_for(PERIOD_KINDS["previous_iso_week"].parse("2026-W10"))
        {'week': '2026-W10', 'top_n': 10}
        """
        values = {**period.values, "db": db}
        return {k: v.format_map(values) if isinstance(v, str) else v for k, v in self.parameters.items()}

    def output_for(self, period: Period) -> PurePosixPath:
        """The output of the run that covers `period`, relative to the reports folder."""
        return PurePosixPath(self.output.format_map(period.values))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "notebook": self.notebook,
            "parameters": dict(self.parameters),
            "schedule": self.schedule,
            "timezone": self.timezone,
            "period": self.period,
            "output": self.output,
            "catch_up": self.catch_up,
            "path": str(self.path),
        }


def load_spec(path: str | Path, *, notebooks_dir: Path | None = NOTEBOOKS_DIR) -> PipelineSpec:
    """Read and validate one spec file; `notebooks_dir=None` skips the check that the notebook exists."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineSpecError(f"{path} does not exist; pipeline specs are YAML files in pipelines/.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineSpecError(f"{path} cannot be read as UTF-8 text ({exc}); save it as a UTF-8 YAML file.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or "syntax error"
        raise PipelineSpecError(
            f"{path} is not valid YAML{where} ({problem}); fix the syntax, and quote values that start with "
            "'*', '{' or '@' (cron expressions, templates)."
        ) from None
    return parse_spec(data, path=path, notebooks_dir=notebooks_dir)


def parse_spec(data: object, *, path: Path, notebooks_dir: Path | None = NOTEBOOKS_DIR) -> PipelineSpec:
    """Validate a spec already read from YAML (`path` names it in messages)."""
    from insights.pipelines.schedule import check_cron

    if not isinstance(data, dict):
        raise PipelineSpecError(
            f"{path} must hold a YAML mapping with the keys {', '.join(REQUIRED_KEYS)}; got {type(data).__name__}."
        )
    for key in data:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the keys are {', '.join(KNOWN_KEYS)}."
            raise PipelineSpecError(f"In {path}, {key!r} is not a key of a pipeline spec; {hint}")
    for key in REQUIRED_KEYS:
        if data.get(key) in (None, ""):
            raise PipelineSpecError(
                f"In {path}, the {key!r} key is missing; every spec needs {', '.join(REQUIRED_KEYS)}."
            )

    def text(key: str, default: str = "") -> str:
        value = data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            raise _bad(path, key, "must be a string", value)
        return value.strip()

    name = text("name")
    if not _NAME.fullmatch(name):
        raise _bad(path, "name", "must be lower-case letters, digits, '-' or '_'", name)
    if name != path.stem:
        raise _bad(path, "name", f"must equal the file name without .yaml ({path.stem!r})", name)

    notebook = text("notebook")
    if not _NAME.fullmatch(notebook):
        raise _bad(path, "notebook", "must be the name of a notebook in notebooks/, without .ipynb", notebook)

    timezone = text("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad(path, "timezone", "must be an IANA time zone such as UTC or Europe/Paris", timezone) from None

    schedule = " ".join(text("schedule").split())
    problem = check_cron(schedule)
    if problem is not None:
        raise _bad(
            path,
            "schedule",
            f"must be a cron expression of five fields (minute hour day-of-month month day-of-week, e.g. '0 6 * * 1') "
            f"or @hourly, @daily, @weekly, @monthly, @yearly ({problem})",
            schedule,
        )

    period = text("period")
    if period not in PERIOD_KINDS:
        raise _bad(path, "period", f"must be one of {', '.join(PERIOD_KINDS)}", period)
    kind = PERIOD_KINDS[period]

    parameters = _parameters(data.get("parameters"), path, kind)
    if notebooks_dir is not None:
        _check_notebook(notebook, parameters, path, notebooks_dir)
    output = _output(text("output"), path, kind, notebook)

    catch_up = data.get("catch_up", DEFAULT_CATCH_UP)
    if isinstance(catch_up, bool) or not isinstance(catch_up, int) or not 1 <= catch_up <= MAX_CATCH_UP:
        raise _bad(path, "catch_up", f"must be a whole number of periods from 1 to {MAX_CATCH_UP}", catch_up)

    return PipelineSpec(
        name=name,
        notebook=notebook,
        schedule=schedule,
        period=period,
        output=output,
        path=path,
        description=" ".join(text("description").split()),
        parameters=parameters,
        timezone=timezone,
        catch_up=catch_up,
    )


def load_specs(
    pipelines_dir: Path = PIPELINES_DIR, *, notebooks_dir: Path | None = NOTEBOOKS_DIR
) -> list[PipelineSpec]:
    """Every spec in the folder, by name; one bad file stops everything (a scheduler must not skip it silently)."""
    if not pipelines_dir.is_dir():
        raise PipelineSpecError(
            f"There is no pipelines folder at {pipelines_dir}; run from the project checkout or pass --pipelines DIR."
        )
    files = sorted([*pipelines_dir.glob("*.yaml"), *pipelines_dir.glob("*.yml")])
    stems = [f.stem for f in files]
    for stem in stems:
        if stems.count(stem) > 1:
            raise PipelineSpecError(
                f"{pipelines_dir} holds both {stem}.yaml and {stem}.yml; keep one spec per pipeline name."
            )
    return [load_spec(f, notebooks_dir=notebooks_dir) for f in files]


def find_spec(
    name: str,
    pipelines_dir: Path = PIPELINES_DIR,
    *,
    notebooks_dir: Path | None = NOTEBOOKS_DIR,
    function: str = "pipeline run",
) -> PipelineSpec:
    """The spec called `name`; an unknown name lists the known ones."""
    specs = load_specs(pipelines_dir, notebooks_dir=notebooks_dir)
    for spec in specs:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in specs) or "none"
    raise invalid_parameter("name", function, f"must be one of the pipelines in {pipelines_dir}/ ({known})", name)


def template_fields(template: str) -> list[str]:
    """The placeholders of a template; raises ValueError for format specs, conversions or stray braces."""
    fields: list[str] = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise ValueError(f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}")
        fields.append(name)
    return fields


def _parameters(raw: object, path: Path, kind: PeriodKind) -> dict[str, Scalar]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad(path, "parameters", "must be a mapping of notebook parameter names to values", raw)
    allowed = (*kind.placeholders, *PARAMETER_EXTRAS)
    parameters: dict[str, Scalar] = {}
    for key, value in raw.items():
        where = f"parameters.{key}"
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key):
            raise _bad(path, "parameters", "must have keys that are Python names (notebook variables)", key)
        if isinstance(value, dict | list):
            raise _bad(
                path,
                where,
                'must be a string, number, true/false or null; quote templates, as in week: "{week}"',
                value,
            )
        if isinstance(value, str):
            _check_template(value, path, where, allowed, kind)
        parameters[key] = value
    return parameters


def _check_notebook(notebook: str, parameters: Mapping[str, Scalar], path: Path, notebooks_dir: Path) -> None:
    from insights.reports.catalog import list_notebooks, read_notebook

    file = notebooks_dir / f"{notebook}.ipynb"
    if not file.is_file():
        reports = [nb.name for nb in list_notebooks(notebooks_dir) if nb.is_report]
        choices = ", ".join(reports) if reports else "none"
        raise _bad(path, "notebook", f"must name a report notebook in {notebooks_dir}/ (there: {choices})", notebook)
    template = read_notebook(file)
    if not template.is_report:
        raise _bad(
            path, "notebook", f"must name a report notebook, but {file} has no cell tagged 'parameters'", notebook
        )
    for key in parameters:
        if key not in template.parameter_names:
            declared = ", ".join(template.parameter_names) or "none"
            raise _bad(path, f"parameters.{key}", f"must be a parameter declared in {file} ({declared})", key)


def _output(output: str, path: Path, kind: PeriodKind, notebook: str) -> str:
    _check_template(output, path, "output", kind.placeholders, kind)
    example = kind.parse(kind.example)
    written = RUNNER_OUTPUT.format(notebook=notebook, label=example.label)
    if output.format_map(example.values) != written:
        expected = RUNNER_OUTPUT.format(notebook=notebook, label=f"{{{kind.placeholder}}}")
        rule = f"must be {expected!r}, the page the report runner writes inside the reports folder"
        raise _bad(path, "output", rule, output)
    return output


def _check_template(value: str, path: Path, where: str, allowed: tuple[str, ...], kind: PeriodKind) -> None:
    try:
        used = template_fields(value)
    except ValueError as exc:
        rule = (
            f"must use plain placeholders such as {{{kind.placeholder}}} (no format or conversion; '{{{{' for a brace)"
        )
        raise _bad(path, where, f"{rule}, not {exc}", value) from None
    for name in used:
        if name not in allowed:
            choices = ", ".join(f"{{{a}}}" for a in allowed)
            rule = f"may only use the placeholders of period {kind.name} ({choices}), not {{{name}}}"
            raise _bad(path, where, rule, value)


def _bad(path: Path, key: str, rule: str, got: object) -> PipelineSpecError:
    return PipelineSpecError(f"In {path}, the {key!r} key {rule}. Got {got!r} instead.")
