"""AI against human posts like for like: the Mantel-Haenszel rate ratio by hand, against a Poisson model with stratum
fixed effects, on confounded data, on the demo's planted ratios, its interval's coverage, and row order."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insights.engagement import EngagementModel, post_features
from insights.engagement.compare import OriginComparison, compare_origins

if TYPE_CHECKING:
    from insights.demo import DemoSummary

sm = pytest.importorskip("statsmodels.api")


def posts(rows: list[tuple[Any, ...]]) -> pa.Table:
    """Posts from (platform, content_type, local_weekday, local_hour, origin, engagements, exposure) rows."""
    names = ("platform", "content_type", "local_weekday", "local_hour", "origin", "engagements", "exposure")
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    columns["exclusion"] = [None] * len(rows)
    return pa.table(columns, schema=_SCHEMA)


_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("content_type", pa.string()),
        ("local_weekday", pa.int32()),
        ("local_hour", pa.int32()),
        ("origin", pa.string()),
        ("engagements", pa.float64()),
        ("exposure", pa.float64()),
        ("exclusion", pa.string()),
    ]
)

#: two matched strata and one with AI posts only (same platform and time, different content type)
HAND = posts(
    [
        # stratum A: AI 30 engagements over 1,000 impressions (three posts), human 20 over 1,000 (two posts)
        ("x", "text", 0, 9, "ai", 10.0, 300.0),
        ("x", "text", 0, 9, "ai", 15.0, 500.0),
        ("x", "text", 0, 9, "ai", 5.0, 200.0),
        ("x", "text", 0, 9, "human", 12.0, 600.0),
        ("x", "text", 0, 9, "human", 8.0, 400.0),
        # stratum B: AI 10 over 100 (one post), human 50 over 1,000 (two posts)
        ("x", "video", 0, 9, "ai", 10.0, 100.0),
        ("x", "video", 0, 9, "human", 25.0, 500.0),
        ("x", "video", 0, 9, "human", 25.0, 500.0),
        # stratum C: AI only, 40 over 500 (two posts): no match
        ("x", "image", 0, 9, "ai", 20.0, 250.0),
        ("x", "image", 0, 9, "ai", 20.0, 250.0),
    ]
)


def test_mantel_haenszel_by_hand() -> None:
    result = compare_origins(HAND)
    ai = result.get("ai")
    # RR_MH = sum a T0 / T / sum b T1 / T = (30 * 1000/2000 + 10 * 1000/1100) / (20 * 1000/2000 + 50 * 100/1100)
    #       = (265/11) / (160/11) = 1.65625
    assert ai.rate_ratio == pytest.approx(1.65625, rel=1e-12)
    # Greenland-Robins: sum T1 T0 (a + b) / T^2 / (R S) = (12.5 + 600/121) / (265/11 * 160/11) = 2112.5 / 42400
    assert ai.poisson_se_log == pytest.approx(math.sqrt(2112.5 / 42400), rel=1e-12)
    # the sandwich over strata: U_A = (30 * 1000 - RR 20 * 1000) / 2000 = -1.5625, U_B = (10 * 1000 - RR 50 * 100)
    # / 1100 = +1.5625; var(RR) = 2/1 * (2 * 1.5625^2) / (160/11)^2, so se(log RR) = 3.125 * 11/160 / 1.65625
    assert ai.se_log == pytest.approx(3.125 * 11 / 160 / 1.65625, rel=1e-12)
    # t with 1 degree of freedom (2 strata): scipy.stats.t.ppf(0.975, 1) = 12.706204736174698
    assert ai.high == pytest.approx(1.65625 * math.exp(12.706204736174698 * ai.se_log), rel=1e-9)
    assert ai.low == pytest.approx(1.65625 * math.exp(-12.706204736174698 * ai.se_log), rel=1e-9)
    # raw averages over every post: (80 / 1600) / (70 / 2000)
    assert ai.crude_ratio == pytest.approx(0.05 / 0.035, rel=1e-12)
    assert (ai.n_posts, ai.n_matched, ai.n_reference_matched, ai.n_strata) == (6, 4, 4, 2)
    assert ai.matched_share == pytest.approx(4 / 6)
    assert result.n_posts == 10 and result.n_excluded == 0


def _stratified_posts(seed: int, *, n_strata: int = 60, ratio: float = 0.9, sigma: float = 0.3) -> pa.Table:
    """Posts in strata with their own baseline rate; each post's rate carries a mean-one lognormal factor."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_strata):
        base = rng.gamma(4.0, 0.01)
        for origin, factor in (("human", 1.0), ("ai", ratio)):
            for _ in range(int(rng.integers(2, 7))):
                exposure = float(rng.gamma(3.0, 700.0))
                rate = base * factor * math.exp(rng.normal(-(sigma**2) / 2, sigma))
                rows.append(
                    ("x", f"type{s % 5}", s // 5 % 7, s // 35, origin, float(rng.poisson(exposure * rate)), exposure)
                )
    return posts(rows)


def test_stratified_ratio_is_close_to_a_poisson_model_with_stratum_effects() -> None:
    table = _stratified_posts(11)
    ai = compare_origins(table).get("ai")
    frame = table.to_pandas()
    frame["stratum"] = frame["content_type"] + frame["local_weekday"].astype(str) + frame["local_hour"].astype(str)
    fit = sm.GLM.from_formula(
        "engagements ~ C(stratum) + C(origin, Treatment('human'))",
        data=frame,
        family=sm.families.Poisson(),
        exposure=frame["exposure"],
    ).fit()
    glm_log_ratio = fit.params["C(origin, Treatment('human'))[T.ai]"]
    # both estimate the one common ratio and only weigh the strata a little differently: on this data they agree
    # to 1e-4 on the log scale, a small fraction of the standard error (statsmodels 0.15 GLM, Poisson family, exposure)
    assert abs(math.log(ai.rate_ratio) - glm_log_ratio) < 0.05 * ai.se_log
    assert ai.low < 0.9 < ai.high


def test_confounded_origins_crude_ratio_is_far_off_and_the_stratified_one_is_not() -> None:
    """AI posts are mostly videos, videos engage twice as much: raw averages flatter AI, like for like does not."""
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(3000):
        origin = "ai" if rng.random() < 0.5 else "human"
        video = rng.random() < (0.8 if origin == "ai" else 0.2)
        weekday, hour = int(rng.integers(0, 5)), int(rng.integers(9, 13))
        exposure = float(rng.gamma(3.0, 600.0))
        rate = 0.02 * (2.0 if video else 1.0) * (0.9 if origin == "ai" else 1.0) * math.exp(rng.normal(-0.045, 0.3))
        kind = "video" if video else "image"
        rows.append(("x", kind, weekday, hour, origin, float(rng.poisson(exposure * rate)), exposure))
    table = posts(rows)
    model = EngagementModel(["content_type", "origin"])
    result = compare_origins(table, model=model)
    ai = result.get("ai")
    # expected crude ratio: 0.9 x (0.8 x 2 + 0.2) / (0.2 x 2 + 0.8) = 1.35
    assert ai.crude_ratio > 1.25
    assert ai.low < 0.9 < ai.high
    assert ai.high < ai.crude_ratio
    assert ai.adjusted_ratio is not None and ai.adjusted_low is not None and ai.adjusted_high is not None
    assert ai.adjusted_low < 0.9 < ai.adjusted_high
    assert ai.matched_share > 0.95
    assert any("outside that interval" in line for line in result.summary_lines())


def test_demo_intervals_contain_the_planted_origin_ratios(
    demo_warehouse: tuple[Path, DemoSummary], demo_con: duckdb.DuckDBPyConnection
) -> None:
    planted = demo_warehouse[1].truth.engagement.origin_ratio
    result = compare_origins(post_features(demo_con))
    assert {r.origin for r in result.ratios} == {"ai", "ai_edited"}
    for row in result.ratios:
        assert row.low < planted[row.origin] < row.high, row
        assert row.note is None and row.n_strata > 100
        # the demo mixes content types and times the same way for every origin: raw and like for like agree
        assert abs(math.log(row.crude_ratio / row.rate_ratio)) < 0.1
        # posts vary far more than Poisson counts: the honest interval is several times wider
        assert row.se_log > 2 * row.poisson_se_log
    # the same week too: fewer matches, a wider interval, still around the planted ratio
    weekly = compare_origins(post_features(demo_con), strata=("platform", "content_type", "week"))
    for row in weekly.ratios:
        assert row.low < planted[row.origin] < row.high
        assert row.n_matched < result.get(row.origin).n_posts
    # coarser strata match every post
    coarse = compare_origins(post_features(demo_con), strata=("account", "content_type"))
    assert all(r.matched_share == 1.0 for r in coarse.ratios)
    assert all(r.low < planted[r.origin] < r.high for r in coarse.ratios)


@pytest.mark.slow
def test_interval_covers_the_true_ratio_at_about_the_nominal_rate() -> None:
    """Overdispersed posts in sparse strata: the sandwich interval covers ~95%, the Poisson one far less."""
    covered, poisson_covered, reps = 0, 0, 200
    for seed in range(reps):
        ai = compare_origins(_stratified_posts(1000 + seed, n_strata=80, sigma=0.4)).get("ai")
        covered += ai.low < 0.9 < ai.high
        half = 1.959963984540054 * ai.poisson_se_log
        poisson_covered += abs(math.log(ai.rate_ratio / 0.9)) < half
    # binomial(200, 0.95): 0.90-0.99 holds with probability above 0.99
    assert 0.90 <= covered / reps <= 0.99
    assert poisson_covered / reps < 0.8


def test_what_the_data_cannot_support_is_a_note() -> None:
    no_overlap = compare_origins(HAND.take([6, 8, 9]))  # human videos, AI images
    assert no_overlap.get("ai").note == "no_overlap" and math.isnan(no_overlap.get("ai").rate_ratio)
    assert "no like-for-like estimate" in str(no_overlap)
    no_reference = compare_origins(HAND.filter(pa.compute.equal(HAND["origin"], "ai")))
    assert no_reference.ratios == () and "nothing to compare against" in str(no_reference)
    one = compare_origins(HAND.filter(pa.compute.equal(HAND["content_type"], "text")))
    assert one.get("ai").note == "one_stratum" and math.isnan(one.get("ai").low)
    assert one.get("ai").rate_ratio == pytest.approx(1.5)  # (30/1000) / (20/1000)


def test_result_renders_and_converts() -> None:
    result = compare_origins(HAND, strata=("platform", "local_weekday"))
    assert isinstance(result, OriginComparison)
    assert "AI-drafted posts get" in str(result)
    assert result.to_markdown().startswith("**Origins against human posts, like for like**")
    frame = result.to_pandas()
    assert list(frame["origin"]) == ["ai"] and frame.loc[0, "n_posts"] == 6
    figure = result.plot()
    assert len(figure.data) == 2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False))
def test_row_order_does_not_matter(random: Any) -> None:
    table = _stratified_posts(5, n_strata=15)
    order = list(range(table.num_rows))
    random.shuffle(order)
    first, second = compare_origins(table).get("ai"), compare_origins(table.take(order)).get("ai")
    for field in ("rate_ratio", "low", "high", "crude_ratio", "se_log", "poisson_se_log"):
        assert getattr(second, field) == pytest.approx(getattr(first, field), rel=1e-9)
    assert (second.n_matched, second.n_strata) == (first.n_matched, first.n_strata)
