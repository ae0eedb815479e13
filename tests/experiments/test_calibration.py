"""Calibration by simulation: A/A experiments reject at the nominal rate and intervals cover at theirs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from insights.errors import SampleRatioMismatchWarning
from insights.experiments import (
    Mean,
    Proportion,
    QuantileStats,
    Ratio,
    ReadoutOptions,
    SampleStats,
    analyze,
    cuped,
    proportion_z_test,
    quantile_test,
    welch_test,
)
from insights.experiments.summaries import CovarianceStats

N_EXPERIMENTS = 2000
ALPHA = 0.05
# Three binomial standard deviations around the nominal rate, for 2,000 experiments.
TOLERANCE = 3 * math.sqrt(ALPHA * (1 - ALPHA) / N_EXPERIMENTS)


def _rate(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


@pytest.mark.slow
def test_aa_experiments_reject_at_the_nominal_rate():
    rng = np.random.default_rng(20261122)
    welch, z_pooled, z_unpooled, cuped_rejects, covered = [], [], [], [], []
    for _ in range(N_EXPERIMENTS):
        # revenue-like skewed metric, a conversion flag and a pre-period covariate correlated with the metric
        pre = rng.gamma(2.0, 10.0, size=(2, 400))
        metric = 0.6 * pre + rng.gamma(2.0, 8.0, size=(2, 400))
        converted = rng.random((2, 400)) < 0.12
        a, b = SampleStats.from_values(metric[0]), SampleStats.from_values(metric[1])
        result = welch_test(a, b, alpha=ALPHA)
        welch.append(result.p_value < ALPHA)
        covered.append(result.ci_low <= 0.0 <= result.ci_high)
        pa = SampleStats.from_proportion(int(converted[0].sum()), 400)
        pb = SampleStats.from_proportion(int(converted[1].sum()), 400)
        z_pooled.append(proportion_z_test(pa, pb, pooled=True, alpha=ALPHA).p_value < ALPHA)
        z_unpooled.append(proportion_z_test(pa, pb, pooled=False, alpha=ALPHA).p_value < ALPHA)
        ca = CovarianceStats.from_values(metric[0], pre[0])
        cb = CovarianceStats.from_values(metric[1], pre[1])
        cuped_rejects.append(cuped(ca, cb, alpha=ALPHA).p_value < ALPHA)
    for name, flags in [("welch", welch), ("z pooled", z_pooled), ("z unpooled", z_unpooled), ("cuped", cuped_rejects)]:
        assert abs(_rate(flags) - ALPHA) <= TOLERANCE, (name, _rate(flags))
    assert abs(_rate(covered) - (1 - ALPHA)) <= TOLERANCE


# --- the whole engine: one grouped query, then the readout's own tests ------------------------------------------

ENGINE_EXPERIMENTS = 4000
ENGINE_UNITS = 1000


def _aa_units(rng: np.random.Generator, n_experiments: int, n_units: int) -> pd.DataFrame:
    """Units of many A/A experiments side by side: skewed metrics, a conversion flag and correlated covariates."""
    size = n_experiments * n_units
    pre = rng.gamma(2.0, 10.0, size)
    sessions = rng.poisson(1.0 + pre / 10.0) + 1
    pre_sessions = rng.poisson(1.0 + pre / 10.0) + 1
    chattiness = rng.gamma(5.0, 0.6, size)  # messages per session, a trait of the unit in both periods
    return pd.DataFrame(
        {
            "experiment": np.repeat(np.arange(n_experiments), n_units).astype(str),
            "variant": rng.choice(["A", "B"], size),
            "converted": rng.random(size) < 0.12,
            "revenue": 0.6 * pre + rng.gamma(2.0, 8.0, size),
            "pre_revenue": pre,
            "sessions": sessions.astype(float),
            "messages": rng.poisson(chattiness * sessions).astype(float),
            "pre_sessions": pre_sessions.astype(float),
            "pre_messages": rng.poisson(chattiness * pre_sessions).astype(float),
        }
    )


@pytest.mark.slow
def test_aa_readouts_reject_at_the_nominal_rate_and_cover_the_truth() -> None:
    """4,000 A/A experiments through the engine: each is one segment of one readout, so every segment's result comes
    from the same grouped query and the same tests as a readout's (test_analysis checks that they are equal)."""
    frame = _aa_units(np.random.default_rng(4), ENGINE_EXPERIMENTS, ENGINE_UNITS)
    metrics = [
        Proportion("converted"),
        Mean("revenue"),
        Mean("revenue", name="revenue_winsorized", winsorize=0.99),
        Mean("revenue", name="revenue_cuped", covariate="pre_revenue"),
        Ratio("messages", "sessions", name="messages_per_session"),
        Ratio(
            "messages",
            "sessions",
            name="messages_per_session_cuped",
            covariate_numerator="pre_messages",
            covariate_denominator="pre_sessions",
        ),
    ]
    options = ReadoutOptions(alpha=ALPHA, max_segment_values=ENGINE_EXPERIMENTS)
    readout = analyze(frame, metrics, control="A", segments=["experiment"], options=options)
    for breakdown in readout.segments:
        effects = breakdown.effects
        assert len(effects) == ENGINE_EXPERIMENTS
        rejected = np.mean([e.p_value < ALPHA for e in effects])
        covered = np.mean([e.ci_low <= 0.0 <= e.ci_high for e in effects])
        assert 0.04 <= rejected <= 0.06, (breakdown.metric, rejected)
        assert 0.94 <= covered <= 0.96, (breakdown.metric, covered)
    reduction = {
        b.metric: np.median([e.variance_reduction for e in b.effects])
        for b in readout.segments
        if b.metric.endswith("cuped")
    }
    # the covariates do reduce the variance: revenue shares 0.36 of its variance with pre_revenue
    assert 0.3 < reduction["revenue_cuped"] < 0.42
    assert reduction["messages_per_session_cuped"] > 0.2


