"""A demo warehouse with a fixed end date, shared by the experiment tests that read the warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from insights.demo import DemoSummary

#: The demo's last day: fixed, so the planted truth is that of one known data set.
END = date(2026, 3, 1)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    from insights.demo import run_demo

    folder = tmp_path_factory.mktemp("experiments-demo")
    summary = run_demo(db=folder / "demo.duckdb", out_dir=folder / "logs", end=END)
    return folder / "demo.duckdb", summary


@pytest.fixture
def demo_con(demo_warehouse: tuple[Path, DemoSummary]) -> Iterator[duckdb.DuckDBPyConnection]:
    from insights.warehouse import connect

    con = connect(demo_warehouse[0], read_only=True)
    try:
        yield con
    finally:
        con.close()
