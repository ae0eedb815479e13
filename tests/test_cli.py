"""The command line, run as a user would: a real process, a real warehouse file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CHAT_HEADER, chat_rows


def insights(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "insights", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "insights.duckdb"
    proc = insights("demo", "--db", str(db), "--out", str(folder / "logs"), "--posts", "300", "--sessions", "2000")
    return db, proc


def test_demo_prints_the_summary_a_user_needs(demo):
    db, proc = demo
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for words in (
        "rows per table:",
        "raw.chat_events",
        "marts.lineage",
        "date range (UTC):",
        "chat events",
        "rejected rows: 12",
        "column checks passed",
        f"The warehouse is {db}",
    ):
        assert words in out, words


def test_ingest_json_report_has_the_documented_fields(demo, tmp_path, write_csv):
    db, _ = demo
    rows = chat_rows(10, session="cli")
    rows[2][3] = "narrator"
    path = write_csv([CHAT_HEADER, *rows], "cli.csv")
    proc = insights("ingest", "chat", str(path), "--db", str(db), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert {"files", "rows_read", "rows_loaded", "rows_rejected", "rows_duplicate", "reject_reasons"} <= set(report)
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (10, 9, 1)
    assert report["reject_reasons"] == {"value not allowed in role (allowed: user, bot, agent, system)": 1}
    assert report["files"][0]["file"] == str(path)


def test_warehouse_check_and_summary(demo):
    db, _ = demo
    check = insights("warehouse", "check", "--db", str(db), "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["passed"] is True
    summary = json.loads(insights("warehouse", "summary", "--db", str(db), "--json").stdout)
    assert summary["tables"]["raw.chat_events"] > 0 and summary["rows_rejected"] >= 12


def test_missing_warehouse_is_one_sentence(tmp_path):
    proc = insights("warehouse", "summary", "--db", str(tmp_path / "none.duckdb"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("insights: error: The warehouse ") and proc.stderr.count("\n") == 1


def test_unknown_kind_is_refused_by_the_parser(tmp_path):
    proc = insights("ingest", "tweets", "x.csv")
    assert proc.returncode == 2 and "invalid choice: 'tweets'" in proc.stderr


def test_forget_from_the_command_line(tmp_path, write_csv):
    db = tmp_path / "f.duckdb"
    path = write_csv([CHAT_HEADER, *chat_rows(16)], "f.csv")
    assert insights("ingest", "chat", str(path), "--db", str(db)).returncode == 0
    proc = insights("forget", "--user", "user1", "--db", str(db), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["removed"]["raw.chat_events"] == 8
