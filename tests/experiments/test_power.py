"""Power, MDE and sample size pinned to statsmodels (0.14); the command beside each number produced it."""

from __future__ import annotations

import math

import pytest

from insights.errors import InvalidParameterError
from insights.experiments.sizing import (
    MeanMetric,
    ProportionMetric,
    RatioMetric,
    minimum_detectable_effect,
    power,
    sample_size,
)


def test_mean_sample_size_matches_normal_ind_power() -> None:
    # NormalIndPower().solve_power(effect_size=0.2, alpha=0.05, power=0.8, ratio=1) -> 392.4430232577885
    assert sample_size(MeanMetric(std=1.0), 0.2).n_control == math.ceil(392.4430232577885)
    # same with std=2 and an absolute effect of 0.4: the same standardized effect
    assert sample_size(MeanMetric(std=2.0), 0.4).n_control == 393


def test_mean_sample_size_with_allocation_ratio() -> None:
    # NormalIndPower().solve_power(effect_size=0.2, alpha=0.05, power=0.8, ratio=2) -> 294.332269088512
    result = sample_size(MeanMetric(std=1.0), 0.2, ratio=2.0)
    assert result.n_control == 295
    assert result.n_treatment == math.ceil(2 * 294.332269088512)


def test_one_sided_sample_size() -> None:
    # NormalIndPower().solve_power(effect_size=0.2, alpha=0.05, power=0.9, ratio=1, alternative='larger') -> 428.1923690502194
    assert sample_size(MeanMetric(std=1.0), 0.2, power=0.9, two_sided=False).n_control == 429


def test_mean_power_matches_normal_ind_power() -> None:
    # NormalIndPower().power(effect_size=0.2, nobs1=394, alpha=0.05, ratio=1) -> 0.801550688320481
    assert power(MeanMetric(std=1.0), 0.2, 394).power == pytest.approx(0.801550688320481, rel=1e-12)


def test_mean_mde_matches_normal_ind_power() -> None:
    # NormalIndPower().solve_power(effect_size=None, nobs1=393, alpha=0.05, power=0.8, ratio=1) -> 0.19985972176038092
    # (statsmodels' own solver stops at about 1e-5 relative precision)
    result = minimum_detectable_effect(MeanMetric(std=1.0, baseline_mean=4.0), 393)
    assert result.effect == pytest.approx(0.19985972176038092, rel=1e-5)
    assert result.relative_effect == pytest.approx(result.effect / 4.0)
    assert power(MeanMetric(std=1.0), result.effect, 393).power == pytest.approx(0.8, abs=1e-9)


def test_cuped_shrinks_variance_by_one_minus_rho_squared() -> None:
    # NormalIndPower().solve_power(effect_size=0.2/(1-0.5**2)**0.5, alpha=0.05, power=0.8, ratio=1) -> 294.332269088512
    assert sample_size(MeanMetric(std=1.0), 0.2, cuped_correlation=0.5).n_control == 295


def test_ratio_metric_uses_delta_method_variance_like_a_mean() -> None:
    assert sample_size(RatioMetric(variance=4.0), 0.4).n_control == sample_size(MeanMetric(std=2.0), 0.4).n_control
    assert sample_size(RatioMetric(variance=1.0, baseline_ratio=2.0), 0.1, relative=True).n_control == 393


def test_proportion_unpooled_power_matches_normal_power_het() -> None:
    # normal_power_het(0.01, 14749, 0.05, std_null=(0.11*0.89+0.1*0.9)**0.5) -> 0.8000263528161836
    assert power(ProportionMetric(0.1), 0.01, 14749).power == pytest.approx(0.8000263528161836, rel=1e-12)
    # normal_power_het(0.01, 14749, 0.05, std_null=(0.11*0.89+0.1*0.9)**0.5, alternative='larger') -> 0.8763275145180383
    one_sided = power(ProportionMetric(0.1), 0.01, 14749, two_sided=False).power
    assert one_sided == pytest.approx(0.8763275145180383, rel=1e-12)


