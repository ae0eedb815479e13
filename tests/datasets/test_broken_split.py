"""The second demo experiment, exp-welcome-message: a session-level A/A test whose logging lost
treatment assignments, so a sample ratio mismatch check flags it (docs/demo-data.md, section 5).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from scipy import stats

from insights.contract import KINDS
from insights.datasets import BrokenSplitTruth, DemoLogs, generate_demo
from insights.experiments.srm import srm_test

#: Two-sided 99.9% normal quantile, as in test_truth_recovery.
Z = 3.29
SMALL = {"n_posts": 120, "n_sessions": 1500, "end": date(2026, 3, 1)}


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> tuple[object, ...]:
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return tuple(row)


@pytest.fixture(scope="module")
def welcome(con: duckdb.DuckDBPyConnection, demo: DemoLogs) -> duckdb.DuckDBPyConnection:
    """A table `welcome_units`: one row per logged assignment of exp-welcome-message, with its session."""
    con.execute(
        """
        CREATE OR REPLACE TABLE welcome_units AS
        SELECT a.unit_id, a.variant, a.assigned_at, a.assignment_prob, a.unit_type,
               s.session_id, s.started_at, s.captured
        FROM assignments a
        LEFT JOIN (SELECT session_id, min(ts) AS started_at, bool_or(event = 'lead_captured') AS captured
                   FROM chat_events GROUP BY session_id) s ON s.session_id = a.unit_id
        WHERE a.experiment_id = ?
        """,
        [demo.truth.broken_split.experiment_id],
    )
    return con


def test_the_file_holds_the_counts_of_the_truth(welcome: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    split = demo.truth.broken_split
    counts = dict(welcome.execute("SELECT variant, count(*) FROM welcome_units GROUP BY variant").fetchall())
    assert counts == {split.control: split.n_control, split.treatment: split.n_treatment}
    assert split.n_control == split.n_planned_control  # only treatment rows are lost
    assert split.n_treatment == split.n_planned_treatment - split.n_lost
    assert _one(
        welcome, "SELECT count(*) FILTER (WHERE unit_type <> 'session' OR assignment_prob <> 0.5) FROM welcome_units"
    ) == (0,)
    # seed 7, default sizes: the numbers in docs/demo-data.md
    planted = (split.n_planned_control, split.n_planned_treatment, split.n_lost, split.n_control, split.n_treatment)
    assert planted == (3249, 3260, 674, 3249, 2586)
    assert demo.rows["assignments"] == 5325 + 3249 + 2586


def test_every_session_of_the_window_is_randomised_at_its_start(
    welcome: duckdb.DuckDBPyConnection, demo: DemoLogs
) -> None:
    split = demo.truth.broken_split
    assert split.start == demo.truth.start + timedelta(days=63) and split.start.weekday() == 0  # the last 4 weeks
    assert split.end == demo.truth.end
    unmatched, late, outside = _one(
        welcome,
        """SELECT count(*) FILTER (WHERE session_id IS NULL), count(*) FILTER (WHERE assigned_at <> started_at),
                  count(*) FILTER (WHERE started_at < ? OR started_at >= ?)
           FROM welcome_units""",
        [split.start, split.end],
    )
    assert (unmatched, late, outside) == (0, 0, 0)
    in_window = _one(
        welcome,
        "SELECT count(*) FROM chat_events WHERE event = 'session_start' AND ts >= ? AND ts < ?",
        [split.start, split.end],
    )
    assert in_window == (split.n_planned_control + split.n_planned_treatment,)


def test_the_lost_treatment_share_is_real(demo: DemoLogs) -> None:
    split = demo.truth.broken_split
    n = split.n_control + split.n_treatment
    share = split.n_treatment / n
    expected = split.expected_treatment_share
    assert expected == pytest.approx(0.5 * 0.8 / 0.9)
    assert abs(share - expected) <= Z * math.sqrt(expected * (1 - expected) / n)
    assert (0.5 - share) / math.sqrt(0.25 / n) > 2 * Z  # far below the planned split (z = 8.7 for seed 7)
    lost = split.n_lost / split.n_planned_treatment
    assert abs(lost - split.lost_share) <= Z * math.sqrt(
        split.lost_share * (1 - split.lost_share) / split.n_planned_treatment
    )
    planned = split.n_planned_treatment / (split.n_planned_control + split.n_planned_treatment)
    assert abs(planned - 0.5) <= Z * math.sqrt(0.25 / (split.n_planned_control + split.n_planned_treatment))


def test_a_sample_ratio_mismatch_check_flags_it_and_not_the_other_experiment(demo: DemoLogs) -> None:
    split, other = demo.truth.broken_split, demo.truth.experiment
    # scipy.stats.chisquare([3249, 2586]) -> statistic 75.33316195372751, pvalue 3.976248871765e-18
    reference = stats.chisquare([split.n_control, split.n_treatment])
    assert split.srm_statistic == pytest.approx(75.33316195372751, rel=1e-12)
    assert split.srm_statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert split.srm_p_value == pytest.approx(reference.pvalue, rel=1e-9)
    result = srm_test([split.n_control, split.n_treatment], split.planned_weights)
    assert result.is_mismatch and result.p_value == pytest.approx(split.srm_p_value, rel=1e-9)
    assert split.srm_p_value < 1e-12  # not a close call: p < 0.001 by more than nine orders of magnitude
    assert not srm_test([other.n_control, other.n_treatment]).is_mismatch


def test_the_welcome_message_has_no_effect(welcome: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    split = demo.truth.broken_split
    sql = "SELECT avg(captured::INT), count(*) FROM welcome_units WHERE variant = ?"
    p_c, n_c = (float(v) for v in _one(welcome, sql, [split.control]))  # type: ignore[arg-type]
    p_t, n_t = (float(v) for v in _one(welcome, sql, [split.treatment]))  # type: ignore[arg-type]
    pooled = (p_c * n_c + p_t * n_t) / (n_c + n_t)
    assert 0.05 < pooled < 0.2
    assert abs(p_t - p_c) <= Z * math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))


def test_exp_bot_prompt_v2_rows_are_unchanged(demo: DemoLogs) -> None:
    lines = demo.files["assignments"][0].read_bytes().splitlines(keepends=True)[1:]
    first = [line.startswith(b'"exp-bot-prompt-v2",') for line in lines]
    assert first == sorted(first, reverse=True)  # its rows come first, then exp-welcome-message's
    rows = b"".join(line for line, is_first in zip(lines, first, strict=True) if is_first)
    # sha256 of these 5,325 rows as the generator wrote them before exp-welcome-message existed
    # (commit a20a80a, generate_demo(out, end="2026-03-01"))
    assert hashlib.sha256(rows).hexdigest() == "42647797baa4cad7dd67acda269a5e856ca17ae9f1ea472e6a961f0eb831f95e"
    assert (demo.truth.experiment.n_control, demo.truth.experiment.n_treatment) == (2633, 2692)


@dataclass(frozen=True, kw_only=True)
class _UnbrokenSplit(BrokenSplitTruth):
    lost_share: float = 0.0
    start_day: int = 35


def test_the_split_changes_nothing_else_and_is_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = generate_demo(tmp_path / "broken", seed=5, **SMALL)  # type: ignore[arg-type]
    again = generate_demo(tmp_path / "again", seed=5, **SMALL)  # type: ignore[arg-type]
    assert again.truth.broken_split == broken.truth.broken_split
    assert again.files["assignments"][0].read_bytes() == broken.files["assignments"][0].read_bytes()

    monkeypatch.setattr("insights.datasets.demo.BrokenSplitTruth", _UnbrokenSplit)
    intact = generate_demo(tmp_path / "intact", seed=5, **SMALL)  # type: ignore[arg-type]
    split = intact.truth.broken_split
    assert split.n_lost == 0 and split.n_treatment == split.n_planned_treatment
    assert split.start < broken.truth.broken_split.start
    for name in KINDS:
        if name != "assignments":
            assert intact.files[name][0].read_bytes() == broken.files[name][0].read_bytes(), name
    for truth in ("engagement", "prompt", "funnel", "experiment", "leads", "pii"):
        assert getattr(intact.truth, truth) == getattr(broken.truth, truth), truth

    def bot_rows(logs: DemoLogs) -> list[bytes]:
        lines = logs.files["assignments"][0].read_bytes().splitlines()
        return [line for line in lines if line.startswith(b'"exp-bot-prompt-v2",')]

    assert bot_rows(intact) == bot_rows(broken)
    assert len(bot_rows(intact)) == intact.truth.experiment.n_control + intact.truth.experiment.n_treatment


def test_session_units_stay_joinable_in_the_warehouse(tmp_path: Path) -> None:
    from insights.ingestion import ingest
    from insights.warehouse import connect
    from insights.warehouse.build import build
    from insights.warehouse.checks import run_checks

    logs = generate_demo(tmp_path / "logs", seed=5, **SMALL)  # type: ignore[arg-type]
    db = tmp_path / "insights.duckdb"
    for kind in ("chat_events", "assignments"):
        ingest(kind, logs.files[kind], db=db)
    with connect(db) as con:
        build(con)
        assert run_checks(con).passed
        rows = {
            experiment: (n, joined)
            for experiment, n, joined in con.execute(
                """SELECT a.experiment_id, count(*), count(s.session_id)
                   FROM staging.assignments a LEFT JOIN marts.chat_sessions s
                     ON s.session_id = a.unit_id AND s.started_at = a.assigned_at
                   GROUP BY ALL"""
            ).fetchall()
        }
        users = con.execute(
            """SELECT count(*), count(u.user_id) FROM staging.assignments a
               LEFT JOIN (SELECT DISTINCT user_id FROM marts.chat_sessions) u ON u.user_id = a.unit_id
               WHERE a.unit_type = 'user'"""
        ).fetchone()
    split = logs.truth.broken_split
    n_split = split.n_control + split.n_treatment
    assert rows[split.experiment_id] == (n_split, n_split)  # session ids are kept as they are
    n_users = logs.truth.experiment.n_control + logs.truth.experiment.n_treatment
    assert rows[logs.truth.experiment.experiment_id][0] == n_users
    assert users == (n_users, n_users)  # user ids are pseudonymized, like chat user ids
