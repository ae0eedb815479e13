"""Loading input files into the warehouse's raw tables.

One ingest call is one transaction: every file loads completely or nothing does. Per file, the
engine does all the row work in one unordered INSERT ... SELECT over the file: it validates each
value against the contract, pseudonymizes identifiers, redacts free text and hashes the natural key.
Rows that fail validation are inserted too, with their reason, and then moved to meta.rejects with
their line (Parquet gives row numbers; for text files an ordered second pass finds the lines of the
rejected rows only). Rows whose natural key is already present (from an earlier load or earlier in
the same file) are then deleted and counted as duplicates. Only counts come back to Python."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from insights import config
from insights.contract import Column, Kind, get_kind
from insights.errors import ConfigurationError, DataContractError, WarehouseError
from insights.ingestion.mapping import Mapping, date_from_weekday_sql, load_mapping, rule_sql
from insights.ingestion.privacy import load_key, normalize_sql, pseudonym_sql, redact_sql, sql_string, token_sql
from insights.ingestion.report import FileReport, LoadReport
from insights.ingestion.sniff import SourceFile, normalize_name, sniff
from insights.warehouse import connect
from insights.warehouse.connection import first_row
from insights.warehouse.expressions import quote_identifier as quote

#: Longest single CSV record accepted (text fields of tens of megabytes are data, not an error).
MAX_LINE_BYTES = 32 << 20
#: The CSV reader's buffer (DuckDB's default would be 16 lines' worth: far too much memory).
CSV_BUFFER_BYTES = 2 * MAX_LINE_BYTES
#: DuckDB's memory budget while loading; it spills to disk beyond that, so file size does not matter.
LOAD_MEMORY_LIMIT = "1GB"
_BLANK = "__blank__"
_TEXT_TYPES = ("VARCHAR", "JSON")


@dataclass(frozen=True)
class _SourceColumn:
    sql: str  # expression over the source relation
    name: str  # the name in the file
    type: str  # DuckDB type of the expression


@dataclass
class _Relation:
    sql: str
    columns: list[_SourceColumn]
    header_lines: int
    #: SQL of the row's number in the file, where the reader gives it (Parquet); else lines are
    #: found for the rejected rows only, by a second, ordered pass (`rescan_sql`) matching `content_hash`.
    row_number: str | None = None
    rescan_sql: str = ""
    content_hash: str = ""
    errors_table: str | None = None
    json_lines: bool = False


def _trace(label: str, started: float) -> None:
    if os.environ.get("INSIGHTS_TRACE"):
        print(f"[trace] {label}: {time.perf_counter() - started:.2f} s", flush=True)


def _fault(point: str) -> None:
    """Test seam: die abruptly at a named point, to prove a killed load leaves nothing behind."""
    if os.environ.get("INSIGHTS_FAULT") == point:
        os.kill(os.getpid(), signal.SIGKILL)


class _Fingerprint(threading.Thread):
    """BLAKE2b of the file's bytes, computed beside the load (hashlib releases the GIL)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.digest = ""

    def run(self) -> None:
        h = hashlib.blake2b(digest_size=20)
        with self.path.open("rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
        self.digest = h.hexdigest()


# --- reading the source ----------------------------------------------------------------------------


def _relation(con: duckdb.DuckDBPyConnection, src: SourceFile, load_id: int) -> _Relation:
    path = sql_string(str(src.path))
    compression = "'gzip'" if src.compression else "'none'"
    if src.format == "parquet":
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall()
        cols = [_SourceColumn(quote(str(r[0])), str(r[0]), str(r[1])) for r in described]
        sql = f"SELECT *, file_row_number AS _file_row FROM read_parquet({path}, file_row_number=true)"
        return _Relation(sql, cols, header_lines=0, row_number="_file_row + 1")
    if src.format == "csv":
        errors = f"_rejects_{load_id}"
        names = [f"c{i}" for i in range(len(src.header))]
        columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
        reader = (
            f"read_csv({path}, header=true, auto_detect=false, delim={sql_string(src.delimiter or ',')}, "
            f"quote='\"', escape='\"', columns={columns}, compression={compression}, "
            f"max_line_size={MAX_LINE_BYTES}, buffer_size={CSV_BUFFER_BYTES}, null_padding=false, "
        )
        sql = f"SELECT * FROM {reader}store_rejects=true, rejects_table='{errors}', rejects_scan='{errors}_scan')"
        cols = [_SourceColumn(n, h, "VARCHAR") for n, h in zip(names, src.header, strict=True)]
        return _Relation(
            sql,
            cols,
            header_lines=1,
            errors_table=errors,
            rescan_sql=f"SELECT * FROM {reader}ignore_errors=true)",
            content_hash=f"hash({', '.join(names)})",
        )
    # JSON Lines: each line is read as one text value ('\x1e' cannot occur raw in valid JSON),
    # then every key found anywhere in the file becomes a column.
    lines = (
        f"SELECT line FROM read_csv({path}, header=false, auto_detect=false, delim='\x1e', quote='', escape='', "
        f"columns={{'line': 'VARCHAR'}}, compression={compression}, max_line_size={MAX_LINE_BYTES}, "
        f"buffer_size={CSV_BUFFER_BYTES}, "
        "strict_mode=false, null_padding=true)"
    )
    keys = con.execute(
        f"SELECT k FROM (SELECT unnest(json_keys(line)) AS k FROM ({lines}) "
        "WHERE CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END) GROUP BY k ORDER BY k"
    ).fetchall()
    cols = []
    for (key,) in keys:
        path_expr = sql_string('$."' + str(key).replace("\\", "\\\\").replace('"', '\\"') + '"')
        cols.append(_SourceColumn(f"json_extract_string(_object, {path_expr})", str(key), "VARCHAR"))
    # Only lines that are JSON objects are parsed further (json functions raise on malformed input).
    sql = (
        "SELECT _json, _is_object, (_json IS NULL OR trim(_json) = '') AS _is_blank, "
        "CASE WHEN _is_object THEN _json END AS _object FROM ("
        "SELECT line AS _json, CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END AS _is_object "
        f"FROM ({lines}))"
    )
    return _Relation(sql, cols, header_lines=0, json_lines=True, rescan_sql=sql, content_hash="hash(_json)")


# --- SQL for one column ------------------------------------------------------------------------------


def _value(expr: str, type_: str) -> str:
    """The cell as the loader sees it: text trimmed and '' as missing; typed values as they are."""
    if type_ in _TEXT_TYPES:
        return f"NULLIF(TRIM(CAST({expr} AS VARCHAR)), '')"
    return expr


def _is_numeric(type_: str) -> bool:
    return any(t in type_ for t in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL", "NUMERIC"))


def _typed(col: Column, v: str, type_: str) -> str:
    """SQL turning the cell `v` into the contract type; NULL when it cannot be converted."""
    text = type_ in _TEXT_TYPES
    if col.type == "text":
        out = v if text else f"CAST({v} AS VARCHAR)"
        return f"lower({out})" if col.is_lowercased else out
    if col.type == "timestamp":
        if text:
            return f"TRY_CAST({v} AS TIMESTAMPTZ)"
        if "TIMESTAMP" in type_ or type_ == "DATE":
            return f"CAST({v} AS TIMESTAMPTZ)"
        return "CAST(NULL AS TIMESTAMPTZ)"
    if col.type == "count":
        d = f"TRY_CAST({v} AS DOUBLE)" if text or _is_numeric(type_) else "CAST(NULL AS DOUBLE)"
        return f"(CASE WHEN {d} = floor({d}) THEN TRY_CAST({d} AS BIGINT) END)"
    if col.type == "number":
        d = f"TRY_CAST({v} AS DOUBLE)" if text or _is_numeric(type_) else "CAST(NULL AS DOUBLE)"
        return f"(CASE WHEN isfinite({d}) THEN {d} END)"
    # boolean
    if type_ == "BOOLEAN":
        return v
    if text:
        return (
            f"(CASE lower({v}) WHEN 'true' THEN true WHEN 't' THEN true WHEN '1' THEN true WHEN 'yes' THEN true "
            f"WHEN 'y' THEN true WHEN 'false' THEN false WHEN 'f' THEN false WHEN '0' THEN false WHEN 'no' THEN false "
            f"WHEN 'n' THEN false END)"
        )
    if _is_numeric(type_):
        return f"(CASE WHEN {v} = 1 THEN true WHEN {v} = 0 THEN false END)"
    return "CAST(NULL AS BOOLEAN)"


_TYPE_WORDS = {
    "timestamp": "invalid timestamp",
    "count": "invalid whole number",
    "number": "invalid number",
    "boolean": "invalid true/false value",
    "text": "invalid text",
}


def _checks(col: Column, v: str, t: str) -> list[tuple[str, str]]:
    """(condition, reason) pairs, in the order they are tested."""
    out: list[tuple[str, str]] = []
    if col.required:
        out.append((f"{v} IS NULL", f"missing required value in {col.name}"))
    out.append((f"{v} IS NOT NULL AND {t} IS NULL", f"{_TYPE_WORDS[col.type]} in {col.name}"))
    if col.accepted:
        allowed = ", ".join(sql_string(a) for a in col.accepted)
        out.append(
            (
                f"{t} NOT IN ({allowed})",
                f"value not allowed in {col.name} (allowed: {', '.join(col.accepted)})",
            )
        )
    if col.minimum is not None:
        word = "negative value" if col.minimum == 0 else "value below minimum"
        out.append((f"{t} < {col.minimum}", f"{word} in {col.name}"))
    if col.maximum is not None:
        out.append((f"{t} > {col.maximum}", f"value above maximum {col.maximum:g} in {col.name}"))
    return out


# --- one file --------------------------------------------------------------------------------------


@dataclass
class _Plan:
    prepare_sql: list[str]  # statements to run before the insert (the pseudonym tables)
    insert_sql: str
    present: list[str]  # contract columns found in the file
    absent: list[str]  # optional contract columns not in the file
    extras: list[str]  # file columns kept in `extra`


def _resolve_columns(
    kind: Kind, rel: _Relation, mapping: Mapping | None, src: SourceFile
) -> tuple[str, dict[str, tuple[str, str]], list[_SourceColumn]]:
    """Decide where each contract column comes from. Returns (relation sql, contract -> (expr, type), extras)."""
    by_name = {c.name: c for c in rel.columns}
    seen: dict[str, str] = {}
    for c in rel.columns:
        norm = normalize_name(c.name) or c.name
        if norm in seen:
            raise DataContractError(
                f"{src.path}: the columns {seen[norm]!r} and {c.name!r} have the same name once normalized "
                f"({norm!r}); rename one of them in the file."
            )
        seen[norm] = c.name
    sql = rel.sql
    chosen: dict[str, tuple[str, str]] = {}
    used: set[str] = set()
    if mapping is not None:
        where = str(mapping.path or mapping.name)
        column_sql = {c.name: c.sql for c in rel.columns}
        if mapping.needs_row_number:
            sql = f"SELECT *, row_number() OVER () AS _rn FROM ({sql})"
        for rule in mapping.rules:
            if rule.derive == "date_from_weekday":
                for name in rule.sources:
                    rule_sql(type(rule)(target=rule.target, source=name), column_sql, where)
                sql = date_from_weekday_sql(rule, sql, column_sql)
        for rule in mapping.rules:
            expr = rule_sql(rule, column_sql, where)
            timestamp = rule.format is not None or rule.derive == "date_from_weekday"
            chosen[rule.target] = (expr, "TIMESTAMP" if timestamp else "VARCHAR")
            used.update(rule.sources)
    for c in rel.columns:
        norm = normalize_name(c.name)
        if c.name in used:
            continue
        if norm in kind.column_names and norm not in chosen:
            chosen[norm] = (c.sql, c.type)
            used.add(c.name)
    extras = [c for c in rel.columns if c.name not in used and c.name in by_name]
    missing = [c for c in kind.required if c not in chosen]
    if missing:
        found = ", ".join(c.name for c in rel.columns) or "none"
        raise DataContractError(
            f"{src.path}: no column {', '.join(repr(m) for m in missing)}, required for {kind.cli_name} logs "
            f"(columns found: {found}); rename the column in the file or map it with --mapping."
        )
    return sql, chosen, extras


def _plan(kind: Kind, rel: _Relation, mapping: Mapping | None, src: SourceFile, load_id: int) -> _Plan:
    sql, chosen, extras = _resolve_columns(kind, rel, mapping, src)
    v_cols, t_cols, checks, finals = [], [], [], []
    for col in kind.columns:
        if col.name not in chosen:
            continue
        expr, type_ = chosen[col.name]
        v, t = quote(f"v_{col.name}"), quote(f"t_{col.name}")
        v_cols.append(f"{_value(expr, type_)} AS {v}")
        t_cols.append(f"{_typed(col, v, type_)} AS {t}")
        checks += _checks(col, v, t)
    if rel.json_lines:
        checks.insert(0, ("_is_blank", _BLANK))
        checks.insert(1, ("NOT _is_object", "not a JSON object"))
    reason = "CASE " + " ".join(f"WHEN {cond} THEN {sql_string(why)}" for cond, why in checks) + " END"

    typed = f"SELECT *, {', '.join(t_cols)} FROM (SELECT *, {', '.join(v_cols)} FROM ({sql}))"

    # Identifiers repeat (10 million chat events may come from half a million people): hash each
    # distinct value once, in a temporary table that lives in memory, and join it back.
    # (The extra pass over a CSV must not record its parse errors a second time.)
    quiet = typed.replace(rel.sql, rel.rescan_sql) if rel.errors_table else typed
    prepare, joins, tokens = [], [], {}
    for col in kind.columns:
        pii = "id" if kind.name == "assignments" and col.name == "unit_id" else col.pii
        if pii is None or col.name not in chosen:
            continue
        table, t = f"_pseudonyms_{col.name}", quote(f"t_{col.name}")
        prepare.append(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT _value, {token_sql('_value', pii)} AS _token "
            f"FROM (SELECT DISTINCT {normalize_sql(t, pii)} AS _value FROM ({quiet}) WHERE {t} IS NOT NULL)"
        )
        joins.append(f"LEFT JOIN {table} ON {table}._value = {normalize_sql(f'_typed.{t}', pii)}")
        tokens[col.name] = f"{table}._token"
    token_cols = "".join(f", {tok} AS {quote('_token_' + name)}" for name, tok in tokens.items())

    counters = [c.name for c in kind.columns if c.type == "count" and c.name in chosen]
    for col in kind.columns:
        t = quote(f"t_{col.name}") if col.name in chosen else f"CAST(NULL AS {col.sql_type})"
        if col.name in tokens and col.pii is not None:
            expr = quote(f"_token_{col.name}")
        elif col.name in tokens:  # assignments.unit_id: a person only when the unit is a user
            unit_type = quote("t_unit_type") if "unit_type" in chosen else "NULL"
            expr = f"(CASE WHEN coalesce({unit_type}, 'user') = 'user' THEN {quote('_token_unit_id')} ELSE {t} END)"
        elif col.redact:
            expr = redact_sql(t)
        elif kind.name == "posts" and col.name == "observed_at" and counters:
            # Counters without a reading time were read when the file was loaded.
            any_counter = " OR ".join(f"{quote('t_' + c)} IS NOT NULL" for c in counters)
            expr = f"coalesce({t}, CASE WHEN {any_counter} THEN CAST($loaded_at AS TIMESTAMPTZ) END)"
        else:
            expr = t
        finals.append(f"{expr} AS {quote(col.name)}")

    def as_text(c: _SourceColumn) -> str:
        return f"CAST({c.sql} AS VARCHAR)"

    extra = "NULL"
    if extras:
        pairs = ", ".join(f"{sql_string(c.name)}, {as_text(c)}" for c in extras)
        extra = redact_sql(f"CAST(json_object({pairs}) AS VARCHAR)")
    # The rejected row as it was in the file, with identifiers pseudonymized and text redacted.
    pii_sources = {chosen[c.name][0]: c.pii for c in kind.columns if c.pii is not None and c.name in chosen}
    raw_pairs = []
    for c in rel.columns:
        value = as_text(c)
        if c.sql in pii_sources:
            value = pseudonym_sql(_value(c.sql, c.type), pii_sources[c.sql])
        raw_pairs.append(f"{sql_string(c.name)}, {value}")
    raw_json = "CAST(json_object(" + ", ".join(raw_pairs) + ") AS VARCHAR)" if raw_pairs else "_json"
    if rel.json_lines:
        raw_json = f"CASE WHEN _is_object THEN {raw_json} ELSE _json END"
    raw = f"CASE WHEN _reason IS NOT NULL THEN {redact_sql(raw_json)} END"
    line = f"CASE WHEN _reason IS NOT NULL THEN {rel.row_number} END" if rel.row_number else "NULL"
    row_hash = f"CASE WHEN _reason IS NOT NULL THEN {rel.content_hash} END" if rel.content_hash else "NULL"

    names = [c.name for c in kind.columns]
    key = ", ".join(quote(k) for k in kind.key)
    insert = f"""
INSERT INTO {kind.table} ({", ".join(quote(n) for n in names)}, extra, _load_id, _key, _reason, _raw, _line, _rowhash)
SELECT {", ".join(quote(n) for n in names)}, _extra, {load_id}, hash({key}), _reason, _raw, _line, _rowhash
FROM (
  SELECT {", ".join(finals)}, {extra} AS _extra, _reason, {raw} AS _raw, {line} AS _line, {row_hash} AS _rowhash
  FROM (
    SELECT _typed.*{token_cols}, {reason} AS _reason
    FROM ({typed}) AS _typed {" ".join(joins)}
  )
)"""
    present = [c for c in kind.column_names if c in chosen]
    absent = [c.name for c in kind.columns if c.name not in chosen]
    return _Plan(prepare, insert, present, absent, [c.name for c in extras])


_READ_PROBLEMS = (
    ("gzip", "the gzip data is truncated or corrupt", "compress or download the file again"),
    ("unicode", "the file is not UTF-8 text", "re-export it with UTF-8 encoding"),
    ("utf-8", "the file is not UTF-8 text", "re-export it with UTF-8 encoding"),
    ("parquet", "the Parquet file is corrupt", "export or copy the file again"),
    ("maximum line size", "a row is longer than 32 MB", "split the file or shorten that field"),
)


def _read_error(src: SourceFile, exc: duckdb.Error) -> DataContractError:
    message = str(exc).splitlines()[0]
    for needle, problem, fix in _READ_PROBLEMS:
        if needle in message.lower():
            return DataContractError(f"{src.path}: {problem} ({message}); {fix}.")
    return DataContractError(
        f"{src.path}: the file could not be read as {src.description} ({message}); "
        "check that it is a complete export in that format."
    )


def _structural_rejects(con: duckdb.DuckDBPyConnection, rel: _Relation, src: SourceFile) -> list[tuple[int, str, str]]:
    """Rows the CSV parser could not split into the header's columns: (line, reason, raw line)."""
    if rel.errors_table is None:
        return []
    rows = con.execute(
        f"SELECT line, min(error_type), min(csv_line) FROM {rel.errors_table} GROUP BY line ORDER BY line"
    ).fetchall()
    out = []
    for line, error_type, raw in rows:
        kind = str(error_type).lower()
        if "encoding" in kind or "unicode" in kind:
            raise DataContractError(
                f"{src.path}: the file is not UTF-8 text (line {line}); re-export it with UTF-8 encoding."
            )
        words = {
            "missing columns": f"malformed row: fewer fields than the {len(src.header)} header columns",
            "too many columns": f"malformed row: more fields than the {len(src.header)} header columns",
            "unquoted value": "malformed row: a quote inside an unquoted field",
        }
        out.append((int(line), words.get(kind, f"malformed row: {kind}"), str(raw or "")))
    return out


def _record_rejects(
    con: duckdb.DuckDBPyConnection,
    kind: Kind,
    rel: _Relation,
    load_id: int,
    file_name: str,
    structural: list[tuple[int, str, str]],
) -> None:
    """Copy this load's rejected rows, with their line in the file, to meta.rejects."""
    table = kind.table
    bad = f"_load_id = {load_id} AND _reason IS NOT NULL AND _reason <> '{_BLANK}'"
    # Data row k (1-based, as the parser numbers the rows it could split) is on line
    # k + header + #{structural rejects j : s_j - j < k}.
    con.execute("CREATE OR REPLACE TEMP TABLE _structural (adj BIGINT)")
    if structural:
        con.executemany(
            "INSERT INTO _structural VALUES (?)",
            [(line - rel.header_lines - j,) for j, (line, _, _) in enumerate(structural, start=1)],
        )
    if rel.row_number is not None:
        numbered = f"SELECT _line AS k, _reason, _raw FROM {table} WHERE {bad}"
    else:
        # The load itself runs unordered (much faster); rows that were rejected are found again
        # by content in an ordered second pass, which only files with bad rows pay for.
        row = first_row(con.execute(f"SELECT count(*) FROM {table} WHERE {bad}"))
        if not row or not row[0]:
            return
        con.execute("SET preserve_insertion_order = true")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _lines AS
SELECT h, rn, row_number() OVER (PARTITION BY h ORDER BY rn) AS occ
FROM (SELECT row_number() OVER () AS rn, {rel.content_hash} AS h FROM ({rel.rescan_sql}))
WHERE h IN (SELECT _rowhash FROM {table} WHERE {bad})"""
        )
        numbered = f"""SELECT l.rn AS k, r._reason, r._raw FROM (
    SELECT _rowhash, _reason, _raw, row_number() OVER (PARTITION BY _rowhash ORDER BY rowid) AS occ
    FROM {table} WHERE {bad}) r
LEFT JOIN _lines l ON l.h = r._rowhash AND l.occ = r.occ"""
    con.execute(
        f"""INSERT INTO meta.rejects
SELECT $id, $kind, $file, k + (SELECT count(*) FROM _structural WHERE adj < k) + $header, _reason, _raw
FROM ({numbered})""",
        {"id": load_id, "kind": kind.name, "file": file_name, "header": rel.header_lines},
    )


def _load_file(
    con: duckdb.DuckDBPyConnection,
    kind: Kind,
    src: SourceFile,
    mapping: Mapping | None,
    params: dict[str, Any],
    timezone: str,
) -> FileReport:
    started = time.perf_counter()
    fingerprint = _Fingerprint(src.path)
    fingerprint.start()
    load_id = int(first_row(con.execute("SELECT nextval('meta.load_ids')"))[0])  # type: ignore[index]
    table = kind.table
    file_name = str(src.path)
    # Unordered loading is about twice as fast (rows are written straight to disk); a mapping that
    # numbers rows needs the file's order.
    ordered = mapping is not None and mapping.needs_row_number
    con.execute(f"SET preserve_insertion_order = {str(ordered).lower()}")
    try:
        rel = _relation(con, src, load_id)
        plan = _plan(kind, rel, mapping, src, load_id)
        for statement in plan.prepare_sql:
            con.execute(statement, {"key": params["key"]})
        # The engine cannot know how many rows a CSV holds and may pick the file as the build side
        # of the pseudonym join; the join is written with the small table on the build side.
        con.execute("SET disabled_optimizers = 'build_side_probe_side'")
        try:
            con.execute(plan.insert_sql, {k: v for k, v in params.items() if f"${k}" in plan.insert_sql})
        finally:
            con.execute("RESET disabled_optimizers")
        structural = _structural_rejects(con, rel, src)
    except duckdb.OutOfMemoryException as exc:
        fingerprint.join()
        raise WarehouseError(
            f"{src.path}: loading ran out of memory ({str(exc).splitlines()[0]}); "
            "free memory or load the file in smaller parts."
        ) from None
    except duckdb.Error as exc:
        fingerprint.join()
        raise _read_error(src, exc) from None
    _trace("insert", started)
    _fault("after_insert")

    _record_rejects(con, kind, rel, load_id, file_name, structural)
    con.execute(f"SET preserve_insertion_order = {str(ordered).lower()}")
    if structural:
        con.executemany(
            "INSERT INTO meta.rejects VALUES (?, ?, ?, ?, ?, ?)",
            [(load_id, kind.name, file_name, line, why, raw) for line, why, raw in structural],
        )
    counts = first_row(
        con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE _reason = '{_BLANK}') FROM {table} WHERE _load_id = $id",
            {"id": load_id},
        )
    )
    assert counts is not None
    parsed, blank = int(counts[0]), int(counts[1])
    con.execute(f"DELETE FROM {table} WHERE _load_id = $id AND _reason IS NOT NULL", {"id": load_id})
    if rel.errors_table:
        con.execute(f"DROP TABLE IF EXISTS {rel.errors_table}; DROP TABLE IF EXISTS {rel.errors_table}_scan")
    for name in kind.column_names:
        con.execute(f"DROP TABLE IF EXISTS _pseudonyms_{name}")

    _trace("rejects", started)
    fingerprint.join()
    _trace("fingerprint", started)
    previous = first_row(
        con.execute(
            "SELECT min(load_id) FROM meta.loads WHERE kind = $kind AND fingerprint = $fp",
            {"kind": kind.name, "fp": fingerprint.digest},
        )
    )
    duplicate_of = int(previous[0]) if previous and previous[0] is not None else None
    rejected_rows = con.execute(
        "SELECT reason, count(*) FROM meta.rejects WHERE load_id = $id GROUP BY reason ORDER BY 2 DESC, 1",
        {"id": load_id},
    ).fetchall()
    reasons = {str(r): int(n) for r, n in rejected_rows}
    rows_read = parsed - blank + len(structural)

    if duplicate_of is not None:
        # The very same bytes were loaded before: the whole file is a duplicate.
        con.execute(f"DELETE FROM {table} WHERE _load_id = $id", {"id": load_id})
        con.execute("DELETE FROM meta.rejects WHERE load_id = $id", {"id": load_id})
        return FileReport(
            file=file_name,
            format=src.description,
            load_id=None,
            rows_read=rows_read,
            rows_loaded=0,
            rows_rejected=0,
            rows_duplicate=rows_read,
            duplicate_of=duplicate_of,
            seconds=time.perf_counter() - started,
        )

    rows_duplicate = _delete_duplicates(con, kind, load_id)
    _trace("duplicates", started)
    rows_rejected = sum(reasons.values())
    rows_loaded = rows_read - rows_rejected - rows_duplicate
    empty = _empty_cells(con, kind, load_id, plan.present)
    _trace("empty cells", started)
    con.execute(
        """INSERT INTO meta.loads VALUES ($id, $kind, $file, $fp, $size, $format, $mapping, $tz, $loaded_at,
                                          $read, $loaded, $rejected, $dup, $empty)""",
        {
            "id": load_id,
            "kind": kind.name,
            "file": file_name,
            "fp": fingerprint.digest,
            "size": src.size_bytes,
            "format": src.description,
            "mapping": str(mapping.path or mapping.name) if mapping else None,
            "tz": timezone,
            "loaded_at": params["loaded_at"],
            "read": rows_read,
            "loaded": rows_loaded,
            "rejected": rows_rejected,
            "dup": rows_duplicate,
            "empty": json.dumps(empty),
        },
    )
    return FileReport(
        file=file_name,
        format=src.description,
        load_id=load_id,
        rows_read=rows_read,
        rows_loaded=rows_loaded,
        rows_rejected=rows_rejected,
        rows_duplicate=rows_duplicate,
        reject_reasons=reasons,
        empty_cells=empty,
        columns_absent=tuple(plan.absent),
        extra_columns=tuple(plan.extras),
        seconds=time.perf_counter() - started,
    )


def _delete_duplicates(con: duckdb.DuckDBPyConnection, kind: Kind, load_id: int) -> int:
    """Drop this load's rows whose natural key exists already; within the load keep one per key.

    The key hash finds candidates fast; the key columns themselves decide, so a hash collision can
    never drop a row. Which of several same-key rows survives is decided by the row's content, not
    its position, so the result does not depend on row order.
    """
    table = kind.table
    keys = ", ".join(quote(k) for k in kind.key)
    content = ", ".join(quote(c) for c in kind.column_names)
    within = f"""
SELECT rid FROM (
    SELECT rowid AS rid,
           row_number() OVER (PARTITION BY _key, {keys} ORDER BY hash({content}), CAST(extra AS VARCHAR)) AS copy
    FROM {table}
    WHERE _load_id = $id AND _key IN (
        SELECT _key FROM {table} WHERE _load_id = $id GROUP BY _key HAVING count(*) > 1)
) WHERE copy > 1"""
    earlier = first_row(con.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE _load_id <> $id)", {"id": load_id}))
    if earlier and earlier[0]:
        same_key = " AND ".join(f"n.{quote(k)} IS NOT DISTINCT FROM o.{quote(k)}" for k in kind.key)
        within = f"""
SELECT n.rowid AS rid FROM {table} n
WHERE n._load_id = $id AND EXISTS (
    SELECT 1 FROM {table} o WHERE o._load_id <> $id AND o._key = n._key AND {same_key})
UNION{within}"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _duplicates AS {within}", {"id": load_id})
    row = first_row(con.execute("SELECT count(*) FROM _duplicates"))
    n = int(row[0]) if row else 0
    if n:
        con.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT rid FROM _duplicates)")
    con.execute("DROP TABLE _duplicates")
    return n


