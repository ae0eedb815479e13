"""Per-segment recommendations: the pooled model pinned to statsmodels, the demo's planted content type, slots and
prompt recovered, shrinkage of a small wild segment against a large one, and row order."""

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

from insights.engagement import post_features
from insights.recommend import thompson_allocation
from insights.recommend.segments import Recommendations, lead_outcomes, recommend

if TYPE_CHECKING:
    from insights.demo import DemoSummary

sm = pytest.importorskip("statsmodels.api")

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def synthetic_posts(
    seed: int,
    segments: dict[str, tuple[int, float]],
    *,
    video_share: float = 0.4,
    sigma: float = 0.2,
) -> pa.Table:
    """Posts of image or video; `segments` maps a segment to (posts, its video rate ratio). Paid posts get three
    times the impressions at the same rate; each post's rate carries a mean-one lognormal factor."""
    rng = np.random.default_rng(seed)
    columns: dict[str, list[Any]] = {
        name: [] for name in ("account", "content_type", "is_paid", "engagements", "exposure", "exclusion")
    }
    for name, (n, video_ratio) in segments.items():
        base = rng.gamma(8.0, 0.004)
        video = rng.random(n) < video_share
        paid = rng.random(n) < 0.2
        exposure = rng.gamma(3.0, 500.0, n) * np.where(paid, 3.0, 1.0)
        rate = base * np.where(video, video_ratio, 1.0) * np.exp(rng.normal(-(sigma**2) / 2, sigma, n))
        columns["account"] += [name] * n
        columns["content_type"] += np.where(video, "video", "image").tolist()
        columns["is_paid"] += paid.tolist()
        columns["engagements"] += rng.poisson(exposure * rate).astype(float).tolist()
        columns["exposure"] += exposure.tolist()
        columns["exclusion"] += [None] * n
    return pa.table(columns, schema=_SCHEMA)


_SCHEMA = pa.schema(
    [
        ("account", pa.string()),
        ("content_type", pa.string()),
        ("is_paid", pa.bool_()),
        ("engagements", pa.float64()),
        ("exposure", pa.float64()),
        ("exclusion", pa.string()),
    ]
)

ORDINARY = {f"x/a{i}": (300, 1.5) for i in range(12)}


def test_pooled_effects_are_a_poisson_regression_on_the_posts_with_a_sandwich_over_posts() -> None:
    table = synthetic_posts(1, ORDINARY)
    result = recommend(table, choices=("content_type",), pool_by=None)
    (video,) = result.pooled
    assert (video.choice, video.option, video.reference) == ("content_type", "video", "image")
    frame = table.to_pandas()
    fit = sm.GLM.from_formula(
        "engagements ~ C(account) + C(is_paid) + C(content_type, Treatment('image'))",
        data=frame,
        family=sm.families.Poisson(),
        exposure=frame["exposure"],
    ).fit(cov_type="HC0")
    name = "C(content_type, Treatment('image'))[T.video]"
    # statsmodels 0.15: the same point estimate from the posts as ours from the engine's cell sums, and the same
    # HC0 sandwich (bread from the cells, meat from sums of y^2, y e and e^2 per cell)
    assert math.log(video.rate_ratio) == pytest.approx(fit.params[name], rel=1e-7)
    low, high = fit.conf_int().loc[name]
    assert math.log(video.low) == pytest.approx(low, rel=1e-6)
    assert math.log(video.high) == pytest.approx(high, rel=1e-6)
    # NB2 dispersion by moments over the posts: sum((y - mu)^2 - mu) / sum(mu^2)
    mu = fit.fittedvalues.to_numpy()
    y = frame["engagements"].to_numpy()
    assert result.dispersion == pytest.approx(np.sum((y - mu) ** 2 - mu) / np.sum(mu**2), rel=1e-6)
    assert video.n_posts == int((frame["content_type"] == "video").sum())


