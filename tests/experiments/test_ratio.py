"""Ratio of means by the delta method, plain and with CUPED, pinned to tea-tasting and to unit-level numpy."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from insights.errors import InvalidParameterError
from insights.experiments.frequentist import EffectResult, cuped, welch_test
from insights.experiments.ratio import ratio_test
from insights.experiments.summaries import CovarianceStats, MomentStats, SampleStats

NAMES = ("messages", "sessions", "messages_pre", "sessions_pre")
# One row per randomised user: messages and sessions in the experiment, then the same in the pre-period.
# Drawn once with numpy 2.4.6: rng = default_rng(2026); activity ~ gamma(2, 1); sessions ~ Poisson(2 activity);
# messages ~ Poisson(3 (1 + lift) sessions sqrt(activity)); 60 control users (lift 0) and 70 treated (lift 0.15).
CONTROL_USERS = """
3,3,5,1 0,0,0,0 42,8,41,9 6,2,22,5 26,8,4,1 13,3,22,4 12,3,2,1 19,4,20,5 6,2,7,2 18,4,12,3 5,2,7,2 2,1,2,1
44,8,17,3 7,2,9,3 15,3,1,1 3,2,3,1 0,0,12,5 63,10,27,4 10,5,3,2 7,2,10,3 14,3,27,5 28,5,14,3 7,3,4,2 64,11,17,3
167,21,62,10 166,19,185,22 4,1,0,0 14,3,47,9 72,10,16,4 30,8,13,3 3,1,24,6 7,3,3,1 3,1,0,0 2,1,0,0 28,4,83,12
19,5,22,4 48,11,5,2 0,0,14,5 1,1,0,0 37,7,13,4 13,3,21,7 6,3,18,4 6,2,0,0 0,0,0,0 60,12,16,4 5,3,2,1 10,3,16,3
48,11,7,3 0,0,1,2 0,0,3,1 80,12,44,6 23,5,30,7 4,1,12,2 17,4,17,6 28,7,11,5 0,0,18,4 17,5,18,3 36,7,20,5 0,0,0,0
10,3,2,1
"""
TREATMENT_USERS = """
18,4,7,2 6,2,3,2 10,2,0,0 2,1,1,1 86,11,53,7 35,5,29,5 63,9,24,5 5,2,8,2 10,3,26,5 20,3,19,5 0,0,3,1 44,7,76,11
3,1,2,1 2,1,43,9 12,3,1,1 46,8,19,5 9,3,2,1 1,2,0,0 17,4,25,5 72,11,58,10 9,2,13,3 17,4,40,12 0,0,0,0 15,3,46,8
2,2,15,5 54,8,73,13 4,1,1,1 1,1,0,0 20,3,12,3 23,4,13,3 0,0,0,0 1,1,0,0 9,3,4,1 23,5,10,2 16,3,35,7 17,4,9,4
1,1,1,1 0,0,6,2 17,3,25,6 22,7,33,6 6,3,7,3 7,2,2,1 41,7,83,11 27,5,7,2 24,4,5,2 21,4,10,2 5,1,2,1 0,0,2,1
44,6,11,2 53,8,56,11 0,0,0,0 37,8,16,3 3,1,2,1 14,4,5,1 11,3,40,8 0,0,9,2 47,10,20,5 55,8,25,5 0,0,0,0 1,1,2,1
0,1,0,0 42,6,27,4 24,5,8,4 1,1,1,1 14,3,17,3 2,1,0,0 0,0,5,2 50,9,34,6 0,0,14,3 23,7,24,6
"""


def parse(text: str) -> np.ndarray:
    return np.array([[float(v) for v in user.split(",")] for user in text.split()])


CONTROL, TREATMENT = parse(CONTROL_USERS), parse(TREATMENT_USERS)
C_STATS, T_STATS = MomentStats.from_values(NAMES, CONTROL), MomentStats.from_values(NAMES, TREATMENT)
RATIO = {"numerator": "messages", "denominator": "sessions"}
CUPED_RATIO = {**RATIO, "covariate_numerator": "messages_pre", "covariate_denominator": "sessions_pre"}


def users_table() -> pa.Table:
    """The users above as tea-tasting reads them: one row per user, variant 0 (control) or 1 (treatment)."""
    rows = np.vstack([CONTROL, TREATMENT])
    columns = {name: rows[:, i] for i, name in enumerate(NAMES)}
    return pa.table({**columns, "variant": [0] * len(CONTROL) + [1] * len(TREATMENT)})


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def linearised(rows: np.ndarray, num: int, den: int) -> tuple[np.ndarray, float]:
    """Each unit's linearised ratio (x - R y) / mean_y at its own arm's means, and the arm's ratio R."""
    ratio = rows[:, num].mean() / rows[:, den].mean()
    return (rows[:, num] - ratio * rows[:, den]) / rows[:, den].mean(), ratio


