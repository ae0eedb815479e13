"""Empirical Bayes shrinkage: the between-cell spread pinned to statsmodels' DerSimonian-Laird, and its behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from insights.engagement.shrinkage import between_variance, observed_expected, shrink


def test_between_variance_is_dersimonian_laird() -> None:
    meta = pytest.importorskip("statsmodels.stats.meta_analysis")
    rng = np.random.default_rng(3)
    se = rng.uniform(0.05, 0.4, 30)
    theta = rng.normal(0.0, 0.2, 30) + rng.normal(0, se)
    # around their precision-weighted mean, as statsmodels' combine_effects(method_re="dl") estimates it
    mean = np.sum(theta / se**2) / np.sum(1 / se**2)
    reference = meta.combine_effects(theta, se**2, method_re="dl")
    assert between_variance(theta, se, np.full(30, mean)) == pytest.approx(reference.tau2, rel=1e-10)


def test_small_cells_lean_on_the_pool_and_big_cells_keep_their_own() -> None:
    theta = np.array([0.8, 0.8, 0.0, 0.1, -0.1])
    se = np.array([0.6, 0.02, 0.05, 0.05, 0.05])
    out = shrink(theta, se, 0.0, tau2=0.04)
    assert out.estimate[0] < 0.2 < 0.75 < out.estimate[1]
    assert out.weight[0] < out.weight[1] and np.all(out.se <= se)
    # no spread beyond the noise: every cell takes its pooled value
    flat = shrink(np.array([0.01, 0.28, 0.015]), np.array([0.1, 0.1, 0.1]), np.array([0.0, 0.3, 0.0]))
    assert flat.tau2 == 0.0
    np.testing.assert_allclose(flat.estimate, [0.0, 0.3, 0.0])


def test_observed_over_expected_per_cell() -> None:
    cells = np.array([0, 0, 1, 2, 2])
    y = np.array([3.0, 5.0, 2.0, 0.0, 0.0])
    mu = np.array([4.0, 4.0, 2.0, 1.0, 1.0])
    out = observed_expected(cells, 4, y, mu, dispersion=0.5)
    assert out.observed.tolist() == [8.0, 2.0, 0.0, 0.0]
    assert out.log_ratio[0] == pytest.approx(0.0) and out.log_ratio[1] == pytest.approx(0.0)
    # var(O) = sum(mu + 0.5 mu^2) = 8 + 16 for cell 0; se = sqrt(24) / 8
    assert out.se[0] == pytest.approx(np.sqrt(24) / 8)
    assert np.isnan(out.log_ratio[2]) and np.isinf(out.se[3])
