"""Experiment definitions over the warehouse: YAML files under experiments/ or the same dataclasses in Python.

    id: exp-bot-prompt-v2                 # the experiment_id in the assignments log; equals the file name
    title: Bot prompt v2                  # how readouts name it
    hypothesis: Asking for contact details earlier raises the share of users who leave them.
    unit: user                            # user | session | post: what was randomised
    control: control
    variants: {control: 0.5, treatment: 0.5}   # the arms and the planned split (or a list: equal split)
    start: 2026-10-05                     # assignments before are ignored (optional)
    end: null                             # a running experiment has no end; rows after an end are ignored
    pre_period_days: 28                   # the window before each unit's assignment that CUPED covariates read
    segments:                             # optional breakdowns, each a per-unit value
      channel: {table: marts.chat_sessions, unit_column: user_id, time_column: started_at, value: channel, agg: first}
    metrics:
      lead_captured:
        role: primary                     # primary | secondary | guardrail
        type: proportion                  # proportion | mean | ratio | quantile
        table: marts.chat_sessions        # where the rows are
        unit_column: user_id              # the column that holds the unit's id
        time_column: started_at           # when a row happened: only rows after the unit's assignment count
        where: is_lead_captured           # which rows count (a SQL condition over the table)
        within_days: 28                   # optional: only rows within N days of the assignment
        covariate: {table: marts.chat_sessions, unit_column: user_id, time_column: started_at}
                                          # CUPED: this measure over the pre-period (cuped: true uses the metric's own)
    options: {alpha: 0.05, correction: holm}   # any field of ReadoutOptions

A measure aggregates, per unit, the rows of one table from the unit's assignment on (``agg``: sum, count, any, max,
min, mean, first); a ratio has a ``numerator`` and a ``denominator`` measure. Every problem is one sentence naming
the file and the key. SQL text in ``value`` and ``where`` is parsed with sqlglot and may only name the table's columns.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insights.errors import ConfigurationError, invalid_parameter
from insights.experiments.metrics import Mean, Metric, Proportion, Quantile, Ratio
from insights.experiments.options import ROLES, ReadoutOptions
from insights.experiments.query import UnitTable, parse_expression
from insights.params import check_bool, check_instance, check_path
from insights.warehouse.connection import first_row

if TYPE_CHECKING:
    import duckdb
    from sqlglot import exp

    from insights.experiments.readout import Readout

__all__ = [
    "EXPERIMENTS_DIR",
    "Experiment",
    "ExperimentDefinitionError",
    "ExperimentNotFoundError",
    "Measure",
    "MetricDefinition",
    "analyze_experiment",
    "definition_path",
    "experiment_units",
    "find_experiment",
    "known_ids",
    "load_experiment",
    "load_experiments",
]

EXPERIMENTS_DIR = Path("experiments")
UNITS = ("user", "session", "post")
TYPES = ("proportion", "mean", "ratio", "quantile")
AGGS = ("sum", "count", "any", "max", "min", "mean", "first")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class ExperimentDefinitionError(ConfigurationError):
    """An experiment definition is unreadable, breaks a rule of the format, or names what the warehouse lacks."""


class ExperimentNotFoundError(ExperimentDefinitionError, LookupError):
    """No definition with that id in the experiments folder."""


@dataclass(frozen=True)
class Measure:
    """A per-unit quantity: ``agg`` of ``value`` over the rows of ``table`` that belong to the unit.

    Rows count from the unit's assignment (and, with ``within_days``, until that many days after it, and never after
    the experiment's end). ``sum``, ``count`` and ``any`` give 0 / false for a unit without rows; ``max``, ``min``,
    ``mean`` and ``first`` (the value of the earliest row) give NULL, which leaves the unit out of that metric.
    """

    table: str
    unit_column: str
    time_column: str
    value: str = "1"
    where: str | None = None
    agg: str = "sum"
    within_days: float | None = None


@dataclass(frozen=True)
class MetricDefinition:
    """A metric of an experiment: its role, its type, the measure(s) it reads and its analysis options."""

    name: str
    role: str
    type: str
    measure: Measure | None = None
    numerator: Measure | None = None
    denominator: Measure | None = None
    cuped: bool = False
    covariate: Measure | None = None
    winsorize: float | None = None
    winsorize_lower: float | None = None
    q: float = 0.9
    higher_is_better: bool | None = None
    description: str = ""

    @property
    def adjusted(self) -> bool:
        """CUPED: the same measure over the pre-period (``cuped``), or another one (``covariate``)."""
        return self.cuped or self.covariate is not None

    def spec(self) -> Metric:
        """The unit-level spec over the columns :func:`experiment_units` produces."""
        pre = f"{self.name}__pre"
        if self.type == "proportion":
            return Proportion(
                self.name,
                covariate=pre if self.adjusted else None,
                higher_is_better=True if self.higher_is_better is None else self.higher_is_better,
            )
        if self.type == "mean":
            return Mean(
                self.name,
                covariate=pre if self.adjusted else None,
                winsorize=self.winsorize,
                winsorize_lower=self.winsorize_lower,
                higher_is_better=True if self.higher_is_better is None else self.higher_is_better,
            )
        if self.type == "ratio":
            return Ratio(
                f"{self.name}__num",
                f"{self.name}__den",
                name=self.name,
                covariate_numerator=f"{self.name}__num__pre" if self.cuped else None,
                covariate_denominator=f"{self.name}__den__pre" if self.cuped else None,
                higher_is_better=True if self.higher_is_better is None else self.higher_is_better,
            )
        return Quantile(
            self.name,
            q=self.q,
            name=self.name,
            higher_is_better=False if self.higher_is_better is None else self.higher_is_better,
        )

    def measures(self) -> dict[str, Measure]:
        """Column name -> measure, for every column this metric needs (pre-period ones included)."""
        if self.type == "ratio":
            assert self.numerator is not None and self.denominator is not None
            out = {f"{self.name}__num": self.numerator, f"{self.name}__den": self.denominator}
        else:
            assert self.measure is not None
            out = {self.name: self.measure}
        return out

    def pre_measures(self) -> dict[str, Measure]:
        """Column name -> measure read over the pre-period, for CUPED."""
        if self.covariate is not None:
            return {f"{self.name}__pre": self.covariate}
        if self.cuped:
            return {f"{column}__pre": measure for column, measure in self.measures().items()}
        return {}


@dataclass(frozen=True)
class Experiment:
    """A validated experiment definition."""

    id: str
    unit: str
    control: str
    variants: tuple[str, ...]
    metrics: tuple[MetricDefinition, ...]
    weights: tuple[float, ...] | None = None
    title: str = ""
    hypothesis: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    pre_period_days: float = 28.0
    segments: Mapping[str, Measure] = field(default_factory=dict)
    options: ReadoutOptions = field(default_factory=ReadoutOptions)
    path: Path | None = None

    def status(self, now: dt.datetime | None = None) -> str:
        """``planned`` before the start, ``running`` until the end, then ``finished``."""
        return status_between(self.start, self.end, now)


def status_between(start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """``planned`` before ``start``, ``finished`` from ``end``, else ``running`` (open ends never bind)."""
    now = now or dt.datetime.now(dt.UTC)
    if start is not None and now < start:
        return "planned"
    if end is not None and now >= end:
        return "finished"
    return "running"


# --- reading YAML -----------------------------------------------------------------------------------------------

_EXPERIMENT_KEYS = (
    "id",
    "title",
    "hypothesis",
    "unit",
    "control",
    "variants",
    "start",
    "end",
    "pre_period_days",
    "segments",
    "metrics",
    "options",
)
_MEASURE_KEYS = tuple(f.name for f in fields(Measure))
_METRIC_KEYS = (
    "role",
    "type",
    "numerator",
    "denominator",
    "cuped",
    "covariate",
    "winsorize",
    "winsorize_lower",
    "q",
    "higher_is_better",
    "description",
    *_MEASURE_KEYS,
)


def load_experiments(folder: str | os.PathLike[str] = EXPERIMENTS_DIR) -> list[Experiment]:
    """Every ``*.yaml`` definition in ``folder``, sorted by id (an empty list when the folder does not exist)."""
    check_path("folder", "load_experiments", folder)
    return [load_experiment(Path(folder) / f"{i}.yaml") for i in known_ids(folder)]


def known_ids(folder: str | os.PathLike[str] = EXPERIMENTS_DIR) -> list[str]:
    """The ids defined in ``folder``: the names of its ``*.yaml`` files (a definition's id equals its file name)."""
    root = check_path("folder", "known_ids", folder)
    return sorted(p.stem for p in root.glob("*.yaml") if not p.name.startswith(".")) if root.is_dir() else []


def definition_path(experiment_id: str, folder: str | os.PathLike[str] = EXPERIMENTS_DIR) -> Path:
    """The file that defines ``experiment_id``; an unknown id raises ExperimentNotFoundError naming the known ones."""
    if not isinstance(experiment_id, str) or not _ID.fullmatch(experiment_id):
        raise invalid_parameter(
            "experiment_id",
            "definition_path",
            "must be an experiment id: letters, digits, '.', '_' or '-', as in experiments/<id>.yaml",
            experiment_id,
        )
    root = check_path("folder", "definition_path", folder)
    path = root / f"{experiment_id}.yaml"
    if path.is_file():
        return path
    ids = known_ids(root)
    there = (
        f"the experiments defined there are: {', '.join(ids)}"
        if ids
        else f"it holds no definitions; add {root}/<id>.yaml (the format is in docs/experiments.md)"
    )
    raise ExperimentNotFoundError(f"There is no experiment {experiment_id!r} in {root}/; {there}.")


def find_experiment(experiment_id: str, folder: str | os.PathLike[str] = EXPERIMENTS_DIR) -> Experiment:
    """The validated definition with this id (``folder/<id>.yaml``)."""
    return load_experiment(definition_path(experiment_id, folder))


def load_experiment(path: str | os.PathLike[str]) -> Experiment:
    """Read and validate one definition file."""
    import yaml

    file = check_path("path", "load_experiment", path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise ExperimentDefinitionError(f"{file}: cannot be read ({error.strerror}).") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ExperimentDefinitionError(f"{file}: is not valid YAML{where}; check indentation and quoting.") from None
    if isinstance(data, dict) and "id" in data and data["id"] != file.stem:
        raise ExperimentDefinitionError(f"{file}: id {data['id']!r} must equal the file name ({file.stem!r}).")
    return parse_experiment(data, str(file))


def parse_experiment(data: object, source: str | None = None) -> Experiment:
    """Validate a definition given as a mapping (what the YAML file holds); ``source`` names it in messages."""
    where = source or "the definition"
    mapping = _mapping(data, where, "the file")
    _known(mapping, _EXPERIMENT_KEYS, where, "the experiment")
    for key in ("id", "unit", "control", "variants", "metrics"):
        if key not in mapping:
            raise ExperimentDefinitionError(f"{where}: the key {key!r} is missing; see docs/experiments.md.")
    exp_id = _text(mapping["id"], where, "id")
    if not _ID.fullmatch(exp_id):
        raise ExperimentDefinitionError(f"{where}: id {exp_id!r} must be letters, digits, '.', '_' or '-'.")
    unit = _choice(mapping["unit"], UNITS, where, "unit")
    variants, weights = _variants(mapping["variants"], where)
    control = _text(mapping["control"], where, "control")
    if control not in variants:
        raise ExperimentDefinitionError(
            f"{where}: control {control!r} must be one of the variants ({', '.join(variants)})."
        )
    start = _timestamp(mapping.get("start"), where, "start")
    end = _timestamp(mapping.get("end"), where, "end")
    if start is not None and end is not None and end <= start:
        raise ExperimentDefinitionError(f"{where}: end ({end:%Y-%m-%d}) must be after start ({start:%Y-%m-%d}).")
    pre = mapping.get("pre_period_days", 28)
    if isinstance(pre, bool) or not isinstance(pre, int | float) or not 0 < pre <= 366:
        raise ExperimentDefinitionError(f"{where}: pre_period_days must be a number of days in (0, 366]; got {pre!r}.")
    metrics_map = _mapping(mapping["metrics"], where, "metrics")
    if not metrics_map:
        raise ExperimentDefinitionError(f"{where}: metrics must define at least one metric.")
    metrics = tuple(_metric(name, spec, where) for name, spec in metrics_map.items())
    if not any(m.role == "primary" for m in metrics):
        raise ExperimentDefinitionError(f"{where}: at least one metric must have role: primary.")
    segments = {
        _name(name, where, "segments"): _measure(spec, f"{where}: segment {name!r}", default_agg="first")
        for name, spec in _mapping(mapping.get("segments") or {}, where, "segments").items()
    }
    options = _options(mapping.get("options") or {}, where)
    return Experiment(
        id=exp_id,
        unit=unit,
        control=control,
        variants=variants,
        metrics=metrics,
        weights=weights,
        title=str(mapping.get("title") or ""),
        hypothesis=str(mapping.get("hypothesis") or ""),
        start=start,
        end=end,
        pre_period_days=float(pre),
        segments=segments,
        options=options,
        path=Path(source) if source else None,
    )


def _mapping(value: object, where: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ExperimentDefinitionError(f"{where}: {what} must be a mapping of keys to values.")
    return {str(k): v for k, v in value.items()}


def _known(mapping: Mapping[str, Any], allowed: Sequence[str], where: str, what: str) -> None:
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}."
            raise ExperimentDefinitionError(f"{where}: {what} has an unknown key {key!r}{hint}")


def _text(value: object, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ExperimentDefinitionError(f"{where}: {key} must be a non-empty text; got {value!r}.")
    return value.strip()


def _name(value: object, where: str, key: str) -> str:
    text = _text(value, where, key)
    if not _NAME.fullmatch(text) or "__" in text:
        raise ExperimentDefinitionError(
            f"{where}: {key} name {text!r} must be snake_case (lower-case letters, digits, single underscores)."
        )
    return text


def _choice(value: object, choices: Sequence[str], where: str, key: str) -> str:
    if value not in choices:
        raise ExperimentDefinitionError(f"{where}: {key} must be one of {', '.join(choices)}; got {value!r}.")
    return str(value)


def _variants(value: object, where: str) -> tuple[tuple[str, ...], tuple[float, ...] | None]:
    if isinstance(value, list):
        names = tuple(_text(v, where, "variants") for v in value)
        weights = None
    elif isinstance(value, dict):
        names = tuple(_text(v, where, "variants") for v in value)
        raw = list(value.values())
        if any(isinstance(w, bool) or not isinstance(w, int | float) or not w > 0 for w in raw):
            raise ExperimentDefinitionError(f"{where}: the planned split in variants must be positive numbers.")
        total = float(sum(raw))
        weights = tuple(float(w) / total for w in raw)
    else:
        raise ExperimentDefinitionError(
            f"{where}: variants must be a list of names or a mapping of name to planned share."
        )
    if len(names) < 2 or len(set(names)) != len(names):
        raise ExperimentDefinitionError(f"{where}: variants must name at least two distinct arms.")
    return names, weights


def _timestamp(value: object, where: str, key: str) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        stamp = value
    elif isinstance(value, dt.date):
        stamp = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            stamp = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ExperimentDefinitionError(
                f"{where}: {key} must be an ISO date or timestamp such as 2026-10-05; got {value!r}."
            ) from None
    else:
        raise ExperimentDefinitionError(f"{where}: {key} must be an ISO date or timestamp; got {value!r}.")
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.UTC)


def _number(value: object, where: str, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low < value < high:
        raise ExperimentDefinitionError(f"{where}: {key} must be a number in ({low:g}, {high:g}); got {value!r}.")
    return float(value)


def _measure(spec: object, where: str, *, default_agg: str) -> Measure:
    mapping = _mapping(spec, where, "the measure")
    _known(mapping, _MEASURE_KEYS, where, "the measure")
    for key in ("table", "unit_column", "time_column"):
        if key not in mapping:
            raise ExperimentDefinitionError(f"{where}: the key {key!r} is missing.")
    within = mapping.get("within_days")
    return Measure(
        table=_text(mapping["table"], where, "table"),
        unit_column=_text(mapping["unit_column"], where, "unit_column"),
        time_column=_text(mapping["time_column"], where, "time_column"),
        value=str(mapping.get("value", "1")),
        where=None if mapping.get("where") is None else str(mapping["where"]),
        agg=_choice(mapping.get("agg", default_agg), AGGS, where, "agg"),
        within_days=None if within is None else _number(within, where, "within_days", 0, 3660),
    )


def _metric(name: str, spec: object, where: str) -> MetricDefinition:
    name = _name(name, where, "metric")
    here = f"{where}: metric {name!r}"
    mapping = _mapping(spec, here, "the metric")
    _known(mapping, _METRIC_KEYS, here, "the metric")
    kind = _choice(mapping.get("type"), TYPES, here, "type")
    role = _choice(mapping.get("role", "secondary"), ROLES, here, "role")
    measure_keys = {k: v for k, v in mapping.items() if k in _MEASURE_KEYS}
    numerator = denominator = measure = None
    if kind == "ratio":
        if measure_keys:
            raise ExperimentDefinitionError(
                f"{here}: a ratio takes its rows from numerator and denominator, not from {sorted(measure_keys)}."
            )
        for key in ("numerator", "denominator"):
            if key not in mapping:
                raise ExperimentDefinitionError(f"{here}: a ratio needs a {key} measure.")
        numerator = _measure(mapping["numerator"], f"{here} numerator", default_agg="sum")
        denominator = _measure(mapping["denominator"], f"{here} denominator", default_agg="sum")
    else:
        if "numerator" in mapping or "denominator" in mapping:
            raise ExperimentDefinitionError(f"{here}: numerator and denominator belong to type: ratio only.")
        measure = _measure(measure_keys, here, default_agg={"proportion": "any", "quantile": "mean"}.get(kind, "sum"))
    cuped = mapping.get("cuped", False)
    if not isinstance(cuped, bool):
        raise ExperimentDefinitionError(f"{here}: cuped must be true or false; got {cuped!r}.")
    if cuped and kind == "quantile":
        raise ExperimentDefinitionError(f"{here}: cuped applies to proportion, mean and ratio metrics, not quantiles.")
    covariate = None
    if mapping.get("covariate") is not None:
        if kind not in ("proportion", "mean"):
            raise ExperimentDefinitionError(
                f"{here}: covariate applies to proportion and mean metrics (a ratio uses cuped: true)."
            )
        if cuped:
            raise ExperimentDefinitionError(f"{here}: give either cuped: true or a covariate measure, not both.")
        covariate = _measure(mapping["covariate"], f"{here} covariate", default_agg="sum")
    higher = mapping.get("higher_is_better")
    if higher is not None and not isinstance(higher, bool):
        raise ExperimentDefinitionError(f"{here}: higher_is_better must be true or false; got {higher!r}.")
    extras: dict[str, Any] = {}
    for key in ("winsorize", "winsorize_lower"):
        if mapping.get(key) is not None:
            if kind != "mean":
                raise ExperimentDefinitionError(f"{here}: {key} applies to mean metrics only.")
            extras[key] = _number(mapping[key], here, key, 0, 1)
    if "q" in mapping:
        if kind != "quantile":
            raise ExperimentDefinitionError(f"{here}: q applies to quantile metrics only.")
        extras["q"] = _number(mapping["q"], here, "q", 0, 1)
    definition = MetricDefinition(
        name=name,
        role=role,
        type=kind,
        measure=measure,
        numerator=numerator,
        denominator=denominator,
        cuped=cuped,
        covariate=covariate,
        higher_is_better=higher,
        description=str(mapping.get("description") or ""),
        **extras,
    )
    try:
        definition.spec()
    except ValueError as error:
        raise ExperimentDefinitionError(f"{here}: {error}") from None
    return definition


def _options(value: object, where: str) -> ReadoutOptions:
    mapping = _mapping(value, where, "options")
    allowed = tuple(f.name for f in fields(ReadoutOptions))
    _known(mapping, allowed, where, "options")
    try:
        return ReadoutOptions(**mapping)
    except ValueError as error:
        raise ExperimentDefinitionError(f"{where}: options: {error}") from None


# --- the unit table in the warehouse ----------------------------------------------------------------------------


def experiment_units(
    con: duckdb.DuckDBPyConnection, experiment: Experiment, *, as_of: dt.datetime | None = None
) -> UnitTable:
    """One row per assigned unit: variant, assigned_at, every metric column (and pre-period column) and segment.

    A unit's first exposure counts; units exposed to more than one variant are left out (see
    :func:`excluded_units`). Rows after the experiment's end (or ``as_of``) are ignored.
    """
    from sqlglot import exp

    _check_call("experiment_units", con, experiment)
    where = str(experiment.path or experiment.id)
    observed_until = min(t for t in (experiment.end, as_of) if t is not None) if (experiment.end or as_of) else None
    columns = _table_columns(con)
    params: list[Any] = [experiment.id]
    exposure_filters = ["experiment_id = ?"]
    if experiment.start is not None:
        exposure_filters.append("assigned_at >= ?")
        params.append(experiment.start)
    if observed_until is not None:
        exposure_filters.append("assigned_at < ?")
        params.append(observed_until)
    ctes = [
        "exposures AS (SELECT unit_id, min(variant) AS variant, min(assigned_at) AS assigned_at "
        f"FROM staging.assignments WHERE {' AND '.join(exposure_filters)} "
        "GROUP BY unit_id HAVING count(DISTINCT variant) = 1)"
    ]
    select = ["e.unit_id", "e.variant", "e.assigned_at"]
    joins = []
    plans: list[tuple[str, Measure, str, bool]] = []  # column, measure, window, zero when no rows
    for metric in experiment.metrics:
        for column, measure in metric.measures().items():
            plans.append((column, measure, "post", measure.agg in ("sum", "count", "any")))
        for column, measure in metric.pre_measures().items():
            plans.append((column, measure, "pre", measure.agg in ("sum", "count", "any")))
    for name, measure in experiment.segments.items():
        plans.append((name, measure, "post", False))
    for i, (column, measure, window, zero) in enumerate(plans):
        here = f"{where}: {column.split('__')[0]!r}"
        cte, cte_params = _measure_cte(f"m{i}", measure, window, experiment, observed_until, columns, here)
        ctes.append(cte)
        params.extend(cte_params)
        value = exp.column("v", table=f"m{i}").sql("duckdb")
        if zero:
            value = f"coalesce({value}, {'FALSE' if measure.agg == 'any' else '0'})"
        select.append(f"{value} AS {exp.to_identifier(column, quoted=True).sql('duckdb')}")
        joins.append(f"LEFT JOIN m{i} ON m{i}.unit_id = e.unit_id")
    sql = f"WITH {', '.join(ctes)} SELECT {', '.join(select)} FROM exposures AS e {' '.join(joins)}"
    names = ("unit_id", "variant", "assigned_at", *(column for column, _, _, _ in plans))
    return UnitTable(con, sql, tuple(params), names, f"experiment {experiment.id}")


def _check_call(function: str, con: object, experiment: object) -> None:
    import duckdb

    check_instance("con", function, con, duckdb.DuckDBPyConnection)
    check_instance("experiment", function, experiment, Experiment)


def _table_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute(
        "SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns "
        "WHERE table_schema IN ('marts', 'staging', 'raw') ORDER BY ordinal_position"
    ).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(str(table), []).append(str(column))
    return out


def _sql_expression(text: str, table_columns: Sequence[str], here: str, key: str) -> exp.Expr:
    """Parse user SQL, reject anything but an expression over the table's columns, qualify them to ``t``."""
    from sqlglot import exp

    parsed = parse_expression(text)
    if parsed is None:
        raise ExperimentDefinitionError(
            f"{here}: {key} must be one SQL expression over the table's columns; got {text!r}."
        )
    for column in parsed.find_all(exp.Column):
        if column.name not in table_columns:
            raise ExperimentDefinitionError(
                f"{here}: {key} names the column {column.name!r}, which the table lacks; "
                f"its columns: {', '.join(table_columns)}."
            )
        column.set("table", exp.to_identifier("t"))
        column.set("this", exp.to_identifier(column.name, quoted=True))
    return parsed


def _measure_cte(
    name: str,
    measure: Measure,
    window: str,
    experiment: Experiment,
    observed_until: dt.datetime | None,
    tables: Mapping[str, Sequence[str]],
    here: str,
) -> tuple[str, list[Any]]:
    from sqlglot import exp

    if measure.table not in tables:
        known = ", ".join(sorted(t for t in tables if not t.startswith("raw.")))
        raise ExperimentDefinitionError(
            f"{here}: the table {measure.table!r} is not in the warehouse; build it first, or use one of: {known}."
        )
    columns = tables[measure.table]
    for key in ("unit_column", "time_column"):
        if getattr(measure, key) not in columns:
            raise ExperimentDefinitionError(
                f"{here}: {key} {getattr(measure, key)!r} is not a column of {measure.table}; "
                f"its columns: {', '.join(columns)}."
            )
    schema, table = measure.table.split(".", 1)
    source = exp.table_(table, db=schema, quoted=True).sql("duckdb")
    unit = exp.column(measure.unit_column, table="t", quoted=True).sql("duckdb")
    time = exp.column(measure.time_column, table="t", quoted=True).sql("duckdb")
    value = _sql_expression(measure.value, columns, here, "value").sql("duckdb")
    aggregate = {
        "sum": f"sum(CAST({value} AS DOUBLE))",
        "count": f"count({value})",
        "any": f"bool_or(CAST({value} AS BOOLEAN))",
        "max": f"max(CAST({value} AS DOUBLE))",
        "min": f"min(CAST({value} AS DOUBLE))",
        "mean": f"avg(CAST({value} AS DOUBLE))",
        "first": f"CAST(arg_min({value}, {time}) AS VARCHAR)",
    }[measure.agg]
    params: list[Any] = []
    conditions = [f"{time} IS NOT NULL"]
    if window == "pre":
        conditions += [f"{time} < e.assigned_at", f"{time} >= e.assigned_at - to_microseconds(CAST(? AS BIGINT))"]
        params.append(round(experiment.pre_period_days * 86_400e6))
    else:
        conditions.append(f"{time} >= e.assigned_at")
        if measure.within_days is not None:
            conditions.append(f"{time} < e.assigned_at + to_microseconds(CAST(? AS BIGINT))")
            params.append(round(measure.within_days * 86_400e6))
        if observed_until is not None:
            conditions.append(f"{time} < ?")
            params.append(observed_until)
    if measure.where is not None:
        conditions.append(f"({_sql_expression(measure.where, columns, here, 'where').sql('duckdb')})")
    cte = (
        f"{name} AS (SELECT e.unit_id, {aggregate} AS v FROM exposures AS e "
        f"JOIN {source} AS t ON {unit} = e.unit_id WHERE {' AND '.join(conditions)} GROUP BY e.unit_id)"
    )
    return cte, params


def excluded_units(con: duckdb.DuckDBPyConnection, experiment: Experiment) -> int:
    """Units of the experiment exposed to more than one variant (left out of every readout)."""
    row = first_row(
        con.execute(
            "SELECT count(*) FROM (SELECT unit_id FROM staging.assignments WHERE experiment_id = ? "
            "GROUP BY unit_id HAVING count(DISTINCT variant) > 1)",
            [experiment.id],
        )
    )
    return int(row[0]) if row else 0


def analyze_experiment(
    con: duckdb.DuckDBPyConnection,
    experiment: Experiment,
    *,
    as_of: dt.datetime | None = None,
    breakdowns: bool = True,
) -> Readout:
    """The readout of a defined experiment, computed in the warehouse.

    ``breakdowns=False`` leaves out the segments and the cumulative look by day (a one-line status needs neither).
    """
    from insights.experiments.analysis import analyze

    _check_call("analyze_experiment", con, experiment)
    check_bool("breakdowns", "analyze_experiment", breakdowns)
    if not breakdowns:
        experiment = dataclasses.replace(experiment, segments={})
    table = experiment_units(con, experiment, as_of=as_of)
    by_role: dict[str, list[Metric]] = {role: [] for role in ROLES}
    for metric in experiment.metrics:
        by_role[metric.role].append(metric.spec())
    notes = []
    excluded = excluded_units(con, experiment)
    if excluded:
        notes.append(f"{excluded:,} units saw more than one variant and are left out.")
    cursor = None
    if any(m.type == "quantile" for m in experiment.metrics):
        # a quantile metric reads the units twice (moments, then order statistics): build them once, in a temporary
        # table of a cursor of its own (temporary tables work on read-only connections too)
        cursor = con.cursor()
        cursor.execute(f"CREATE TEMP TABLE experiment_units AS {table.sql}", list(table.params))
        table = UnitTable.from_data("experiment_units", con=cursor, function="analyze_experiment")
    try:
        return analyze(
            table,
            by_role,
            variant="variant",
            control=experiment.control,
            variants=experiment.variants,
            weights=experiment.weights,
            segments=tuple(experiment.segments),
            assigned_at="assigned_at" if breakdowns else None,
            options=experiment.options,
            title=experiment.title or experiment.id,
            hypothesis=experiment.hypothesis or None,
            experiment_id=experiment.id,
            notes=notes,
        )
    finally:
        if cursor is not None:
            cursor.close()
