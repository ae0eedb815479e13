"""The demo files follow the data contract, are reproducible, and agree across file formats."""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from itertools import islice
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from insights.contract import KINDS, Kind
from insights.datasets import DemoLogs, generate_demo
from insights.datasets.timeline import default_end

SMALL = {"n_posts": 120, "n_sessions": 1500, "end": date(2026, 3, 1)}
Check = Callable[[Path, Kind], tuple[int, list[tuple[int, str]]]]


def test_every_kind_is_written_with_the_contract_columns(demo: DemoLogs) -> None:
    assert list(demo.files) == list(KINDS)
    for name, kind in KINDS.items():
        [path] = demo.files[name]
        assert path.name == f"{name}.csv"
        with path.open(encoding="utf-8") as lines:
            header = lines.readline().strip()
        assert header == ",".join(f'"{c}"' for c in kind.column_names)
    assert demo.rows["chat_events"] > 150_000
    assert demo.rows["posts"] == 2000
    assert demo.malformed == dict.fromkeys(KINDS, 0)


def test_good_rows_pass_the_contract(demo: DemoLogs, contract_check: Check) -> None:
    for name, kind in KINDS.items():
        n, rejects = contract_check(demo.files[name][0], kind)
        assert rejects == [], name
        assert n == demo.rows[name], name


@pytest.mark.parametrize("name", list(KINDS))
def test_good_rows_are_unique_on_the_natural_key(con: duckdb.DuckDBPyConnection, name: str) -> None:
    key = ", ".join(KINDS[name].key)
    total = con.execute(f"SELECT count(*) FROM {name}").fetchone()
    distinct = con.execute(f"SELECT count(*) FROM (SELECT DISTINCT {key} FROM {name})").fetchone()
    assert total == distinct


def test_timestamps_mix_offsets_for_true_utc_instants(demo: DemoLogs, con: duckdb.DuckDBPyConnection) -> None:
    for name, position in (("chat_events", 2), ("posts", 2), ("leads", 2), ("assignments", 3)):
        with demo.files[name][0].open(encoding="utf-8") as lines:
            rows = list(csv.reader(islice(lines, 1, 3001)))
        stamps = [row[position] for row in rows]
        endings = Counter("Z" if s.endswith("Z") else s[-6:] for s in stamps)
        assert set(endings) <= {"Z", "+00:00", "+02:00", "-05:00", "+05:30", "-08:00"}, name
        assert len(endings) >= 3, name
        assert 0.7 < endings["Z"] / len(stamps) < 0.95, name
    for name, kind in KINDS.items():
        for column in (c.name for c in kind.columns if c.type == "timestamp"):
            row = con.execute(
                f"SELECT count(*) FILTER (WHERE {column} < ? OR {column} >= ?) FROM {name}",
                [demo.truth.start, demo.truth.end],
            ).fetchone()
            assert row == (0,), (name, column)


def test_events_of_a_session_are_in_time_order(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        """SELECT count(*) FROM (
               SELECT ts, lag(ts) OVER (PARTITION BY session_id ORDER BY rn) AS before FROM (
                   SELECT session_id, ts, row_number() OVER () AS rn FROM chat_events))
           WHERE ts <= before"""
    ).fetchone()
    assert row == (0,)
    starts = con.execute(
        """SELECT count(*) FILTER (WHERE first_event <> 'session_start'), count(*) FILTER (WHERE last_event <> 'session_end')
           FROM (SELECT arg_min(event, ts) AS first_event, arg_max(event, ts) AS last_event
                 FROM chat_events GROUP BY session_id)"""
    ).fetchone()
    assert starts == (0, 0)


def test_post_attributes_are_consistent(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        """SELECT count(*) FILTER (WHERE origin = 'human' AND (model IS NOT NULL OR prompt_id IS NOT NULL)),
                  count(*) FILTER (WHERE origin <> 'human' AND (model IS NULL OR prompt_version IS NULL)),
                  count(DISTINCT account_id || platform), count(DISTINCT platform),
                  count(*) FILTER (WHERE text IS NULL OR length(text) < 20)
           FROM posts"""
    ).fetchone()
    assert row == (0, 0, 8, 4, 0)
    videos = con.execute(
        """SELECT count(*) FILTER (WHERE p.content_type = 'video' AND m.video_views IS NULL),
                  count(*) FILTER (WHERE p.content_type <> 'video' AND m.video_views IS NOT NULL)
           FROM post_metrics m JOIN posts p USING (post_id)"""
    ).fetchone()
    assert videos == (0, 0)


