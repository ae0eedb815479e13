"""Reference cases of every attribution model: hand computations, published worked examples, and independent exact
computations (tests/leads/reference.py)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from insights.leads import MODELS, Journeys, attribute
from insights.leads.models import Transitions
from tests.leads.reference import markov_credits, removal_effects, shapley_by_permutations

# four journeys over channels a, b, c; ages (days before the conversion) only matter to time decay
HAND = Journeys.from_paths(
    [["a", "b", "c"], ["a", "a", "b"], ["c"], ["b", "a"]],
    [True, True, True, False],
    ages_days=[[14, 7, 0], [0, 0, 0], [3], [1, 0]],
)


def credits(journeys: Journeys, model: str, **options: object) -> dict[str, float]:
    result = attribute(journeys, [model], bootstrap=0, **options)  # type: ignore[arg-type]
    return {c: result.credit(c, model).credit for c in journeys.channels}


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # a>b>c gives its conversion to a (first) / c (last); a>a>b to a / b; c to c; b>a does not convert
        ("first_touch", {"a": 2, "b": 0, "c": 1}),
        ("last_touch", {"a": 0, "b": 1, "c": 2}),
        # thirds of a>b>c, then a>a>b: a 2/3, b 1/3; c 1
        ("linear", {"a": 1 / 3 + 2 / 3, "b": 1 / 3 + 1 / 3, "c": 1 / 3 + 1}),
        # 40/20/40: a>b>c: a .4, b .2, c .4; a>a>b: first a .4, middle a .2, last b .4; c: 1
        ("position_based", {"a": 0.4 + 0.6, "b": 0.2 + 0.4, "c": 0.4 + 1}),
        # half-life 7 days: a>b>c at ages 14, 7, 0 weighs 1/4, 1/2, 1 (of 7/4): 1/7, 2/7, 4/7; a>a>b at age 0: thirds
        ("time_decay", {"a": 1 / 7 + 2 / 3, "b": 2 / 7 + 1 / 3, "c": 4 / 7 + 1}),
        # equal shares among distinct channels: a>b>c thirds, a>a>b halves, c whole
        ("shapley", {"a": 1 / 3 + 1 / 2, "b": 1 / 3 + 1 / 2, "c": 1 / 3 + 1}),
    ],
)
def test_rule_based_models_by_hand(model: str, expected: dict[str, float]) -> None:
    got = credits(HAND, model)
    assert got == pytest.approx(expected, rel=1e-12)


def test_position_based_weights_and_short_journeys() -> None:
    journeys = Journeys.from_paths([["a", "b"], ["c"], ["a", "b", "b", "c"]], [True, True, True])
    got = credits(journeys, "position_based", position_weights=(0.3, 0.3, 0.4))
    # a>b splits first:last as 0.3:0.4 (3/7, 4/7); c alone takes all; a>b>b>c: a .3, b .15 + .15, c .4
    assert got == pytest.approx({"a": 3 / 7 + 0.3, "b": 4 / 7 + 0.3, "c": 1 + 0.4}, rel=1e-12)


def test_time_decay_half_life_is_a_parameter() -> None:
    journeys = Journeys.from_paths([["a", "b"]], [True], ages_days=[[2, 0]])
    # half-life 2 days: weights 1/2 and 1, so a gets 1/3
    assert credits(journeys, "time_decay", half_life_days=2.0)["a"] == pytest.approx(1 / 3, rel=1e-12)


def test_markov_worked_by_hand() -> None:
    # start -> email 2/3, search 1/3; email -> search 1/2, null 1/2; search -> conversion.
    # P(conversion) = 2/3 * 1/2 + 1/3 = 2/3. Without email: 1/3, removal effect 1/2. Without search: 0, effect 1.
    # Two conversions shared 1/2 : 1, so email 2/3 and search 4/3.
    journeys = Journeys.from_paths([["email", "search"], ["search"], ["email"]], [True, True, False])
    result = attribute(journeys, ["markov"], bootstrap=0)
    assert result.credit("email", "markov").removal_effect == pytest.approx(0.5, rel=1e-12)
    assert result.credit("search", "markov").removal_effect == pytest.approx(1.0, rel=1e-12)
    assert result.credit("email", "markov").credit == pytest.approx(2 / 3, rel=1e-12)
    assert result.credit("search", "markov").credit == pytest.approx(4 / 3, rel=1e-12)


def test_markov_against_the_chattr_readme_example() -> None:
    # jmwoloso/pychattr README (a Python port of the ChannelAttribution R package): three converting paths, no nulls,
    # first-order model estimated by 10,000 simulated journeys: removal effects A 1.0000, B 0.5067, conversions
    # A 1.991106, B 1.008894. Exactly (its transition table: start -> A 1; A -> B 1/2, conversion 1/2; B -> A 1),
    # removing B leaves start -> A -> conversion with probability 1/2: effects 1 and 1/2, conversions 2 and 1.
    journeys = Journeys.from_paths(
        [["A", "B", "A", "B", "B", "A"], ["A", "B", "B", "A", "A"], ["A", "A"]], [True, True, True]
    )
    result = attribute(journeys, ["markov"], bootstrap=0)
    a, b = result.credit("A", "markov"), result.credit("B", "markov")
    assert (a.removal_effect, b.removal_effect) == pytest.approx((1.0, 0.5), rel=1e-12)
    assert (a.credit, b.credit) == pytest.approx((2.0, 1.0), rel=1e-12)
    # the published simulation agrees within its Monte Carlo error (sd of a share from 10,000 draws is about 0.005)
    assert abs(b.removal_effect - 0.5067) < 0.02
    assert abs(a.credit - 1.991106) < 0.03


def test_markov_against_a_published_removal_effect_walkthrough() -> None:
    # S. Puzyrov, "Markov Chain Attribution - Simple Explanation Of Removal Effect" (2019): paths google ads (2
    # conversions), mailing (1), google ads > mailing (1), google ads (no conversion); its transition table:
    # start -> google ads 0.8, mailing 0.2; google ads -> conversion 0.5, mailing 0.25, null 0.25; mailing -> conversion 1.
    # By hand: P(conversion) = 0.8 * (0.5 + 0.25) + 0.2 = 0.8; without google ads 0.2 (effect 0.75); without mailing
    # 0.8 * 0.5 = 0.4 (effect 0.5); four conversions shared 0.75 : 0.5, so 2.4 and 1.6.
    journeys = Journeys.from_paths(
        [["google ads"], ["mailing"], ["google ads", "mailing"], ["google ads"]],
        [True, True, True, False],
        n_journeys=[2, 1, 1, 1],
    )
    design = journeys.design()
    counts = Transitions.build(design).counts(design.n_journeys)
    probs = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
    start, ads, mailing, conversion, null = 0, 1, 2, 3, 4  # channels in sorted order after the start state
    assert probs[start, [ads, mailing]] == pytest.approx([0.8, 0.2])
    assert probs[ads, [conversion, mailing, null]] == pytest.approx([0.5, 0.25, 0.25])
    assert probs[mailing, conversion] == pytest.approx(1.0)
    result = attribute(journeys, ["markov"], bootstrap=0)
    assert result.credit("google ads", "markov").removal_effect == pytest.approx(0.75, rel=1e-12)
    assert result.credit("mailing", "markov").removal_effect == pytest.approx(0.5, rel=1e-12)
    assert result.credit("google ads", "markov").credit == pytest.approx(2.4, rel=1e-12)
    assert result.credit("mailing", "markov").credit == pytest.approx(1.6, rel=1e-12)


def test_markov_with_loops_against_exact_elimination() -> None:
    # cycles (b -> c -> b) and repeats: the chain must be solved, not enumerated; the reference removes each channel
    # from the chain and solves it in fractions
    paths = [
        (("a", "b", "c", "b"), True, 3),
        (("b", "c"), False, 2),
        (("c", "b", "c", "a"), True, 1),
        (("a", "a"), False, 4),
        (("c",), True, 2),
        (("b", "b", "a"), False, 1),
    ]
    journeys = Journeys.from_paths(
        [p for p, _, _ in paths], [c for _, c, _ in paths], n_journeys=[n for *_, n in paths]
    )
    result = attribute(journeys, ["markov"], bootstrap=0)
    expected_effects = removal_effects(paths, journeys.channels)
    expected_credits = markov_credits(paths, journeys.channels)
    for channel in journeys.channels:
        got = result.credit(channel, "markov")
        assert got.removal_effect == pytest.approx(float(expected_effects[channel]), rel=1e-12)
        assert got.credit == pytest.approx(expected_credits[channel], rel=1e-12)


def test_shapley_against_a_published_example() -> None:
    # tomgorb/misc, "Data Driven Attribution.ipynb" (after the Towards Data Science article "Data-driven marketing
    # attribution"): conversions per exact channel set F 20, O 10, L 17, F+O 17, F+L 30, L+O 0, F+L+O 6, the worth of
    # a coalition the conversions of the sets inside it; published Shapley values F 0.455, O 0.205, L 0.34 (per 100).
    sets = {("F",): 20, ("O",): 10, ("L",): 17, ("F", "O"): 17, ("F", "L"): 30, ("F", "L", "O"): 6}
    journeys = Journeys.from_paths(list(sets), [True] * len(sets), n_journeys=list(sets.values()))
    got = credits(journeys, "shapley")
    assert got == pytest.approx({"F": 45.5, "O": 20.5, "L": 34.0}, rel=1e-12)


def test_shapley_against_the_sum_over_all_orderings() -> None:
    paths = [
        (("a", "b", "c", "d"), True, 2),
        (("b", "b"), True, 5),
        (("d", "a"), True, 1),
        (("c",), False, 7),
        (("a", "c", "a"), True, 3),
    ]
    journeys = Journeys.from_paths(
        [p for p, _, _ in paths], [c for _, c, _ in paths], n_journeys=[n for *_, n in paths]
    )
    expected = shapley_by_permutations(paths, journeys.channels)
    assert credits(journeys, "shapley") == pytest.approx({c: float(v) for c, v in expected.items()}, rel=1e-12)
    # the exact values, by the closed form (each journey split equally among its distinct channels)
    assert expected == {
        "a": Fraction(2, 4) + Fraction(1, 2) + 3 * Fraction(1, 2),
        "b": Fraction(2, 4) + 5,
        "c": Fraction(2, 4) + 3 * Fraction(1, 2),
        "d": Fraction(2, 4) + Fraction(1, 2),
    }


def test_revenue_is_shared_like_conversions() -> None:
    journeys = Journeys.from_paths(
        [["a", "b"], ["b"], ["a"]], [True, True, False], values=[1000.0, 250.0, 0.0], value="revenue"
    )
    result = attribute(journeys, bootstrap=0)
    for model in MODELS:
        assert sum(result.credit(c, model).credit for c in journeys.channels) == pytest.approx(1250.0, rel=1e-12)
    assert result.credit("a", "last_touch").credit == 0.0
    assert result.credit("a", "first_touch").credit == 1000.0
    assert result.credit("a", "linear").credit == 500.0


def test_bootstrap_intervals_are_seeded_and_bracket_the_point_estimate_on_a_large_sample() -> None:
    rng = np.random.default_rng(3)
    channels = ["a", "b", "c"]
    paths = [list(rng.choice(channels, size=rng.integers(1, 4))) for _ in range(300)]
    converted = [bool(rng.random() < 0.4) for _ in paths]
    journeys = Journeys.from_paths(paths, converted)
    first = attribute(journeys, bootstrap=50, seed=11)
    again = attribute(journeys, bootstrap=50, seed=11)
    other = attribute(journeys, bootstrap=50, seed=12)
    assert first == again
    assert first != other
    for c in first.credits:
        assert c.credit_low <= c.credit <= c.credit_high
        assert 0 <= c.share_low <= c.share <= c.share_high <= 1


def test_without_resamples_the_intervals_are_nan() -> None:
    result = attribute(HAND, bootstrap=0)
    assert all(np.isnan(c.credit_low) and np.isnan(c.share_high) for c in result.credits)
    assert result.bootstrap == 0


def test_too_many_channels_for_markov_is_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    import insights.leads.attribution as attribution

    monkeypatch.setattr(attribution, "MAX_MARKOV_CHANNELS", 2)
    result = attribute(HAND, bootstrap=0)
    assert "markov" not in result.models and "shapley" in result.models
    assert any("Markov model is left out: 3 channels" in note for note in result.notes)