# --- plain ratio -------------------------------------------------------------------------------------------------


def test_ratio_matches_tea_tasting() -> None:
    result = ratio_test(C_STATS, T_STATS, **RATIO, relative_ci="log")
    # tea-tasting 1.14.0: tt.RatioOfMeans("messages", "sessions", use_t=False).analyze(
    #     users_table(), control=0, treatment=1, variant="variant")
    assert close(result.control_mean, 5.084870848708487)
    assert close(result.treatment_mean, 5.159183673469387)
    assert close(result.effect, 0.0743128247609004)
    assert close(result.ci_low, -0.833491754191481)
    assert close(result.ci_high, 0.9821174037132818)
    assert close(result.relative, 0.014614496016113199)
    assert close(result.relative_ci_low, -0.1506723623196199)
    assert close(result.relative_ci_high, 0.2120676754821822)
    assert close(result.p_value, 0.8725324922762601)
    assert close(result.statistic, 0.16044252639580614)
    assert math.isnan(result.df) and result.theta is None and result.variance_reduction is None
    assert result.note is None
    assert result.method == "ratio of means, delta method, normal, two-sided, relative CI by log ratio"


def test_one_sided_ratio_matches_tea_tasting() -> None:
    result = ratio_test(C_STATS, T_STATS, **RATIO, alpha=0.1, alternative="greater", relative_ci="log")
    # tea-tasting 1.14.0: tt.RatioOfMeans("messages", "sessions", use_t=False, alternative="greater",
    #     confidence_level=0.9).analyze(users_table(), control=0, treatment=1, variant="variant")
    assert close(result.ci_low, -0.5192686841554467)
    assert close(result.relative_ci_low, -0.09675446738207172)
    assert close(result.p_value, 0.43626624613813003)
    assert result.ci_high == math.inf and result.relative_ci_high == math.inf


def test_ratio_is_the_mean_of_linearised_units() -> None:
    result = ratio_test(C_STATS, T_STATS, **RATIO)
    lin_c, r_c = linearised(CONTROL, 0, 1)
    lin_t, r_t = linearised(TREATMENT, 0, 1)
    var_c, var_t = lin_c.var(ddof=1) / len(lin_c), lin_t.var(ddof=1) / len(lin_t)
    assert close(result.control_mean, CONTROL[:, 0].sum() / CONTROL[:, 1].sum())
    assert close(result.effect, r_t - r_c)
    assert close(result.se, math.sqrt(var_c + var_t))
    # The brief's formula: (var_x - 2 R cov_xy + R^2 var_y) / (n mean_y^2), from the record's moments.
    pair = C_STATS.pair("messages", "sessions")
    by_formula = (pair.var_x - 2 * r_c * pair.cov_xy + r_c**2 * pair.var_y) / (pair.n * pair.mean_y**2)
    assert close(var_c, by_formula)
    z = sps.norm.ppf(0.975)
    assert close(result.ci_low, r_t - r_c - z * result.se)
    # Delta-method relative CI for the ratio of two independent estimates.
    se_rel = math.sqrt(var_t / r_c**2 + r_t**2 * var_c / r_c**4)
    assert close(result.relative_ci_high, r_t / r_c - 1 + z * se_rel)
    assert result.method.endswith("relative CI by delta method")


