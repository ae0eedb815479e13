"""Column mappings: YAML files that adapt a real export to the data contract.

A mapping names, for each contract column, where its value comes from:

    kind: posts
    source: {delimiter: ";"}
    columns:
      content_type: {from: Type, values: {Photo: image, Status: text}}
      platform: {value: facebook}
      post_id: {derive: row_number, prefix: "fb-"}
      impressions: Lifetime Post Total Impressions       # shorthand for {from: ...}
      account_id: {from: status_id, pattern: "^([0-9]+)_"}
      published_at: {from: Posted, format: ["%m/%d/%y %H:%M", "%m/%d/%Y %H:%M"], timezone: UTC-05:00}

Rules: `from` (a source column, optionally with `pattern` to keep part of it, `values` to translate,
`format` to parse timestamps with strptime codes, one or several tried in order, and `timezone` to
say in which zone those timestamps are written), `value` (a constant), or `derive` (`row_number`, or
`date_from_weekday` for exports that only give month, weekday and hour). Source columns the mapping
does not use keep flowing: those whose names match a contract column are used as they are, the rest
are kept in the `extra` JSON column. See docs/mappings.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from insights.contract import Kind, get_kind
from insights.errors import MappingError
from insights.ingestion.privacy import sql_string

_RULE_KEYS = {"from", "value", "values", "format", "derive", "prefix", "year", "month", "weekday", "hour"}
_RULE_KEYS |= {"weekday_numbering", "rows", "minute", "pattern", "timezone"}
#: Keys that transform the value of a source column, so they need `from`.
_SOURCE_KEYS = ("pattern", "values", "format", "timezone")
_DERIVATIONS = ("row_number", "date_from_weekday")
_WEEKDAY_NUMBERING = ("monday_is_1", "sunday_is_1")
_ROW_ORDERS = ("oldest_first", "newest_first")
_UTC_OFFSET = re.compile(r"UTC([+-])(\d{2}):(\d{2})")
# DuckDB matches with RE2, which has no look-around and no back-references; Python's `re` would
# accept them, so they are refused here rather than failing in the middle of a load.
_RE2_UNSUPPORTED = re.compile(r"\(\?<?[=!]|\(\?P=|\\[1-9]")


@dataclass(frozen=True)
class Rule:
    """How one contract column is filled."""

    target: str
    source: str | None = None
    value: str | None = None
    values: dict[str, str] | None = None
    #: strptime formats, tried in order; the first that reads the whole value wins.
    format: tuple[str, ...] | None = None
    derive: str | None = None
    #: regular expression (RE2); the value becomes its first capture group, or the whole match.
    pattern: str | None = None
    #: IANA zone name or fixed offset (`UTC+07:00`) in which the `format`ted timestamps are written.
    timezone: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def sources(self) -> tuple[str, ...]:
        """The source columns this rule reads."""
        if self.source is not None:
            return (self.source,)
        if self.derive == "date_from_weekday":
            return tuple(str(self.options[k]) for k in ("month", "weekday", "hour") if k in self.options)
        return ()


@dataclass(frozen=True)
class Mapping:
    """A parsed, validated mapping file."""

    name: str
    path: Path | None
    kind: str | None
    rules: tuple[Rule, ...]
    delimiter: str | None = None
    description: str = ""

    @property
    def needs_row_number(self) -> bool:
        return any(r.derive is not None for r in self.rules)

    def check_kind(self, kind: Kind) -> None:
        if self.kind is not None and get_kind(self.kind, "mapping").name != kind.name:
            raise MappingError(
                f"{self.path or self.name}: this mapping is for {self.kind} logs, not {kind.cli_name}; "
                f"run 'insights ingest {self.kind} ...' or pick the mapping written for {kind.cli_name}."
            )


def _error(where: str, problem: str) -> MappingError:
    return MappingError(f"{where}: {problem}.")


def _parse_rule(where: str, target: str, spec: Any) -> Rule:
    if isinstance(spec, str):
        return Rule(target=target, source=spec)
    if not isinstance(spec, MappingABC):
        raise _error(where, f"column {target!r} must be a source column name or a mapping with from, value or derive")
    unknown = set(spec) - _RULE_KEYS
    if unknown:
        raise _error(
            where,
            f"column {target!r} has unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(_RULE_KEYS))}",
        )
    kinds = [k for k in ("from", "value", "derive") if k in spec]
    if len(kinds) != 1:
        raise _error(where, f"column {target!r} needs exactly one of from, value or derive (found {kinds or 'none'})")
    values = spec.get("values")
    if values is not None and not isinstance(values, MappingABC):
        raise _error(where, f"'values' of column {target!r} must map source values to contract values")
    if "from" not in spec:
        misplaced = [k for k in _SOURCE_KEYS if k in spec]
        if misplaced:
            raise _error(where, f"column {target!r}: {', '.join(misplaced)} only apply to a source column (from)")
    derive = spec.get("derive")
    plain = ("from", "value", "values", "format", "derive", "pattern", "timezone")
    options = {k: v for k, v in spec.items() if k not in plain}
    if derive is not None:
        if derive not in _DERIVATIONS:
            raise _error(where, f"column {target!r}: derive must be one of {', '.join(_DERIVATIONS)}, not {derive!r}")
        if derive == "date_from_weekday":
            missing = [k for k in ("year", "month", "weekday") if k not in spec]
            if missing:
                raise _error(where, f"column {target!r}: date_from_weekday needs {', '.join(missing)}")
            if spec.get("weekday_numbering", "monday_is_1") not in _WEEKDAY_NUMBERING:
                raise _error(
                    where,
                    f"column {target!r}: weekday_numbering must be one of {', '.join(_WEEKDAY_NUMBERING)}",
                )
            if spec.get("rows", "oldest_first") not in _ROW_ORDERS:
                raise _error(where, f"column {target!r}: rows must be one of {', '.join(_ROW_ORDERS)}")
    formats = _parse_formats(where, target, spec["format"]) if "format" in spec else None
    if "timezone" in spec and formats is None:
        raise _error(where, f"column {target!r}: timezone needs format (the strptime codes of the local times)")
    return Rule(
        target=target,
        source=str(spec["from"]) if "from" in spec else None,
        value=None if "value" not in spec or spec["value"] is None else str(spec["value"]),
        values={str(k): str(v) for k, v in values.items()} if values else None,
        format=formats,
        derive=derive,
        options=options,
        pattern=_parse_pattern(where, target, spec["pattern"]) if "pattern" in spec else None,
        timezone=_parse_timezone(where, target, spec["timezone"]) if "timezone" in spec else None,
    )


def _parse_formats(where: str, target: str, spec: Any) -> tuple[str, ...]:
    formats = [spec] if isinstance(spec, str) else spec
    if not isinstance(formats, list) or not formats or not all(isinstance(f, str) and f for f in formats):
        raise _error(where, f"'format' of column {target!r} must be strptime codes, or a list of them to try in order")
    return tuple(formats)


def _parse_pattern(where: str, target: str, spec: Any) -> str:
    if not isinstance(spec, str) or not spec:
        raise _error(where, f"'pattern' of column {target!r} must be a regular expression")
    try:
        groups = re.compile(spec).groups
    except re.error as exc:
        raise _error(where, f"'pattern' of column {target!r} is not a valid regular expression ({exc})") from None
    if _RE2_UNSUPPORTED.search(spec):
        raise _error(
            where, f"'pattern' of column {target!r} uses look-around or a back-reference, which RE2 does not support"
        )
    if groups > 1:
        raise _error(where, f"'pattern' of column {target!r} has {groups} capture groups; use at most one")
    return spec


def _parse_timezone(where: str, target: str, spec: Any) -> str:
    name = str(spec) if isinstance(spec, str) else ""
    offset = _UTC_OFFSET.fullmatch(name)
    if offset is not None:
        if int(offset[2]) <= 14 and int(offset[3]) < 60:
            return name
    elif name:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise _error(
        where,
        f"'timezone' of column {target!r} must be an IANA time zone such as Asia/Bangkok or a fixed offset "
        f"such as UTC-05:00, not {spec!r}",
    )


def parse_mapping(data: Any, *, where: str = "mapping", path: Path | None = None) -> Mapping:
    """Validate a mapping given as a dict (the parsed YAML)."""
    if not isinstance(data, MappingABC):
        raise _error(where, "a mapping file must be a YAML mapping with a 'columns' section")
    unknown = set(data) - {"name", "kind", "description", "source", "columns"}
    if unknown:
        raise _error(
            where,
            f"unknown top-level keys {sorted(unknown)}; allowed: name, kind, description, source, columns",
        )
    columns = data.get("columns")
    if not isinstance(columns, MappingABC) or not columns:
        raise _error(where, "the 'columns' section is missing or empty")
    kind_name = data.get("kind")
    kind = get_kind(str(kind_name), "mapping") if kind_name is not None else None
    rules = []
    for target, spec in columns.items():
        if kind is not None and target not in kind.column_names:
            raise _error(
                where,
                f"{target!r} is not a column of {kind.cli_name} logs; contract columns: {', '.join(kind.column_names)}",
            )
        rules.append(_parse_rule(where, str(target), spec))
    source = data.get("source") or {}
    if not isinstance(source, MappingABC) or set(source) - {"delimiter"}:
        raise _error(where, "'source' may only hold 'delimiter'")
    delimiter = source.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise _error(where, f"the delimiter must be a single character, not {delimiter!r}")
    return Mapping(
        name=str(data.get("name") or (path.stem if path else "mapping")),
        path=path,
        kind=kind.name if kind else None,
        rules=tuple(rules),
        delimiter=delimiter,
        description=str(data.get("description") or ""),
    )


def bundled_mappings() -> dict[str, Path]:
    """Mappings shipped with insights, by name (usable as `--mapping NAME`)."""
    folder = Path(__file__).resolve().parent.parent / "mappings"
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping YAML file, or a bundled mapping given by name."""
    file = Path(path)
    if not file.is_file():
        bundled = bundled_mappings()
        if str(path) in bundled:
            file = bundled[str(path)]
        else:
            raise _error(
                str(file),
                "no such mapping file; check the path given to --mapping, or name a bundled mapping "
                f"({', '.join(bundled) or 'none'})",
            )
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _error(str(file), f"not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse_mapping(data, where=str(file), path=file)


# --- SQL -------------------------------------------------------------------------------------------


def _text(expr: str) -> str:
    return f"NULLIF(TRIM(CAST({expr} AS VARCHAR)), '')"


def rule_sql(rule: Rule, column_sql: dict[str, str], where: str) -> str:
    """SQL expression for one rule. `column_sql` maps source names to SQL expressions."""

    def col(name: str) -> str:
        if name not in column_sql:
            raise _error(
                where,
                f"column {rule.target!r} reads source column {name!r}, which the file does not have; "
                f"columns found: {', '.join(column_sql)}",
            )
        return column_sql[name]

    if rule.value is not None or (rule.source is None and rule.derive is None):
        return "NULL" if rule.value is None else sql_string(rule.value)
    if rule.derive == "row_number":
        prefix = str(rule.options.get("prefix", ""))
        return f"({sql_string(prefix)} || CAST(_rn AS VARCHAR))"
    if rule.derive == "date_from_weekday":
        return "_derived_date"
    assert rule.source is not None
    expr = _text(col(rule.source))
    if rule.pattern is not None:
        group = 1 if re.compile(rule.pattern).groups else 0
        # No match gives '', which is a missing value like an empty cell.
        expr = f"NULLIF(regexp_extract({expr}, {sql_string(rule.pattern)}, {group}), '')"
    if rule.values:
        cases = " ".join(f"WHEN {sql_string(k)} THEN {sql_string(v)}" for k, v in rule.values.items())
        expr = f"(CASE {expr} {cases} ELSE {expr} END)"
    if rule.format:
        tries = [f"try_strptime({expr}, {sql_string(f)})" for f in rule.format]
        expr = tries[0] if len(tries) == 1 else f"coalesce({', '.join(tries)})"
        if rule.timezone is not None:
            expr = _local_time_sql(expr, rule.timezone)
    return expr


def _local_time_sql(expr: str, timezone: str) -> str:
    """The instant (TIMESTAMPTZ) of the local time `expr` written in `timezone`."""
    offset = _UTC_OFFSET.fullmatch(timezone)
    if offset is None:
        return f"timezone({sql_string(timezone)}, {expr})"
    minutes = (int(offset[2]) * 60 + int(offset[3])) * (1 if offset[1] == "+" else -1)
    # local = UTC + offset, so UTC = local - offset; done by hand so it never depends on zone data.
    return f"timezone('UTC', {expr} - to_minutes({minutes}))"


def date_from_weekday_sql(rule: Rule, base_sql: str, column_sql: dict[str, str]) -> str:
    """Wrap `base_sql` (which has `_rn`, the record number) with a `_derived_date` column.

    For exports that give only the month, weekday and hour of each row, in time order: consecutive
    rows of the same month advance by the weekday difference (0 to 6 days); a new month starts on
    its first day with the row's weekday. Rows whose derived date leaves its month get NULL, so the
    loader rejects them instead of inventing a date.
    """
    o = rule.options
    year = int(o["year"])
    month = _text(column_sql[str(o["month"])])
    weekday = f"TRY_CAST({_text(column_sql[str(o['weekday'])])} AS INTEGER)"
    if o.get("weekday_numbering", "monday_is_1") == "sunday_is_1":
        weekday = f"((({weekday}) + 5) % 7 + 1)"  # Sunday=1..Saturday=7 -> ISO Monday=1..Sunday=7
    hour = f"COALESCE(TRY_CAST({_text(column_sql[str(o['hour'])])} AS INTEGER), 0)" if "hour" in o else "0"
    order = "(count(*) OVER () - _rn)" if o.get("rows", "oldest_first") == "newest_first" else "_rn"
    return f"""
SELECT *,
  CASE WHEN month(_d) = _m THEN _d + to_hours(_h) END AS _derived_date
FROM (
  SELECT *,
    (make_date({year}, _m, 1)
      + CAST((first_value(_w) OVER (PARTITION BY _seg ORDER BY _chrono) - isodow(make_date({year}, _m, 1)) + 7) % 7
             + sum(_step) OVER (PARTITION BY _seg ORDER BY _chrono ROWS UNBOUNDED PRECEDING) AS INTEGER)
    )::TIMESTAMP AS _d
  FROM (
    SELECT *,
      sum(CASE WHEN _m IS DISTINCT FROM _pm THEN 1 ELSE 0 END) OVER (ORDER BY _chrono ROWS UNBOUNDED PRECEDING) AS _seg,
      CASE WHEN _m IS DISTINCT FROM _pm THEN 0 ELSE (_w - _pw + 7) % 7 END AS _step
    FROM (
      SELECT *, lag(_m) OVER (ORDER BY _chrono) AS _pm, lag(_w) OVER (ORDER BY _chrono) AS _pw
      FROM (
        SELECT *, TRY_CAST({month} AS INTEGER) AS _m, {weekday} AS _w, {hour} AS _h, {order} AS _chrono
        FROM ({base_sql})
      )
    )
  )
)"""