def test_a_small_wild_segment_leans_on_the_pool_and_a_large_one_on_itself() -> None:
    # segments differ for real (video 1.2x to 1.9x), so the spread between them is not zero
    segments = {f"x/a{i}": (300, 1.5 * math.exp(0.15 * z)) for i, z in enumerate(np.linspace(-1.6, 1.6, 12))}
    segments["x/big"] = (5000, 2.2)  # 5,000 posts: what it shows is what it gets
    segments["x/tiny"] = (5, 1.5)
    table = synthetic_posts(2, segments).to_pydict()
    # the tiny segment: five small posts (20 impressions each, about one engagement each), and its two videos got
    # three engagements each where its three images got one between them: nine times the rate, five times the pool's
    tiny = [i for i, a in enumerate(table["account"]) if a == "x/tiny"]
    for k, i in enumerate(tiny):
        table["content_type"][i] = "video" if k < 2 else "image"
        table["is_paid"][i] = False
        table["exposure"][i] = 20.0
        table["engagements"][i] = 3.0 if k < 2 else float(k == 2)
    result = recommend(pa.table(table, schema=_SCHEMA), choices=("content_type",), pool_by=None, min_posts=2)

    def lift_of_video(segment: str) -> tuple[float, float]:
        video, image = (
            next(o for o in result.options if o.segment == segment and o.option == kind) for kind in ("video", "image")
        )
        return video.lift / image.lift, video.weight

    pooled = result.pooled[0].shrunk_ratio
    raw = _raw_ratio(table, "x/tiny")
    assert raw == pytest.approx(9.0)  # the wild estimate: (6 / 40) / (1 / 60)
    small, weight = lift_of_video("x/tiny")
    # with a real spread between segments (tau about 0.34 here) five posts keep about a fifth of their deviation
    assert weight < 0.3
    # most of the way to the pool: on the log scale less than a third of the way from the pool to the raw ratio
    assert abs(math.log(small / pooled)) < abs(math.log(raw / pooled)) / 3
    large, weight = lift_of_video("x/big")
    assert weight > 0.9
    assert large == pytest.approx(2.2, rel=0.05)
    assert result.get("x/big", "content_type").best == "video"


def _raw_ratio(table: dict[str, list[Any]], segment: str) -> float:
    rates = {}
    for kind in ("video", "image"):
        rows = [i for i, a in enumerate(table["account"]) if a == segment and table["content_type"][i] == kind]
        rates[kind] = sum(table["engagements"][i] for i in rows) / sum(table["exposure"][i] for i in rows)
    return rates["video"] / rates["image"]


def _planted_content_lift(features: duckdb.DuckDBPyRelation, account: str, ratios: Any) -> float:
    """Video's planted ratio over the account's exposure-weighted mean ratio of what it posts now."""
    mix = features.filter("exclusion IS NULL").aggregate("account, content_type, sum(exposure)", "ALL").fetchall()
    weights = {kind: e for a, kind, e in mix if a == account}
    mean = sum(w * ratios[kind] for kind, w in weights.items()) / sum(weights.values())
    return float(ratios["video"] / mean)


@pytest.fixture(scope="module")
def demo_engagement(demo_warehouse: tuple[Path, DemoSummary]) -> Any:
    from insights.warehouse import connect

    con = connect(demo_warehouse[0], read_only=True)
    try:
        features = post_features(con)
        yield recommend(features), features, demo_warehouse[1].truth.engagement
    finally:
        con.close()


def test_demo_recommends_video_with_the_planted_lift(demo_engagement: Any) -> None:
    result, features, truth = demo_engagement
    # as the demo's truth checks do, the planted value against a wide interval: at 95% one of the 8 accounts
    # (instagram/brightloop.life, planted 1.238, interval 1.117-1.231) falls just outside on seed 7; over seeds
    # 1-8, 63 of 64 accounts' 95% intervals hold the planted lift
    wide = recommend(features, alpha=0.01)
    accounts = sorted({r.segment for r in result.recommendations})
    assert len(accounts) == 8  # every platform of the demo offers video
    for account in accounts:
        best = result.get(account, "content_type")
        planted = _planted_content_lift(features, account, truth.content_type_ratio)
        assert best.best == "video", best
        assert best.lift > 1.1 and best.low > 1.0  # a clear gain for every account (planted 1.19-1.5)
        assert abs(math.log(best.lift / planted)) < 0.07, (best, planted)
        assert wide.get(account, "content_type").low < planted < wide.get(account, "content_type").high


