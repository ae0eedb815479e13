"""Column checks: they pass on clean data and fail on planted duplicates, nulls, bad values and orphans."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from insights.errors import WarehouseError
from insights.warehouse import CheckReport, build, run_checks


def result(report: CheckReport, model: str, column: str, check: str) -> tuple[str, int, tuple[str, ...]]:
    [found] = [r for r in report.results if (r.model, r.column, r.check) == (model, column, check)]
    return found.status, found.failures, found.examples


def test_clean_scenario_passes_every_check(scenario: duckdb.DuckDBPyConnection) -> None:
    build(scenario)
    report = run_checks(scenario)
    assert report.passed, str(report)
    assert not report.warned
    assert len(report.results) == 69
    assert str(report).endswith("69 checks: 69 passed, 0 failed, 0 warned")


def test_planted_duplicate_fails_unique(scenario: duckdb.DuckDBPyConnection) -> None:
    build(scenario)
    scenario.execute("INSERT INTO marts.posts SELECT * FROM marts.posts WHERE post_id = 'p1'")
    report = run_checks(scenario)
    assert not report.passed
    assert result(report, "marts.posts", "post_id", "unique") == ("fail", 2, ("p1",))
    assert [(r.model, r.check) for r in report.failed] == [("marts.posts", "unique")]


def test_planted_compound_duplicate_fails_unique(scenario: duckdb.DuckDBPyConnection) -> None:
    build(scenario)
    scenario.execute("INSERT INTO staging.post_metrics SELECT * FROM staging.post_metrics WHERE post_id = 'p2'")
    report = run_checks(scenario)
    status, failures, [example] = result(report, "staging.post_metrics", "post_id, observed_at", "unique")
    assert (status, failures) == ("fail", 2)
    assert example.startswith("p2, 2024-03-03")


def test_planted_null_fails_not_null_and_names_the_row(scenario: duckdb.DuckDBPyConnection) -> None:
    scenario.execute("UPDATE raw.chat_events SET user_id = NULL WHERE session_id = 's2'")
    build(scenario)
    report = run_checks(scenario)
    assert result(report, "staging.chat_events", "user_id", "not_null") == ("fail", 2, ())
    # in a model with a unique key, the examples name the failing rows
    assert result(report, "marts.chat_sessions", "user_id", "not_null") == ("fail", 1, ("s2",))


def test_planted_bad_value_fails_accepted_values(scenario: duckdb.DuckDBPyConnection) -> None:
    scenario.execute("UPDATE raw.chat_events SET role = 'Robot' WHERE ts = (SELECT max(ts) FROM raw.chat_events)")
    scenario.execute("UPDATE raw.posts SET origin = NULL")  # NULL passes accepted_values
    build(scenario)
    report = run_checks(scenario)
    assert result(report, "staging.chat_events", "role", "accepted_values(user, bot, agent, system)") == (
        "fail",
        1,
        ("robot",),
    )
    assert result(report, "staging.posts", "origin", "accepted_values(human, ai, ai_edited)") == (
        "pass",
        0,
        (),
    )


def test_orphan_fails_an_error_relationship(scenario: duckdb.DuckDBPyConnection) -> None:
    build(scenario)
    scenario.execute("UPDATE marts.lineage SET lead_id = 'ghost' WHERE lead_id = 'l2'")
    report = run_checks(scenario)
    assert result(report, "marts.lineage", "lead_id", "relationships(marts.leads.lead_id)") == (
        "fail",
        1,
        ("ghost",),
    )
    assert not report.passed


def test_orphan_of_a_warn_relationship_does_not_fail_the_report(scenario: duckdb.DuckDBPyConnection) -> None:
    scenario.execute("UPDATE raw.chat_events SET entry_post_id = 'never_loaded' WHERE session_id = 's1'")
    scenario.execute("UPDATE raw.leads SET session_id = NULL")  # NULL passes relationships
    build(scenario)
    report = run_checks(scenario)
    assert report.passed
    assert result(report, "marts.chat_sessions", "entry_post_id", "relationships(marts.posts.post_id)") == (
        "warn",
        1,
        ("never_loaded",),
    )
    assert result(report, "marts.leads", "session_id", "relationships(marts.chat_sessions.session_id)")[0] == "pass"
    assert "never_loaded" in str(report)
    payload = json.loads(json.dumps(report.to_dict()))
    assert (payload["passed"], payload["n_failed"], payload["n_warned"]) == (True, 0, 2)


def test_examples_are_capped_at_five(scenario: duckdb.DuckDBPyConnection) -> None:
    scenario.execute(
        "INSERT INTO raw.post_metrics (post_id, observed_at, likes) "
        "SELECT 'ghost' || i, TIMESTAMPTZ '2024-03-02 00:00:00+00', 1 FROM range(8) AS t(i)"
    )
    build(scenario)
    report = run_checks(scenario)
    status, failures, examples = result(
        report, "staging.post_metrics", "post_id", "relationships(staging.posts.post_id)"
    )
    assert (status, failures, examples) == ("warn", 8, ("ghost0", "ghost1", "ghost2", "ghost3", "ghost4"))


def test_checks_quote_identifiers(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # reserved words as model and column names: the generated queries must quote them
    (tmp_path / "select").mkdir()
    (tmp_path / "select" / "from.sql").write_text(
        "-- model: select.from\n-- grain: one row per where\n-- inputs: raw.posts\n-- checks:\n"
        "--   where: unique, not_null, accepted_values(a, 'b')\n"
        "--   group: relationships(select.from.where)\n"
        """SELECT * FROM (VALUES ('a', 'a'), ('a', 'z'), (NULL, 'a'), ('c', 'q')) AS t("where", "group")\n"""
    )
    build(con, sql_dir=tmp_path)
    report = run_checks(con, sql_dir=tmp_path)
    assert [(r.check, r.failures, r.examples) for r in report.results] == [
        ("unique", 2, ("a",)),
        ("not_null", 1, ()),
        ("accepted_values(a, b)", 1, ("c",)),
        ("relationships(select.from.where)", 2, ("q", "z")),
    ]


def test_checks_need_a_built_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(WarehouseError, match=r"has not been built: .*marts\.lineage.* run build"):
        run_checks(con)
