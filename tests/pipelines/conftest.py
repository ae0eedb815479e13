"""Fixtures for the pipeline tests: a project folder (specs, one report notebook, reports) and a fake runner."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from insights.pipelines.periods import PERIOD_KINDS

#: A report notebook template with the parameters the test specs use.
NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Test report"},
        {
            "cell_type": "code",
            "metadata": {"tags": ["parameters"]},
            "execution_count": None,
            "outputs": [],
            "source": "week = None  # ISO week\nday = None\nmonth = None\ndb = None\ntop_n = 5\n",
        },
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}

WEEKLY = {
    "name": "weekly",
    "description": "The weekly report.",
    "notebook": "weekly",
    "parameters": {"week": "{week}", "db": "{db}"},
    "schedule": "0 6 * * 1",
    "timezone": "UTC",
    "period": "previous_iso_week",
    "output": "weekly/{week}/report.html",
    "catch_up": 8,
}


@dataclass
class Project:
    """A project checkout in a temporary folder: pipelines/, notebooks/, reports/ and a warehouse file."""

    root: Path
    pipelines: Path
    notebooks: Path
    reports: Path
    db: Path

    def spec(self, name: str = "weekly", /, **changes: Any) -> Path:
        """Write pipelines/<name>.yaml: the weekly spec with `changes` (a value of None drops the key)."""
        data = {**WEEKLY, "name": name, **changes}
        data = {k: v for k, v in data.items() if v is not None}
        path = self.pipelines / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    def raw_spec(self, text: str, name: str = "weekly") -> Path:
        path = self.pipelines / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    def produce(self, notebook: str, *labels: str) -> None:
        """Make the outputs of these periods exist, as a finished run would."""
        for label in labels:
            page = self.reports / notebook / label / "report.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text("<html></html>", encoding="utf-8")

    def cli_args(self) -> list[str]:
        return [
            "--pipelines",
            str(self.pipelines),
            "--notebooks",
            str(self.notebooks),
            "--reports",
            str(self.reports),
            "--db",
            str(self.db),
        ]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "checkout"
    folders = {name: root / name for name in ("pipelines", "notebooks", "reports")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    (folders["notebooks"] / "weekly.ipynb").write_text(json.dumps(NOTEBOOK), encoding="utf-8")
    db = root / "data" / "insights.duckdb"
    db.parent.mkdir()
    db.write_bytes(b"")  # the pipelines only check that it exists; the fake runner never opens it
    return Project(root, folders["pipelines"], folders["notebooks"], folders["reports"], db)


@dataclass
class FakeRunner:
    """Stands in for insights.reports.runner.run_report: records each call and writes the page it would write."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_periods: set[str] = field(default_factory=set)
    write: bool = True

    def __call__(
        self,
        name: str,
        parameters: dict[str, Any],
        *,
        reports_root: Path,
        notebooks_dir: Path,
        force: bool,
        period: str,
    ) -> Any:
        self.calls.append(
            {
                "name": name,
                "parameters": dict(parameters),
                "reports_root": reports_root,
                "notebooks_dir": notebooks_dir,
                "force": force,
                "period": period,
            }
        )
        if period in self.fail_periods:
            raise RuntimeError(f"The {name} notebook failed in cell 3 with ZeroDivisionError: division by zero.")
        page = Path(reports_root) / name / period / "report.html"
        skipped = page.is_file() and not force
        if self.write and not skipped:
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text("<html>report</html>", encoding="utf-8")
        return _FakeReportRun(name, period, page, skipped, f"Headline of {period}")

    @property
    def periods(self) -> list[str]:
        return [c["period"] for c in self.calls]


@dataclass(frozen=True)
class _FakeReportRun:
    name: str
    period: str
    html_path: Path
    skipped: bool
    headline: str


@pytest.fixture
def fake_runner(monkeypatch: pytest.MonkeyPatch) -> FakeRunner:
    """A fake runner that the CLI uses too (it replaces load_runner)."""
    runner = FakeRunner()
    monkeypatch.setattr("insights.pipelines.run.load_runner", lambda: runner)
    return runner


def weeks(*labels: str) -> list[str]:
    """Check the labels are ISO weeks (a typo in a test would otherwise pass silently)."""
    return [PERIOD_KINDS["previous_iso_week"].parse(label).label for label in labels]