def test_a_ratio_of_a_constant_denominator_is_welch_on_the_mean_with_a_normal_quantile() -> None:
    names = ("value", "one")
    control = MomentStats.from_values(names, [[v, 1.0] for v in [12.1, 9.8, 11.4, 10.2, 13.5, 8.9]])
    treatment = MomentStats.from_values(names, [[v, 1.0] for v in [13.2, 14.1, 11.9, 15.3, 12.7]])
    result = ratio_test(control, treatment, numerator="value", denominator="one")
    welch = welch_test(control.sample("value"), treatment.sample("value"))
    assert (
        close(result.effect, welch.effect) and close(result.se, welch.se) and close(result.statistic, welch.statistic)
    )


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 59))
def test_result_does_not_depend_on_row_order_or_on_summing_in_pieces(seed: int, cut: int) -> None:
    order = np.random.default_rng(seed).permutation(len(CONTROL))
    shuffled = CONTROL[order]
    pieces = MomentStats.from_values(NAMES, shuffled[:cut]) + MomentStats.from_values(NAMES, shuffled[cut:])
    for kwargs in (RATIO, CUPED_RATIO):
        direct = ratio_test(C_STATS, T_STATS, **kwargs)
        combined = ratio_test(pieces, T_STATS, **kwargs)
        for name in ("effect", "ci_low", "ci_high", "p_value", "relative_ci_low", "se"):
            assert math.isclose(getattr(combined, name), getattr(direct, name), rel_tol=1e-9), name


# --- CUPED for ratios --------------------------------------------------------------------------------------------


def test_ratio_cuped_matches_direct_unit_level_computation() -> None:
    result = ratio_test(C_STATS, T_STATS, **CUPED_RATIO)
    lin_c, r_c = linearised(CONTROL, 0, 1)
    lin_t, r_t = linearised(TREATMENT, 0, 1)
    pre_c, r0_c = linearised(CONTROL, 2, 3)
    pre_t, r0_t = linearised(TREATMENT, 2, 3)
    both = np.vstack([CONTROL, TREATMENT])
    r0_pooled = both[:, 2].sum() / both[:, 3].sum()
    # Each arm's linearised values are centred on zero, so these sums are the within-arm co-moments.
    theta = (np.sum(lin_c * pre_c) + np.sum(lin_t * pre_t)) / (np.sum(pre_c**2) + np.sum(pre_t**2))
    adj_c, adj_t = r_c - theta * (r0_c - r0_pooled), r_t - theta * (r0_t - r0_pooled)
    var = np.var(lin_c - theta * pre_c, ddof=1) / len(lin_c) + np.var(lin_t - theta * pre_t, ddof=1) / len(lin_t)
    raw = lin_c.var(ddof=1) / len(lin_c) + lin_t.var(ddof=1) / len(lin_t)
    assert result.theta is not None and close(result.theta, theta)
    assert close(result.control_mean, adj_c) and close(result.treatment_mean, adj_t)
    assert close(result.se, math.sqrt(var))
    assert close(result.statistic, (adj_t - adj_c) / math.sqrt(var))
    assert result.variance_reduction is not None and close(result.variance_reduction, 1 - var / raw)
    assert result.variance_reduction > 0.2
    assert result.method.startswith("CUPED for a ratio (linearised ratios, theta from pooled within-arm covariance)")


# tea-tasting 1.14.0: tt.RatioOfMeans("messages", "sessions", "messages_pre", "sessions_pre", use_t=False).analyze(
#     users_table(), control=0, treatment=1, variant="variant")
TEA_RATIO_CUPED = {
    "control": 5.069205031260021,
    "treatment": 5.172875343190608,
    "effect_size": 0.1036703119305864,
    "effect_size_ci_lower": -0.5527261639105698,
    "effect_size_ci_upper": 0.7600667877717426,
    "rel_effect_size_ci_lower": -0.10255384742839435,
    "rel_effect_size_ci_upper": 0.16031501204970944,
    "pvalue": 0.7569002309570814,
    "statistic": 0.30955388264325956,
}


