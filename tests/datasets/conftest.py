"""Fixtures for the demo data tests: one default-size data set, DuckDB views over its files,
statistical tolerances and a reference check of the data contract (independent of the loader).

Helpers are handed out as fixtures, so test modules never import this file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from insights.contract import KINDS, Kind
from insights.datasets import DemoLogs, generate_demo

END = date(2026, 3, 1)
_SQL = {"text": "VARCHAR", "timestamp": "VARCHAR", "count": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN"}


def read_kind_sql(kind: Kind, path: Path) -> str:
    """SQL reading one csv file of a kind with the contract's types (timestamps parsed with their offsets)."""
    columns = ", ".join(f"'{c.name}': '{_SQL[c.type]}'" for c in kind.columns)
    casts = ", ".join(f"CAST({c.name} AS TIMESTAMPTZ) AS {c.name}" for c in kind.columns if c.type == "timestamp")
    source = f"read_csv('{path}', header = true, columns = {{{columns}}}, auto_detect = false)"
    return f"SELECT * REPLACE ({casts}) FROM {source}"


# A reference check of the data contract, independent of the package's loader: the rows it
# rejects must be exactly the planted ones.
Reject = tuple[int, str]


def _problem(kind: Kind, row: dict[str, object]) -> str | None:
    for c in kind.columns:
        value = row.get(c.name)
        if value is None or value == "":
            if c.required:
                return f"missing {c.name}"
            continue
        if c.type == "timestamp":
            if isinstance(value, datetime):
                continue
            try:
                parsed = datetime.fromisoformat(str(value))
            except ValueError:
                return f"bad timestamp {c.name}"
            if parsed.tzinfo is None:
                return f"timestamp without offset {c.name}"
        elif c.type in ("count", "number"):
            number = float(str(value))
            if c.type == "count" and (number < 0 or number != int(number)):
                return f"bad count {c.name}"
            if (c.minimum is not None and number < c.minimum) or (c.maximum is not None and number > c.maximum):
                return f"out of range {c.name}"
        elif c.type == "boolean":
            if str(value).lower() not in ("true", "false"):
                return f"bad boolean {c.name}"
        elif c.accepted is not None and str(value).strip().lower() not in c.accepted:
            return f"not accepted {c.name}"
    return None


def _rows(path: Path, kind: Kind) -> Iterator[dict[str, object] | None]:
    """Rows as dicts; None for a csv row with the wrong number of fields."""
    if path.suffix == ".parquet":
        yield from pq.read_table(path).to_pylist()
        return
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    text = raw.decode("utf-8")
    if ".jsonl" in path.name:
        for line in text.splitlines():
            yield json.loads(line)
        return
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert tuple(header) == kind.column_names
    for fields in reader:
        yield dict(zip(header, fields, strict=True)) if len(fields) == len(header) else None


def check_file(path: Path, kind: Kind) -> tuple[int, list[Reject]]:
    """Number of data rows and the (1-based row, reason) of each row the contract rejects."""
    rejects: list[Reject] = []
    n = 0
    for n, row in enumerate(_rows(path, kind), start=1):
        problem = "wrong number of fields" if row is None else _problem(kind, row)
        if problem:
            rejects.append((n, problem))
    return n, rejects


@pytest.fixture(scope="session")
def contract_check() -> Callable[[Path, Kind], tuple[int, list[Reject]]]:
    """`check(path, kind)` -> (number of data rows, [(row, reason) of each rejected row])."""
    return check_file


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoLogs:
    """The default-size demo data set (what `make run` uses), ending on a fixed Sunday."""
    return generate_demo(tmp_path_factory.mktemp("demo"), end=END)


@pytest.fixture(scope="session")
def con(demo: DemoLogs) -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB with one view per kind over the demo's csv files, timestamps as UTC TIMESTAMPTZ."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for name, kind in KINDS.items():
        connection.execute(f"CREATE VIEW {name} AS {read_kind_sql(kind, demo.files[name][0])}")
    yield connection
    connection.close()
