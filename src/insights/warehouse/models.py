"""The warehouse's models: versioned .sql files whose comment header declares what each one is.

Each file under ``sql/<schema>/<table>.sql`` holds one SELECT, preceded by a header::

    -- model: marts.chat_sessions
    -- grain: one row per chat session
    -- inputs: staging.chat_events, staging.leads
    -- rules:
    --   free text that states the model's business rules (optional)
    -- checks:
    --   session_id: unique, not_null
    --   role: accepted_values(user, bot, agent, system)
    --   entry_post_id: relationships(marts.posts.post_id) warn
    --   (session_id, session_seq): unique

Key lines start with ``-- key:``; continuation lines are indented by two spaces or more. The header ends
at the first line that is not a comment. Checks follow dbt: unique, not_null, accepted_values(...) and
relationships(schema.table.column); NULLs pass accepted_values and relationships, and unique ignores
NULLs. A trailing ``warn`` makes a check a warning instead of an error.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal, TypeAlias

from insights.contract import KINDS
from insights.errors import WarehouseError

Severity = Literal["error", "warn"]
#: A directory of model files: a path, or a package resource (the default is the shipped models).
SqlDir: TypeAlias = str | os.PathLike[str] | Traversable

CHECK_NAMES = ("unique", "not_null", "accepted_values", "relationships")
HEADER_KEYS = ("model", "grain", "inputs", "rules", "checks")
_REQUIRED_KEYS = ("model", "grain", "inputs")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY_LINE = re.compile(r"--\s?(?P<key>[A-Za-z_]+):\s*(?P<value>.*)")
_CHECK = re.compile(r"(?P<name>[A-Za-z_]+)\s*(?:\((?P<args>.*)\))?\s*(?P<severity>warn|error)?")


class ModelDefinitionError(WarehouseError, ValueError):
    """A model file's header is missing a field or declares something invalid."""


@dataclass(frozen=True)
class Check:
    """One declared column check of a model.

    >>> Check(("channel",), "accepted_values", ("web", "other"), "warn").label
    'accepted_values(web, other)'
    """

    columns: tuple[str, ...]
    name: str
    args: tuple[str, ...] = ()
    severity: Severity = "error"

    @property
    def column(self) -> str:
        """The checked column, or the comma-separated columns of a compound key."""
        return ", ".join(self.columns)

    @property
    def label(self) -> str:
        """The check as written in a header, without its severity."""
        return f"{self.name}({', '.join(self.args)})" if self.args else self.name

    def __str__(self) -> str:
        warn = " warn" if self.severity == "warn" else ""
        return f"{self.column}: {self.label}{warn}"


@dataclass(frozen=True)
class Model:
    """One model: a table rebuilt from a SELECT, with its declared grain, inputs, rules and checks."""

    name: str
    grain: str
    inputs: tuple[str, ...]
    checks: tuple[Check, ...]
    rules: str
    sql: str
    path: str

    @property
    def schema(self) -> str:
        return self.name.split(".")[0]

    @property
    def table(self) -> str:
        return self.name.split(".")[1]

    @property
    def key(self) -> str | None:
        """The single column declared unique, if any: it names rows in check examples."""
        for check in self.checks:
            if check.name == "unique" and len(check.columns) == 1:
                return check.columns[0]
        return None

    @property
    def body(self) -> str:
        """The SELECT to run: the file's text without a trailing semicolon."""
        return self.sql.rstrip().rstrip(";").rstrip()


def default_sql_dir() -> Traversable:
    """The models shipped inside the package."""
    return files("insights.warehouse").joinpath("sql")


def list_models(sql_dir: SqlDir | None = None) -> list[Model]:
    """Every model of `sql_dir` (default: the shipped models), in build order (inputs first).

    >>> [m.name for m in list_models()][:2]
    ['staging.assignments', 'staging.chat_events']
    """
    root = _as_traversable(sql_dir)
    if not root.is_dir():
        raise ModelDefinitionError(f"The model directory {root} does not exist or is not a directory.")
    models: list[Model] = []
    for schema_dir in sorted(root.iterdir(), key=lambda t: t.name):
        if not schema_dir.is_dir() or schema_dir.name.startswith((".", "_")):
            continue
        for file in sorted(schema_dir.iterdir(), key=lambda t: t.name):
            if file.is_file() and file.name.endswith(".sql"):
                expected = f"{schema_dir.name}.{file.name.removesuffix('.sql')}"
                models.append(parse_model(file.read_text(encoding="utf-8"), f"{schema_dir.name}/{file.name}", expected))
    _check_relationship_targets(models)
    return _topological_order(models)


def parse_model(text: str, path: str, expected_name: str | None = None) -> Model:
    """Parse one model file's header; `path` names the file in error messages."""
    fields = _header_fields(text, path)
    missing = [k for k in _REQUIRED_KEYS if not fields.get(k)]
    if missing:
        raise ModelDefinitionError(
            f"The model file {path} lacks the header field(s) {', '.join(missing)}; "
            f"every model states {', '.join(_REQUIRED_KEYS)} in '-- key: value' lines at its top."
        )
    name = " ".join(fields["model"]).strip()
    if not _is_qualified(name, 2):
        raise ModelDefinitionError(f"The model name in {path} must be schema.table. Got {name!r} instead.")
    if expected_name is not None and name != expected_name:
        raise ModelDefinitionError(
            f"The model file {path} must declare 'model: {expected_name}' (its folder and file name). "
            f"Got {name!r} instead."
        )
    inputs = tuple(i.strip() for i in ",".join(fields["inputs"]).split(",") if i.strip())
    bad_inputs = [i for i in inputs if not _is_qualified(i, 2)]
    if bad_inputs:
        raise ModelDefinitionError(
            f"The inputs of {name} in {path} must be schema.table names. Got {', '.join(bad_inputs)} instead."
        )
    checks = tuple(c for line in fields.get("checks", []) for c in _parse_check_line(line, name, path))
    return Model(
        name=name,
        grain=" ".join(fields["grain"]).strip(),
        inputs=inputs,
        checks=checks,
        rules=" ".join(fields.get("rules", [])).strip(),
        sql=text,
        path=path,
    )