def test_ratio_cuped_differs_from_tea_tasting_only_in_how_theta_is_estimated() -> None:
    """tea-tasting (tea_tasting/metrics/mean.py, RatioOfMeans.analyze_aggregates) takes theta from the *pooled*
    sample: theta = ratio_cov(total) / ratio_var(total), with both ratios linearised at the pooled means and the
    covariance taken over all units of both arms. Linearised at the pooled ratio, a treated unit's value carries
    (R_treatment - R_pooled) y, so the treatment effect leaks into theta through the covariance of the denominator
    with the covariate. We pool the within-arm covariances of ratios linearised at each arm's own means (as cuped()
    does for means), so theta does not depend on the effect. Everything else is the same: with tea-tasting's theta,
    our per-arm formulas give tea-tasting's numbers exactly.
    """
    lin_c, r_c = linearised(CONTROL, 0, 1)
    lin_t, r_t = linearised(TREATMENT, 0, 1)
    pre_c, r0_c = linearised(CONTROL, 2, 3)
    pre_t, r0_t = linearised(TREATMENT, 2, 3)
    both = np.vstack([CONTROL, TREATMENT])
    lin_all, _ = linearised(both, 0, 1)
    pre_all, r0_pooled = linearised(both, 2, 3)
    tea_theta = np.cov(lin_all, pre_all, ddof=1)[0, 1] / np.var(pre_all, ddof=1)

    adj_c, adj_t = r_c - tea_theta * (r0_c - r0_pooled), r_t - tea_theta * (r0_t - r0_pooled)
    var_c = np.var(lin_c - tea_theta * pre_c, ddof=1) / len(lin_c)
    var_t = np.var(lin_t - tea_theta * pre_t, ddof=1) / len(lin_t)
    se = math.sqrt(var_c + var_t)
    z = sps.norm.ppf(0.975)
    se_log = math.sqrt(var_c / adj_c**2 + var_t / adj_t**2)
    assert close(adj_c, TEA_RATIO_CUPED["control"])
    assert close(adj_t, TEA_RATIO_CUPED["treatment"])
    assert close(adj_t - adj_c - z * se, TEA_RATIO_CUPED["effect_size_ci_lower"])
    assert close(adj_t - adj_c + z * se, TEA_RATIO_CUPED["effect_size_ci_upper"])
    assert close(adj_t / adj_c * math.exp(-z * se_log) - 1, TEA_RATIO_CUPED["rel_effect_size_ci_lower"])
    assert close(adj_t / adj_c * math.exp(z * se_log) - 1, TEA_RATIO_CUPED["rel_effect_size_ci_upper"])
    assert close(2 * sps.norm.sf(abs(adj_t - adj_c) / se), TEA_RATIO_CUPED["pvalue"], rel=1e-7)

    ours = ratio_test(C_STATS, T_STATS, **CUPED_RATIO, relative_ci="log")
    assert ours.theta is not None
    # Here the leak moves theta from 0.634 to 0.678 and the effect by 2%.
    assert ours.theta == pytest.approx(0.6342, abs=1e-4) and tea_theta == pytest.approx(0.6777, abs=1e-4)
    assert ours.effect == pytest.approx(0.1018, abs=1e-4) and TEA_RATIO_CUPED["effect_size"] == pytest.approx(
        0.1037, abs=1e-4
    )


# tea-tasting 1.14.0: tt.Mean("messages", "messages_pre").analyze(users_table(), control=0, treatment=1,
#     variant="variant")  (Welch t, the default use_t=True, equal_var=False)
TEA_MEAN_CUPED = {
    "control": 22.75547838114062,
    "treatment": 18.238161387593756,
    "effect_size_ci_lower": -11.464757444615024,
    "effect_size_ci_upper": 2.430123457521298,
    "pvalue": 0.19996581921045306,
    "statistic": -1.2903749234775532,
}


