"""Thompson-sampling allocation: the shares against exact probabilities, the floor, determinism, and the warehouse
round trip."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import duckdb
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings
from scipy import integrate, stats

from insights.errors import InvalidParameterError, WarehouseError
from insights.recommend.thompson import (
    _ALLOCATIONS_DDL,
    Allocation,
    AllocationNotFoundError,
    _apply_floor,
    read_allocation,
    thompson_allocation,
)


def arms(segment: str, spec: dict[str, tuple[float, float]]) -> list[dict[str, object]]:
    return [{"segment": segment, "arm": a, "mean": m, "log_se": s} for a, (m, s) in spec.items()]


FACEBOOK = arms("facebook/brightloop", {"video": (0.054, 0.10), "image": (0.050, 0.08), "text": (0.030, 0.20)})
X = arms("x/brightloop", {"text": (0.015, 0.10), "video": (0.016, 0.20)})


def binomial_bound(p: float, draws: int) -> float:
    """Four Monte Carlo standard errors of a share estimated from `draws` draws (a 6e-5 two-sided chance)."""
    return 4 * math.sqrt(p * (1 - p) / draws)


def test_two_arms_match_the_exact_probability_of_being_best() -> None:
    # log(theta_i) ~ N(m_i, s_i^2) independently, so P(theta_1 > theta_2) = Phi((m1 - m2) / sqrt(s1^2 + s2^2));
    # scipy.stats.norm.cdf(math.log(0.05 / 0.045) / math.hypot(0.10, 0.15)) = 0.7205361532686966
    draws = 200_000
    exact = stats.norm.cdf(math.log(0.05 / 0.045) / math.hypot(0.10, 0.15))
    assert exact == pytest.approx(0.7205362, abs=1e-7)
    allocation = thompson_allocation(arms("s", {"a": (0.05, 0.10), "b": (0.045, 0.15)}), draws=draws, seed=11)
    p = allocation.probabilities("s")
    assert abs(p["a"] - exact) < binomial_bound(exact, draws)
    assert p["a"] + p["b"] == pytest.approx(1.0, abs=1e-12)


def test_three_arms_match_numerical_integration() -> None:
    # P(arm 0 best) = integral of its density on the log scale times the other two normal CDFs (scipy.integrate.quad)
    spec = {"a": (0.040, 0.20), "b": (0.036, 0.10), "c": (0.044, 0.30)}
    m = {k: math.log(v[0]) for k, v in spec.items()}
    s = {k: v[1] for k, v in spec.items()}

    def best(k: str) -> float:
        others = [o for o in spec if o != k]

        def density(t: float) -> float:
            value = stats.norm.pdf(t, m[k], s[k])
            for o in others:
                value *= stats.norm.cdf(t, m[o], s[o])
            return float(value)

        return float(integrate.quad(density, m[k] - 12 * s[k], m[k] + 12 * s[k], epsabs=1e-12)[0])

    exact = {k: best(k) for k in spec}
    assert sum(exact.values()) == pytest.approx(1.0, abs=1e-8)
    draws = 100_000
    p = thompson_allocation(arms("s", spec), draws=draws, seed=2).probabilities("s")
    for k in spec:
        assert abs(p[k] - exact[k]) < binomial_bound(exact[k], draws), k


def test_a_clearly_dominant_arm_gets_almost_everything() -> None:
    # log means 2.3 apart with standard errors 0.1: the others win with probability Phi(-2.3 / 0.14) ~ 1e-60
    p = thompson_allocation(arms("s", {"a": (0.10, 0.1), "b": (0.01, 0.1), "c": (0.01, 0.1)})).probabilities("s")
    assert p["a"] == 1.0
    assert p["b"] == p["c"] == 0.0


def test_equal_arms_share_equally() -> None:
    draws = 40_000
    p = thompson_allocation(arms("s", dict.fromkeys("abcd", (0.03, 0.2))), draws=draws).probabilities("s")
    for value in p.values():
        assert abs(value - 0.25) < binomial_bound(0.25, draws)
    # without uncertainty every draw is a four-way tie, which the arms share exactly
    exact = thompson_allocation(arms("s", dict.fromkeys("abcd", (0.03, 0.0)))).probabilities("s")
    assert exact == dict.fromkeys("abcd", 0.25)


def test_the_floor_is_honoured_and_taken_in_proportion_from_the_arms_above_it() -> None:
    # by hand: p = (0.7, 0.25, 0.05), floor 0.1: the third arm goes to 0.1 and the others share 0.9 in the ratio
    # 0.7 : 0.25, i.e. 0.9 * 0.7 / 0.95 = 0.663158 and 0.9 * 0.25 / 0.95 = 0.236842
    out = _apply_floor(np.array([0.7, 0.25, 0.05]), 0.1)
    assert out.tolist() == pytest.approx([0.9 * 0.7 / 0.95, 0.9 * 0.25 / 0.95, 0.1], abs=1e-15)
    # raising one arm can push another under the floor: (0.9, 0.06, 0.04) with 0.1 needs two rounds -> (0.8, 0.1, 0.1)
    assert _apply_floor(np.array([0.9, 0.06, 0.04]), 0.1).tolist() == pytest.approx([0.8, 0.1, 0.1], abs=1e-15)
    # a floor of exactly 1/k is the uniform split; no floor changes nothing
    assert _apply_floor(np.array([1.0, 0.0, 0.0, 0.0]), 0.25).tolist() == [0.25] * 4
    assert _apply_floor(np.array([0.6, 0.4]), 0.0).tolist() == [0.6, 0.4]

    allocation = thompson_allocation(FACEBOOK + X, min_probability=0.05, seed=3)
    for segment in allocation.segments():
        probabilities = allocation.probabilities(segment)
        assert min(probabilities.values()) >= 0.05 - 1e-12
        assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-12)
    text = next(a for a in allocation.arms if a.arm == "text" and a.segment == "facebook/brightloop")
    assert text.p_best < 0.01 and text.probability == pytest.approx(0.05)


def test_a_floor_the_widest_segment_cannot_afford_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match=r"at most 1 / 3 = 0.3333 .*facebook/brightloop"):
        thompson_allocation(FACEBOOK + X, min_probability=0.34)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.001, 1.0), st.floats(0.0, 1.0)),
        min_size=1,
        max_size=6,
    ),
    st.floats(0.0, 1.0),
    st.integers(0, 2**32),
)
def test_shares_are_probabilities_above_the_floor_that_keep_the_order(
    spec: list[tuple[float, float]], floor_share: float, seed: int
) -> None:
    floor = floor_share / len(spec)
    rows = arms("s", {f"arm{i}": value for i, value in enumerate(spec)})
    allocation = thompson_allocation(rows, draws=500, seed=seed, min_probability=floor)
    shares = [(a.p_best, a.probability) for a in allocation.arms]
    assert sum(p for _, p in shares) == pytest.approx(1.0, abs=1e-9)
    assert sum(p for p, _ in shares) == pytest.approx(1.0, abs=1e-9)
    assert all(p >= floor - 1e-12 and p <= 1 + 1e-12 for _, p in shares)
    # the floor never reorders arms: a higher P(best) never gets a smaller share
    for (p1, q1), (p2, q2) in itertools.pairwise(shares):
        assert q1 >= q2 - 1e-12
        if p1 < p2:
            assert q1 == pytest.approx(q2)


def test_the_same_seed_gives_the_same_allocation_whatever_the_row_order_or_the_other_segments() -> None:
    first = thompson_allocation(FACEBOOK + X, seed=5)
    assert thompson_allocation(FACEBOOK + X, seed=5) == first
    assert thompson_allocation(list(reversed(X + FACEBOOK)), seed=5) == first
    alone = thompson_allocation(FACEBOOK, seed=5)
    assert alone.probabilities("facebook/brightloop") == first.probabilities("facebook/brightloop")
    assert thompson_allocation(FACEBOOK + X, seed=6) != first


@dataclass
class ArmRecord:
    segment: str
    arm: str
    mean: float
    log_se: float
    n_posts: int


def test_every_kind_of_input_gives_the_same_allocation(tmp_path: Path) -> None:
    import pandas as pd
    import polars as pl

    rows = [{**r, "n_posts": 10 + i} for i, r in enumerate(FACEBOOK + X)]
    expected = thompson_allocation(rows, seed=4)
    frame = pd.DataFrame(rows)
    frame.to_parquet(tmp_path / "arms.parquet")
    con = duckdb.connect()
    inputs = {
        "pandas": frame,
        "polars": pl.DataFrame(rows),
        "relation": con.sql("SELECT * FROM read_parquet(?)", params=[str(tmp_path / "arms.parquet")]),
        "parquet": tmp_path / "arms.parquet",
        "records": [ArmRecord(**r) for r in rows],  # type: ignore[arg-type]
    }
    for name, data in inputs.items():
        assert thompson_allocation(data, seed=4) == expected, name
    assert [r["n_posts"] for r in expected.rows()][:3] == [10, 11, 12]
    assert expected.to_pandas().columns.tolist() == [
        "segment",
        "arm",
        "probability",
        "p_best",
        "mean",
        "ci_low",
        "ci_high",
        "log_se",
        "n_posts",
    ]


def test_intervals_come_from_the_log_scale() -> None:
    allocation = thompson_allocation(arms("s", {"a": (0.05, 0.1)}), alpha=0.1)
    (arm,) = allocation.arms
    # exp(+-1.6448536 * 0.1): scipy.stats.norm.ppf(0.95) = 1.6448536269514722
    assert arm.ci_low == pytest.approx(0.05 * math.exp(-0.16448536269514722), rel=1e-12)
    assert arm.ci_high == pytest.approx(0.05 * math.exp(0.16448536269514722), rel=1e-12)
    assert arm.probability == 1.0


def test_the_summary_reads_as_plain_language() -> None:
    allocation = thompson_allocation(FACEBOOK + X, min_probability=0.05, seed=3)
    lines = allocation.summary_lines()
    video = allocation.probabilities("facebook/brightloop")["video"]
    assert lines[0].startswith(f"Post video on facebook/brightloop about {round(video * 100)}% of the time (image")
    assert "Thompson sampling, 10,000 draws" in lines[-2]
    assert "at least 5% of the posts" in lines[-1]
    close = thompson_allocation(arms("s", dict.fromkeys("abc", (0.03, 0.2))), seed=1)
    assert close.summary_lines()[0].startswith("On s no option is clearly best yet: post")
    assert "<td>" in allocation._repr_html_()
    fig = allocation.plot()
    assert {trace.name for trace in fig.data} == {"video", "image", "text"}


def test_choose_draws_with_the_allocation_and_reports_the_propensity() -> None:
    allocation = thompson_allocation(FACEBOOK, min_probability=0.1, seed=3)
    p = allocation.probabilities("facebook/brightloop")
    n = 20_000
    choices = allocation.choose("facebook/brightloop", n, seed=9)
    assert choices == allocation.choose("facebook/brightloop", n, seed=9)
    assert len(choices.rows()) == n
    for row in choices.rows()[:50]:
        assert row["propensity"] == p[row["arm"]]
    counts = {arm: choices.arms().count(arm) for arm in p}
    for arm, share in p.items():
        assert abs(counts[arm] / n - share) < binomial_bound(share, n)
    assert choices.summary_lines()[0].startswith(f"{n} planned posts on facebook/brightloop: video")


def test_write_then_read_round_trips_through_a_warehouse_file(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    allocation = thompson_allocation([{**r, "n_posts": 7} for r in FACEBOOK] + X, min_probability=0.05, seed=3)
    con = duckdb.connect(str(db))
    first = allocation.write(con, run_id="week-10", valid_from="2026-03-02", valid_to="2026-03-09")
    assert first == "week-10"
    second = allocation.write(con)
    assert len(second) == 32 and int(second, 16) >= 0  # a uuid4 in hex
    con.close()

    con = duckdb.connect(str(db), read_only=True)
    back = read_allocation(con, "week-10")
    latest = read_allocation(con)
    con.close()
    assert back.arms == allocation.arms  # every float exactly as written
    assert (back.draws, back.seed, back.min_probability, back.alpha) == (10_000, 3, 0.05, 0.05)
    assert back.run_id == "week-10"
    assert back.valid_from is not None and back.valid_from.isoformat() == "2026-03-02T00:00:00+00:00"
    assert back.valid_to is not None and back.valid_to.isoformat() == "2026-03-09T00:00:00+00:00"
    assert latest.run_id == second and latest.valid_from is None
    assert latest.created_at is not None and back.created_at is not None and latest.created_at >= back.created_at
    again, before = back.choose("x/brightloop", 5, seed=1), allocation.choose("x/brightloop", 5, seed=1)
    assert (again.arms(), again.propensities) == (before.arms(), before.propensities)
    assert again.rows()[0]["run_id"] == "week-10"  # the planned posts name the run they were drawn from
    assert back.title == "Allocation week-10"
    assert "of the time from 2026-03-02 until 2026-03-09 (" in back.summary_lines()[0]


def test_writing_a_run_twice_is_refused_and_adds_nothing(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    allocation = thompson_allocation(FACEBOOK, seed=1)
    allocation.write(con, run_id="r1")
    with pytest.raises(InvalidParameterError, match=r"'run_id' parameter of Allocation.write must be new .*'r1'"):
        allocation.write(con, run_id="r1")
    assert con.execute("SELECT count(*) FROM recommend.allocations").fetchall() == [(3,)]
    # the connection is usable afterwards (the transaction was rolled back)
    allocation.write(con, run_id="r2")
    assert con.execute("SELECT count(DISTINCT run_id) FROM recommend.allocations").fetchall() == [(2,)]


def test_a_write_that_fails_midway_writes_nothing(tmp_path: Path) -> None:
    # the table exists with a check the last row breaks: the rows before it must be rolled back too
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    allocation = thompson_allocation(FACEBOOK, seed=1)
    assert allocation.arms[-1].arm == "text"
    con.execute(_ALLOCATIONS_DDL[0])
    con.execute(_ALLOCATIONS_DDL[1].replace("PRIMARY KEY", "CHECK (arm <> 'text'), PRIMARY KEY"))
    with pytest.raises(WarehouseError, match=r"could not be written to recommend.allocations, and nothing was"):
        allocation.write(con, run_id="r1")
    assert con.execute("SELECT count(*) FROM recommend.allocations").fetchall() == [(0,)]


def test_a_read_only_warehouse_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    duckdb.connect(str(db)).close()
    con = duckdb.connect(str(db), read_only=True)
    with pytest.raises(WarehouseError, match="nothing was written"):
        thompson_allocation(X).write(con)
    assert con.execute(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'recommend'"
    ).fetchall() == [(0,)]


def test_reading_without_allocations_says_so(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    with pytest.raises(AllocationNotFoundError, match=r"no recommend\.allocations table"):
        read_allocation(con)
    thompson_allocation(X).write(con, run_id="only")
    with pytest.raises(AllocationNotFoundError, match=r"No allocation run 'other'.*latest run is 'only'"):
        read_allocation(con, "other")
    assert isinstance(read_allocation(con), Allocation)
