"""Building the warehouse: order, report, idempotence, and all-or-nothing failure."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from insights.errors import WarehouseError
from insights.warehouse import ModelBuildError, build
from insights.warehouse.models import default_sql_dir

MODELS = [
    "staging.assignments",
    "staging.chat_events",
    "staging.leads",
    "staging.post_metrics",
    "staging.posts",
    "marts.chat_sessions",
    "marts.leads",
    "marts.posts",
    "marts.lineage",
]


def copy_shipped_models(target: Path) -> Path:
    for schema_dir in default_sql_dir().iterdir():
        if schema_dir.is_dir():
            (target / schema_dir.name).mkdir(parents=True)
            for file in schema_dir.iterdir():
                if file.name.endswith(".sql"):
                    (target / schema_dir.name / file.name).write_text(file.read_text())
    return target


def dump(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    """Every model's rows, sorted, so two builds can be compared."""
    return {name: sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr) for name in MODELS}


def test_build_empty_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    report = build(con)
    assert [m.name for m in report.models] == MODELS
    assert all(m.n_rows == 0 for m in report.models)
    text = str(report)
    assert text.splitlines()[0].split() == ["model", "rows", "seconds"]
    assert "total (9 models)" in text
    assert json.loads(json.dumps(report.to_dict()))["models"][0]["name"] == "staging.assignments"


def test_build_reports_row_counts(scenario: duckdb.DuckDBPyConnection) -> None:
    con = scenario
    report = build(con)
    counts = {m.name: m.n_rows for m in report.models}
    for name, n_rows in counts.items():
        assert con.execute(f"SELECT count(*) FROM {name}").fetchone() == (n_rows,)
    assert counts["marts.chat_sessions"] == 2
    assert report.seconds >= sum(m.seconds for m in report.models) * 0.99


def test_rebuild_is_idempotent(scenario: duckdb.DuckDBPyConnection) -> None:
    con = scenario
    build(con)
    first = dump(con)
    build(con)
    assert dump(con) == first


def test_rebuild_picks_up_new_raw_rows(scenario: duckdb.DuckDBPyConnection) -> None:
    con = scenario
    build(con)
    con.execute("DELETE FROM raw.chat_events WHERE session_id = 's2'")
    build(con)
    assert con.execute("SELECT session_id FROM marts.chat_sessions").fetchall() == [("s1",)]


def test_failed_build_leaves_previous_warehouse(scenario: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    con = scenario
    build(con)
    before = dump(con)
    sql_dir = copy_shipped_models(tmp_path)
    # an early model that would change (so a partial commit would show) and a late one that breaks
    posts = sql_dir / "staging" / "posts.sql"
    posts.write_text(posts.read_text() + "\n    AND FALSE\n")
    lineage = sql_dir / "marts" / "lineage.sql"
    lineage.write_text(lineage.read_text().replace("FROM lineage_rows AS r", "FROM no_such_table AS r"))

    with pytest.raises(ModelBuildError, match=r"The model marts\.lineage \(marts/lineage\.sql\) failed") as info:
        build(con, sql_dir=sql_dir)
    assert info.value.model == "marts.lineage"
    assert dump(con) == before
    # the connection is usable afterwards: no transaction was left open
    assert build(con).models[-1].name == "marts.lineage"


def test_build_inside_an_open_transaction_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("BEGIN TRANSACTION")
    with pytest.raises(WarehouseError, match="commit or roll back"):
        build(con)
    con.execute("ROLLBACK")


def test_unknown_input_table_is_refused(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    (tmp_path / "marts").mkdir()
    (tmp_path / "marts" / "x.sql").write_text(
        "-- model: marts.x\n-- grain: one row per x\n-- inputs: raw.nope\nSELECT * FROM raw.nope\n"
    )
    with pytest.raises(WarehouseError, match=r"reads raw\.nope, which is neither a model nor a table"):
        build(con, sql_dir=tmp_path)


def test_custom_schema_is_created(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    (tmp_path / "reporting").mkdir()
    (tmp_path / "reporting" / "n_posts.sql").write_text(
        "-- model: reporting.n_posts\n-- grain: one row\n-- inputs: raw.posts\n"
        "SELECT count(*) AS n_posts FROM raw.posts;\n"
    )
    report = build(con, sql_dir=tmp_path)
    assert report.models[0].n_rows == 1
    assert con.execute("SELECT n_posts FROM reporting.n_posts").fetchone() == (0,)


def test_build_counts_days_in_utc_and_restores_the_time_zone(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # across a daylight-saving change, 7 calendar days in Berlin would be 167 hours, not 168
    con.execute("SET TimeZone = 'Europe/Berlin'")
    con.execute(
        "INSERT INTO raw.posts (post_id, platform, published_at) VALUES ('p', 'x', TIMESTAMPTZ '2024-03-27 12:00:00+00')"
    )
    con.execute(
        "INSERT INTO raw.post_metrics (post_id, observed_at, likes) VALUES ('p', TIMESTAMPTZ '2024-04-03 12:00:00+00', 7)"
    )
    build(con)
    assert con.execute("SELECT likes_7d, age_days FROM marts.posts").fetchone() == (7.0, 7.0)
    assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("Europe/Berlin",)