def test_cuped_for_means_differs_from_tea_tasting_only_in_the_between_arm_term_of_theta() -> None:
    """For a mean, tea-tasting's theta is cov(x, y) / var(y) over all units of both arms; cuped() pools the
    within-arm co-moments. The total co-moments exceed the within-arm ones by n_c n_t / n times the product of the
    arms' mean differences, so the two agree up to that between-arm term; with tea-tasting's theta, cuped()'s
    adjustment followed by welch_test gives tea-tasting's numbers exactly.
    """
    x_c, y_c, x_t, y_t = CONTROL[:, 0], CONTROL[:, 2], TREATMENT[:, 0], TREATMENT[:, 2]
    c, t = CovarianceStats.from_values(x_c, y_c), CovarianceStats.from_values(x_t, y_t)
    n_c, n_t = c.n, t.n
    m_xy = (n_c - 1) * c.cov_xy + (n_t - 1) * t.cov_xy
    m_yy = (n_c - 1) * c.var_y + (n_t - 1) * t.var_y
    weight = n_c * n_t / (n_c + n_t)
    dx, dy = t.mean_x - c.mean_x, t.mean_y - c.mean_y
    tea_theta = (m_xy + weight * dx * dy) / (m_yy + weight * dy * dy)
    assert close(tea_theta, np.cov(np.r_[x_c, x_t], np.r_[y_c, y_t])[0, 1] / np.var(np.r_[y_c, y_t], ddof=1))

    y_bar = (c.mean_y * n_c + t.mean_y * n_t) / (n_c + n_t)

    def adjust(arm: CovarianceStats) -> SampleStats:
        variance = arm.var_x - 2 * tea_theta * arm.cov_xy + tea_theta**2 * arm.var_y
        return SampleStats(arm.n, arm.mean_x - tea_theta * (arm.mean_y - y_bar), variance)

    with_tea_theta = welch_test(adjust(c), adjust(t))
    assert close(with_tea_theta.control_mean, TEA_MEAN_CUPED["control"])
    assert close(with_tea_theta.treatment_mean, TEA_MEAN_CUPED["treatment"])
    assert close(with_tea_theta.ci_low, TEA_MEAN_CUPED["effect_size_ci_lower"])
    assert close(with_tea_theta.ci_high, TEA_MEAN_CUPED["effect_size_ci_upper"])
    assert close(with_tea_theta.p_value, TEA_MEAN_CUPED["pvalue"])
    assert close(with_tea_theta.statistic, TEA_MEAN_CUPED["statistic"])

    ours = cuped(c, t)
    assert ours.theta is not None and close(ours.theta, m_xy / m_yy)
    assert not close(ours.theta, tea_theta, rel=1e-3)


def test_live_cross_check_with_tea_tasting() -> None:
    """The same comparisons against the installed tea-tasting (a dev dependency), not against pinned literals."""
    import tea_tasting as tt

    table = users_table()
    arms = {"control": 0, "treatment": 1, "variant": "variant"}
    plain = tt.RatioOfMeans("messages", "sessions", use_t=False).analyze(table, **arms)
    ours = ratio_test(C_STATS, T_STATS, **RATIO, relative_ci="log")
    for theirs, mine in [
        (plain.effect_size, ours.effect),
        (plain.effect_size_ci_lower, ours.ci_low),
        (plain.effect_size_ci_upper, ours.ci_high),
        (plain.rel_effect_size_ci_lower, ours.relative_ci_low),
        (plain.rel_effect_size_ci_upper, ours.relative_ci_high),
        (plain.pvalue, ours.p_value),
    ]:
        assert close(mine, theirs, rel=1e-9)
    # With CUPED only theta differs (see above); recover tea-tasting's theta from its adjusted control ratio.
    adjusted = tt.RatioOfMeans("messages", "sessions", "messages_pre", "sessions_pre", use_t=False).analyze(
        table, **arms
    )
    both = np.vstack([CONTROL, TREATMENT])
    _, r_c = linearised(CONTROL, 0, 1)
    _, r0_c = linearised(CONTROL, 2, 3)
    lin_all, _ = linearised(both, 0, 1)
    pre_all, r0_pooled = linearised(both, 2, 3)
    their_theta = (r_c - adjusted.control) / (r0_c - r0_pooled)
    assert close(their_theta, np.cov(lin_all, pre_all)[0, 1] / np.var(pre_all, ddof=1), rel=1e-9)
    mean_cuped = tt.Mean("messages", "messages_pre").analyze(table, **arms)
    c = CovarianceStats.from_values(CONTROL[:, 0], CONTROL[:, 2])
    t = CovarianceStats.from_values(TREATMENT[:, 0], TREATMENT[:, 2])
    raw = welch_test(c.x, t.x)
    ours_mean = cuped(c, t)
    # Both adjust the same way; the two thetas are within a few percent here, so are the effects.
    assert mean_cuped.effect_size == pytest.approx(ours_mean.effect, rel=0.05)
    assert abs(mean_cuped.effect_size - raw.effect) > abs(mean_cuped.effect_size - ours_mean.effect)


