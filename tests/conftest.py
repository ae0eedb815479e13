"""Shared fixtures: a fresh warehouse path per test, small helpers to write input files, and one demo warehouse
with a fixed end date for the tests that read planted effects."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import duckdb

    from insights.demo import DemoSummary


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A warehouse path in a temporary folder; the key file lands beside it."""
    monkeypatch.delenv("INSIGHTS_DB", raising=False)
    monkeypatch.delenv("INSIGHTS_KEY_FILE", raising=False)
    return tmp_path / "wh" / "insights.duckdb"


WriteCsv = Callable[..., Path]


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    """Write rows (first row = header) as CSV; options: name, delimiter, gz, bom, crlf."""

    def write(
        rows: Sequence[Sequence[object]],
        name: str = "input.csv",
        *,
        delimiter: str = ",",
        gz: bool = False,
        bom: bool = False,
        crlf: bool = False,
    ) -> Path:
        path = tmp_path / name
        lines: list[str] = []

        class _Sink:
            def write(self, s: str) -> None:
                lines.append(s)

        writer = csv.writer(_Sink(), delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
        data = ("\ufeff" if bom else "") + "".join(lines)
        raw = data.encode("utf-8")
        if gz:
            path.write_bytes(gzip.compress(raw))
        else:
            path.write_bytes(raw)
        return path

    return write


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[[Iterable[dict[str, object]], str], Path]:
    def write(records: Iterable[dict[str, object]], name: str = "input.jsonl") -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return path

    return write


CHAT_HEADER = (
    "session_id",
    "user_id",
    "ts",
    "role",
    "text",
    "intent",
    "is_fallback",
    "latency_ms",
    "channel",
)


def chat_rows(n: int, *, start: int = 0, session: str = "s") -> list[list[object]]:
    """n valid chat events, unique on the natural key."""
    rows: list[list[object]] = []
    for i in range(start, start + n):
        rows.append(
            [
                f"{session}{i // 4}",
                f"user{i // 8}",
                f"2026-03-01T10:{(i // 60) % 60:02d}:{i % 60:02d}Z",
                "user" if i % 2 == 0 else "bot",
                f"message {i}",
                "pricing",
                "false",
                i % 500,
                "web",
            ]
        )
    return rows


#: The demo's last day: fixed, so the planted truth is that of one known data set.
END = date(2026, 3, 1)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    from insights.demo import run_demo

    folder = tmp_path_factory.mktemp("demo")
    summary = run_demo(db=folder / "demo.duckdb", out_dir=folder / "logs", end=END)
    return folder / "demo.duckdb", summary


@pytest.fixture
def demo_con(demo_warehouse: tuple[Path, DemoSummary]) -> Iterator[duckdb.DuckDBPyConnection]:
    from insights.warehouse import connect

    con = connect(demo_warehouse[0], read_only=True)
    try:
        yield con
    finally:
        con.close()