def test_same_seed_and_end_give_identical_bytes(tmp_path: Path) -> None:
    a = generate_demo(tmp_path / "a", seed=3, **SMALL, malformed=7)  # type: ignore[arg-type]
    b = generate_demo(tmp_path / "b", seed=3, **SMALL, malformed=7)  # type: ignore[arg-type]
    c = generate_demo(tmp_path / "c", seed=4, **SMALL)  # type: ignore[arg-type]
    for name in KINDS:
        assert a.files[name][0].read_bytes() == b.files[name][0].read_bytes(), name
        assert a.files[name][0].read_bytes() != c.files[name][0].read_bytes(), name
    assert a.truth == b.truth


def test_bad_rows_do_not_change_the_good_ones(tmp_path: Path) -> None:
    clean = generate_demo(tmp_path / "clean", seed=5, **SMALL)  # type: ignore[arg-type]
    dirty = generate_demo(tmp_path / "dirty", seed=5, **SMALL, malformed=10)  # type: ignore[arg-type]
    for name in KINDS:
        bad = {m.row for m in dirty.truth.malformed if m.kind == name}
        lines = dirty.files[name][0].read_text(encoding="utf-8").splitlines()
        kept = [line for i, line in enumerate(lines) if i not in bad]  # line i is data row i (header is 0)
        assert kept == clean.files[name][0].read_text(encoding="utf-8").splitlines(), name


@pytest.mark.parametrize(
    ("file_format", "compress"), [("jsonl", False), ("jsonl", True), ("csv", True), ("parquet", False)]
)
def test_other_formats_hold_the_same_rows(tmp_path: Path, file_format: str, compress: bool) -> None:
    reference = generate_demo(tmp_path / "csv", seed=2, **SMALL)  # type: ignore[arg-type]
    other = generate_demo(tmp_path / "other", seed=2, file_format=file_format, compress=compress, **SMALL)  # type: ignore[arg-type]
    assert other.rows == reference.rows
    assert other.truth == reference.truth
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, kind in KINDS.items():
        path = other.files[name][0]
        assert path.name.endswith(f".{file_format}" + (".gz" if compress else ""))
        con.execute(f"CREATE VIEW ref_{name} AS {_typed(kind, reference.files[name][0])}")
        con.execute(f"CREATE VIEW other_{name} AS {_typed(kind, path)}")
        diff = con.execute(
            f"SELECT count(*) FROM ((SELECT * FROM ref_{name} EXCEPT ALL SELECT * FROM other_{name}) "
            f"UNION ALL (SELECT * FROM other_{name} EXCEPT ALL SELECT * FROM ref_{name}))"
        ).fetchone()
        assert diff == (0,), name
    if file_format == "jsonl":
        raw = other.files["chat_events"][0].read_bytes()
        first = json.loads((gzip.decompress(raw) if compress else raw).splitlines()[0])
        assert list(first) == list(KINDS["chat_events"].column_names)
    if file_format == "parquet":
        schema = pq.read_schema(other.files["chat_events"][0])
        assert str(schema.field("ts").type) == "timestamp[ms, tz=UTC]"
    con.close()


def _typed(kind: Kind, path: Path) -> str:
    """SQL reading a csv/jsonl/parquet file of a kind with the contract's SQL types."""
    if path.suffix == ".parquet":
        return f"SELECT * FROM read_parquet('{path}')"
    columns = ", ".join(f"'{c.name}': '{c.sql_type}'" for c in kind.columns)
    if ".jsonl" in path.name:
        return f"SELECT * FROM read_json('{path}', format = 'newline_delimited', columns = {{{columns}}})"
    return f"SELECT * FROM read_csv('{path}', header = true, columns = {{{columns}}}, auto_detect = false)"


def test_default_end_is_the_last_complete_week(tmp_path: Path) -> None:
    assert default_end(date(2026, 3, 4)) == date(2026, 3, 1)  # Wednesday
    assert default_end(date(2026, 3, 2)) == date(2026, 3, 1)  # Monday
    assert default_end(date(2026, 3, 1)) == date(2026, 2, 22)  # Sunday: its week is not over
    logs = generate_demo(tmp_path, n_posts=20, n_sessions=200)
    assert logs.truth.end.date() == default_end() + timedelta(days=1)
    assert logs.truth.end.weekday() == 0 and logs.truth.start.weekday() == 0
    assert logs.truth.end - logs.truth.start == timedelta(weeks=13)