def test_demo_recommends_each_platforms_planted_slot(demo_engagement: Any) -> None:
    """Seed 7: the best 3-hour block of every facebook, instagram and linkedin account, and of x/brightloop_dev,
    lies in or overlaps its platform's planted best slot (UTC, x1.25), a clear gain. LinkedIn's slot (Tue
    08:00-11:00) straddles two blocks of the grid.

    x has the smallest counts (1.2-1.5% of 600-2,000 impressions): on x/brightloop Wed 12:00-15:00, facebook's
    slot, comes out a hair ahead of its own Mon 12:00-15:00, which is a close second, and the tool does not call
    either a clear gain. Across demo seeds 1-8 the best block overlaps the planted slot for 55 of 64 accounts; all
    9 misses are on x.
    """
    result, features, truth = demo_engagement
    for rec in (r for r in result.recommendations if r.choice == "slot"):
        platform = rec.segment.split("/")[0]
        slot = truth.best_slots[platform]
        label = f"{WEEKDAYS[slot.weekday]} {slot.start_hour:02d}:00-{slot.end_hour:02d}:00"
        if rec.segment != "x/brightloop":
            weekday, start = WEEKDAYS.index(rec.best[:3]), int(rec.best[4:6])
            assert weekday == slot.weekday and start < slot.end_hour and start + 3 > slot.start_hour, rec
            assert rec.low > 1.0 or platform == "x", rec
        else:
            ranked = sorted(
                (o for o in result.options if o.segment == rec.segment and o.choice == "slot"), key=lambda o: -o.lift
            )
            assert [o.option for o in ranked[:2]] == [rec.best, label]
            assert ranked[1].lift > 0.97 * rec.lift
            assert rec.low < 1.0, rec
        if slot.start_hour % 3:
            continue
        # where the grid holds the slot as one block, that block's interval holds the planted lift against the mix
        where = (
            f"exclusion IS NULL AND account = '{rec.segment}' AND local_weekday = {slot.weekday} "
            f"AND local_hour >= {slot.start_hour} AND local_hour < {slot.end_hour}"
        )
        inside = features.filter(where).aggregate("sum(exposure)").fetchall()[0][0]
        total = features.filter(f"exclusion IS NULL AND account = '{rec.segment}'").aggregate("sum(exposure)")
        share = inside / total.fetchall()[0][0]
        planted = truth.best_slot_ratio / (1 + (truth.best_slot_ratio - 1) * share)
        block = next(o for o in result.options if o.segment == rec.segment and o.option == label)
        assert block.low < planted < block.high, (block, planted)


def test_demo_qualified_leads_favour_prompt_hook_v2(demo_warehouse: tuple[Path, DemoSummary]) -> None:
    """Leads from hook-v2 posts reach mql 1.5 times as often, and sessions per post do not depend on the prompt,
    so qualified leads per post are 1.5 times those of the other prompts (docs/demo-data.md, section 2)."""
    from insights.warehouse import connect

    ratio = demo_warehouse[1].truth.prompt.qualify_ratio
    con = connect(demo_warehouse[0], read_only=True)
    try:
        features = post_features(con)
        # content type stays in the model: link posts bring about four times the chats of other posts
        choices = ("content_type", "prompt")
        result = recommend(features, outcome="qualified_leads", leads=lead_outcomes(con), choices=choices)
        same = recommend(features, outcome="qualified_leads", leads=con, choices=choices)
        ai_posts = features.filter("exclusion IS NULL AND prompt_id IS NOT NULL")
        counts = ai_posts.aggregate("account, prompt_id = 'hook' AND prompt_version = 'v2', count(*)", "ALL").fetchall()
    finally:
        con.close()
    assert same.rows() == result.rows()
    hook_v1 = next(p for p in result.pooled if p.option == "hook v1")
    assert hook_v1.reference == "hook v2"
    assert hook_v1.low < 1 / ratio < hook_v1.high and hook_v1.high < 1.0
    for rec in (r for r in result.recommendations if r.choice == "prompt"):
        # seed 7 shows it for every account; against its AI posts' mix, the planted lift is 1.5 / (1 + 0.5 share)
        n_ai = sum(n for a, _, n in counts if a == rec.segment)
        n_hook_v2 = sum(n for a, hook, n in counts if a == rec.segment and hook)
        planted = ratio / (1 + (ratio - 1) * n_hook_v2 / n_ai)
        assert rec.best == "hook v2", rec
        assert rec.low < planted < rec.high, (rec, planted)
        assert (rec.n_posts, rec.n_segment_posts) == (n_hook_v2, n_ai)  # compared among the account's AI posts


