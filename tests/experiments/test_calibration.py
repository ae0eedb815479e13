"""Calibration by simulation: A/A experiments reject at the nominal rate and intervals cover at theirs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from insights.experiments import SampleStats, cuped, proportion_z_test, welch_test
from insights.experiments.stats import CovarianceStats

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
