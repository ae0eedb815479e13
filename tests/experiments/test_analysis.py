"""The readout of a unit-level table: every door gives the same numbers, and they equal the statistics on the rows."""

from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest

from insights.errors import DataContractError, InvalidParameterError, SampleRatioMismatchWarning
from insights.experiments import (
    CovarianceStats,
    Mean,
    MomentStats,
    Proportion,
    Quantile,
    QuantileStats,
    Ratio,
    ReadoutOptions,
    SampleStats,
    adjust_pvalues,
    analyze,
    cuped,
    interaction_test,
    proportion_z_test,
    quantile_test,
    ratio_test,
    welch_test,
)

ARMS = ("A", "B", "C")


def unit_frame(n: int = 6000, seed: int = 3, weights: tuple[float, ...] = (1 / 3, 1 / 3, 1 / 3)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    variant = rng.choice(ARMS, size=n, p=weights)
    pre = rng.poisson(2.0, n).astype(float)
    lift = np.where(variant == "B", 1.15, 1.0)
    sessions = rng.poisson(1.0 + 0.8 * pre) + 1
    return pd.DataFrame(
        {
            "variant": variant,
            "converted": rng.random(n) < 0.1 * lift,
            "revenue": np.where(rng.random(n) < 0.3, rng.lognormal(3, 1.2, n) * lift, 0.0),
            "sessions": sessions.astype(float),
            "pre_sessions": pre,
            "messages": rng.poisson(4 * sessions * lift).astype(float),
            "latency": rng.lognormal(6.8, 0.4, n) * np.where(variant == "C", 1.2, 1.0),
            "channel": rng.choice(["web", "messenger", "whatsapp"], n),
            "assigned_at": pd.Timestamp("2026-01-05") + pd.to_timedelta(rng.integers(0, 14, n), unit="D"),
        }
    )


METRICS = {
    "primary": [Proportion("converted"), Mean("revenue", name="revenue_w", winsorize=0.99)],
    "secondary": [
        Mean("sessions", covariate="pre_sessions"),
        Ratio("messages", "sessions", name="messages_per_session"),
        Mean("revenue"),
    ],
    "guardrail": [Quantile("latency", q=0.9, name="latency_p90")],
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return unit_frame()


@pytest.fixture(scope="module")
def readout(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    return analyze(frame, METRICS, control="A", segments=["channel"], assigned_at="assigned_at")


def arm(frame: pd.DataFrame, name: str, column: str) -> np.ndarray:
    return frame.loc[frame["variant"] == name, column].to_numpy(dtype=float)


# --- every number equals the low-level statistics on the rows ---------------------------------------------------


def test_proportion_and_mean_equal_the_tests_on_the_rows(readout, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    for variant in ("B", "C"):
        got = readout.result("converted", variant).effect
        want = proportion_z_test(
            SampleStats.from_values(arm(frame, "A", "converted")),
            SampleStats.from_values(arm(frame, variant, "converted")),
        )
        for field in ("effect", "ci_low", "ci_high", "p_value", "relative"):
            assert math.isclose(getattr(got, field), getattr(want, field), rel_tol=1e-9), field
        got = readout.result("revenue", variant).effect
        want = welch_test(
            SampleStats.from_values(arm(frame, "A", "revenue")),
            SampleStats.from_values(arm(frame, variant, "revenue")),
        )
        assert math.isclose(got.p_value, want.p_value, rel_tol=1e-9)
        assert math.isclose(got.ci_low, want.ci_low, rel_tol=1e-9)


def test_winsorized_mean_caps_at_the_pooled_percentile(readout, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    # DuckDB's quantile_cont interpolates linearly between order statistics, as numpy's default method does
    cap = np.quantile(frame["revenue"].to_numpy(), 0.99)
    capped = frame.assign(revenue=np.minimum(frame["revenue"], cap))
    got = readout.result("revenue_w", "B").effect
    want = welch_test(
        SampleStats.from_values(arm(capped, "A", "revenue")), SampleStats.from_values(arm(capped, "B", "revenue"))
    )
    assert math.isclose(got.effect, want.effect, rel_tol=1e-9)
    assert math.isclose(got.p_value, want.p_value, rel_tol=1e-9)
    assert got.treatment_mean < readout.result("revenue", "B").effect.treatment_mean


def test_cuped_ratio_and_quantile_equal_the_tests_on_the_rows(readout, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    got = readout.result("sessions", "B").effect
    want = cuped(
        CovarianceStats.from_values(arm(frame, "A", "sessions"), arm(frame, "A", "pre_sessions")),
        CovarianceStats.from_values(arm(frame, "B", "sessions"), arm(frame, "B", "pre_sessions")),
    )
    assert math.isclose(got.effect, want.effect, rel_tol=1e-9)
    assert got.variance_reduction is not None and got.variance_reduction > 0.2  # the covariate predicts sessions

    names = ("numerator", "denominator")
    rows = {v: np.column_stack([arm(frame, v, "messages"), arm(frame, v, "sessions")]) for v in ("A", "B")}
    want = ratio_test(
        MomentStats.from_values(names, rows["A"]),
        MomentStats.from_values(names, rows["B"]),
        numerator="numerator",
        denominator="denominator",
    )
    got = readout.result("messages_per_session", "B").effect
    assert math.isclose(got.effect, want.effect, rel_tol=1e-9)
    assert math.isclose(got.p_value, want.p_value, rel_tol=1e-7)

    want = quantile_test(
        QuantileStats.from_values(arm(frame, "A", "latency"), 0.9),
        QuantileStats.from_values(arm(frame, "C", "latency"), 0.9),
    )
    got = readout.result("latency_p90", "C").effect
    assert got.control_mean == want.control_mean and got.treatment_mean == want.treatment_mean
    assert math.isclose(got.p_value, want.p_value, rel_tol=1e-9)


def test_planted_effects_are_found_and_judged_by_direction(readout) -> None:  # type: ignore[no-untyped-def]
    assert readout.result("latency_p90", "C").is_harm  # C is 20% slower; lower latency is better
    assert readout.result("messages_per_session", "B").is_improvement  # planted: 15% more messages
    assert "guardrail alert" in readout.verdict and "latency_p90" in readout.verdict
    assert readout.verdict.index("B") < readout.verdict.index("C")


def test_correction_families(frame: pd.DataFrame) -> None:
    metrics = {"primary": [Proportion("converted")], "secondary": [Mean("revenue"), Mean("sessions")]}
    raw = analyze(frame, metrics, control="A", options=ReadoutOptions(correction="none"))
    p = {(r.metric, r.variant): r.effect.p_value for r in raw.results}
    for family, groups in (
        ("all", [list(p)]),
        ("metric", [[k for k in p if k[0] == m] for m in ("converted", "revenue", "sessions")]),
        ("variant", [[k for k in p if k[1] == v] for v in ("B", "C")]),
    ):
        readout = analyze(frame, metrics, control="A", options=ReadoutOptions(correction="holm", family=family))
        for group in groups:
            want = adjust_pvalues([p[k] for k in group], "holm")
            got = [readout.result(*k).p_adjusted for k in group]
            np.testing.assert_allclose(got, want, rtol=1e-12)


def test_guardrails_keep_raw_p_values(frame: pd.DataFrame) -> None:
    readout = analyze(frame, {"primary": [Mean("revenue")], "guardrail": [Mean("sessions")]}, control="A")
    for result in readout.results:
        if result.role == "guardrail":
            assert result.p_adjusted == result.effect.p_value


# --- segments, days and the sequential band --------------------------------------------------------------------


def test_segment_effects_equal_the_readout_of_each_segment(readout, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    breakdown = next(s for s in readout.segments if s.metric == "revenue" and s.variant == "B")
    assert set(breakdown.values) == {"web", "messenger", "whatsapp"}
    for value, effect in zip(breakdown.values, breakdown.effects, strict=True):
        alone = analyze(frame[frame["channel"] == value], [Mean("revenue")], control="A")
        assert math.isclose(effect.effect, alone.result("revenue", "B").effect.effect, rel_tol=1e-9)
    assert breakdown.interaction.p_value == interaction_test(list(breakdown.effects)).p_value
    assert not any(s.metric == "latency_p90" for s in readout.segments)  # quantiles do not add up


def test_segment_values_beyond_the_cap_are_pooled(frame: pd.DataFrame) -> None:
    many = frame.assign(bucket=[f"b{i % 7}" for i in range(len(frame))])
    readout = analyze(
        many, [Mean("revenue")], control="A", segments="bucket", options=ReadoutOptions(max_segment_values=3)
    )
    values = readout.segments[0].values
    assert len(values) == 4 and values[-1] == "(other)"
    assert sum(readout.segments[0].n_control) == readout.result("revenue", "B").n_control


def test_days_add_up_to_the_whole_and_the_band_is_always_valid(readout, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    looks = [look for look in readout.sequential if look.metric == "converted" and look.variant == "B"]
    assert len(looks) == frame["assigned_at"].nunique()
    last = looks[-1]
    assert math.isclose(last.effect.effect, readout.result("converted", "B").effect.effect, rel_tol=1e-12)
    assert [look.n_treatment for look in looks] == sorted(look.n_treatment for look in looks)
    for look in looks:  # the always-valid sequence is wider than the fixed-horizon interval and only shrinks
        assert look.msprt.cs_low <= look.effect.ci_low and look.msprt.cs_high >= look.effect.ci_high
    assert all(a.msprt.cs_low <= b.msprt.cs_low for a, b in itertools.pairwise(looks))


# --- the doors ---------------------------------------------------------------------------------------------------


def test_every_door_gives_the_same_readout(frame: pd.DataFrame, tmp_path: Path) -> None:
    metrics = [Proportion("converted"), Mean("revenue", winsorize=0.95), Ratio("messages", "sessions")]
    want = analyze(frame, metrics, control="A").rows()
    parquet, csv = tmp_path / "units.parquet", tmp_path / "units.csv"
    frame.to_parquet(parquet)
    frame.to_csv(csv, index=False)
    con = duckdb.connect()
    con.register("frame_view", frame)
    con.execute("CREATE TABLE units_table AS SELECT * FROM frame_view")
    doors: list[tuple[object, dict[str, object]]] = [
        (pl.from_pandas(frame), {}),
        (parquet, {}),
        (str(csv), {}),
        (con.sql("SELECT * FROM units_table"), {}),
        ("units_table", {"con": con}),
    ]
    for data, kwargs in doors:
        got = analyze(data, metrics, control="A", **kwargs).rows()  # type: ignore[arg-type]
        for g, w in zip(got, want, strict=True):
            for key in ("effect", "ci_low", "p_value", "n_control"):
                assert math.isclose(g[key], w[key], rel_tol=1e-9), (type(data).__name__, key)


def test_sql_expressions_over_columns_are_metrics(frame: pd.DataFrame) -> None:
    readout = analyze(frame, [Proportion("revenue > 100", name="big_spender")], control="A")
    want = proportion_z_test(
        SampleStats.from_values(arm(frame, "A", "revenue") > 100),
        SampleStats.from_values(arm(frame, "B", "revenue") > 100),
    )
    assert math.isclose(readout.result("big_spender", "B").effect.p_value, want.p_value, rel_tol=1e-9)


# --- sample ratio, degenerate data and wrong calls ------------------------------------------------------------------


def test_sample_ratio_mismatch_warns_and_leads_the_verdict() -> None:
    broken = unit_frame(weights=(0.36, 0.32, 0.32))
    with pytest.warns(SampleRatioMismatchWarning, match="do not match the planned split"):
        readout = analyze(broken, [Mean("revenue")], control="A")
    assert readout.srm.is_mismatch
    assert readout.verdict.startswith("SAMPLE RATIO MISMATCH")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fine = analyze(broken, [Mean("revenue")], control="A", weights=[0.36, 0.32, 0.32])
    assert not fine.srm.is_mismatch


def test_planned_weights_follow_the_variants_as_listed() -> None:
    uneven = unit_frame(weights=(0.6, 0.2, 0.2))
    listed = analyze(uneven, [Mean("revenue")], control="A", variants=["B", "C", "A"], weights=[0.2, 0.2, 0.6])
    assert not listed.srm.is_mismatch and listed.variants[0] == "A"
    assert listed.srm.expected[0] == pytest.approx(0.6 * len(uneven))


def test_an_empty_planned_arm_and_zero_variance_give_notes_not_errors(frame: pd.DataFrame) -> None:
    data = frame.assign(constant=1.0)
    with pytest.warns(SampleRatioMismatchWarning):
        readout = analyze(data, [Mean("constant"), Mean("revenue")], control="A", variants=["A", "B", "C", "D"])
    assert readout.result("constant", "B").effect.note == "zero_variance"
    assert readout.result("revenue", "D").effect.note == "empty_arm"
    assert readout.n_units["D"] == 0
    assert "not enough data" in readout.verdict


def test_missing_values_leave_the_unit_out_of_that_metric_only(frame: pd.DataFrame) -> None:
    data = frame.assign(revenue=frame["revenue"].where(np.arange(len(frame)) % 10 != 0))
    readout = analyze(data, [Mean("revenue"), Proportion("converted")], control="A")
    assert readout.result("revenue", "B").n_treatment < readout.result("converted", "B").n_treatment
    assert readout.result("converted", "B").n_treatment == (frame["variant"] == "B").sum()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: analyze(f, [Mean("nope")]), "The 'metrics[0].value' parameter of analyze must be a column"),
        (lambda f: analyze(f, [Mean("revenue")], control="Z"), "The 'control' parameter of analyze must be one of"),
        (lambda f: analyze(f, [Mean("revenue")], variant="arm"), "The 'variant' parameter of analyze must be a column"),
        (lambda f: analyze(f, []), "The 'metrics' parameter of analyze must name at least one metric"),
        (lambda f: analyze(f, [Mean("revenue"), Mean("revenue")]), "must have distinct names"),
        (lambda f: analyze(f, {"main": [Mean("revenue")]}), "must map roles primary, secondary, guardrail"),
        (lambda f: analyze(42, [Mean("revenue")]), "The 'data' parameter of analyze must be a DuckDB relation"),
        (lambda f: analyze("missing.parquet", [Mean("revenue")]), "must name an existing Parquet or CSV file"),
        (lambda f: analyze(f, [Mean("revenue; DROP TABLE x")]), "must be a column"),
        (lambda f: ReadoutOptions(correction="fdr"), "The 'correction' parameter of ReadoutOptions must be one of"),
        (lambda f: Mean("revenue", winsorize=1.5), "The 'winsorize' parameter of Mean must be in (0, 1)"),
    ],
)
def test_wrong_calls_say_which_parameter(frame: pd.DataFrame, call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameterError, match=None) as caught:
        call(frame)
    assert message in str(caught.value)
    assert str(caught.value).count(".") >= 1 and "Got" in str(caught.value)


def test_a_proportion_column_that_is_not_binary_is_refused(frame: pd.DataFrame) -> None:
    with pytest.raises(DataContractError, match=r"must hold true/false or 0/1 per unit.*use Mean"):
        analyze(frame, [Proportion("sessions")], control="A")


# --- the result object ----------------------------------------------------------------------------------------------


def test_the_readout_prints_converts_and_escapes(readout, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    table = readout.to_pandas()
    assert len(table) == len(readout.results) == 6 * 2
    assert readout.to_polars().shape == table.shape
    assert readout.segment_table()["interaction_p_value"].notna().any()
    markdown = readout.to_markdown()
    assert readout.verdict in markdown and "| converted | primary | B |" in markdown
    assert readout.verdict in str(readout)
    nasty = frame.rename(columns={"revenue": "<script>alert(1)</script>"})
    html = analyze(nasty, [Mean("<script>alert(1)</script>")], control="A")._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_charts_draw_every_result_and_the_band(readout) -> None:  # type: ignore[no-untyped-def]
    forest = readout.plot_forest()
    assert len(forest.data[0].y) == sum(math.isfinite(r.effect.relative) for r in readout.results)
    cumulative = readout.plot_cumulative("revenue_w", "B")
    names = {trace.name for trace in cumulative.data}
    assert {"always-valid band (mSPRT)", "fixed-horizon CI", "effect"} <= names
    assert len(cumulative.data[-1].x) == len({look.day for look in readout.sequential})