@pytest.mark.slow
def test_aa_quantile_intervals_reject_at_the_nominal_rate() -> None:
    rng = np.random.default_rng(9)
    rejected, covered = [], []
    for _ in range(N_EXPERIMENTS):
        latency = rng.lognormal(6.8, 0.5, size=(2, 800))
        result = quantile_test(QuantileStats.from_values(latency[0], 0.9), QuantileStats.from_values(latency[1], 0.9))
        rejected.append(result.p_value < ALPHA)
        covered.append(result.ci_low <= 0.0 <= result.ci_high)
    assert abs(_rate(rejected) - ALPHA) <= TOLERANCE
    assert abs(_rate(covered) - (1 - ALPHA)) <= TOLERANCE


@pytest.mark.slow
def test_peeking_at_the_sequential_band_after_every_day_keeps_type_one_error() -> None:
    """1,000 A/A readouts, each looked at after every one of 14 days of assignments."""
    rng = np.random.default_rng(11)
    false_alarms = 0
    n_experiments, n_units = 1000, 1400
    for _ in range(n_experiments):
        frame = pd.DataFrame(
            {
                "variant": rng.choice(["A", "B"], n_units),
                "revenue": rng.gamma(2.0, 8.0, n_units),
                "day": pd.Timestamp("2026-01-05") + pd.to_timedelta(np.sort(rng.integers(0, 14, n_units)), unit="D"),
            }
        )
        with warnings.catch_warnings():  # one random split in a thousand trips the sample ratio check
            warnings.simplefilter("ignore", SampleRatioMismatchWarning)
            readout = analyze(frame, [Mean("revenue")], control="A", assigned_at="day")
        false_alarms += any(look.msprt.is_significant for look in readout.sequential)
    assert false_alarms / n_experiments <= ALPHA
