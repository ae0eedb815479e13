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


# -- insights experiment ------------------------------------------------------------------------------------

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def test_experiment_list_shows_each_definition_with_status_and_units(demo):
    db, _ = demo
    proc = insights("experiment", "list", "--db", str(db), "--experiments", str(EXPERIMENTS))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["id", "status", "title", "unit", "variants", "primary", "metrics", "units", "assigned"]
    row = next(line for line in lines if line.startswith("exp-bot-prompt-v2 "))
    for words in (
        "running",
        "Chatbot prompt v2",
        "user",
        "control 50%, treatment 50%",
        "lead_captured",
        " since 2026-",
    ):
        assert words in row, words

    listed = json.loads(
        insights("experiment", "list", "--db", str(db), "--experiments", str(EXPERIMENTS), "--json").stdout
    )
    entry = next(e for e in listed if e["id"] == "exp-bot-prompt-v2")
    assert entry["status"] == "running" and entry["primary_metrics"] == ["lead_captured"]
    assert entry["units_assigned"] > 0 and entry["first_assigned_at"].startswith("2026-")


def test_experiment_list_needs_no_statistics_stack(demo):
    db, _ = demo
    probe = (
        "import sys; from insights.cli import main; "
        f"main(['experiment', 'list', '--db', {str(db)!r}, '--experiments', {str(EXPERIMENTS)!r}]); "
        "print(sorted(m for m in ('scipy', 'pandas', 'plotly', 'papermill') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert proc.stdout.splitlines()[-1] == "[]"


def test_experiment_analyze_prints_the_verdict_and_the_table(demo, tmp_path):
    db, _ = demo
    proc = insights(
        "experiment", "analyze", "exp-bot-prompt-v2", "--db", str(db), "--experiments", str(EXPERIMENTS),
        "--no-html", "--reports", str(tmp_path / "reports"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("**Chatbot prompt v2**")
    assert "lead_captured" in out.splitlines()[2] and "sample ratio" in out.splitlines()[2]  # the verdict
    assert "| metric | role | variant | control | treatment | change | CI |" in out
    assert "| latency_p90 | guardrail | treatment |" in out
    assert not (tmp_path / "reports").exists()


def test_experiment_analyze_json_has_the_rows_and_no_page_with_no_html(demo, tmp_path):
    db, _ = demo
    proc = insights(
        "experiment", "analyze", "exp-bot-prompt-v2", "--db", str(db), "--experiments", str(EXPERIMENTS),
        "--json", "--no-html", "--as-of", "2026-11-01",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["experiment_id"] == "exp-bot-prompt-v2" and data["report"] is None
    assert data["as_of"] == "2026-11-02T00:00:00+00:00" and data["last_assigned_at"] < "2026-11-02"
    assert {row["metric"] for row in data["rows"]} >= {"lead_captured", "latency_p90"}
    assert data["verdict"].endswith(".") and data["sample_ratio"].startswith("sample ratio")
    assert set(data["n_units"]) == {"control", "treatment"}


def test_experiment_analyze_names_the_known_ids_for_an_unknown_one_and_writes_nothing(demo, tmp_path):
    db, _ = demo
    proc = insights(
        "experiment", "analyze", "exp-bot-prompt-v3", "--db", str(db), "--experiments", str(EXPERIMENTS),
        "--reports", str(tmp_path / "reports"),
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stdout == "" and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("insights: error: There is no experiment 'exp-bot-prompt-v3' in ")
    assert "the experiments defined there are: " in proc.stderr and "exp-bot-prompt-v2" in proc.stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing-warehouse", "insights: error: The warehouse "),
        ("bad-yaml", "insights: error: "),
        ("bad-key", "insights: error: "),
        ("bad-as-of", "insights: error: The 'as_of' parameter of experiment analyze must be a day written YYYY-MM-DD"),
        ("no-units", "insights: error: The experiment 'exp-x' has no assigned units in the warehouse;"),
    ],
)
def test_experiment_analyze_bad_input_is_one_sentence_and_exit_2(demo, tmp_path, setup, message):
    db, _ = demo
    defs = tmp_path / "defs"
    defs.mkdir()
    source = (EXPERIMENTS / "exp-bot-prompt-v2.yaml").read_text()
    args = ["exp-x", "--db", str(db)]
    if setup == "missing-warehouse":
        (defs / "exp-x.yaml").write_text(source.replace("id: exp-bot-prompt-v2", "id: exp-x"))
        args = ["exp-x", "--db", str(tmp_path / "none.duckdb")]
    elif setup == "bad-yaml":
        (defs / "exp-x.yaml").write_text("id: exp-x\nmetrics: [\n")
    elif setup == "bad-key":
        (defs / "exp-x.yaml").write_text(
            source.replace("id: exp-bot-prompt-v2", "id: exp-x").replace("unit: user", "unit: person")
        )
    elif setup == "bad-as-of":
        (defs / "exp-x.yaml").write_text(source.replace("id: exp-bot-prompt-v2", "id: exp-x"))
        args += ["--as-of", "1 Nov"]
    else:
        (defs / "exp-x.yaml").write_text(source.replace("id: exp-bot-prompt-v2", "id: exp-x"))

    proc = insights("experiment", "analyze", *args, "--experiments", str(defs), "--reports", str(tmp_path / "reports"))

    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(message) and proc.stderr.count("\n") == 1, proc.stderr
    if setup in ("bad-yaml", "bad-key"):
        assert "exp-x.yaml" in proc.stderr  # the file is named
    assert not (tmp_path / "reports").exists()
