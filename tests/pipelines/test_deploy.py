"""The shipped triggers only call the CLI, the timer catches up, and the scheduling docs match the code."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import yaml

from insights.pipelines.periods import PERIOD_KINDS
from insights.pipelines.schedule import check_cron
from insights.pipelines.spec import KNOWN_KEYS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMMAND = "insights pipeline due --run"


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def test_the_systemd_timer_is_persistent_and_starts_the_service():
    timer = unit(DEPLOY / "systemd" / "insights-pipelines.timer")
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["OnCalendar"]
    assert timer["Timer"]["Unit"] == "insights-pipelines.service"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_the_systemd_service_is_a_oneshot_that_calls_the_cli_in_the_checkout():
    service = unit(DEPLOY / "systemd" / "insights-pipelines.service")["Service"]
    assert service["Type"] == "oneshot"
    assert service["WorkingDirectory"] == "/path/to/insights"
    exec_start = service["ExecStart"]
    assert exec_start.startswith("/")  # systemd wants an absolute program path
    assert exec_start == f"{service['WorkingDirectory']}/.venv/bin/{COMMAND}"


def test_the_crontab_has_one_hourly_line_that_calls_the_cli_from_the_checkout():
    lines = [
        ln for ln in (DEPLOY / "cron" / "insights.crontab").read_text().splitlines() if ln and not ln.startswith("#")
    ]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    assert check_cron(" ".join(fields[:5])) is None
    assert fields[1] == "*", "hourly: the specs decide when, the trigger only checks"
    command = fields[5]
    assert command.startswith("cd /path/to/insights && .venv/bin/")
    assert COMMAND in command
    assert "%" not in command  # cron would turn it into a newline
    shlex.split(command)  # quotes are balanced


def test_the_ci_workflow_runs_on_a_schedule_sets_up_and_uploads_reports():
    workflow = yaml.safe_load((DEPLOY / "github" / "scheduled-reports.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    crons = [entry["cron"] for entry in triggers["schedule"]]
    assert crons and all(check_cron(c) is None for c in crons)
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    runs = [s.get("run", "") for s in steps]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/setup-python") for u in uses)
    assert runs.index("make setup") < next(i for i, r in enumerate(runs) if COMMAND in r)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"].rstrip("/") == "reports"


def test_triggers_and_docs_use_placeholders_not_this_machines_paths():
    texts = {p: p.read_text() for p in [*DEPLOY.rglob("*"), ROOT / "docs" / "scheduling.md"] if p.is_file()}
    for path, text in texts.items():
        assert not re.search(r"/(work|home|Users|root)/", text), path


def test_the_scheduling_doc_covers_every_trigger_key_and_period_kind():
    doc = (ROOT / "docs" / "scheduling.md").read_text()
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            assert str(path.relative_to(ROOT)) in doc or path.name in doc, path
    for key in KNOWN_KEYS:
        assert f"| `{key}` |" in doc, key
    for kind in PERIOD_KINDS.values():
        assert f"| `{kind.name}` | `{{{kind.placeholder}}}`" in doc, kind.name
    assert "Persistent=true" in doc and "journalctl" in doc


def test_the_doc_shows_the_shipped_spec_as_it_is():
    doc = (ROOT / "docs" / "scheduling.md").read_text()
    shipped = (ROOT / "pipelines" / "weekly.yaml").read_text()
    body = "".join(ln + "\n" for ln in shipped.splitlines() if not ln.startswith("#"))
    assert body in doc