def test_arms_feed_thompson_sampling(demo_engagement: Any) -> None:
    result = demo_engagement[0]
    arms = result.arms(choice="content_type")
    assert {a["segment"] for a in arms} == {r.segment for r in result.recommendations}
    assert all(set(a) == {"segment", "arm", "mean", "log_se", "n_posts"} for a in arms)
    assert all(a["mean"] > 0 and a["log_se"] > 0 and a["n_posts"] >= result.min_posts for a in arms)
    allocation = thompson_allocation(arms, draws=2000)
    shares = allocation.probabilities("instagram/brightloop")
    assert set(shares) == {"image", "video", "carousel"} and max(shares, key=shares.__getitem__) == "video"
    one = result.arms("x/brightloop", choice="slot")
    assert one and {a["segment"] for a in one} == {"x/brightloop"}


def test_notes_for_what_the_data_cannot_support() -> None:
    table = synthetic_posts(4, {"x/a": (300, 1.5), "x/b": (300, 1.5), "x/quiet": (8, 1.0)}).to_pydict()
    quiet = [i for i, a in enumerate(table["account"]) if a == "x/quiet"]
    for i in quiet:
        table["engagements"][i] = 0.0
    only_images = [i for i, a in enumerate(table["account"]) if a == "x/b"]
    for i in only_images:
        table["content_type"][i] = "image" if i != only_images[0] else "carousel"
    result = recommend(pa.table(table, schema=_SCHEMA), choices=("content_type",), pool_by=None)
    assert result.get("x/quiet", "content_type").note == "no_outcome"
    assert result.get("x/b", "content_type").note == "one_option"  # one carousel post is below min_posts
    assert result.get("x/a", "content_type").note is None
    assert any("x/quiet" in note for note in result.notes)
    text = str(result)
    assert "no outcome yet in this segment" in text and "x/quiet" in text


def test_result_renders_and_converts(demo_engagement: Any) -> None:
    result = demo_engagement[0]
    assert isinstance(result, Recommendations)
    text = str(result)
    assert "On instagram/brightloop, post video: about" in text or "post video" in text
    assert result.to_markdown().startswith("**What to post, per account: engagement**")
    frame = result.to_pandas()
    assert len(frame) == 24 and set(frame["choice"]) == {"content_type", "slot", "prompt"}
    assert len(result.plot("slot").data) > 3


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False))
def test_row_order_does_not_matter(random: Any) -> None:
    table = synthetic_posts(7, {"x/a": (60, 1.5), "x/b": (40, 1.2), "x/c": (30, 2.0)})
    order = list(range(table.num_rows))
    random.shuffle(order)
    first = recommend(table, choices=("content_type",), pool_by=None)
    second = recommend(table.take(order), choices=("content_type",), pool_by=None)
    for a, b in zip(first.options, second.options, strict=True):
        assert (a.segment, a.option, a.n_posts) == (b.segment, b.option, b.n_posts)
        for field in ("mean", "lift", "low", "high", "weight"):
            assert getattr(b, field) == pytest.approx(getattr(a, field), rel=1e-9, abs=1e-12)
    assert [r.best for r in first.recommendations] == [r.best for r in second.recommendations]
