"""The demo generator's planted attribution shares (insights.datasets.truth.AttributionTruth) are recovered within the
bootstrap intervals, and the truth itself is what exact enumeration of the capture draws gives."""

from __future__ import annotations

import itertools
import math

import duckdb
import numpy as np
import pytest

from insights.datasets.attribution import _expected_credits
from insights.datasets.truth import ATTRIBUTION_MODELS, AttributionTruth, GroundTruth
from insights.leads import Journeys, attribute, journeys


def test_the_expected_credits_are_an_exact_average_over_every_capture_outcome() -> None:
    # 9 sessions of 3 users over 3 labels, some beyond the lookback of others; every one of the 2^9 capture outcomes
    # is built into journeys by the documented rules (lookback, a lead starts the next journey afresh) and credited by
    # insights.leads itself; the probability-weighted sum must equal the generator's closed form
    rng = np.random.default_rng(5)
    n, lookback_ms = 9, 10_000
    user = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2])
    start = np.array([0, 4_000, 9_000, 15_000, 100, 5_000, 5_001, 0, 10_000])
    label = rng.integers(0, 3, size=n)
    p = rng.uniform(0.1, 0.7, size=n)
    truth = AttributionTruth(lookback_days=1.0, position_weights=(0.4, 0.2, 0.4))
    expected = _expected_credits(user, start, label, 3, p, lookback_ms, truth)

    names = ("a", "b", "c")
    total = {m: np.zeros(3) for m in ATTRIBUTION_MODELS}
    for outcome in itertools.product((False, True), repeat=n):
        captured = np.array(outcome)
        probability = float(np.prod(np.where(captured, p, 1 - p)))
        paths = []
        for i in np.flatnonzero(captured):
            own = [j for j in range(n) if user[j] == user[i] and start[j] <= start[i]]
            earlier_leads = [j for j in own if captured[j] and start[j] < start[i]]
            after = max((start[j] for j in earlier_leads), default=None)
            touches = sorted(
                (start[j], j) for j in own if start[i] - start[j] <= lookback_ms and (after is None or start[j] > after)
            )
            paths.append([names[label[j]] for _, j in touches])
        if not paths:
            continue
        result = attribute(
            Journeys.from_paths(paths, [True] * len(paths), channels=names), ATTRIBUTION_MODELS, bootstrap=0
        )
        for model in ATTRIBUTION_MODELS:
            total[model] += probability * np.array([result.credit(c, model).credit for c in names])
    for model in ATTRIBUTION_MODELS:
        assert expected[model] == pytest.approx(total[model], rel=1e-12), model
        assert expected[model].sum() == pytest.approx(p.sum(), rel=1e-12)  # every lead is credited exactly once


def test_the_planted_truth_is_consistent(demo_truth: GroundTruth) -> None:
    truth = demo_truth.attribution
    for model in ATTRIBUTION_MODELS:
        assert sum(truth.expected_lead_credit[model].values()) == pytest.approx(truth.expected_leads, rel=1e-9)
    assert set(truth.expected_lead_credit["last_touch"]) == {"direct", "facebook", "instagram", "linkedin", "x"}
    # the planted qualify ratio lifts the prompt's share of qualified leads over its share of leads
    ratio = demo_truth.prompt.qualify_ratio
    share = truth.prompt_lead_share
    assert truth.prompt_qualified_share == pytest.approx(ratio * share / (ratio * share + 1 - share), rel=0.01)


@pytest.fixture
def demo_journeys(demo_con: duckdb.DuckDBPyConnection, demo_truth: GroundTruth) -> Journeys:
    return journeys(demo_con, touch="platform", lookback_days=demo_truth.attribution.lookback_days)


def test_demo_platform_shares_are_recovered_within_their_intervals(
    demo_journeys: Journeys, demo_truth: GroundTruth
) -> None:
    truth = demo_truth.attribution
    # 4 models x 5 platforms = 20 shares checked at once: each at 1 - 0.05 / 20 (Bonferroni), so a correct model
    # fails this test at most 5% of the time over data sets; 4,000 resamples resolve those tails
    level = 1 - 0.05 / 20
    result = attribute(demo_journeys, ATTRIBUTION_MODELS, bootstrap=4000, ci_level=level, seed=0)
    for model in ATTRIBUTION_MODELS:
        for platform in demo_journeys.channels:
            got = result.credit(platform, model)
            expected = truth.expected_share(model, platform)
            assert got.share_low <= expected <= got.share_high, (model, platform, expected, got)
    # and the intervals are narrow enough to tell the platforms apart: none of these is an equal fifth
    for platform in ("instagram", "x"):
        got = result.credit(platform, "last_touch")
        assert not got.share_low <= 0.2 <= got.share_high, platform


def test_demo_prompt_shares_of_leads_and_of_qualified_leads(
    demo_con: duckdb.DuckDBPyConnection, demo_truth: GroundTruth
) -> None:
    truth = demo_truth.attribution
    label = f"{demo_truth.prompt.prompt_id} {demo_truth.prompt.prompt_version}"
    level = 1 - 0.05 / 2  # two shares
    leads = attribute(journeys(demo_con, touch="prompt"), ["last_touch"], bootstrap=1000, ci_level=level)
    qualified = attribute(
        journeys(demo_con, touch="prompt", conversion="qualified"), ["last_touch"], bootstrap=1000, ci_level=level
    )
    lead_share, qualified_share = leads.credit(label, "last_touch"), qualified.credit(label, "last_touch")
    assert lead_share.share_low <= truth.prompt_lead_share <= lead_share.share_high
    assert qualified_share.share_low <= truth.prompt_qualified_share <= qualified_share.share_high
    # without the planted effect the prompt's share of qualified leads would be its share of leads: rejected
    assert qualified_share.share_low > truth.prompt_lead_share
    assert math.isclose(leads.n_conversions, 1957) and qualified.n_conversions < leads.n_conversions


def test_the_demo_attribution_reads_as_a_table_and_a_chart(demo_journeys: Journeys) -> None:
    result = attribute(demo_journeys, bootstrap=50)
    text = str(result)
    assert text.startswith("Attribution of leads by platform")
    assert "Markov share" in text and "instagram" in text
    frame = result.to_pandas()
    assert frame.shape == (5 * 7, 9)
    assert frame.groupby("model")["share"].sum().to_numpy() == pytest.approx(np.ones(7))
    assert "1,100 conversions had no touch" in result.to_markdown()
    fig = result.plot()
    assert len(fig.data) == 7 and fig.data[0].name == "first touch"
