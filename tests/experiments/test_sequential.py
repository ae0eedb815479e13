"""mSPRT: closed-form values, and calibration under peeking after every batch by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats

from insights.errors import InvalidParameterError
from insights.experiments.sequential import MsprtResult, msprt
from insights.experiments.summaries import SampleStats

N_EXPERIMENTS = 500
N_LOOKS = 50
BATCH = 100  # units per arm between looks
ALPHA = 0.05
TAU2 = 0.01


def test_single_look_matches_the_closed_form() -> None:
    control, treatment = SampleStats(5000, 0.0, 1.0), SampleStats(5000, 0.1, 1.0)
    result = msprt(control, treatment, tau2=TAU2, alpha=ALPHA)
    v = 2 / 5000
    likelihood_ratio = math.sqrt(v / (v + TAU2)) * math.exp(TAU2 * 0.1**2 / (2 * v * (v + TAU2)))
    assert result.always_valid_p == pytest.approx(1 / likelihood_ratio, rel=1e-12)
    half = math.sqrt(v * (v + TAU2) / TAU2 * (2 * math.log(1 / ALPHA) + math.log((v + TAU2) / v)))
    assert (result.cs_low, result.cs_high) == pytest.approx((0.1 - half, 0.1 + half))
    assert result.is_significant
    # The sequence is wider than the fixed-horizon interval: the price of peeking.
    assert half > stats.norm.isf(ALPHA / 2) * math.sqrt(v)


def test_previous_look_carries_running_minimum_and_intersection() -> None:
    first = msprt(SampleStats(5000, 0.0, 1.0), SampleStats(5000, 0.1, 1.0), tau2=TAU2)
    second = msprt(SampleStats(6000, 0.0, 1.0), SampleStats(6000, 0.0, 1.0), tau2=TAU2, previous=first)
    assert second.always_valid_p == first.always_valid_p
    assert second.is_significant
    assert second.cs_low >= first.cs_low
    assert second.cs_high <= first.cs_high
    assert second.n_looks == 2


def test_degenerate_looks_keep_the_running_values() -> None:
    empty = msprt(SampleStats(1, 0.0, 0.0), SampleStats(10, 0.0, 1.0), tau2=TAU2)
    assert empty.note == "too_few_units"
    assert empty.always_valid_p == 1.0
    assert (empty.cs_low, empty.cs_high) == (-math.inf, math.inf)
    constant = msprt(SampleStats(10, 1.0, 0.0), SampleStats(10, 1.0, 0.0), tau2=TAU2, previous=empty)
    assert constant.note == "zero_variance"
    assert constant.n_looks == 2
    assert not constant.is_significant


def _cumulative_looks(rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per experiment and look: cumulative sums and sums of squares, shape (experiments, looks, arms)."""
    data = rng.standard_normal((N_EXPERIMENTS, N_LOOKS, BATCH, 2))
    return np.cumsum(data.sum(axis=2), axis=1), np.cumsum((data**2).sum(axis=2), axis=1)


def _run(totals: NDArray[np.float64], totals_sq: NDArray[np.float64], shift: float) -> tuple[list[MsprtResult], int]:
    """Final mSPRT result per experiment, and how many experiments a naive z test peeked at every look rejects."""
    finals: list[MsprtResult] = []
    naive_rejections = 0
    z_crit = stats.norm.isf(ALPHA / 2)
    for experiment in range(N_EXPERIMENTS):
        result: MsprtResult | None = None
        naive = False
        for look in range(N_LOOKS):
            n = BATCH * (look + 1)
            control = SampleStats.from_sums(
                n, float(totals[experiment, look, 0]), float(totals_sq[experiment, look, 0])
            )
            # Shifting every treatment value by `shift` moves the sum by n*shift and the sum of squares accordingly.
            t_sum = float(totals[experiment, look, 1])
            t_sq = float(totals_sq[experiment, look, 1]) + 2 * shift * t_sum + n * shift**2
            treatment = SampleStats.from_sums(n, t_sum + n * shift, t_sq)
            result = msprt(control, treatment, tau2=TAU2, alpha=ALPHA, previous=result)
            naive = naive or abs(result.effect - 0.0) / result.se > z_crit
        assert result is not None
        finals.append(result)
        naive_rejections += naive
    return finals, naive_rejections


def test_aa_peeking_keeps_type_one_error_while_naive_peeking_does_not() -> None:
    finals, naive_rejections = _run(*_cumulative_looks(np.random.default_rng(20170)), shift=0.0)
    msprt_rate = sum(r.is_significant for r in finals) / N_EXPERIMENTS
    naive_rate = naive_rejections / N_EXPERIMENTS
    tolerance = 3 * math.sqrt(ALPHA * (1 - ALPHA) / N_EXPERIMENTS)
    assert msprt_rate <= ALPHA + tolerance
    # Peeking at a fixed-horizon z test 50 times rejects several times as often as alpha promises.
    assert naive_rate > 3 * ALPHA
    assert naive_rate > msprt_rate + 0.1


def test_confidence_sequence_covers_the_true_effect_at_every_look() -> None:
    true_effect = 0.05
    finals, _ = _run(*_cumulative_looks(np.random.default_rng(2017)), shift=true_effect)
    # The running intersection contains the truth at the end only if every look's interval did.
    coverage = sum(r.cs_low <= true_effect <= r.cs_high for r in finals) / N_EXPERIMENTS
    assert coverage >= 1 - ALPHA - 3 * math.sqrt(ALPHA * (1 - ALPHA) / N_EXPERIMENTS)


@pytest.mark.parametrize(
    ("tau2", "alpha", "message"),
    [
        (0.0, 0.05, "The 'tau2' parameter of msprt must be a positive finite number. Got 0.0 instead."),
        (0.01, 1.5, "The 'alpha' parameter of msprt must be in (0, 1). Got 1.5 instead."),
    ],
)
def test_parameter_errors_name_the_parameter(tau2: float, alpha: float, message: str) -> None:
    with pytest.raises(InvalidParameterError) as excinfo:
        msprt(SampleStats(10, 0.0, 1.0), SampleStats(10, 0.0, 1.0), tau2=tau2, alpha=alpha)
    assert str(excinfo.value) == message
