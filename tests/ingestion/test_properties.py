"""Properties of loading, checked on generated logs: idempotence, order independence, accounting."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from unittest import mock

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insights import ingest

HEADER = ("session_id", "user_id", "ts", "role", "text", "latency_ms")

cells = st.fixed_dictionaries(
    {
        "session_id": st.sampled_from(["s1", "s2", "s3", ""]),
        "user_id": st.sampled_from(["u1", "u2", "jane@example.com"]),
        "ts": st.sampled_from(["2026-03-01T10:00:00Z", "2026-03-01T11:00:00+01:00", "2026-03-02 09:30", "soon"]),
        "role": st.sampled_from(["user", "bot", "USER", "robot"]),
        "text": st.sampled_from(["hi", "price?", "call +1 415 555 0134", "", 'a,b;"c"']),
        "latency_ms": st.sampled_from(["", "10", "-5", "abc", "12.5"]),
    }
)
logs = st.lists(cells, min_size=1, max_size=40)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _state(db: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT session_id, user_id, ts, role, text, latency_ms FROM raw.chat_events ORDER BY ALL"
        ).fetchall()


def _load(folder: Path, name: str, batches: list[list[dict[str, str]]]):
    db = folder / f"{name}.duckdb"
    # One key for every warehouse of the example, so pseudonyms compare equal across them.
    with mock.patch.dict(os.environ, {"INSIGHTS_KEY_FILE": str(folder / "shared.key")}):
        reports = [ingest("chat", [_write(folder / f"{name}_{i}.csv", rows)], db=db) for i, rows in enumerate(batches)]
    return db, reports


@SETTINGS
@given(logs)
def test_loading_the_rows_again_changes_nothing(rows):
    with tempfile.TemporaryDirectory() as tmp:
        once, _ = _load(Path(tmp), "once", [rows])
        twice, reports = _load(Path(tmp), "twice", [rows, list(reversed(rows))])
        assert _state(once) == _state(twice)
        assert reports[1].rows_loaded == 0


@SETTINGS
@given(logs, st.randoms(use_true_random=False))
def test_row_order_does_not_matter(rows, rnd):
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    with tempfile.TemporaryDirectory() as tmp:
        a, [ra] = _load(Path(tmp), "a", [rows])
        b, [rb] = _load(Path(tmp), "b", [shuffled])
        assert _state(a) == _state(b)
        assert (ra.rows_loaded, ra.rows_rejected, ra.rows_duplicate) == (
            rb.rows_loaded,
            rb.rows_rejected,
            rb.rows_duplicate,
        )
        assert ra.reject_reasons == rb.reject_reasons


@SETTINGS
@given(st.lists(logs, min_size=1, max_size=3))
def test_loaded_plus_rejected_plus_duplicate_is_rows_read(batches):
    with tempfile.TemporaryDirectory() as tmp:
        db, reports = _load(Path(tmp), "w", batches)
        for rows, r in zip(batches, reports, strict=True):
            assert r.rows_read == len(rows)
            assert r.rows_loaded + r.rows_rejected + r.rows_duplicate == r.rows_read
            assert sum(r.reject_reasons.values()) == r.rows_rejected
        assert len(_state(db)) == sum(r.rows_loaded for r in reports)
        with duckdb.connect(str(db), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM meta.rejects").fetchone() == (
                sum(r.rows_rejected for r in reports),
            )