def _empty_cells(con: duckdb.DuckDBPyConnection, kind: Kind, load_id: int, present: list[str]) -> dict[str, int]:
    """Empty cells of the optional columns the file has: kept as NULL, never as zero, and reported."""
    optional = [c for c in present if not kind.column(c).required]
    if not optional:
        return {}
    exprs = ", ".join(f"count(*) FILTER (WHERE {quote(c)} IS NULL)" for c in optional)
    row = first_row(con.execute(f"SELECT {exprs} FROM {kind.table} WHERE _load_id = $id", {"id": load_id}))
    assert row is not None
    return {c: int(n) for c, n in zip(optional, row, strict=True) if n}


# --- the public entry point -------------------------------------------------------------------------


def _check_timezone(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    row = first_row(con.execute("SELECT count(*) FROM pg_timezone_names() WHERE name = $tz", {"tz": timezone}))
    if not row or not row[0]:
        raise ConfigurationError(
            f"The 'timezone' parameter of ingest must be an IANA timezone name such as UTC or Europe/Paris. "
            f"Got {timezone!r} instead."
        )


def ingest(
    kind: str,
    files: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    db: str | os.PathLike[str] | None = None,
    mapping: str | os.PathLike[str] | Mapping | None = None,
    timezone: str = config.DEFAULT_TIMEZONE,
    delimiter: str | None = None,
    build: bool = False,
    con: duckdb.DuckDBPyConnection | None = None,
) -> LoadReport:
    """Load log files of one kind into the warehouse; returns the LoadReport.

    All files load in one transaction: if any file is unusable, nothing is written and a
    DataContractError names the file, the problem and the fix. Bad rows do not stop a file; they go
    to meta.rejects. Loading a file again adds nothing.

    >>> report = insights.ingest("chat", ["chat.csv"], db="data/insights.duckdb")  # doctest: +SKIP
    >>> report.rows_loaded, report.reject_reasons  # doctest: +SKIP
    """
    started = time.perf_counter()
    the_kind = get_kind(kind, "ingest")
    paths = [Path(files)] if isinstance(files, str | os.PathLike) else [Path(f) for f in files]
    if not paths:
        raise DataContractError("No input file was given; pass one or more CSV, JSON Lines or Parquet files.")
    the_mapping = load_mapping(Path(mapping)) if isinstance(mapping, str | os.PathLike) else mapping
    if the_mapping is not None:
        the_mapping.check_kind(the_kind)
    if delimiter is not None and len(delimiter) != 1:
        raise DataContractError(
            f"The 'delimiter' parameter of ingest must be one character. Got {delimiter!r} instead."
        )
    sources = [sniff(p, delimiter=(the_mapping.delimiter if the_mapping else None) or delimiter) for p in paths]

    db_file = config.db_path(db)
    own = con is None
    connection = con if con is not None else connect(db_file, memory_limit=LOAD_MEMORY_LIMIT)
    where = str(db_file) if own or db is not None else "the given connection"
    try:
        _check_timezone(connection, timezone)
        key = load_key(config.key_path(db_file))
        params = {"key": key, "loaded_at": datetime.now(UTC)}
        reports: list[FileReport] = []
        connection.execute("BEGIN TRANSACTION")
        try:
            connection.execute(f"SET TimeZone = {sql_string(timezone)}")
            for src in sources:
                reports.append(_load_file(connection, the_kind, src, the_mapping, params, timezone))
            connection.execute("SET TimeZone = 'UTC'")
            connection.execute("COMMIT")
            _trace("commit", started)
        except BaseException:
            connection.execute("ROLLBACK")
            connection.execute("SET TimeZone = 'UTC'")
            raise
        if build:
            from insights.warehouse.build import build as build_warehouse

            build_warehouse(connection)
    finally:
        if own:
            connection.close()
    return LoadReport(kind=the_kind.name, db=where, files=tuple(reports), seconds=time.perf_counter() - started)