# --- calibration -------------------------------------------------------------------------------------------------

N_EXPERIMENTS = 400
ALPHA = 0.05
TOLERANCE = 3 * math.sqrt(ALPHA * (1 - ALPHA) / N_EXPERIMENTS)  # three binomial standard deviations


def simulate_users(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Users with their own message rate (so sessions of one user are correlated); per user rows and per session."""
    rate = rng.gamma(2.0, 1.5, size=n)
    sessions = rng.poisson(1.0 + rng.gamma(1.0, 2.0, size=n))
    sessions_pre = rng.poisson(1.0 + rng.gamma(1.0, 2.0, size=n))
    per_session = rng.poisson(np.repeat(rate, sessions))
    user = np.repeat(np.arange(n), sessions)
    messages = np.bincount(user, weights=per_session, minlength=n)
    messages_pre = rng.poisson(rate * sessions_pre)
    return np.column_stack([messages, sessions, messages_pre, sessions_pre]), per_session.astype(float)


def test_aa_ratio_tests_reject_at_the_nominal_rate_where_a_per_session_test_does_not() -> None:
    rng = np.random.default_rng(20260815)
    plain, adjusted, per_session = [], [], []
    for _ in range(N_EXPERIMENTS):
        (rows_a, sessions_a), (rows_b, sessions_b) = simulate_users(rng, 300), simulate_users(rng, 300)
        a, b = MomentStats.from_values(NAMES, rows_a), MomentStats.from_values(NAMES, rows_b)
        plain.append(ratio_test(a, b, **RATIO).p_value < ALPHA)
        adjusted.append(ratio_test(a, b, **CUPED_RATIO).p_value < ALPHA)
        naive = welch_test(SampleStats.from_values(sessions_a), SampleStats.from_values(sessions_b))
        per_session.append(naive.p_value < ALPHA)
    for name, flags in [("ratio", plain), ("ratio CUPED", adjusted)]:
        assert abs(np.mean(flags) - ALPHA) <= TOLERANCE, (name, np.mean(flags))
    # Sessions of one user share its rate: treating them as independent rejects far too often.
    assert np.mean(per_session) > ALPHA + 2 * TOLERANCE


# --- degenerate input and invalid arguments ----------------------------------------------------------------------


def stats_of(rows: list[list[float]]) -> MomentStats:
    return MomentStats.from_values(NAMES, np.array(rows, dtype=float).reshape(-1, 4))


@pytest.mark.parametrize(
    ("control", "treatment", "kwargs", "note"),
    [
        (stats_of([]), stats_of([[1, 1, 1, 1], [2, 1, 1, 1]]), RATIO, "empty_arm"),
        (
            stats_of([[0, 0, 1, 1], [0, 0, 2, 1]]),
            stats_of([[1, 1, 1, 1], [2, 1, 1, 1]]),
            RATIO,
            "zero_denominator_mean",
        ),
        (stats_of([[1, 1, 1, 1]]), stats_of([[1, 1, 1, 1], [2, 1, 1, 1]]), RATIO, "single_unit_arm"),
        (stats_of([[2, 1, 1, 1], [4, 2, 1, 1]]), stats_of([[3, 1, 1, 1], [6, 2, 1, 1]]), RATIO, "zero_variance"),
        (stats_of([[0, 1, 1, 1], [0, 2, 1, 1]]), stats_of([[1, 1, 1, 1], [3, 1, 1, 1]]), RATIO, "zero_control_mean"),
        (
            stats_of([[1, 1, 0, 0], [2, 1, 0, 0], [2, 2, 0, 0]]),
            stats_of([[1, 1, 1, 1], [3, 1, 2, 1]]),
            CUPED_RATIO,
            "zero_covariate_denominator_mean",
        ),
        (
            stats_of([[1, 1, 2, 1], [2, 1, 4, 2], [2, 2, 6, 3]]),
            stats_of([[1, 1, 2, 1], [3, 1, 2, 1]]),
            CUPED_RATIO,
            "zero_covariate_variance",
        ),
    ],
)
def test_degenerate_input_gives_a_note(
    control: MomentStats, treatment: MomentStats, kwargs: dict[str, str], note: str
) -> None:
    result = ratio_test(control, treatment, **kwargs)
    assert isinstance(result, EffectResult)
    assert result.note == note


def test_degenerate_results_keep_what_can_be_computed() -> None:
    single = ratio_test(stats_of([[3, 1, 1, 1]]), stats_of([[1, 1, 1, 1], [5, 1, 1, 1]]), **RATIO)
    assert single.effect == 0.0 and math.isnan(single.se) and math.isnan(single.p_value)
    zero = ratio_test(stats_of([[2, 1, 1, 1], [4, 2, 1, 1]]), stats_of([[3, 1, 1, 1], [6, 2, 1, 1]]), **RATIO)
    assert zero.effect == 1.0 and math.isnan(zero.ci_low)
    fallback = ratio_test(
        stats_of([[1, 1, 2, 1], [2, 1, 4, 2], [2, 2, 6, 3]]), stats_of([[1, 1, 2, 1], [3, 1, 2, 1]]), **CUPED_RATIO
    )
    plain = ratio_test(
        stats_of([[1, 1, 2, 1], [2, 1, 4, 2], [2, 2, 6, 3]]), stats_of([[1, 1, 2, 1], [3, 1, 2, 1]]), **RATIO
    )
    assert fallback.theta == 0.0 and fallback.variance_reduction == 0.0 and close(fallback.p_value, plain.p_value)
    empty = ratio_test(stats_of([]), stats_of([[1, 1, 1, 1], [2, 1, 1, 1]]), **CUPED_RATIO)
    assert empty.theta is not None and math.isnan(empty.theta)
    refunds = ratio_test(
        stats_of([[-3, 1, 1, 1], [-1, 2, 1, 1]]), stats_of([[1, 1, 1, 1], [3, 1, 1, 1]]), **RATIO, relative_ci="log"
    )
    assert refunds.note == "nonpositive_mean" and not math.isnan(refunds.p_value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: ratio_test(C_STATS, T_STATS, numerator="msgs", denominator="sessions"),
            "The 'numerator' parameter of ratio_test must be one of messages, sessions, messages_pre, sessions_pre. "
            "Got 'msgs' instead.",
        ),
        (
            lambda: ratio_test(C_STATS, T_STATS, **RATIO, covariate_numerator="messages_pre"),
            "The 'covariate_denominator' parameter of ratio_test must be given together with covariate_numerator. "
            "Got None instead.",
        ),
        (
            lambda: ratio_test(C_STATS, T_STATS, **RATIO, alpha=1.5),
            "The 'alpha' parameter of ratio_test must be in (0, 1). Got 1.5 instead.",
        ),
        (
            lambda: ratio_test(C_STATS, T_STATS, **RATIO, alternative="bigger"),  # type: ignore[arg-type]
            "The 'alternative' parameter of ratio_test must be one of two-sided, greater, less. Got 'bigger' instead.",
        ),
        (
            lambda: ratio_test(C_STATS.pair("messages", "sessions"), T_STATS, **RATIO),  # type: ignore[arg-type]
            "The 'control' parameter of ratio_test must be a MomentStats. Got 'CovarianceStats' instead.",
        ),
    ],
)
def test_invalid_arguments_raise_one_sentence(call: object, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        call()  # type: ignore[operator]
    assert str(info.value) == message
