"""`first_row` reads a single-row result to its end, so the connection stays free for the caller's relations."""

from __future__ import annotations

from insights.warehouse import build, connect
from insights.warehouse.checks import run_checks
from insights.warehouse.connection import first_row
from insights.warehouse.summary import summarize


def test_first_row_gives_the_row_or_none() -> None:
    con = connect(":memory:")
    assert first_row(con.execute("SELECT 1, 'a'")) == (1, "a")
    assert first_row(con.execute("SELECT 1 WHERE false")) is None


def test_the_warehouse_functions_leave_the_connection_free_for_relations() -> None:
    con = connect(":memory:")
    build(con)
    summarize(con)
    run_checks(con)
    assert con.sql("SELECT 1 AS x").query("v", "SELECT x + 1 FROM v").fetchall() == [(2,)]
