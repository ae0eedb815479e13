"""Loading: contract validation, rejects with lines, duplicates, formats, and the all-or-nothing rule."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from insights import ingest
from insights.errors import DataContractError, InvalidParameterError
from tests.conftest import CHAT_HEADER, chat_rows


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()


def count(db: Path, table: str) -> int:
    return int(query(db, f"SELECT count(*) FROM {table}")[0][0])  # type: ignore[call-overload]


def test_good_file_loads_every_row(db, write_csv):
    path = write_csv([CHAT_HEADER, *chat_rows(40)])
    report = ingest("chat", [path], db=db)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected, report.rows_duplicate) == (
        40,
        40,
        0,
        0,
    )
    assert count(db, "raw.chat_events") == 40
    assert query(db, "SELECT kind, rows_loaded FROM meta.loads") == [("chat_events", 40)]


def test_bad_rows_go_to_rejects_with_line_reason_and_content(db, write_csv):
    rows = chat_rows(6)
    rows[1][2] = "not a time"  # line 3
    rows[3][3] = "robot"  # line 5
    rows[4][0] = ""  # line 6: missing session_id
    path = write_csv([CHAT_HEADER, *rows])
    report = ingest("chat", [path], db=db)
    assert report.rows_loaded == 3 and report.rows_rejected == 3
    assert report.reject_reasons == {
        "invalid timestamp in ts": 1,
        "missing required value in session_id": 1,
        "value not allowed in role (allowed: user, bot, agent, system)": 1,
    }
    rejects = query(db, "SELECT file, line, reason, raw FROM meta.rejects ORDER BY line")
    assert [r[1] for r in rejects] == [3, 5, 6]
    assert all(r[0] == str(path) for r in rejects)
    assert json.loads(str(rejects[0][3]))["ts"] == "not a time"
    assert json.loads(str(rejects[1][3]))["role"] == "robot"


def test_lines_stay_right_after_rows_the_parser_cannot_split(db, tmp_path):
    path = tmp_path / "mixed.csv"
    lines = [",".join(CHAT_HEADER)]
    for i, row in enumerate(chat_rows(12)):
        if i == 2:
            lines.append("s0,u1,2026-03-01T10:00:00Z,user")  # too few fields: line 4
        if i == 7:
            row[2] = "yesterday"  # a bad value after the malformed line
        lines.append(",".join(str(v) for v in row))
    path.write_text("\n".join(lines) + "\n")
    ingest("chat", [path], db=db)
    got = query(db, "SELECT line, reason FROM meta.rejects ORDER BY line")
    assert got[0][0] == 4 and got[0][1].startswith("malformed row")  # type: ignore[union-attr]
    assert got[1] == (10, "invalid timestamp in ts")  # header + 7 rows + the malformed line + 1


def test_accepted_rejected_duplicate_add_up_to_rows_read(db, write_csv):
    rows = chat_rows(10)
    rows += [rows[0], rows[1]]  # two duplicates inside the file
    rows[3][3] = "wizard"
    report = ingest("chat", [write_csv([CHAT_HEADER, *rows])], db=db)
    assert report.rows_read == 12
    assert report.rows_duplicate == 2 and report.rows_rejected == 1
    assert report.rows_loaded + report.rows_rejected + report.rows_duplicate == report.rows_read
    assert count(db, "raw.chat_events") == report.rows_loaded


def test_loading_the_same_file_twice_adds_nothing(db, write_csv):
    path = write_csv([CHAT_HEADER, *chat_rows(30)])
    ingest("chat", [path], db=db)
    before = query(db, "SELECT count(*), sum(hash(session_id, ts, text)) FROM raw.chat_events")
    again = ingest("chat", [path], db=db)
    assert again.rows_loaded == 0 and again.rows_duplicate == 30
    assert again.files[0].duplicate_of == 1
    assert query(db, "SELECT count(*), sum(hash(session_id, ts, text)) FROM raw.chat_events") == before
    assert count(db, "meta.loads") == 1


def test_overlapping_files_deduplicate_on_the_natural_key(db, write_csv):
    first = write_csv([CHAT_HEADER, *chat_rows(30)], "week1.csv")
    second = write_csv([CHAT_HEADER, *chat_rows(30, start=20)], "week2.csv")  # rows 20..29 overlap
    ingest("chat", [first], db=db)
    report = ingest("chat", [second], db=db)
    assert (report.rows_loaded, report.rows_duplicate) == (20, 10)
    assert count(db, "raw.chat_events") == 50


def test_a_bad_file_among_good_ones_writes_nothing(db, write_csv, tmp_path):
    good = write_csv([CHAT_HEADER, *chat_rows(5)], "good.csv")
    ingest("chat", [good], db=db)
    other = write_csv([CHAT_HEADER, *chat_rows(5, start=100)], "other.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("session_id,ts,role\ns1,2026-03-01T10:00:00Z,user\n")
    with pytest.raises(DataContractError, match=r"bad\.csv: no column 'user_id'"):
        ingest("chat", [other, bad], db=db)
    assert count(db, "raw.chat_events") == 5
    assert count(db, "meta.loads") == 1


def test_a_killed_load_leaves_the_warehouse_as_it_was(db, write_csv):
    ingest("chat", [write_csv([CHAT_HEADER, *chat_rows(10)], "first.csv")], db=db)
    second = write_csv([CHAT_HEADER, *chat_rows(500, start=1000)], "second.csv")
    env = {**os.environ, "INSIGHTS_FAULT": "after_insert"}
    code = "import sys; from insights import ingest; ingest('chat', [sys.argv[1]], db=sys.argv[2])"
    proc = subprocess.run([sys.executable, "-c", code, str(second), str(db)], env=env, capture_output=True)
    assert proc.returncode == -9  # killed while the rows were written but not committed
    assert count(db, "raw.chat_events") == 10
    assert count(db, "meta.loads") == 1
    # and the warehouse is usable: the same file loads fine afterwards
    assert ingest("chat", [second], db=db).rows_loaded == 500


def test_jsonl_parquet_and_gzip_load_the_same_rows(db, write_csv, write_jsonl, tmp_path):
    rows = chat_rows(20)
    records = [dict(zip(CHAT_HEADER, r, strict=True)) for r in rows]
    table = pa.Table.from_pylist([{k: str(v) for k, v in r.items()} for r in records])
    pq.write_table(table, tmp_path / "chat.parquet")
    files = {
        "csv": write_csv([CHAT_HEADER, *rows], "chat.csv"),
        "gz": write_csv([CHAT_HEADER, *rows], "chat.csv.gz", gz=True),
        "jsonl": write_jsonl(records, "chat.jsonl"),
        "parquet": tmp_path / "chat.parquet",
    }
    fingerprints = set()
    for name, path in files.items():
        target = db.with_name(f"{name}.duckdb")
        report = ingest("chat", [path], db=target)
        assert report.rows_loaded == 20, name
        fingerprints.add(tuple(query(target, "SELECT sum(_key), min(ts), max(text) FROM raw.chat_events")[0]))
    assert len(fingerprints) == 1


def test_jsonl_lines_that_are_not_objects_are_rejected(db, tmp_path):
    path = tmp_path / "chat.jsonl"
    good = dict(zip(CHAT_HEADER, chat_rows(1)[0], strict=True))
    path.write_text(json.dumps(good) + "\n[1, 2]\n{broken\n\n" + json.dumps({**good, "ts": "bad"}) + "\n")
    report = ingest("chat", [path], db=db)
    assert report.rows_loaded == 1
    assert query(db, "SELECT line, reason FROM meta.rejects ORDER BY line") == [
        (2, "not a JSON object"),
        (3, "not a JSON object"),
        (5, "invalid timestamp in ts"),
    ]


def test_parquet_with_typed_columns(db, tmp_path):
    import datetime as dt

    table = pa.table(
        {
            "post_id": ["p1", "p2"],
            "observed_at": [dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), None],
            "likes": pa.array([5, -1], pa.int64()),
        }
    )
    path = tmp_path / "metrics.parquet"
    pq.write_table(table, path)
    report = ingest("post-metrics", [path], db=db)
    assert report.rows_loaded == 1
    assert report.reject_reasons == {"missing required value in observed_at": 1}
    assert query(db, "SELECT post_id, likes, strftime(observed_at, '%Y-%m-%d %H') FROM raw.post_metrics") == [
        ("p1", 5, "2026-03-01 12")
    ]
    assert query(db, "SELECT line FROM meta.rejects") == [(2,)]


def test_unknown_columns_are_kept_in_extra(db, write_csv):
    header = (*CHAT_HEADER, "Sentiment Score", "crm_segment")
    rows = [[*r, "0.8", "smb"] for r in chat_rows(3)]
    report = ingest("chat", [write_csv([header, *rows])], db=db)
    assert report.files[0].extra_columns == ("Sentiment Score", "crm_segment")
    extra = json.loads(str(query(db, "SELECT extra FROM raw.chat_events LIMIT 1")[0][0]))
    assert extra == {"Sentiment Score": "0.8", "crm_segment": "smb"}


def test_types_and_vocabulary_are_normalized(db, write_csv):
    header = ("post_id", "platform", "published_at", "content_type", "paid", "likes", "observed_at")
    rows = [
        ["p1", " Facebook ", "2026-03-01 10:00", "VIDEO", "Yes", "12", "2026-03-08T10:00:00Z"],
        ["p2", "x", "2026-03-01 10:00", "video", "0", "12.5", "2026-03-08T10:00:00Z"],
        ["p3", "x", "2026-03-01 10:00", "meme", "1", "3", "2026-03-08T10:00:00Z"],
        ["p4", "x", "2026-03-01 10:00", "text", "maybe", "3", "2026-03-08T10:00:00Z"],
    ]
    report = ingest("posts", [write_csv([header, *rows])], db=db)
    assert report.rows_loaded == 1
    assert query(db, "SELECT platform, content_type, paid, likes FROM raw.posts") == [("facebook", "video", True, 12)]
    assert set(report.reject_reasons) == {
        "invalid whole number in likes",
        "value not allowed in content_type (allowed: text, image, video, link, carousel, story, reel, other)",
        "invalid true/false value in paid",
    }


def test_timestamps_without_offset_use_the_given_timezone(db, write_csv):
    rows = chat_rows(2)
    rows[0][2] = "2026-03-01 10:00:00"  # Paris, winter: UTC+1
    rows[1][2] = "2026-03-01T10:00:00-05:00"  # an explicit offset wins
    ingest("chat", [write_csv([CHAT_HEADER, *rows])], db=db, timezone="Europe/Paris")
    got = query(db, "SELECT strftime(ts, '%H:%M') FROM raw.chat_events ORDER BY ts")
    assert got == [("09:00",), ("15:00",)]


def test_invalid_arguments_name_the_parameter(db, write_csv):
    path = write_csv([CHAT_HEADER, *chat_rows(1)])
    with pytest.raises(InvalidParameterError, match="'kind' parameter of ingest must be one of posts, post-metrics"):
        ingest("tweets", [path], db=db)
    with pytest.raises(ValueError, match="'timezone' parameter of ingest must be an IANA timezone"):
        ingest("chat", [path], db=db, timezone="Mars/Olympus")
    assert count(db, "meta.loads") == 0


def test_posts_with_counters_become_snapshots_at_load_time(db, write_csv):
    header = ("post_id", "platform", "published_at", "likes")
    report = ingest("posts", [write_csv([header, ["p1", "x", "2026-03-01T10:00:00Z", "4"]])], db=db)
    assert report.rows_loaded == 1
    loaded_at, observed_at = query(
        db, "SELECT l.loaded_at, p.observed_at FROM raw.posts p JOIN meta.loads l ON l.load_id = p._load_id"
    )[0]
    assert observed_at == loaded_at


def test_gzip_file_is_read(db, write_csv):
    path = write_csv([CHAT_HEADER, *chat_rows(5)], "chat.csv.gz", gz=True)
    assert gzip.decompress(path.read_bytes()).startswith(b"session_id")
    assert ingest("chat", [path], db=db).rows_loaded == 5
