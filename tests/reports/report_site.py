"""Shared by the report runner and browser tests (not a test module, not a conftest): tiny report notebooks
and one demo warehouse with an experiment readout page and a weekly report written from it, built once per test
session.

The demo warehouse carries one planted post whose text is an XSS probe, and the experiment's definition (a copy of
experiments/exp-bot-prompt-v2.yaml in a temporary folder) carries it in its title, hypothesis and a metric's
description, so every report test can check that user-written text is shown as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
XSS_TEXT = "<script>alert(1)</script><img src=x onerror=alert(2)>"
XSS_POST_ID = "post-xss-probe"
EXPERIMENT_ID = "exp-bot-prompt-v2"


def notebook(cells: list[tuple[str, str, list[str]]]) -> dict[str, Any]:
    """A notebook (as JSON) of (cell_type, source, tags) triples."""
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            {
                "cell_type": kind,
                "id": f"cell-{i}",
                "metadata": {"tags": tags} if tags else {},
                "source": source,
                **({"outputs": [], "execution_count": None} if kind == "code" else {}),
            }
            for i, (kind, source, tags) in enumerate(cells)
        ],
    }


def write_notebook(path: Path, cells: list[tuple[str, str, list[str]]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook(cells), indent=1))
    return path


@dataclass(frozen=True)
class WeeklySite:
    """A demo warehouse with the XSS post, the readout page of its experiment as of the last day of its last
    complete week, then the weekly report of that week (which links the readout)."""

    db: Path
    reports: Path
    week: Any  # IsoWeek
    run: Any  # ReportRun
    report: Any  # WeeklyReport computed in the test process, for counting charts
    experiments: Path  # the folder with the XSS definition of EXPERIMENT_ID
    readout_run: Any  # ReportRun of the readout page
    readout: Any  # ExperimentReport computed in the test process
    chatbot_run: Any  # ReportRun of the chatbot-funnel report of the 4 weeks up to the week's end, by channel
    chatbot: Any  # ChatbotReport computed in the test process
    plan_run: Any  # ReportRun of the plan of the week after `week` (its content mix recorded in the warehouse)
    plan: Any  # PlanReport computed in the test process from the recorded allocation


_SITE: dict[str, WeeklySite] = {}


def weekly_site(tmp_path_factory: pytest.TempPathFactory) -> WeeklySite:
    """Build (once per session) the demo warehouse, plant the XSS post and write the weekly report."""
    if "site" not in _SITE:
        _SITE["site"] = _build(tmp_path_factory.mktemp("weekly-site"))
    return _SITE["site"]


def _build(root: Path) -> WeeklySite:
    from insights.demo import run_demo
    from insights.reports.chatbot import chatbot_report
    from insights.reports.experiment import experiment_report
    from insights.reports.plan import plan_report
    from insights.reports.runner import chatbot, experiment_readout, plan, weekly
    from insights.reports.weekly import weekly_report
    from insights.reports.weeks import IsoWeek
    from insights.warehouse import connect
    from insights.warehouse.build import build

    db = root / "wh" / "insights.duckdb"
    run_demo(db=db, out_dir=root / "demo", n_posts=300, n_sessions=3000)
    week = IsoWeek.last_complete()
    with connect(db) as con:
        plant_xss_post(con, week)
        build(con)
    experiments = write_xss_definition(root / "experiments")
    readout_run = experiment_readout(
        EXPERIMENT_ID,
        db=db,
        as_of=week.days[-1],
        reports_root=root / "reports",
        notebooks_dir=NOTEBOOKS,
        experiments_dir=experiments,
    )
    run = weekly(week, db=db, reports_root=root / "reports", notebooks_dir=NOTEBOOKS)
    first, last = week.days[0] - timedelta(weeks=3), week.days[-1] + timedelta(days=1)
    chatbot_run = chatbot(
        first, last, breakdown="channel", db=db, reports_root=root / "reports", notebooks_dir=NOTEBOOKS
    )
    plan_run = plan(week.previous(-1), db=db, reports_root=root / "reports", notebooks_dir=NOTEBOOKS)
    allocation_run = json.loads(plan_run.manifest_path.read_text())["parameters"]["allocation_run"]
    with connect(db, read_only=True) as con:
        report = weekly_report(con, week)
        plan_page = plan_report(con, week.previous(-1), allocation_run=allocation_run)
        readout = experiment_report(con, EXPERIMENT_ID, as_of=week.days[-1], experiments_dir=experiments)
        chatbot_page = chatbot_report(con, first, last, breakdown="channel")
    return WeeklySite(
        db=db,
        reports=root / "reports",
        week=week,
        run=run,
        report=report,
        experiments=experiments,
        readout_run=readout_run,
        readout=readout,
        chatbot_run=chatbot_run,
        chatbot=chatbot_page,
        plan_run=plan_run,
        plan=plan_page,
    )


def write_xss_definition(folder: Path, **changes: Any) -> Path:
    """experiments/exp-bot-prompt-v2.yaml copied into `folder`, with the XSS probe in its title, its hypothesis
    and its primary metric's description (and any top-level `changes`); returns the folder."""
    import yaml

    data = yaml.safe_load((ROOT / "experiments" / f"{EXPERIMENT_ID}.yaml").read_text())
    data["title"] = f"Prompt {XSS_TEXT}"
    data["hypothesis"] = f"Users trust {XSS_TEXT} more."
    data["metrics"]["lead_captured"]["description"] = f"Leads {XSS_TEXT}"
    data.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{EXPERIMENT_ID}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def plant_xss_post(con: Any, week: Any) -> None:
    """Copy the best post of the week's 7-day cohort as a new post whose text is an XSS probe and whose
    counters are doubled, so it tops the week's post ranking. Call build() afterwards."""
    start, end = week.start, week.end
    row = con.execute(
        """
        SELECT post_id FROM marts.posts
        WHERE published_at >= $start - INTERVAL 7 DAY AND published_at < $end - INTERVAL 7 DAY AND is_7d_observed
        ORDER BY (likes_7d + comments_7d + shares_7d + saves_7d) / nullif(impressions_7d, 0) DESC NULLS LAST
        LIMIT 1
        """,
        {"start": start, "end": end},
    ).fetchone()
    assert row is not None, "the demo warehouse has no post in the week's 7-day cohort"
    source = row[0]
    con.execute(
        "INSERT INTO raw.posts SELECT * REPLACE ($id AS post_id, $text AS text) FROM raw.posts WHERE post_id = $src",
        {"id": XSS_POST_ID, "text": XSS_TEXT, "src": source},
    )
    con.execute(
        """
        INSERT INTO raw.post_metrics
        SELECT * REPLACE ($id AS post_id, impressions * 2 AS impressions, likes * 4 AS likes,
                          comments * 4 AS comments, shares * 4 AS shares, saves * 4 AS saves)
        FROM raw.post_metrics WHERE post_id = $src
        """,
        {"id": XSS_POST_ID, "src": source},
    )
