"""Invariants of the attribution models over random journeys (hypothesis)."""

from __future__ import annotations

import math

import hypothesis.strategies as st
from hypothesis import given, settings

from insights.leads import MODELS, Journeys, attribute
from tests.leads.reference import markov_credits, removal_effects, shapley_by_permutations

CHANNELS = ("a", "b", "c", "d")
RULE_MODELS = tuple(m for m in MODELS if m != "markov")

journey = st.tuples(
    st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=5),
    st.booleans(),
    st.integers(min_value=1, max_value=4),  # how many times
    st.floats(min_value=0, max_value=5000, allow_nan=False),  # revenue when converting
    st.integers(min_value=0, max_value=40),  # age of the first touch, in days
)


def build(rows: list[tuple[list[str], bool, int, float, int]], *, revenue: bool, extra: bool = False) -> Journeys:
    return Journeys.from_paths(
        [r[0] for r in rows],
        [r[1] for r in rows],
        n_journeys=[r[2] for r in rows],
        values=[r[3] for r in rows] if revenue else None,
        ages_days=[[max(0, r[4] - 3 * i) for i in range(len(r[0]))] for r in rows],
        channels=[*CHANNELS, "never"] if extra else None,
        value="revenue" if revenue else "count",
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(journey, min_size=1, max_size=8), st.booleans())
def test_every_model_shares_out_exactly_the_total(rows: list, revenue: bool) -> None:
    journeys = build(rows, revenue=revenue)
    result = attribute(journeys, bootstrap=0)
    total = journeys.total_value
    for model in MODELS:
        given_out = math.fsum(result.credit(c, model).credit for c in journeys.channels)
        if model == "markov" and journeys.n_conversions == 0:
            assert given_out == 0
        else:
            assert math.isclose(given_out, total, rel_tol=1e-9, abs_tol=1e-9), model
        assert all(c.credit >= -1e-12 for c in result.credits)


@settings(max_examples=40, deadline=None)
@given(st.lists(journey, min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_the_journeys(rows: list, shuffler: object) -> None:
    shuffled = list(rows)
    shuffler.shuffle(shuffled)  # type: ignore[attr-defined]
    first = attribute(build(rows, revenue=True), bootstrap=20, seed=5)
    second = attribute(build(shuffled, revenue=True), bootstrap=20, seed=5)
    assert first == second


@settings(max_examples=40, deadline=None)
@given(st.lists(journey, min_size=1, max_size=8))
def test_a_channel_that_never_appears_gets_nothing(rows: list) -> None:
    journeys = build(rows, revenue=False, extra=True)
    result = attribute(journeys, bootstrap=10)
    for model in MODELS:
        c = result.credit("never", model)
        assert (c.credit, c.share, c.credit_low, c.credit_high, c.share_low, c.share_high) == (0.0,) * 6
    # the rule-based models and Shapley only credit channels of converting journeys
    converting = {ch for r in rows if r[1] for ch in r[0]}
    for model in RULE_MODELS:
        for channel in set(journeys.channels) - converting:
            assert result.credit(channel, model).credit == 0.0


@settings(max_examples=40, deadline=None)
@given(st.lists(journey, min_size=1, max_size=6))
def test_markov_and_shapley_match_the_exact_references(rows: list) -> None:
    journeys = build(rows, revenue=False)
    result = attribute(journeys, ["markov", "shapley"], bootstrap=0)
    reference = [(tuple(r[0]), r[1], r[2]) for r in rows]
    shapley = shapley_by_permutations(reference, journeys.channels)
    for channel in journeys.channels:
        assert math.isclose(result.credit(channel, "shapley").credit, float(shapley[channel]), abs_tol=1e-9)
    if journeys.n_conversions:
        effects = removal_effects(reference, journeys.channels)
        credits = markov_credits(reference, journeys.channels)
        for channel in journeys.channels:
            got = result.credit(channel, "markov")
            assert math.isclose(got.removal_effect or 0.0, float(effects[channel]), abs_tol=1e-9)
            assert math.isclose(got.credit, credits[channel], abs_tol=1e-9)