def _as_traversable(sql_dir: SqlDir | None) -> Traversable:
    if sql_dir is None:
        return default_sql_dir()
    if isinstance(sql_dir, (str, os.PathLike)):
        return Path(sql_dir)
    return sql_dir


def _header_fields(text: str, path: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    key: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("--"):
            break
        rest = line[2:]
        if not rest.strip():
            continue
        match = _KEY_LINE.fullmatch(line)
        if match and not rest.startswith("  "):
            key = match["key"].lower()
            if key not in HEADER_KEYS:
                raise ModelDefinitionError(
                    f"The header of {path} has an unknown field {match['key']!r}; "
                    f"valid fields: {', '.join(HEADER_KEYS)}."
                )
            if key in fields:
                raise ModelDefinitionError(f"The header of {path} declares {key!r} twice.")
            value = match["value"].strip()
            if key == "checks" and value:
                raise ModelDefinitionError(
                    f"The checks of {path} go on indented lines below '-- checks:', one column per line."
                )
            fields[key] = [value] if value else []
        elif rest.startswith("  ") and key is not None:
            fields[key].append(rest.strip())
        else:
            raise ModelDefinitionError(
                f"The header line {line!r} of {path} is neither '-- key: value' nor an indented continuation."
            )
    return fields


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses or quotes."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    current: list[str] = []
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _parse_check_line(line: str, model: str, path: str) -> list[Check]:
    columns_part, sep, checks_part = line.partition(":")
    if not sep or not checks_part.strip():
        raise ModelDefinitionError(
            f"The check line {line!r} of {model} ({path}) must look like 'column: check, check'."
        )
    columns = tuple(c.strip() for c in columns_part.strip().strip("()").split(","))
    if not all(_IDENTIFIER.fullmatch(c) for c in columns):
        raise ModelDefinitionError(
            f"The check line {line!r} of {model} ({path}) must name a column or '(column, column)'. "
            f"Got {columns_part.strip()!r} instead."
        )
    checks: list[Check] = []
    for spec in _split_top_level(checks_part):
        match = _CHECK.fullmatch(spec)
        if not match or match["name"] not in CHECK_NAMES:
            raise ModelDefinitionError(
                f"The check {spec!r} of {model}.{', '.join(columns)} ({path}) is not one of "
                f"{', '.join(CHECK_NAMES)} (optionally followed by 'warn')."
            )
        name = match["name"]
        args = tuple(a.strip().strip("'\"") for a in _split_top_level(match["args"] or ""))
        severity: Severity = "warn" if match["severity"] == "warn" else "error"
        where = f"{model}.{', '.join(columns)} ({path})"
        if len(columns) > 1 and name != "unique":
            raise ModelDefinitionError(f"The check {name} of {where} takes one column; only unique takes several.")
        if name in ("unique", "not_null") and args:
            raise ModelDefinitionError(f"The check {name} of {where} takes no arguments. Got {spec!r} instead.")
        if name == "accepted_values" and not args:
            raise ModelDefinitionError(f"The check accepted_values of {where} needs at least one value.")
        if name == "relationships" and (len(args) != 1 or not _is_qualified(args[0], 3)):
            raise ModelDefinitionError(
                f"The check relationships of {where} needs one schema.table.column target. Got {spec!r} instead."
            )
        checks.append(Check(columns, name, args, severity))
    return checks


def _is_qualified(name: str, n_parts: int) -> bool:
    parts = name.split(".")
    return len(parts) == n_parts and all(_IDENTIFIER.fullmatch(p) for p in parts)


def _check_relationship_targets(models: list[Model]) -> None:
    known = {m.name for m in models} | {k.table for k in KINDS.values()}
    for model in models:
        for check in model.checks:
            if check.name == "relationships":
                target = check.args[0].rsplit(".", 1)[0]
                if target not in known:
                    raise ModelDefinitionError(
                        f"The check relationships of {model.name}.{check.column} ({model.path}) points at "
                        f"{target}, which is neither a model nor a raw table. Models: "
                        f"{', '.join(sorted(m.name for m in models))}."
                    )


def _topological_order(models: list[Model]) -> list[Model]:
    """Order models so each comes after the models it reads (Kahn's algorithm, ties by name)."""
    by_name: dict[str, Model] = {}
    for model in models:
        if model.name in by_name:
            raise ModelDefinitionError(f"The model {model.name} is defined twice.")
        by_name[model.name] = model
    pending = {name: {i for i in m.inputs if i in by_name} for name, m in by_name.items()}
    ordered: list[Model] = []
    while pending:
        ready = sorted(name for name, deps in pending.items() if not deps)
        if not ready:
            raise ModelDefinitionError(
                f"The models {', '.join(sorted(pending))} read each other in a cycle; check their 'inputs' headers."
            )
        for name in ready:
            ordered.append(by_name[name])
            del pending[name]
        for deps in pending.values():
            deps.difference_update(ready)
    return ordered


def checks_markdown(sql_dir: SqlDir | None = None) -> str:
    """The checks table of docs/warehouse.md, generated from the model headers (a test keeps them equal)."""
    out = ["| model | column | check | severity |", "|---|---|---|---|"]
    for model in list_models(sql_dir):
        for check in model.checks:
            out.append(f"| `{model.name}` | `{check.column}` | {check.label} | {check.severity} |")
    return "\n".join(out) + "\n"
