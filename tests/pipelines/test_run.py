"""`pipeline run` and `pipeline due --run` with a fake runner: the right weeks, templated, in the right order."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from datetime import datetime

import pytest

from insights.cli import main
from insights.errors import InvalidParameterError, WarehouseNotFoundError
from insights.pipelines.run import LOCK_NAME, check_due, run_pipeline
from insights.pipelines.schedule import as_utc
from tests.pipelines.conftest import FakeRunner, weeks

NOW = "2026-03-10T07:00:00Z"  # a Tuesday: the latest weekly run (Monday 06:00) covers 2026-W10


def folders(project):
    return {"pipelines_dir": project.pipelines, "notebooks_dir": project.notebooks, "reports_root": project.reports}


def test_run_passes_the_templated_week_and_warehouse_to_the_runner(project):
    project.spec("weekly")
    runner = FakeRunner()
    result = run_pipeline("weekly", now=_utc(NOW), db=project.db, runner=runner, **folders(project))
    assert runner.calls == [
        {
            "name": "weekly",
            "parameters": {"week": "2026-W10", "db": str(project.db.resolve())},
            "reports_root": project.reports,
            "notebooks_dir": project.notebooks,
            "force": False,
            "period": "2026-W10",
        }
    ]
    assert result.status == "ran" and result.ok
    assert result.output == project.reports / "weekly" / "2026-W10" / "report.html"
    assert result.headline == "Headline of 2026-W10"


def test_run_for_a_chosen_period_and_with_force(project):
    project.spec("weekly")
    runner = FakeRunner()
    run_pipeline(
        "weekly", period="2026-W01", force=True, now=_utc(NOW), db=project.db, runner=runner, **folders(project)
    )
    assert runner.calls[0]["parameters"]["week"] == "2026-W01"
    assert (runner.calls[0]["period"], runner.calls[0]["force"]) == ("2026-W01", True)


def test_run_of_a_period_already_written_is_skipped(project):
    project.spec("weekly")
    project.produce("weekly", "2026-W10")
    result = run_pipeline("weekly", now=_utc(NOW), db=project.db, runner=FakeRunner(), **folders(project))
    assert result.status == "skipped" and result.ok
    assert "--force" in str(result)


@pytest.mark.parametrize(
    ("period", "words"),
    [
        ("2026-W11", "must be an ISO week that has ended (it is 2026-03-10 in UTC)"),  # the current week
        ("2027-W01", "must be an ISO week that has ended"),
        ("2026-10", "must be an ISO week label such as 2026-W10"),
    ],
)
def test_run_refuses_a_period_that_is_not_over_or_not_a_week(project, period, words):
    project.spec("weekly")
    runner = FakeRunner()
    with pytest.raises(InvalidParameterError, match=None) as caught:
        run_pipeline("weekly", period=period, now=_utc(NOW), db=project.db, runner=runner, **folders(project))
    assert str(caught.value).startswith("The 'period' parameter of pipeline run ")
    assert words in str(caught.value)
    assert runner.calls == []


def test_run_needs_the_warehouse_the_parameters_point_to(project, tmp_path):
    project.spec("weekly")
    with pytest.raises(WarehouseNotFoundError, match="pass --db"):
        run_pipeline("weekly", now=_utc(NOW), db=tmp_path / "none.duckdb", runner=FakeRunner(), **folders(project))


def test_a_spec_without_the_db_placeholder_does_not_need_a_warehouse(project, tmp_path):
    project.spec("weekly", parameters={"week": "{week}", "top_n": 3})
    runner = FakeRunner()
    run_pipeline("weekly", now=_utc(NOW), db=tmp_path / "none.duckdb", runner=runner, **folders(project))
    assert runner.calls[0]["parameters"] == {"week": "2026-W10", "top_n": 3}


def test_a_runner_that_writes_elsewhere_or_nothing_fails_the_run(project):
    project.spec("weekly")
    result = run_pipeline("weekly", now=_utc(NOW), db=project.db, runner=FakeRunner(write=False), **folders(project))
    assert result.status == "failed" and "does not exist" in result.error


def test_cli_run_exits_0_and_prints_json(project, fake_runner, capsys):
    project.spec("weekly")
    code = main(["pipeline", "run", "weekly", "--period", "2026-W09", "--now", NOW, "--json", *project.cli_args()])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["pipeline"], out["period"], out["status"]) == ("weekly", "2026-W09", "ran")
    assert out["parameters"]["week"] == "2026-W09"
    assert fake_runner.periods == ["2026-W09"]


def test_cli_run_exits_1_and_names_the_error_when_the_notebook_fails(project, fake_runner, capsys):
    project.spec("weekly")
    fake_runner.fail_periods.add("2026-W10")
    code = main(["pipeline", "run", "weekly", "--now", NOW, *project.cli_args()])
    assert code == 1
    assert "FAILED weekly 2026-W10" in capsys.readouterr().out


def test_cli_run_of_an_unknown_pipeline_exits_2(project, fake_runner, capsys):
    project.spec("weekly")
    assert main(["pipeline", "run", "wekly", "--now", NOW, *project.cli_args()]) == 2
    assert "Got 'wekly' instead." in capsys.readouterr().err
    assert fake_runner.calls == []


def test_cli_rejects_a_now_that_is_not_a_time(project, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["pipeline", "due", "--now", "next monday", *project.cli_args()])
    assert caught.value.code == 2
    assert "must be an ISO-8601 time" in capsys.readouterr().err


# -- due --run -------------------------------------------------------------------------------------------


def test_due_run_catches_up_missed_weeks_oldest_first(project, fake_runner, capsys):
    project.spec("weekly", catch_up=4)
    project.produce("weekly", "2026-W07", "2026-W10")
    code = main(["pipeline", "due", "--run", "--now", NOW, *project.cli_args()])
    assert code == 0
    assert fake_runner.periods == weeks("2026-W08", "2026-W09")
    assert [c["parameters"]["week"] for c in fake_runner.calls] == weeks("2026-W08", "2026-W09")
    captured = capsys.readouterr()
    assert "running weekly 2026-W08" in captured.err
    assert "ran weekly 2026-W08" in captured.out and "ran weekly 2026-W09" in captured.out
    # and the next check finds nothing to do
    assert main(["pipeline", "due", "--run", "--now", NOW, *project.cli_args()]) == 0
    assert len(fake_runner.calls) == 2
    assert "Nothing is due" in capsys.readouterr().out


def test_due_without_run_only_reports(project, fake_runner, capsys):
    project.spec("weekly", catch_up=2)
    assert main(["pipeline", "due", "--now", NOW, "--json", *project.cli_args()]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [d["period"] for d in report["due"]] == weeks("2026-W09", "2026-W10")
    assert report["due"][0]["scheduled_at"] == "2026-03-02T06:00:00+00:00"
    assert report["runs"] is None and fake_runner.calls == []


def test_due_quiet_prints_nothing_when_nothing_is_due(project, fake_runner, capsys):
    project.spec("weekly", catch_up=1)
    project.produce("weekly", "2026-W10")
    assert main(["pipeline", "due", "--run", "--quiet", "--now", NOW, *project.cli_args()]) == 0
    assert capsys.readouterr() == ("", "")


def test_a_failed_week_stops_that_pipelines_later_weeks_but_not_other_pipelines(project, capsys):
    project.spec("weekly", catch_up=3)
    project.spec("daily", schedule="0 5 * * *", period="previous_day", parameters={"day": "{day}"},
                 output="weekly/{day}/report.html", catch_up=1)  # fmt: skip
    runner = FakeRunner(fail_periods={"2026-W08"})
    report = check_due(now=_utc(NOW), run=True, db=project.db, runner=runner, **folders(project))
    assert runner.periods == ["2026-W08", "2026-03-09"]
    assert [(r.pipeline, r.period, r.status) for r in report.runs] == [
        ("weekly", "2026-W08", "failed"),
        ("weekly", "2026-W09", "not run"),
        ("weekly", "2026-W10", "not run"),
        ("daily", "2026-03-09", "ran"),
    ]
    assert report.failed
    assert "ZeroDivisionError" in report.runs[0].error


def test_cli_due_run_exits_1_when_a_run_fails(project, fake_runner, capsys):
    project.spec("weekly", catch_up=1)
    fake_runner.fail_periods.add("2026-W10")
    assert main(["pipeline", "due", "--run", "--now", NOW, "--json", *project.cli_args()]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] is True and report["runs"][0]["status"] == "failed"


def test_a_second_trigger_does_nothing_while_a_run_holds_the_lock(project, capsys):
    project.spec("weekly", catch_up=1)
    runner = FakeRunner()
    with (project.reports / LOCK_NAME).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        report = check_due(now=_utc(NOW), run=True, db=project.db, runner=runner, **folders(project))
    assert runner.calls == [] and not report.failed
    assert "another pipeline run holds" in str(report)
    check_due(now=_utc(NOW), run=True, db=project.db, runner=runner, **folders(project))
    assert runner.periods == ["2026-W10"]


def test_list_json_has_schedule_next_run_last_output_and_due(project, capsys):
    project.spec("weekly", catch_up=2)
    project.produce("weekly", "2026-W09")
    assert main(["pipeline", "list", "--now", NOW, "--json", *project.cli_args()]) == 0
    (status,) = json.loads(capsys.readouterr().out)["pipelines"]
    assert status["name"] == "weekly" and status["schedule"] == "0 6 * * 1"
    assert status["next_run"] == "2026-03-16T06:00:00+00:00"
    assert status["last_produced"]["period"] == "2026-W09"
    assert [d["period"] for d in status["due"]] == ["2026-W10"]


def test_the_cli_module_imports_nothing_heavy():
    code = (
        "import sys, insights.cli; "
        "print(sorted(m for m in ('croniter', 'yaml', 'insights.pipelines.schedule', 'insights.pipelines.spec') "
        "if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def _utc(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text))
