"""The "what to post next week" report: the library on the demo warehouse, and the runner that records the mix."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from tests.reports.report_site import weekly_site

from insights.errors import InvalidParameterError
from insights.reports.plan import plan_allocation, plan_report
from insights.reports.weeks import IsoWeek

# the conftest demo ends on Sunday 2026-03-01: plan the week after it from the 13 weeks before
WEEK = IsoWeek.parse("2026-W10")


def test_the_plan_recommends_video_and_checks_it_on_past_posts(demo_con: duckdb.DuckDBPyConnection) -> None:
    report = plan_report(demo_con, WEEK)
    assert [s.key for s in report.sections] == [
        "what",
        "when",
        "allocation",
        "check",
        "evidence",
        "ai_vs_human",
        "test",
    ]
    # video is planted 1.8x text, and best on every platform that has it
    assert report.headline.startswith("Post more video: clearly the best format for 8 of 8 accounts")
    assert "would have given" in report.headline
    mix = report.section("allocation")
    assert "Not recorded" in mix.notes[0]
    assert all(c.takeaway for s in report.sections for c in s.charts)
    assert report.title == "What to post in 2026-W10"
    assert json.dumps(report.to_dict())  # JSON-ready
    with pytest.raises(InvalidParameterError, match=r"'key' parameter of PlanReport\.section"):
        report.section("nothing")


def test_the_allocation_is_the_recommendations_mix(demo_con: duckdb.DuckDBPyConnection) -> None:
    allocation = plan_allocation(demo_con, WEEK)
    policy = allocation.as_policy()
    assert len(policy) == 8
    for shares in policy.values():
        assert sum(shares.values()) == pytest.approx(1.0)
        assert max(shares, key=lambda arm: shares[arm]) == "video"
        assert min(shares.values()) >= 0.05 - 1e-12  # every format keeps being tried


def test_a_week_without_history_says_so(demo_con: duckdb.DuckDBPyConnection) -> None:
    report = plan_report(demo_con, "2025-W01")
    assert len(report.sections) == 1
    assert report.headline.startswith("Only 0 measurable posts in the 26 weeks before 2025-W01")


@pytest.mark.parametrize("week", ["2026-13", 2026, "next"])
def test_a_wrong_week_reads_as_one_sentence(demo_con: duckdb.DuckDBPyConnection, week: object) -> None:
    with pytest.raises(InvalidParameterError, match=r"^The 'week' parameter of plan_report must be an ISO week"):
        plan_report(demo_con, week)  # type: ignore[arg-type]


@pytest.mark.slow
def test_the_runner_records_the_mix_once_and_the_page_shows_that_run(tmp_path_factory: pytest.TempPathFactory) -> None:
    from insights.reports.runner import plan

    site = weekly_site(tmp_path_factory)
    manifest = json.loads(site.plan_run.manifest_path.read_text())
    run_id = manifest["parameters"]["allocation_run"]
    assert manifest["name"] == "plan" and manifest["period"] == str(site.week.previous(-1))
    with duckdb.connect(str(site.db), read_only=True) as con:
        runs = con.sql("SELECT DISTINCT run_id, valid_from FROM recommend.allocations").fetchall()
    assert [r[0] for r in runs] == [run_id]
    assert runs[0][1] == site.week.previous(-1).start
    assert site.plan.allocation_run == run_id
    # a report already written is skipped, and nothing new is recorded
    again = plan(site.week.previous(-1), db=site.db, reports_root=site.reports, notebooks_dir=Path("notebooks"))
    assert again.skipped
    with duckdb.connect(str(site.db), read_only=True) as con:
        assert con.sql("SELECT count(DISTINCT run_id) FROM recommend.allocations").fetchall() == [(1,)]
