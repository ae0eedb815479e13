"""`insights pipeline run weekly` and `pipeline due --run` for real: demo warehouse, papermill, HTML."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def insights(*args: str) -> subprocess.CompletedProcess[str]:
    # From the checkout, as a scheduler runs it: pipelines/ and notebooks/ are the shipped ones.
    return subprocess.run([sys.executable, "-m", "insights", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from insights.demo import run_demo

    folder = tmp_path_factory.mktemp("pipeline-e2e")
    summary = run_demo(db=folder / "insights.duckdb", out_dir=folder / "logs", n_posts=300, n_sessions=3000)
    assert summary.checks_passed
    return Path(summary.db)


@pytest.mark.slow
def test_pipeline_run_weekly_writes_the_report_of_the_latest_week_then_nothing_is_due(warehouse, tmp_path):
    reports = tmp_path / "reports"
    common = ["--db", str(warehouse), "--reports", str(reports)]
    proc = insights("pipeline", "run", "weekly", "--json", *common)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = json.loads(proc.stdout)
    assert run["status"] == "ran"
    week = run["period"]
    page = reports / "weekly" / week / "report.html"
    assert Path(run["output"]) == page and page.is_file()
    manifest = json.loads((page.parent / "manifest.json").read_text())
    assert manifest["parameters"]["week"] == week
    assert manifest["parameters"]["db"] == str(warehouse.resolve())
    assert (reports / "index.html").is_file()

    # The week just written is not due any more, and running it again skips it.
    proc = insights("pipeline", "due", "--json", *common)
    assert proc.returncode == 0, proc.stderr
    assert week not in [d["period"] for d in json.loads(proc.stdout)["due"]]

    again = insights("pipeline", "run", "weekly", "--json", *common)
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "skipped"