def test_proportion_pooled_power_matches_power_proportions_2indep() -> None:
    # power_proportions_2indep(0.01, 0.10, 14749, ratio=1, alpha=0.05).power -> 0.7999533477040282
    pooled = ProportionMetric(0.1, variance="pooled")
    assert power(pooled, 0.01, 14749).power == pytest.approx(0.7999533477040282, rel=1e-12)
    # statsmodels' nobs1 is the treatment arm and its ratio is n_control / n_treatment:
    # power_proportions_2indep(0.02, 0.10, 2000, ratio=2, alpha=0.05).power -> 0.6537283962164299
    assert power(pooled, 0.02, 4000, ratio=0.5).power == pytest.approx(0.6537283962164299, rel=1e-12)


def test_proportion_relative_effect_and_round_trip() -> None:
    metric = ProportionMetric(0.1)
    result = sample_size(metric, 0.1, relative=True)
    assert result.effect == pytest.approx(0.01)
    assert result.n_control == 14749  # power at 14749 is 0.80003 (above), so one fewer unit falls short
    assert power(metric, 0.01, 14748).power < 0.8 <= power(metric, 0.01, 14749).power
    mde = minimum_detectable_effect(metric, 14749)
    assert mde.effect == pytest.approx(0.01, rel=1e-3)
    assert mde.relative_effect == pytest.approx(0.1, rel=1e-3)


def test_duration_in_days() -> None:
    result = sample_size(MeanMetric(std=1.0), 0.2, daily_units=100)
    assert result.n_total == 786
    assert result.n_days == 8


def test_zero_effect_is_a_note_not_an_error() -> None:
    result = sample_size(MeanMetric(std=1.0), 0.0)
    assert result.note == "zero_effect"
    assert result.n_control is None


def test_unattainable_proportion_mde_is_a_note() -> None:
    result = minimum_detectable_effect(ProportionMetric(0.5), 1)
    assert result.note == "unattainable"
    assert math.isnan(result.effect)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: sample_size(MeanMetric(1.0), 0.2, alpha=1.5),
            "The 'alpha' parameter of sample_size must be in (0, 1). Got 1.5 instead.",
        ),
        (
            lambda: sample_size(MeanMetric(1.0), 0.2, power=0.0),
            "The 'power' parameter of sample_size must be in (0, 1). Got 0.0 instead.",
        ),
        (
            lambda: power(MeanMetric(1.0), 0.2, 100, ratio=0),
            "The 'ratio' parameter of power must be a positive finite number. Got 0 instead.",
        ),
        (
            lambda: power(MeanMetric(1.0), 0.2, 100, cuped_correlation=1.0),
            "The 'cuped_correlation' parameter of power must be in (-1, 1). Got 1.0 instead.",
        ),
        (
            lambda: power(MeanMetric(1.0), 0.2, 100, relative=True),
            "The 'relative' parameter of power needs a nonzero baseline on the metric. Got True instead.",
        ),
        (
            lambda: power(ProportionMetric(0.9), 0.2, 100),
            "The 'effect' parameter of power must keep the treatment rate in (0, 1). Got 0.2 instead.",
        ),
        (
            lambda: ProportionMetric(1.2),
            "The 'baseline_rate' parameter of ProportionMetric must be in (0, 1). Got 1.2 instead.",
        ),
        (
            lambda: MeanMetric(-1.0),
            "The 'std' parameter of MeanMetric must be a positive finite number. Got -1.0 instead.",
        ),
        (
            lambda: minimum_detectable_effect(MeanMetric(1.0), 0),
            "The 'n_control' parameter of minimum_detectable_effect must be a positive number. Got 0 instead.",
        ),
    ],
)
def test_parameter_errors_name_the_parameter(call: object, message: str) -> None:
    with pytest.raises(InvalidParameterError) as excinfo:
        call()  # type: ignore[operator]
    assert str(excinfo.value) == message
