"""Two processes: a second writer gets a clear error, never corruption; readers share the file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from insights import connect, ingest
from insights.errors import WarehouseBusyError
from tests.conftest import CHAT_HEADER, chat_rows

HOLD = textwrap.dedent(
    """
    import sys, time
    from insights.warehouse import connect
    con = connect(sys.argv[1], read_only=sys.argv[2] == "read")
    print("ready", flush=True)
    time.sleep(30)
    """
)


def _hold(db: Path, mode: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db), mode], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait()
    assert proc.stdout is not None
    proc.stdout.close()


@pytest.fixture
def loaded(db, write_csv) -> Path:
    ingest("chat", [write_csv([CHAT_HEADER, *chat_rows(20)], "first.csv")], db=db)
    return db


def test_second_writer_gets_a_clear_error_and_changes_nothing(loaded, write_csv):
    holder = _hold(loaded, "write")
    try:
        with pytest.raises(WarehouseBusyError, match=r"is being written by another process \(process \d+\)"):
            ingest("chat", [write_csv([CHAT_HEADER, *chat_rows(5, start=500)], "second.csv")], db=loaded)
    finally:
        _stop(holder)
    with connect(loaded, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.chat_events").fetchone() == (20,)


def test_readers_share_the_warehouse(loaded):
    readers = [_hold(loaded, "read") for _ in range(2)]
    try:
        with connect(loaded, read_only=True) as con:
            assert con.execute("SELECT count(*) FROM raw.chat_events").fetchone() == (20,)
            with pytest.raises(Exception, match="read-only"):
                con.execute("DELETE FROM raw.chat_events")
    finally:
        for r in readers:
            _stop(r)


def test_a_reader_waits_for_no_one_once_the_writer_is_gone(loaded):
    holder = _hold(loaded, "write")
    with pytest.raises(WarehouseBusyError, match="try again when it is done"):
        connect(loaded, read_only=True)
    _stop(holder)
    time.sleep(0.1)
    with connect(loaded, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.chat_events").fetchone() == (20,)
