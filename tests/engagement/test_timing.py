"""Best time to post: the planted demo slots recovered, shrinkage that behaves, local time, and the randomized check."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insights.engagement.features import post_features
from insights.engagement.model import EngagementModel
from insights.engagement.shrinkage import shrink
from insights.engagement.timing import (
    TIMING_TERMS,
    BestTimes,
    PostingTimeExperiment,
    _posterior,
    _range_label,
    _runs,
    assign_posting_times,
    best_times,
    posting_time_experiment,
)
from tests.test_parameter_errors import assert_one_sentence

if TYPE_CHECKING:
    from insights.datasets.truth import EngagementTruth
    from insights.demo import DemoSummary

DemoWarehouse = tuple[Path, "DemoSummary"]


# --- synthetic warehouses ------------------------------------------------------------------------------------------

MONDAY = dt.datetime(2025, 9, 1)


def synthetic_con(
    seed: int,
    accounts: Mapping[str, tuple[str, int, float, float]],
    *,
    best_hours: Sequence[int] = (),
    ratio: float = 1.25,
    in_slot_share: float = 0.15,
    zones: Mapping[str, str] | None = None,
    weeks: int = 13,
) -> duckdb.DuckDBPyConnection:
    """A warehouse with only marts.posts: `accounts` maps account_id to (platform, posts, rate, impressions).

    Posts go out on weekdays 06:00-21:59 local time (the account's zone), `in_slot_share` of them in one of
    `best_hours` (local hours of the week), where the engagement rate is `ratio` times higher.
    """
    rng = np.random.default_rng(seed)
    zones = zones or {}
    rows: dict[str, list[Any]] = {k: [] for k in ("post_id", "platform", "account_id", "published_at", "y", "x")}
    for account_id, (platform, n, rate, impressions) in accounts.items():
        zone = ZoneInfo(zones.get(account_id, "UTC"))
        week = rng.integers(0, weeks, n)
        hour = rng.integers(0, 5, n) * 24 + rng.integers(6, 22, n)
        if best_hours:
            hour = np.where(rng.random(n) < in_slot_share, rng.choice(np.asarray(best_hours), n), hour)
        minute = rng.integers(0, 60, n)
        x = rng.poisson(impressions * rng.lognormal(-0.18, 0.6, n)) + 1
        m = np.where(np.isin(hour, best_hours), ratio, 1.0)
        y = rng.poisson(x * rate * m * rng.lognormal(-0.02, 0.2, n))
        for i in range(n):
            local = MONDAY + dt.timedelta(weeks=int(week[i]), hours=int(hour[i]), minutes=int(minute[i]))
            rows["post_id"].append(f"{account_id}-{i}")
            rows["platform"].append(platform)
            rows["account_id"].append(account_id)
            rows["published_at"].append(local.replace(tzinfo=zone).astimezone(dt.UTC))
            rows["y"].append(float(y[i]))
            rows["x"].append(float(x[i]))
    con = duckdb.connect()
    con.register("synthetic", pa.table(rows))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.posts AS SELECT post_id, platform, account_id, published_at, 'text' AS content_type, "
        "'' AS text, 'human' AS origin, CAST(NULL AS VARCHAR) AS model, CAST(NULL AS VARCHAR) AS prompt_id, "
        "CAST(NULL AS VARCHAR) AS prompt_version, CAST(NULL AS VARCHAR) AS campaign, FALSE AS is_paid, "
        "TRUE AS is_7d_observed, y AS likes_7d, 0.0 AS comments_7d, 0.0 AS shares_7d, 0.0 AS saves_7d, "
        "x AS impressions_7d FROM synthetic"
    )
    con.unregister("synthetic")
    return con


TUE_09 = 1 * 24 + 9
BIG_AND_SMALL = {"big": ("linkedin", 900, 0.03, 2000.0), "small": ("linkedin", 60, 0.03, 2000.0)}


@pytest.fixture(scope="module")
def big_and_small() -> BestTimes:
    con = synthetic_con(3, BIG_AND_SMALL, best_hours=(TUE_09, TUE_09 + 1))
    return best_times(post_features(con))


# --- the demo ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_best(demo_warehouse: DemoWarehouse) -> BestTimes:
    from insights.warehouse import connect

    con = connect(demo_warehouse[0], read_only=True)
    try:
        return best_times(post_features(con, timezone="UTC"))  # the demo's local time is UTC
    finally:
        con.close()


def _planted_target(best: BestTimes, name: str, weekday: int, start: int, end: int, ratio: float) -> float:
    """The planted ratio against the average post: ratio / (1 + (ratio - 1) q), q = the slot's share of expected
    engagements (the average post is itself partly in the slot)."""
    if name in best.accounts:
        expected = best.expected[best.accounts.index(name)]
    else:
        rows = best.account_pool == best.pools.index(name)
        expected = best.expected[rows].sum(axis=0)
    hours = range(weekday * 24 + start, weekday * 24 + end)
    share = float(expected[list(hours)].sum() / expected.sum())
    return ratio / (1 + (ratio - 1) * share)


def test_the_pooled_planted_slot_of_every_platform_holds_the_planted_ratio(
    demo_best: BestTimes, demo_warehouse: DemoWarehouse
) -> None:
    truth = demo_warehouse[1].truth.engagement
    assert sorted(demo_best.pools) == sorted(truth.best_slots)
    for platform, slot in truth.best_slots.items():
        window = demo_best.window(platform, slot.weekday, slot.start_hour, slot.end_hour)
        target = _planted_target(demo_best, platform, slot.weekday, slot.start_hour, slot.end_hour, 1.25)
        # the slot's hours together, from the posts alone (the slot is known in advance, so no selection bias):
        # seed 7 measures 1.19 (1.12-1.28) facebook, 1.20 (1.12-1.29) instagram, 1.22 (1.14-1.31) linkedin,
        # 1.14 (1.04-1.26) x, against targets of 1.20-1.21
        assert window.observed_low < truth.best_slot_ratio < window.observed_high, (platform, window)
        assert window.observed_low < target < window.observed_high, (platform, window, target)
        # shrunk toward the average, never past it, and still likely better than the average post; seed 7:
        # 1.15 (1.08-1.23), 1.14 (1.07-1.22), 1.19 (1.11-1.27), 1.08 (1.00-1.16): the shrunk interval misses the
        # target on x, whose posts in the slot did worse than planted (the observed 1.14 above)
        assert 1.0 < window.rate_ratio < window.observed_ratio
        assert window.prob_better > 0.95


def test_every_accounts_top_slot_falls_in_its_platforms_planted_slot(
    demo_best: BestTimes, demo_warehouse: DemoWarehouse
) -> None:
    truth = demo_warehouse[1].truth.engagement
    tops = {r.account: r for r in demo_best.recommendations() if r.rank == 1}
    assert len(tops) == len(truth.accounts) == 8
    for account, rec in tops.items():
        slot = truth.best_slots[account.split("/")[0]]
        assert (rec.slot.weekday, rec.slot.start_hour) in {
            (slot.weekday, h) for h in range(slot.start_hour, slot.end_hour)
        }
        # seed 7: 7 of the 8 top hours are clearly better (interval above 1); x/brightloop_dev's Mon 12:00 rests on
        # 6 posts of its own and the x pool's weaker signal: 1.16x (0.98-1.38), 96% likely better
        assert rec.slot.prob_better > 0.9, rec
        # the merged window of the top picks lies inside the planted slot too
        window = rec.window
        assert window.weekday == slot.weekday
        assert slot.start_hour <= window.start_hour < window.end_hour <= slot.end_hour, window


def test_the_summary_table_and_heatmap_read_well(demo_best: BestTimes) -> None:
    lines = demo_best.summary_lines()
    assert lines[0].startswith("Best time for instagram/brightloop: Thu 18:00-21:00, about 1.17x")
    assert sum(line.startswith(("Best time for", "No time is clearly better")) for line in lines) == 8
    assert "163 posts not measurable yet were left out." in lines
    rows = demo_best.rows()
    assert len(rows) == 8 * demo_best.top
    assert {r["rank"] for r in rows} == {1, 2, 3}
    headers, cells = demo_best.display_table()
    assert headers[0] == "account" and len(cells) == len(rows)
    assert "Best times to post" in str(demo_best)
    grid = demo_best.cells("linkedin/brightloop-hq").rows()
    assert len(grid) == 168 and grid[32]["slot"] == "Tue 08:00"
    untried = [r for r in grid if r["is_untried"] and math.isfinite(r["rate_ratio"])]
    assert untried and all(r["account_weight"] == 0.0 for r in untried)
    # a slot nobody on the platform used has no estimate (Sunday 03:00)
    assert math.isnan(grid[6 * 24 + 3]["rate_ratio"])
    assert len(demo_best.pooled().rows()) == 4 * 168
    assert demo_best.window("linkedin", "Sun", 23, 25).label == "Sun 23:00-Mon 01:00"
    pytest.importorskip("plotly")
    figure = demo_best.plot("linkedin/brightloop-hq")
    heat = figure.data[0]
    assert len(heat.z) == 7 and len(heat.z[0]) == 24
    assert heat.z[1][8] == pytest.approx(math.log2(grid[32]["rate_ratio"]))
    assert demo_best.plot().layout.title.text.endswith("instagram/brightloop, against its average post")


def test_blocks_of_hours_and_a_single_pool(demo_warehouse: DemoWarehouse) -> None:
    from insights.warehouse import connect

    truth = demo_warehouse[1].truth.engagement
    con = connect(demo_warehouse[0], read_only=True)
    try:
        features = post_features(con, timezone="UTC")
        blocks = best_times(features, block_hours=2)
        single = best_times(features, pool_by="all")
    finally:
        con.close()
    assert blocks.n_slots == 84 and blocks.cells(blocks.accounts[0]).rows()[4]["slot"] == "Mon 08:00-10:00"
    # 2-hour blocks from midnight: every account's top block overlaps its planted slot (seed 7: inside it for 6 of
    # 8; instagram's Thu 20:00-22:00 holds one planted hour); blocks that cut a slot blur it, hence hours by default
    for r in blocks.recommendations():
        if r.rank == 1:
            slot = truth.best_slots[r.account.split("/")[0]]
            assert r.slot.weekday == slot.weekday, r
            assert r.slot.start_hour < slot.end_hour and slot.start_hour < r.slot.end_hour, r
    assert single.pools == ("all",) and set(single.account_pool) == {0}
    assert "shrunk toward all accounts" in " ".join(single.summary_lines())


def test_adjacent_picks_merge_into_windows_across_midnight_and_the_week() -> None:
    assert _runs([32, 33, 80], 168) == [[32, 33], [80]]
    assert _runs([167, 0, 5], 168) == [[5], [167, 0]]
    assert _range_label(32, 35) == "Tue 08:00-11:00"
    assert _range_label(45, 48) == "Tue 21:00-24:00"
    assert _range_label(167, 169) == "Sun 23:00-Mon 01:00"


# --- shrinkage -----------------------------------------------------------------------------------------------------


def test_an_account_with_few_posts_sits_closer_to_its_pool(big_and_small: BestTimes) -> None:
    best = big_and_small
    big, small = best.accounts.index("linkedin/big"), best.accounts.index("linkedin/small")
    both = (best.n_posts[big] > 0) & (best.n_posts[small] > 0)
    gap = np.abs(best.estimate - best.fit.target)
    assert np.mean(gap[small, both]) < np.mean(gap[big, both])
    assert np.mean(best.weight[small, both]) < np.mean(best.weight[big, both])
    # intervals narrow with more data
    assert np.median(best.se[big, both]) < np.median(best.se[small, both])
    # the small account still finds the slot: its pool (the big account) knows it
    assert best.recommendations("linkedin/small")[0].slot.label in {"Tue 09:00", "Tue 10:00"}
    assert best.recommendations("linkedin/small")[0].basis == "pool"


@given(
    theta=st.floats(-2, 2),
    prior_mean=st.floats(-1, 1),
    prior_var=st.floats(0, 1),
    se=st.floats(0.01, 2),
    factor=st.floats(1.01, 10),
    k=st.floats(0, 500),
)
def test_more_data_never_widens_an_interval_or_lowers_the_weight(
    theta: float, prior_mean: float, prior_var: float, se: float, factor: float, k: float
) -> None:
    def one(s: float) -> tuple[float, float]:
        _, var, weight = _posterior(
            np.array([theta]), np.array([s]), np.array([prior_mean]), np.array([prior_var]), np.array([k])
        )
        return float(var[0]), float(weight[0])

    var_little, weight_little = one(se)
    var_more, weight_more = one(se / factor)
    assert var_more <= var_little * (1 + 1e-12) + 1e-300
    assert weight_more >= weight_little - 1e-12


def test_the_posterior_agrees_with_shrink_and_with_brute_force_integration() -> None:
    theta = np.array([0.4, -0.1, 0.25, np.nan])
    se = np.array([0.2, 0.05, 0.5, np.inf])
    shrunk = shrink(theta, se, 0.1, tau2=0.04)
    mean, var, weight = _posterior(theta, se, np.full(4, 0.1), np.full(4, 0.04), np.zeros(4))
    np.testing.assert_allclose(mean, shrunk.estimate, rtol=1e-12)
    np.testing.assert_allclose(weight, shrunk.weight, rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(var[:3]), shrunk.se[:3], rtol=1e-12)
    # the normal-normal posterior by numerical integration over a fine grid of true values
    grid = np.linspace(-3, 3, 600_001)
    for i in range(3):
        density = np.exp(-((grid - 0.1) ** 2) / (2 * 0.04) - (theta[i] - grid) ** 2 / (2 * se[i] ** 2))
        post_mean = float(np.sum(grid * density) / np.sum(density))
        post_var = float(np.sum((grid - post_mean) ** 2 * density) / np.sum(density))
        assert mean[i] == pytest.approx(post_mean, abs=1e-9)
        assert var[i] == pytest.approx(post_var, rel=1e-6)
    # Morris's allowance for an estimated spread: 2 / (k - 2) (1 - w)^2 (theta - m)^2 on top (k = 12 here)
    _, var_k, _ = _posterior(theta[:1], se[:1], np.array([0.1]), np.array([0.04]), np.array([12.0]))
    w = 0.04 / (0.04 + 0.2**2)
    assert var_k[0] == pytest.approx(w * 0.2**2 + 2 / 10 * (1 - w) ** 2 * 0.3**2, rel=1e-12)


def test_without_a_time_effect_nothing_is_clearly_better() -> None:
    accounts = {
        "big": ("linkedin", 600, 0.03, 2000.0),
        "small": ("linkedin", 60, 0.03, 2000.0),
        "other": ("x", 400, 0.02, 1500.0),
        "tiny": ("x", 30, 0.02, 1500.0),
    }
    best = best_times(post_features(synthetic_con(0, accounts)))
    rows = best.rows()
    assert len(rows) == 4 * 3
    # seed 0: the largest chance of beating the average among all picks is 0.90 (the picks are the maxima of
    # ~80 noisy slots each); a planted 1.25 slot gets 1.00 (the tests above)
    assert all(r["low"] <= 1.0 <= r["high"] for r in rows)
    assert max(r["prob_better"] for r in rows) < 0.95
    assert all(line.startswith("No time is clearly better") for line in best.summary_lines()[:4])


FEATURES_COLUMNS = [*TIMING_TERMS, "platform", "hour_of_week", "engagements", "exposure", "exclusion"]


@pytest.fixture(scope="module")
def synthetic_features() -> pa.Table:
    con = synthetic_con(5, BIG_AND_SMALL | {"other": ("x", 200, 0.02, 1500.0)}, best_hours=(TUE_09,))
    return post_features(con).select(", ".join(FEATURES_COLUMNS)).to_arrow_table()


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_results_do_not_depend_on_row_order(synthetic_features: pa.Table, seed: int) -> None:
    order = np.random.default_rng(seed).permutation(synthetic_features.num_rows)
    first = best_times(duckdb.connect().from_arrow(synthetic_features))
    shuffled = best_times(duckdb.connect().from_arrow(synthetic_features.take(order)))
    assert first.accounts == shuffled.accounts
    np.testing.assert_allclose(shuffled.estimate, first.estimate, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(shuffled.se, first.se, rtol=1e-7, atol=1e-10)
    assert [r["slot"] for r in shuffled.rows()] == [r["slot"] for r in first.rows()]


def test_a_fitted_model_can_be_given_and_a_pandas_frame_works(synthetic_features: pa.Table) -> None:
    relation = duckdb.connect().from_arrow(synthetic_features)
    model = EngagementModel(TIMING_TERMS).fit(relation)
    given_model = best_times(relation, model=model)
    np.testing.assert_allclose(given_model.estimate, best_times(relation).estimate, rtol=1e-9)
    pytest.importorskip("pandas")
    from_pandas = best_times(synthetic_features.to_pandas(), pool_by="all", top=1)
    assert len(from_pandas.rows()) == 3
    assert np.all(np.isnan(from_pandas.posts_per_week))  # no published_at column: no posting rate


# --- local time ----------------------------------------------------------------------------------------------------


def test_the_best_slot_is_found_in_the_accounts_local_time() -> None:
    # Tuesday 09:00 in New York is 13:00 UTC in summer and 14:00 UTC in winter: the data cover both
    con = synthetic_con(
        1,
        {"acct": ("linkedin", 500, 0.03, 2000.0)},
        best_hours=(TUE_09,),
        ratio=1.4,
        zones={"acct": "America/New_York"},
        in_slot_share=0.1,
    )
    local = best_times(post_features(con, timezone={"acct": "America/New_York"}))
    top = local.recommendations("linkedin/acct")[0]
    assert top.slot.label == "Tue 09:00" and top.slot.low > 1
    in_utc = best_times(post_features(con, timezone="UTC"))
    assert {r.slot.label for r in in_utc.recommendations()[:2]} == {"Tue 13:00", "Tue 14:00"}
    # split over two UTC hours, the slot looks weaker than it is in local time
    assert in_utc.recommendations()[0].slot.rate_ratio < top.slot.rate_ratio


# --- the randomized check ------------------------------------------------------------------------------------------


@pytest.fixture
def linkedin_posts(demo_con: duckdb.DuckDBPyConnection) -> dict[str, np.ndarray]:
    relation = post_features(demo_con, timezone="UTC").filter("exclusion IS NULL AND platform = 'linkedin'")
    table = (
        relation.select("post_id, account_id, content_type, origin, exposure, local_weekday, local_hour")
        .order("post_id")
        .to_arrow_table()
    )
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def _draw(
    rng: np.random.Generator, posts: Mapping[str, np.ndarray], in_slot: np.ndarray, truth: EngagementTruth
) -> tuple[np.ndarray, np.ndarray]:
    """Engagements drawn as the demo draws them: Poisson around exposure x planted rate x mean-one lognormal."""
    base = np.array(
        [
            truth.expected_rate(a, "linkedin", c, o, False)
            for a, c, o in zip(posts["account_id"], posts["content_type"], posts["origin"], strict=True)
        ]
    )
    rate = base * np.where(in_slot, truth.best_slot_ratio, 1.0)
    sigma = truth.post_noise_sigma
    noise = rng.lognormal(-(sigma**2) / 2, sigma, len(rate))
    return rng.poisson(posts["exposure"] * rate * noise).astype(float), base


def _in_planted_slot(posts: Mapping[str, np.ndarray], truth: EngagementTruth) -> np.ndarray:
    slot = truth.best_slots["linkedin"]
    hour = posts["local_hour"]
    return (posts["local_weekday"] == slot.weekday) & (hour >= slot.start_hour) & (hour < slot.end_hour)


def test_a_randomized_posting_time_experiment_reads_out_the_planted_lift(
    demo_best: BestTimes, demo_warehouse: DemoWarehouse, linkedin_posts: dict[str, np.ndarray]
) -> None:
    from insights.experiments import Ratio, analyze

    truth = demo_warehouse[1].truth.engagement
    plan = posting_time_experiment(demo_best, "linkedin/brightloop-hq")
    assigned = assign_posting_times(list(linkedin_posts["post_id"]), plan, seed=11, assigned_at="2026-03-02")
    variant = dict(zip(assigned.unit_ids, assigned.variants, strict=True))
    arm = np.array([variant[p] for p in linkedin_posts["post_id"]])
    # "usual" posts keep the time they really went out at (some in the slot); "recommended" ones go in the slot
    usual_in_slot = _in_planted_slot(linkedin_posts, truth)
    in_slot = (arm == "recommended") | usual_in_slot
    engagements, base = _draw(np.random.default_rng(3), linkedin_posts, in_slot, truth)
    units = duckdb.connect().from_arrow(
        pa.table({"variant": arm, "engagements": engagements, "exposure": linkedin_posts["exposure"]})
    )
    readout = analyze(units, [Ratio("engagements", "exposure", name="engagement_rate")], control="usual")
    effect = readout.results[0].effect
    # the estimand: the slot's rate over the usual schedule's, both over the same posts in expectation
    x = linkedin_posts["exposure"]
    usual = np.sum(x * base * np.where(usual_in_slot, 1.25, 1.0)) / np.sum(x)
    target = 1.25 * np.sum(x * base) / np.sum(x) / usual - 1
    # seed 3: +17.2% (6.9% to 27.6%) over 207 + 208 posts, against +21.0% planted
    assert effect.relative_ci_low < target < effect.relative_ci_high, (effect, target)
    assert effect.relative_ci_low > 0
    assert readout.srm.p_value > 0.5  # complete randomization: the arms are as planned


def test_the_plan_is_an_experiment_definition_the_warehouse_accepts(
    demo_best: BestTimes, demo_con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    from insights.experiments import experiment_units, load_experiment

    plan = posting_time_experiment(demo_best, "linkedin/brightloop-hq")
    assert isinstance(plan, PostingTimeExperiment)
    experiment = plan.experiment
    assert experiment.id == "exp-best-time-linkedin-brightloop-hq"
    assert experiment.unit == "post" and experiment.control == "usual"
    assert set(experiment.variants) == {"usual", "recommended"} and experiment.weights == (0.5, 0.5)
    metric = experiment.metrics[0]
    assert (metric.name, metric.type, metric.role) == ("engagement_rate", "ratio", "primary")
    units = experiment_units(demo_con, experiment)  # names only tables and columns the warehouse has
    assert demo_con.execute(units.sql, list(units.params)).fetchall() == []  # nothing assigned yet
    path = plan.write_yaml(tmp_path)
    assert load_experiment(path).metrics == experiment.metrics
    assert plan.window == "Tue 08:00-10:00"
    assert plan.slots == ((1, 8, 9), (1, 9, 10))
    text = "\n".join(plan.summary_lines())
    assert "posts per arm" in text and "weeks" in text
    assert [r["arm"] for r in plan.rows()] == ["recommended", "usual"]


def test_the_sample_size_follows_the_delta_method_variance_of_the_history(
    demo_best: BestTimes, linkedin_posts: dict[str, np.ndarray], demo_con: duckdb.DuckDBPyConnection
) -> None:
    rows = (
        post_features(demo_con, timezone="UTC")
        .filter("exclusion IS NULL AND account = 'linkedin/brightloop-hq'")
        .select("engagements, exposure")
        .fetchnumpy()
    )
    y, x = rows["engagements"], rows["exposure"]
    ratio = y.sum() / x.sum()
    variance = np.var(y - ratio * x, ddof=1) / x.mean() ** 2
    plan = posting_time_experiment(demo_best, "linkedin/brightloop-hq", expected_lift=0.2, days=35)
    assert plan.baseline_rate == pytest.approx(ratio, rel=1e-12)
    assert plan.variance_per_post == pytest.approx(variance, rel=1e-9)
    # the normal approximation by hand: n = (z_0.975 + z_0.8)^2 2 v / (0.2 R)^2
    z = 1.959963984540054 + 0.8416212335729143
    by_hand = z**2 * 2 * variance / (0.2 * ratio) ** 2
    assert plan.n_per_arm is not None and abs(plan.n_per_arm - by_hand) <= 1.0
    assert plan.posts_per_week is not None and plan.n_weeks == pytest.approx(2 * plan.n_per_arm / plan.posts_per_week)
    assert plan.power_in_days is not None and 0 < plan.power_in_days < 1
    assert plan.expected_lift == 0.2


def test_the_sized_test_has_about_the_power_it_promises(
    demo_best: BestTimes, demo_warehouse: DemoWarehouse, linkedin_posts: dict[str, np.ndarray]
) -> None:
    from insights.experiments import MomentStats, ratio_test

    truth = demo_warehouse[1].truth.engagement
    mine = {k: v[linkedin_posts["account_id"] == "brightloop-hq"] for k, v in linkedin_posts.items()}
    usual_in_slot = _in_planted_slot(mine, truth)
    _, base = _draw(np.random.default_rng(0), mine, usual_in_slot, truth)
    x = mine["exposure"]
    true_lift = 1.25 * np.sum(x * base) / np.sum(x * base * np.where(usual_in_slot, 1.25, 1.0)) - 1
    plan = posting_time_experiment(demo_best, "linkedin/brightloop-hq", expected_lift=float(true_lift))
    assert plan.n_per_arm is not None
    n, runs, rejected = plan.n_per_arm, 2000, 0
    rng = np.random.default_rng(1)
    for _ in range(runs):
        arms = []
        for recommended in (False, True):
            pick = rng.integers(0, len(x), n)  # planned posts like the account's history
            drafted = {k: v[pick] for k, v in mine.items()}
            in_slot = np.ones(n, dtype=bool) if recommended else usual_in_slot[pick]
            y, _ = _draw(rng, drafted, in_slot, truth)
            arms.append(MomentStats.from_values(("y", "x"), np.column_stack([y, drafted["exposure"]])))
        rejected += ratio_test(arms[0], arms[1], numerator="y", denominator="x").p_value < 0.05
    # 2,000 runs of 89 posts per arm (+21.2%): 78.3% rejected; the binomial standard deviation of the rate at 0.8
    # is 0.009, allow three
    assert n == 89
    assert abs(rejected / runs - 0.8) < 0.027, rejected / runs


def test_assignments_are_balanced_recorded_and_ingestible(db: Path, tmp_path: Path, demo_best: BestTimes) -> None:
    import insights

    plan = posting_time_experiment(demo_best, "linkedin/brightloop-hq")
    ids = [f"draft-{i}" for i in range(41)]
    assigned = assign_posting_times(ids, plan, seed=5, assigned_at="2026-03-02T09:00:00Z")
    assert sorted(assigned.unit_ids) == sorted(ids)
    counts = {v: assigned.variants.count(v) for v in ("usual", "recommended")}
    assert sorted(counts.values()) == [20, 21]
    rows = assigned.rows()
    assert {r["assignment_prob"] for r in rows} == {0.5} and {r["unit_type"] for r in rows} == {"post"}
    assert rows[0]["assigned_at"] == dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    assert "Tue 08:00-10:00" in str(assigned)
    report = insights.ingest("assignments", assigned.to_csv(tmp_path / "assignments.csv"), db=db)
    assert report.rows_loaded == 41 and not report.reject_reasons


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), shuffle=st.integers(0, 2**32 - 1))
def test_assignment_depends_on_the_ids_and_the_seed_only(seed: int, n: int, shuffle: int) -> None:
    from insights.experiments.definition import parse_experiment

    experiment = parse_experiment(
        {
            "id": "exp-t",
            "unit": "post",
            "control": "usual",
            "variants": {"usual": 0.5, "recommended": 0.5},
            "metrics": {
                "rate": {
                    "role": "primary",
                    "type": "mean",
                    "table": "marts.posts",
                    "unit_column": "post_id",
                    "time_column": "published_at",
                }
            },
        }
    )
    ids = [f"p{i}" for i in range(n)]
    reordered = [ids[i] for i in np.random.default_rng(shuffle).permutation(n)]
    first = assign_posting_times(ids, experiment, seed=seed, assigned_at="2026-03-02")
    again = assign_posting_times(reordered, experiment, seed=seed, assigned_at="2026-03-02")
    assert dict(zip(first.unit_ids, first.variants, strict=True)) == dict(
        zip(again.unit_ids, again.variants, strict=True)
    )
    assert abs(first.variants.count("usual") - first.variants.count("recommended")) <= 1


# --- wrong calls ---------------------------------------------------------------------------------------------------

WRONG_CALLS: dict[str, Callable[[Any], object]] = {
    "best_times features": lambda b: best_times(42),
    "best_times block_hours": lambda b: best_times(None, block_hours=5),
    "best_times pool_by": lambda b: best_times(None, pool_by="country"),
    "best_times top": lambda b: best_times(None, top=0),
    "best_times alpha": lambda b: best_times(None, alpha=1.0),
    "best_times model": lambda b: best_times(duckdb.sql("SELECT 1 AS x"), model="glm"),  # type: ignore[arg-type]
    "best_times model with time": lambda b: best_times(duckdb.sql("SELECT 1 AS x"), model=_fitted_with_time()),
    "best_times columns": lambda b: best_times(duckdb.sql("SELECT 1 AS account")),
    "BestTimes.window name": lambda b: b.window("tiktok/nobody", "Tue", 8, 11),
    "BestTimes.window weekday": lambda b: b.window("linkedin", "Someday", 8, 11),
    "BestTimes.window start_hour": lambda b: b.window("linkedin", 1, 25, 26),
    "BestTimes.window end_hour": lambda b: b.window("linkedin", 1, 8, 8),
    "BestTimes.cells": lambda b: b.cells("linkedin"),
    "BestTimes.recommendations": lambda b: b.recommendations("nobody"),
    "BestTimes.plot": lambda b: b.plot("nobody"),
    "posting_time_experiment best": lambda b: posting_time_experiment("best", "x"),  # type: ignore[arg-type]
    "posting_time_experiment account": lambda b: posting_time_experiment(b, "linkedin"),
    "posting_time_experiment days": lambda b: posting_time_experiment(b, b.accounts[0], days=0),
    "posting_time_experiment expected_lift": lambda b: posting_time_experiment(b, b.accounts[0], expected_lift=-1.5),
    "posting_time_experiment alpha": lambda b: posting_time_experiment(b, b.accounts[0], alpha=0.0),
    "posting_time_experiment power": lambda b: posting_time_experiment(b, b.accounts[0], power=1.0),
    "posting_time_experiment posts_per_week": lambda b: posting_time_experiment(b, b.accounts[0], posts_per_week=0),
    "posting_time_experiment engagement": lambda b: posting_time_experiment(b, b.accounts[0], engagement="likes"),  # type: ignore[arg-type]
    "posting_time_experiment experiment_id": lambda b: posting_time_experiment(b, b.accounts[0], experiment_id="a b"),
    "assign_posting_times post_ids": lambda b: assign_posting_times("draft-1", _plan(b), seed=1),
    "assign_posting_times duplicates": lambda b: assign_posting_times(["a", "b", "a"], _plan(b), seed=1),
    "assign_posting_times empty": lambda b: assign_posting_times([], _plan(b), seed=1),
    "assign_posting_times not strings": lambda b: assign_posting_times(["a", 2], _plan(b), seed=1),  # type: ignore[list-item]
    "assign_posting_times experiment": lambda b: assign_posting_times(["a"], "exp-x", seed=1),  # type: ignore[arg-type]
    "assign_posting_times seed": lambda b: assign_posting_times(["a"], _plan(b), seed=-1),
    "assign_posting_times assigned_at": lambda b: assign_posting_times(["a"], _plan(b), seed=1, assigned_at="soon"),
    "PostingTimeExperiment.write_yaml": lambda b: _plan(b).write_yaml(""),
}


def _fitted_with_time() -> EngagementModel:
    model = EngagementModel(["account", "local_hour"])
    model.coef_ = np.zeros(1)  # only its terms are read before the refusal
    return model


def _plan(best: BestTimes) -> PostingTimeExperiment:
    return posting_time_experiment(best, best.accounts[0])


@pytest.mark.parametrize("name", sorted(WRONG_CALLS))
def test_a_wrong_call_reads_as_one_sentence(name: str, big_and_small: BestTimes) -> None:
    # a pool name for the window calls: this result's pool is linkedin
    assert_one_sentence(lambda: WRONG_CALLS[name](big_and_small))


def test_every_public_callable_has_a_wrong_call() -> None:
    covered = {name.split(" ")[0] for name in WRONG_CALLS}
    public = {"best_times", "posting_time_experiment", "assign_posting_times"}
    methods = {"BestTimes.window", "BestTimes.cells", "BestTimes.recommendations", "BestTimes.plot"}
    assert public | methods | {"PostingTimeExperiment.write_yaml"} <= covered
