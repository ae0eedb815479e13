"""A bad file fails with one sentence naming the file, the problem and the fix, and writes nothing."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from insights import ingest
from insights.errors import DataContractError
from tests.conftest import CHAT_HEADER, chat_rows


def _csv_text(n: int = 50) -> str:
    return "\n".join(",".join(str(v) for v in r) for r in [CHAT_HEADER, *chat_rows(n)]) + "\n"


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, words the message must contain)."""
    out: dict[str, tuple[Path, str]] = {}

    def put(name: str, data: bytes, expect: str) -> None:
        path = tmp / name
        path.write_bytes(data)
        out[name] = (path, expect)

    put(
        "missing_column.csv",
        b"session_id,ts,role,text\ns1,2026-03-01T10:00:00Z,user,hi\n",
        "no column 'user_id'",
    )
    put("empty.csv", b"", "the file is empty")
    put("blank.csv", b"\n\n  \n", "holds no data")
    put("claims_parquet.parquet", _csv_text().encode(), "the name says Parquet but the content is not Parquet")
    put("claims_csv.csv", b'{"session_id": "s1"}\n', "the name says CSV but the content is JSON Lines")
    full = gzip.compress(_csv_text(2000).encode())
    put("truncated.csv.gz", full[: len(full) // 2], "gzip data is truncated or corrupt")
    put(
        "garbage.csv",
        os.urandom(4096).replace(b"\x1f\x8b", b"xx").replace(b"PAR1", b"PAR2") + b"\x00",
        "binary",
    )
    put(
        "latin1.csv",
        ("session_id,user_id,ts,role,text\ns1,u1,2026-03-01T10:00:00Z,user,caf\xe9\n").encode("latin-1"),
        "not UTF-8",
    )
    put("not_gzip.csv.gz", _csv_text().encode(), "not gzip-compressed")
    put("no_footer.parquet", b"PAR1" + b"\x00" * 100, "truncated (no footer)")
    put("header_only_dupes.csv", b"session_id,Session ID,user_id,ts,role\n", "same name once normalized")
    return out


@pytest.mark.parametrize(
    "name",
    [
        "missing_column.csv",
        "empty.csv",
        "blank.csv",
        "claims_parquet.parquet",
        "claims_csv.csv",
        "truncated.csv.gz",
        "garbage.csv",
        "latin1.csv",
        "not_gzip.csv.gz",
        "no_footer.parquet",
        "header_only_dupes.csv",
    ],
)
def test_bad_file_is_refused_with_one_clear_sentence(name, db, tmp_path, write_csv):
    ingest("chat", [write_csv([CHAT_HEADER, *chat_rows(3)], "before.csv")], db=db)
    path, expect = _bad_files(tmp_path)[name]
    with pytest.raises(DataContractError) as info:
        ingest("chat", [path], db=db)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert expect in message
    assert "\n" not in message and message.endswith(".")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.chat_events").fetchone() == (3,)
        assert con.execute("SELECT count(*) FROM meta.loads").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM meta.rejects").fetchone() == (0,)


def test_truncated_gzip_found_only_deep_in_the_file(db, tmp_path):
    # The first megabyte decompresses fine; the damage is further in, where the engine meets it.
    text = _csv_text(60000).encode()
    data = gzip.compress(text)
    path = tmp_path / "deep.csv.gz"
    path.write_bytes(data[: int(len(data) * 0.9)])
    with pytest.raises(DataContractError, match=r"deep.csv.gz: the gzip data is truncated or corrupt"):
        ingest("chat", [path], db=db)


def test_non_utf8_byte_deep_in_the_file_fails_the_whole_file(db, tmp_path):
    text = _csv_text(40000).encode() + "s9,u9,2026-03-01T10:00:00Z,user,caf\xe9,pricing,false,1,web\n".encode("latin-1")
    assert len(text) > 1 << 20
    path = tmp_path / "late_latin1.csv"
    path.write_bytes(text)
    with pytest.raises(DataContractError, match="not UTF-8"):
        ingest("chat", [path], db=db)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.chat_events").fetchone() == (0,)


def test_cli_exits_non_zero_with_the_sentence_on_stderr(db, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    proc = subprocess.run(
        [sys.executable, "-m", "insights", "ingest", "chat", str(path), "--db", str(db)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert (
        proc.stderr.strip()
        == f"insights: error: {path}: the file is empty; export the data again with a header row and at least one row."
    )


def test_missing_file(db, tmp_path):
    with pytest.raises(DataContractError, match=r"nope\.csv: no such file; check the path"):
        ingest("chat", [tmp_path / "nope.csv"], db=db)
