"""Sufficient-statistics records, Welch t, two-proportion z and CUPED, pinned to scipy and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from insights.errors import InvalidParameterError
from insights.experiments import CovarianceStats, EffectResult, SampleStats, cuped, proportion_z_test, welch_test

REL = 1e-9
CONTROL = [12.1, 9.8, 11.4, 10.2, 13.5, 8.9, 10.7, 12.8]
TREATMENT = [13.2, 14.1, 11.9, 15.3, 12.7, 16.0, 13.8, 12.2, 14.9, 13.1]

values = st.lists(st.floats(-1e3, 1e3, allow_nan=False), max_size=30)


def close(a: float, b: float, rel: float = REL) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


# --- SampleStats and CovarianceStats -----------------------------------------------------------------------------


def test_from_values_proportion_and_sums_agree() -> None:
    data = np.array([1, 0, 0, 1, 1, 0, 0, 0, 1, 0], dtype=float)
    from_values = SampleStats.from_values(data)
    from_proportion = SampleStats.from_proportion(4, 10)
    from_sums = SampleStats.from_sums(10, float(data.sum()), float((data**2).sum()))
    for other in (from_proportion, from_sums):
        assert other.n == from_values.n
        assert close(other.mean, from_values.mean)
        assert close(other.variance, from_values.variance)


def test_empty_and_single_unit_records() -> None:
    empty = SampleStats.from_values([])
    assert empty.n == 0 and math.isnan(empty.mean) and math.isnan(empty.variance)
    single = SampleStats.from_values([3.0])
    assert single.mean == 3.0 and math.isnan(single.variance)
    assert empty + single == single
    assert single + empty == single
    assert (single + SampleStats.from_values([5.0])).variance == pytest.approx(2.0)


@settings(max_examples=200, deadline=None)
@given(values, values)
def test_stats_of_concatenation_equal_sum_of_stats(a: list[float], b: list[float]) -> None:
    combined = SampleStats.from_values(a) + SampleStats.from_values(b)
    direct = SampleStats.from_values(a + b)
    assert combined.n == direct.n
    if direct.n:
        assert math.isclose(combined.mean, direct.mean, rel_tol=1e-9, abs_tol=1e-9)
    if direct.n >= 2:
        assert math.isclose(combined.variance, direct.variance, rel_tol=1e-7, abs_tol=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), max_size=30), st.integers(0, 30))
def test_covariance_stats_add_like_concatenation(pairs: list[tuple[float, float]], cut: int) -> None:
    x = [p[0] for p in pairs]
    y = [p[1] for p in pairs]
    combined = CovarianceStats.from_values(x[:cut], y[:cut]) + CovarianceStats.from_values(x[cut:], y[cut:])
    direct = CovarianceStats.from_values(x, y)
    assert combined.n == direct.n
    if direct.n >= 2:
        for name in ("mean_x", "mean_y", "var_x", "var_y", "cov_xy"):
            assert math.isclose(getattr(combined, name), getattr(direct, name), rel_tol=1e-7, abs_tol=1e-6), name


def test_covariance_from_sums_matches_from_values() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=50), rng.normal(size=50)
    direct = CovarianceStats.from_values(x, y)
    sums = CovarianceStats.from_sums(50, x.sum(), y.sum(), (x * x).sum(), (y * y).sum(), (x * y).sum())
    for name in ("mean_x", "mean_y", "var_x", "var_y", "cov_xy"):
        assert close(getattr(sums, name), getattr(direct, name), rel=1e-9), name
    assert close(direct.x.variance, SampleStats.from_values(x).variance)


# --- Welch t -----------------------------------------------------------------------------------------------------


def test_welch_matches_scipy_and_statsmodels() -> None:
    result = welch_test(SampleStats.from_values(CONTROL), SampleStats.from_values(TREATMENT))
    # scipy 1.17.1: scipy.stats.ttest_ind(TREATMENT, CONTROL, equal_var=False) -> statistic, pvalue, df
    assert close(result.statistic, 3.6319762855234106)
    assert close(result.p_value, 0.0027222426829157376)
    assert close(result.df, 13.993425041837641)
    # statsmodels 0.15.0: CompareMeans(DescrStatsW(TREATMENT), DescrStatsW(CONTROL)).tconfint_diff(usevar="unequal")
    assert close(result.ci_low, 1.0420378893994922)
    assert close(result.ci_high, 4.047962110600511)
    assert close(result.effect, float(np.mean(TREATMENT) - np.mean(CONTROL)))
    assert result.note is None
    assert result.method == "welch t, two-sided, relative CI by delta method"


def test_welch_one_sided() -> None:
    control, treatment = SampleStats.from_values(CONTROL), SampleStats.from_values(TREATMENT)
    greater = welch_test(control, treatment, alternative="greater", alpha=0.1)
    # scipy 1.17.1: scipy.stats.ttest_ind(TREATMENT, CONTROL, equal_var=False, alternative="greater").pvalue
    assert close(greater.p_value, 0.0013611213414578688)
    # statsmodels 0.15.0: CompareMeans(...).tconfint_diff(alpha=0.1, alternative="larger", usevar="unequal")
    assert close(greater.ci_low, 1.6024878090134311)
    assert greater.ci_high == math.inf and greater.relative_ci_high == math.inf
    less = welch_test(control, treatment, alternative="less")
    # scipy 1.17.1: scipy.stats.ttest_ind(TREATMENT, CONTROL, equal_var=False, alternative="less").pvalue
    assert close(less.p_value, 0.9986388786585422)
    assert less.ci_low == -math.inf


def test_welch_relative_ci_methods() -> None:
    control, treatment = SampleStats.from_values(CONTROL), SampleStats.from_values(TREATMENT)
    delta = welch_test(control, treatment)
    log = welch_test(control, treatment, relative_ci="log")
    mc, mt = float(np.mean(CONTROL)), float(np.mean(TREATMENT))
    vc, vt = np.var(CONTROL, ddof=1) / len(CONTROL), np.var(TREATMENT, ddof=1) / len(TREATMENT)
    q = sps.t.ppf(0.975, delta.df)
    # Direct delta-method and log-ratio formulas for the ratio of two independent means.
    se_delta = math.sqrt(vt / mc**2 + mt**2 * vc / mc**4)
    se_log = math.sqrt(vt / mt**2 + vc / mc**2)
    assert close(delta.relative, mt / mc - 1)
    assert close(delta.relative_ci_low, mt / mc - 1 - q * se_delta)
    assert close(delta.relative_ci_high, mt / mc - 1 + q * se_delta)
    assert close(log.relative_ci_low, math.exp(math.log(mt / mc) - q * se_log) - 1)
    assert close(log.relative_ci_high, math.exp(math.log(mt / mc) + q * se_log) - 1)
    assert "log ratio" in log.method


def test_result_is_a_record_with_to_dict() -> None:
    result = welch_test(SampleStats(100, 10.0, 4.0), SampleStats(100, 11.0, 4.0))
    assert isinstance(result, EffectResult)
    as_dict = result.to_dict()
    assert list(as_dict)[:3] == ["control_mean", "treatment_mean", "effect"]
    assert as_dict["note"] is None and as_dict["theta"] is None


@pytest.mark.parametrize(
    ("control", "treatment", "note"),
    [
        (SampleStats.from_values([]), SampleStats.from_values([1.0, 2.0]), "empty_arm"),
        (SampleStats.from_values([1.0]), SampleStats.from_values([1.0, 2.0]), "single_unit_arm"),
        (SampleStats.from_values([3.0, 3.0]), SampleStats.from_values([4.0, 4.0, 4.0]), "zero_variance"),
        (SampleStats.from_values([-1.0, 1.0]), SampleStats.from_values([1.0, 2.0]), "zero_control_mean"),
    ],
)
def test_welch_degenerate_input_gives_note(control: SampleStats, treatment: SampleStats, note: str) -> None:
    result = welch_test(control, treatment)
    assert result.note == note
    assert math.isnan(result.relative_ci_low)


def test_welch_degenerate_keeps_what_can_be_computed() -> None:
    zero_var = welch_test(SampleStats.from_values([3.0, 3.0]), SampleStats.from_values([4.0, 4.0]))
    assert zero_var.effect == 1.0 and math.isnan(zero_var.p_value)
    zero_mean = welch_test(SampleStats.from_values([-1.0, 1.0]), SampleStats.from_values([1.0, 2.0]))
    assert not math.isnan(zero_mean.p_value) and math.isnan(zero_mean.relative)
    negative = welch_test(SampleStats(10, -1.0, 1.0), SampleStats(10, 1.0, 1.0), relative_ci="log")
    assert negative.note == "nonpositive_mean" and math.isnan(negative.relative_ci_low)


# --- two-proportion z --------------------------------------------------------------------------------------------


def prop(successes: int, n: int) -> SampleStats:
    return SampleStats.from_proportion(successes, n)


def test_pooled_z_matches_statsmodels() -> None:
    result = proportion_z_test(prop(100, 1000), prop(130, 1000))
    # statsmodels 0.15.0: statsmodels.stats.proportion.proportions_ztest([130, 100], [1000, 1000])
    assert close(result.statistic, 2.102740605622114)
    assert close(result.p_value, 0.03548845046647471)
    # statsmodels 0.15.0: confint_proportions_2indep(130, 1000, 100, 1000, method="wald", compare="diff")
    assert close(result.ci_low, 0.0020679344393763587)
    assert close(result.ci_high, 0.057932065560623636)
    unequal = proportion_z_test(prop(100, 1000), prop(260, 2000))
    # statsmodels 0.15.0: proportions_ztest([260, 100], [2000, 1000])
    assert close(unequal.statistic, 2.3836564731139807)
    assert close(unequal.p_value, 0.017141595440795625)
    greater = proportion_z_test(prop(100, 1000), prop(130, 1000), alternative="greater")
    # statsmodels 0.15.0: proportions_ztest([130, 100], [1000, 1000], alternative="larger")
    assert close(greater.p_value, 0.017744225233237355)


def test_unpooled_z_matches_statsmodels_wald() -> None:
    result = proportion_z_test(prop(100, 1000), prop(130, 1000), pooled=False, relative_ci="log")
    # statsmodels 0.15.0: test_proportions_2indep(130, 1000, 100, 1000, method="wald", compare="diff")
    assert close(result.statistic, 2.1050687930179994)
    assert close(result.p_value, 0.03528532025049282)
    # statsmodels 0.15.0: confint_proportions_2indep(130, 1000, 100, 1000, method="log", compare="ratio") minus 1
    assert close(result.relative_ci_low, 1.0169842709710455 - 1)
    assert close(result.relative_ci_high, 1.6617759470226023 - 1)
    assert "unpooled SE for the test" in result.method


def test_continuity_correction_matches_yates_chi_square() -> None:
    plain = proportion_z_test(prop(100, 1000), prop(130, 1000))
    result = proportion_z_test(prop(100, 1000), prop(130, 1000), continuity=True)
    # scipy 1.17.1: scipy.stats.chi2_contingency([[130, 870], [100, 900]], correction=True) -> statistic, pvalue
    assert close(result.statistic**2, 4.1316629820682875)
    assert close(result.p_value, 0.04208797176717574)
    assert close(plain.ci_low - result.ci_low, 0.001)  # widened by (1/1000 + 1/1000) / 2
    assert "with continuity correction" in result.method


def test_proportion_degenerate_input_gives_note() -> None:
    assert proportion_z_test(prop(0, 0), prop(3, 10)).note == "empty_arm"
    zero = proportion_z_test(prop(0, 100), prop(0, 100))
    assert zero.note == "zero_variance" and math.isnan(zero.p_value) and zero.effect == 0.0
    no_control = proportion_z_test(prop(0, 100), prop(5, 100))
    assert no_control.note == "zero_control_mean" and not math.isnan(no_control.p_value)


# --- CUPED -------------------------------------------------------------------------------------------------------


def simulate(rng: np.random.Generator, n: int, lift: float) -> tuple[np.ndarray, np.ndarray]:
    pre = rng.normal(10.0, 2.0, size=n)
    post = 5.0 + 0.8 * pre + rng.normal(0.0, 1.5, size=n) + lift
    return post, pre


def test_cuped_matches_direct_numpy_computation() -> None:
    rng = np.random.default_rng(42)
    xc, yc = simulate(rng, 3000, 0.0)
    xt, yt = simulate(rng, 3000, 0.2)
    result = cuped(CovarianceStats.from_values(xc, yc), CovarianceStats.from_values(xt, yt))
    # Direct: theta from within-arm co-moments; adjust each unit around the overall covariate mean; Welch on units.
    m_xy = np.sum((xc - xc.mean()) * (yc - yc.mean())) + np.sum((xt - xt.mean()) * (yt - yt.mean()))
    m_yy = np.sum((yc - yc.mean()) ** 2) + np.sum((yt - yt.mean()) ** 2)
    theta = m_xy / m_yy
    y_bar = np.concatenate([yc, yt]).mean()
    adj_c, adj_t = xc - theta * (yc - y_bar), xt - theta * (yt - y_bar)
    reference = sps.ttest_ind(adj_t, adj_c, equal_var=False)
    assert result.theta is not None and close(result.theta, theta, rel=1e-9)
    assert close(result.effect, adj_t.mean() - adj_c.mean(), rel=1e-9)
    assert close(result.statistic, reference.statistic, rel=1e-8)
    assert close(result.p_value, reference.pvalue, rel=1e-6)
    assert close(result.relative, adj_t.mean() / adj_c.mean() - 1, rel=1e-9)
    assert result.method.startswith("CUPED")


def test_cuped_variance_reduction_is_about_rho_squared() -> None:
    rng = np.random.default_rng(7)
    xc, yc = simulate(rng, 20000, 0.0)
    xt, yt = simulate(rng, 20000, 0.0)
    result = cuped(CovarianceStats.from_values(xc, yc), CovarianceStats.from_values(xt, yt))
    # Population correlation: cov = 0.8 * 4, var_x = 0.64 * 4 + 2.25, var_y = 4.
    rho2 = (0.8 * 4) ** 2 / ((0.64 * 4 + 2.25) * 4)
    assert result.variance_reduction is not None
    assert result.variance_reduction == pytest.approx(rho2, abs=0.01)
    plain = welch_test(SampleStats.from_values(xc), SampleStats.from_values(xt))
    assert result.ci_high - result.ci_low < plain.ci_high - plain.ci_low


def test_cuped_degenerate_inputs() -> None:
    flat = cuped(
        CovarianceStats.from_values([1.0, 2.0, 3.0], [5.0] * 3), CovarianceStats.from_values([2.0, 4.0], [5.0] * 2)
    )
    assert flat.note == "zero_covariate_variance" and flat.theta == 0.0 and flat.variance_reduction == 0.0
    empty = cuped(CovarianceStats.from_values([], []), CovarianceStats.from_values([1.0, 2.0], [1.0, 3.0]))
    assert empty.note == "empty_arm" and empty.theta is not None and math.isnan(empty.theta)


# --- standard error of the effect --------------------------------------------------------------------------------


def test_se_is_the_standard_error_behind_the_interval() -> None:
    welch = welch_test(SampleStats.from_values(CONTROL), SampleStats.from_values(TREATMENT))
    # statsmodels 0.15.0: CompareMeans(DescrStatsW(TREATMENT), DescrStatsW(CONTROL)).std_meandiff_separatevar
    assert close(welch.se, 0.7007204342561497)
    z = proportion_z_test(prop(100, 1000), prop(130, 1000))  # pooled SE for the test, but se is the CI's Wald SE
    # statsmodels 0.15.0: r = test_proportions_2indep(130, 1000, 100, 1000, method="wald", compare="diff",
    #     correction=False); r.diff / r.statistic
    assert close(z.se, 0.014251315728731857)
    rng = np.random.default_rng(42)
    xc, yc = simulate(rng, 500, 0.0)
    xt, yt = simulate(rng, 500, 0.2)
    adjusted = cuped(CovarianceStats.from_values(xc, yc), CovarianceStats.from_values(xt, yt))
    plain = welch_test(SampleStats.from_values(xc), SampleStats.from_values(xt))
    assert close(adjusted.se, adjusted.effect / adjusted.statistic)
    assert adjusted.variance_reduction is not None
    assert close(adjusted.se**2, plain.se**2 * (1 - adjusted.variance_reduction))
    assert list(welch.to_dict())[-1] == "se"


def test_se_is_nan_where_the_interval_is() -> None:
    assert math.isnan(welch_test(SampleStats.from_values([3.0, 3.0]), SampleStats.from_values([4.0, 4.0])).se)
    assert math.isnan(welch_test(SampleStats.from_values([1.0]), SampleStats.from_values([1.0, 2.0])).se)
    assert math.isnan(proportion_z_test(prop(0, 100), prop(0, 100)).se)
    assert math.isnan(proportion_z_test(prop(0, 100), prop(100, 100)).se)
    assert math.isnan(
        cuped(CovarianceStats.from_values([], []), CovarianceStats.from_values([1.0, 2.0], [1.0, 3.0])).se
    )
    # Records built by hand before the field existed still construct, with se NaN.
    assert math.isnan(EffectResult(1, 2, 1, 0, 2, 0.05, 2, 10, 1, 0, 2, "by hand").se)


# --- invalid arguments -------------------------------------------------------------------------------------------

A, B = SampleStats(10, 1.0, 1.0), SampleStats(10, 1.2, 1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: welch_test(A, B, alpha=1.5),
            "The 'alpha' parameter of welch_test must be in (0, 1). Got 1.5 instead.",
        ),
        (
            lambda: welch_test(A, B, alternative="bigger"),  # type: ignore[arg-type]
            "The 'alternative' parameter of welch_test must be one of two-sided, greater, less. Got 'bigger' instead.",
        ),
        (
            lambda: welch_test(A, B, relative_ci="fieller"),  # type: ignore[arg-type]
            "The 'relative_ci' parameter of welch_test must be one of delta, log. Got 'fieller' instead.",
        ),
        (
            lambda: welch_test((10, 1.0, 1.0), B),  # type: ignore[arg-type]
            "The 'control' parameter of welch_test must be a SampleStats. Got 'tuple' instead.",
        ),
        (
            lambda: proportion_z_test(A, SampleStats(10, 1.5, 0.1)),
            "The 'treatment' parameter of proportion_z_test must have a mean (rate) in [0, 1]. Got 1.5 instead.",
        ),
        (
            lambda: proportion_z_test(A, B, pooled="yes"),  # type: ignore[arg-type]
            "The 'pooled' parameter of proportion_z_test must be True or False. Got 'yes' instead.",
        ),
        (
            lambda: cuped(A, B),  # type: ignore[arg-type]
            "The 'control' parameter of cuped must be a CovarianceStats. Got 'SampleStats' instead.",
        ),
        (
            lambda: SampleStats.from_proportion(11, 10),
            "The 'successes' parameter of SampleStats.from_proportion must be at most n=10. Got 11 instead.",
        ),
        (
            lambda: SampleStats(-1, 0.0, 0.0),
            "The 'n' parameter of SampleStats must be a non-negative integer. Got -1 instead.",
        ),
        (
            lambda: SampleStats(5, 0.0, -2.0),
            "The 'variance' parameter of SampleStats must be non-negative. Got -2.0 instead.",
        ),
        (
            lambda: SampleStats.from_values([1.0, math.nan]),
            "The 'values' parameter of SampleStats.from_values must contain only finite numbers. Got 'NaN or infinity' instead.",
        ),
        (
            lambda: CovarianceStats.from_values([1.0, 2.0], [1.0]),
            "The 'y' parameter of CovarianceStats.from_values must have the length of x (2). Got 1 instead.",
        ),
    ],
)
def test_invalid_arguments_raise_one_sentence(call: object, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        call()  # type: ignore[operator]
    assert str(info.value) == message
