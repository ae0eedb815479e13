"""Treatment x segment interaction: Cochran's Q, pinned to statsmodels' meta-analysis and to an interacted OLS."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.meta_analysis import combine_effects

from insights.errors import InvalidParameterError
from insights.experiments.frequentist import EffectResult, proportion_z_test, welch_test
from insights.experiments.segments import InteractionResult, interaction_test
from insights.experiments.summaries import SampleStats

EFFECTS = [0.12, 0.31, -0.05, 0.2]
SES = [0.063245553203367588, 0.11, 0.08, 0.05]  # variances 0.004, 0.0121, 0.0064, 0.0025


def segment(effect: float, se: float) -> EffectResult:
    """A per-segment result as the tests return it; only effect and se are read."""
    nan = math.nan
    return EffectResult(nan, nan, effect, nan, nan, nan, nan, nan, nan, nan, nan, "by hand", se=se)


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def test_matches_statsmodels_homogeneity_test() -> None:
    result = interaction_test([segment(e, s) for e, s in zip(EFFECTS, SES, strict=True)])
    # statsmodels 0.15.0: combine_effects(np.array([0.12, 0.31, -0.05, 0.2]),
    #     np.array([0.004, 0.0121, 0.0064, 0.0025])).test_homogeneity()
    assert close(result.statistic, 9.556338253239588)
    assert close(result.p_value, 0.022739507610359918)
    assert result.df == 3.0 and result.n_segments == 4 and result.n_left_out == 0 and result.note is None
    assert result.method == "Cochran's Q (inverse-variance weights) over 4 segments, chi-square with 3 df"
    assert isinstance(result, InteractionResult) and list(result.to_dict())[:3] == ["statistic", "df", "p_value"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(-10, 10), st.floats(0.01, 5)), min_size=2, max_size=12))
def test_equals_statsmodels_for_any_effects(pairs: list[tuple[float, float]]) -> None:
    effects = np.array([p[0] for p in pairs])
    variances = np.array([p[1] for p in pairs]) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):  # statsmodels' I^2 divides by Q, which may be 0
        reference = combine_effects(effects, variances).test_homogeneity()
    result = interaction_test([segment(e, s) for e, s in pairs])
    assert math.isclose(result.statistic, reference.statistic, rel_tol=1e-9, abs_tol=1e-9)
    if reference.statistic < 1e-6:
        # near Q = 0 the chi-square survival function moves like sqrt(Q): rounding noise in Q (1e-12) moves p by 1e-6
        assert result.p_value > 0.999
    else:
        assert math.isclose(result.p_value, reference.pvalue, rel_tol=1e-7, abs_tol=1e-12)
    assert result.df == reference.df


def test_equals_the_wald_test_of_the_interaction_terms_in_a_fully_interacted_model() -> None:
    rng = np.random.default_rng(5)
    cells = {"new": (120, 0.5, 2.0), "returning": (200, 0.1, 1.0), "paid": (80, -0.2, 3.0)}
    y, seg, arm = [], [], []
    for s, (n, lift, sd) in enumerate(cells.values()):
        for treated in (0, 1):
            values = rng.normal(10 + lift * treated, sd * (1 + 0.5 * treated), size=n + 10 * treated)
            y.append(values)
            seg += [s] * len(values)
            arm += [treated] * len(values)
    outcome, segments, treated_flag = np.concatenate(y), np.array(seg), np.array(arm, dtype=float)
    # y ~ segment + arm + segment x arm, segment "new" as the baseline.
    dummies = np.column_stack([(segments == s).astype(float) for s in (1, 2)])
    design = np.column_stack([np.ones_like(outcome), dummies, treated_flag, dummies * treated_flag[:, None]])
    # HC2 standard errors in this saturated model are Welch's per-cell variances (leverage 1 / n_cell).
    fit = OLS(outcome, design).fit(cov_type="HC2")
    restriction = np.zeros((2, 6))
    restriction[0, 4] = restriction[1, 5] = 1.0
    wald = fit.wald_test(restriction, use_f=False, scalar=True)
    per_segment = []
    for s in range(3):
        control = SampleStats.from_values(outcome[(segments == s) & (treated_flag == 0)])
        treatment = SampleStats.from_values(outcome[(segments == s) & (treated_flag == 1)])
        per_segment.append(welch_test(control, treatment))
    result = interaction_test(per_segment)
    # statsmodels 0.15.0: OLS(y, X).fit(cov_type="HC2").wald_test(R, use_f=False, scalar=True) -> 8.8925286695640
    assert close(result.statistic, float(wald.statistic))
    assert close(result.p_value, float(wald.pvalue))
    assert result.df == 2.0


def test_segments_without_an_effect_or_se_are_left_out_and_counted() -> None:
    usable = [segment(e, s) for e, s in zip(EFFECTS, SES, strict=True)]
    degenerate = proportion_z_test(SampleStats.from_proportion(0, 50), SampleStats.from_proportion(0, 40))
    assert degenerate.note == "zero_variance" and math.isnan(degenerate.se)
    result = interaction_test([*usable[:2], degenerate, *usable[2:], segment(math.nan, 0.1)])
    assert result.n_segments == 4 and result.n_left_out == 2
    assert close(result.statistic, interaction_test(usable).statistic)
    assert result.method.endswith(", 2 segments without a usable effect and SE left out")


@pytest.mark.parametrize("effects", [[], [segment(0.1, 0.05)], [segment(0.1, 0.05), segment(0.2, math.nan)]])
def test_too_few_segments(effects: list[EffectResult]) -> None:
    result = interaction_test(effects)
    assert result.note == "too_few_segments"
    assert math.isnan(result.statistic) and math.isnan(result.p_value) and math.isnan(result.df)
    assert result.n_segments + result.n_left_out == len(effects)


@pytest.mark.slow
def test_aa_segments_reject_no_interaction_at_the_nominal_rate() -> None:
    rng = np.random.default_rng(20260817)
    n_experiments, alpha = 400, 0.05
    tolerance = 3 * math.sqrt(alpha * (1 - alpha) / n_experiments)
    rejected = []
    for _ in range(n_experiments):
        effects = []
        for n, scale in ((300, 1.0), (150, 3.0), (500, 2.0), (80, 1.0)):
            a, b = rng.gamma(2.0, scale, size=n), rng.gamma(2.0, scale, size=n)
            effects.append(welch_test(SampleStats.from_values(a), SampleStats.from_values(b)))
        rejected.append(interaction_test(effects).p_value < alpha)
    assert abs(np.mean(rejected) - alpha) <= tolerance


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: interaction_test(segment(0.1, 0.05)),  # type: ignore[arg-type]
            "The 'effects' parameter of interaction_test must be a sequence of EffectResult. "
            "Got 'EffectResult' instead.",
        ),
        (
            lambda: interaction_test([segment(0.1, 0.05), 0.2]),  # type: ignore[list-item]
            "The 'effects' parameter of interaction_test must hold only EffectResult records. Got 'float' instead.",
        ),
    ],
)
def test_invalid_arguments_raise_one_sentence(call: object, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        call()  # type: ignore[operator]
    assert str(info.value) == message
