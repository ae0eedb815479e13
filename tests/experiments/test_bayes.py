"""Bayesian readouts against scipy: closed forms, numerical integration and symmetry."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from insights.errors import InvalidParameterError
from insights.experiments.bayes import bayes_normal, beta_binomial_prob_better
from insights.experiments.summaries import SampleStats

CONTROL = SampleStats(1000, 0.10, 0.09)
TREATMENT = SampleStats(1000, 0.12, 0.1056)


def test_flat_prior_matches_the_z_statistic() -> None:
    result = bayes_normal(CONTROL, TREATMENT)
    # se = math.sqrt(0.09/1000 + 0.1056/1000) -> 0.013985706989637671
    assert result.posterior_sd == pytest.approx(0.013985706989637671, rel=1e-12)
    # scipy.stats.norm.cdf(0.02 / se) -> 0.9236459949030611
    assert result.chance_to_beat_control == pytest.approx(0.9236459949030611, rel=1e-12)
    # scipy.stats.norm.interval(0.95, loc=0.02, scale=se) -> (-0.007411481998019935, 0.047411481998019936)
    assert result.ci_low == pytest.approx(-0.007411481998019935, rel=1e-10)
    assert result.ci_high == pytest.approx(0.047411481998019936, rel=1e-10)
    assert result.note is None


def test_expected_losses_match_numerical_integration() -> None:
    result = bayes_normal(CONTROL, TREATMENT)
    posterior = stats.norm(result.posterior_mean, result.posterior_sd)
    loss_treatment = integrate.quad(lambda x: max(0.0, -x) * posterior.pdf(x), -1, 0)[0]
    loss_control = integrate.quad(lambda x: max(0.0, x) * posterior.pdf(x), 0, 1)[0]
    assert result.expected_loss_treatment == pytest.approx(loss_treatment, rel=1e-8)
    assert result.expected_loss_control == pytest.approx(loss_control, rel=1e-8)
    # E[max(0, X)] - E[max(0, -X)] = E[X]
    assert result.expected_loss_control - result.expected_loss_treatment == pytest.approx(result.posterior_mean)


def test_normal_prior_shrinks_toward_the_prior_mean() -> None:
    flat = bayes_normal(CONTROL, TREATMENT)
    prior_var = flat.posterior_sd**2  # prior as informative as the data: posterior mean halfway
    shrunk = bayes_normal(CONTROL, TREATMENT, prior_mean=0.0, prior_var=prior_var)
    assert shrunk.posterior_mean == pytest.approx(flat.effect / 2)
    assert shrunk.posterior_sd == pytest.approx(flat.posterior_sd / math.sqrt(2))


def test_relative_effect_uses_the_delta_method() -> None:
    result = bayes_normal(CONTROL, TREATMENT, relative=True)
    assert result.effect == pytest.approx(0.2)
    var = 0.1056 / 1000 / 0.1**2 + 0.09 / 1000 * 0.12**2 / 0.1**4
    assert result.posterior_sd == pytest.approx(math.sqrt(var))


@pytest.mark.parametrize(
    ("control", "treatment", "relative", "note"),
    [
        (SampleStats(1, 0.1, 0.0), TREATMENT, False, "too_few_units"),
        (SampleStats(10, 1.0, 0.0), SampleStats(10, 1.0, 0.0), False, "zero_variance"),
        (SampleStats(10, 0.0, 0.0), TREATMENT, True, "zero_control_mean"),
    ],
)
def test_degenerate_input_gives_a_note(control: SampleStats, treatment: SampleStats, relative: bool, note: str) -> None:
    result = bayes_normal(control, treatment, relative=relative)
    assert result.note == note
    assert math.isnan(result.chance_to_beat_control)


def _quad_prob_better(a_s: int, a_n: int, b_s: int, b_n: int) -> float:
    a = stats.beta(1 + a_s, 1 + a_n - a_s)
    b = stats.beta(1 + b_s, 1 + b_n - b_s)
    # P(p_B > p_A) = integral of f_A(x) * P(p_B > x)
    return float(integrate.quad(lambda x: a.pdf(x) * b.sf(x), 0, 1, epsabs=1e-13, epsrel=1e-12, limit=200)[0])


@pytest.mark.parametrize("counts", [(10, 100, 15, 100), (3, 7, 2, 9), (100, 1000, 120, 1000), (0, 10, 0, 5)])
def test_beta_binomial_matches_numerical_integration(counts: tuple[int, int, int, int]) -> None:
    assert beta_binomial_prob_better(*counts) == pytest.approx(_quad_prob_better(*counts), abs=1e-9)


def test_beta_binomial_known_values() -> None:
    # Beta(2, 1) against Beta(1, 1): integral of 2x * x over (0, 1) = 2/3
    assert beta_binomial_prob_better(0, 0, 1, 1) == pytest.approx(2 / 3, rel=1e-12)
    assert beta_binomial_prob_better(5, 20, 5, 20) == pytest.approx(0.5, rel=1e-12)
    # Beta(1, 2) against Beta(1, 1) with prior (1, 1): 1 - 2/3
    assert beta_binomial_prob_better(0, 0, 0, 1) == pytest.approx(1 / 3, rel=1e-12)


def test_beta_binomial_is_fast_and_finite_for_large_counts() -> None:
    value = beta_binomial_prob_better(500_000, 5_000_000, 502_000, 5_000_000)
    # z approximation: (0.1004 - 0.1) / sqrt(2 * 0.1 * 0.9 / 5e6) -> 2.108 -> Phi = 0.9825
    assert value == pytest.approx(0.9825, abs=1e-3)


@settings(max_examples=60, deadline=None)
@given(
    a_n=st.integers(0, 300),
    b_n=st.integers(0, 300),
    a_frac=st.floats(0, 1),
    b_frac=st.floats(0, 1),
    prior=st.tuples(st.integers(1, 5), st.integers(1, 5)),
)
def test_beta_binomial_symmetry(a_n: int, b_n: int, a_frac: float, b_frac: float, prior: tuple[int, int]) -> None:
    a_s, b_s = round(a_frac * a_n), round(b_frac * b_n)
    forward = beta_binomial_prob_better(a_s, a_n, b_s, b_n, prior=prior)
    backward = beta_binomial_prob_better(b_s, b_n, a_s, a_n, prior=prior)
    assert 0.0 <= forward <= 1.0
    assert forward + backward == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: beta_binomial_prob_better(5, 4, 1, 2),
            "The 'a_successes' parameter of beta_binomial_prob_better must be at most a_n=4. Got 5 instead.",
        ),
        (
            lambda: beta_binomial_prob_better(1, 4, -1, 2),
            "The 'b_successes' parameter of beta_binomial_prob_better must be a non-negative integer. Got -1 instead.",
        ),
        (
            lambda: beta_binomial_prob_better(1, 4, 1, 2, prior=(0.5, 0.5)),  # type: ignore[arg-type]
            "The 'prior' parameter of beta_binomial_prob_better must be a pair of positive integers. Got (0.5, 0.5) instead.",
        ),
        (
            lambda: bayes_normal(CONTROL, TREATMENT, ci_level=1.5),
            "The 'ci_level' parameter of bayes_normal must be in (0, 1). Got 1.5 instead.",
        ),
        (
            lambda: bayes_normal(CONTROL, TREATMENT, prior_var=0.0),
            "The 'prior_var' parameter of bayes_normal must be a positive finite number or None (flat). Got 0.0 instead.",
        ),
    ],
)
def test_parameter_errors_name_the_parameter(call: object, message: str) -> None:
    with pytest.raises(InvalidParameterError) as excinfo:
        call()  # type: ignore[operator]
    assert str(excinfo.value) == message
