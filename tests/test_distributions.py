"""The plain-Python distributions against scipy.special (the reference), over grids that include far tails and the
millions of degrees of freedom a large Welch test has, and against closed forms where scipy itself is inexact."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from insights.distributions import chi2_sf, normal_cdf, normal_ppf, t_cdf, t_ppf

DFS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.7, 10.0, 29.3, 100.0, 1e3, 9_999.0, 1e4, 1e5, 1e6, 6.7e6, 1e7, 3e8, 1e12)
TS = (1e-3, 0.1, 0.5, 1.0, 1.5, 1.7, 1.75, 1.8, 2.0, 2.5, 3.0, 5.0, 8.0, 15.0, 30.0, 100.0, 1e3, 1e6)
PS = (1e-12, 1e-8, 1e-5, 1e-4, 0.001, 0.0125, 0.025, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.975, 0.99, 0.999)


def _rel(got: float, want: float) -> float:
    return abs(got - want) / abs(want) if want else abs(got)


@pytest.mark.parametrize("df", DFS)
def test_t_cdf_matches_scipy_in_both_tails(df: float) -> None:
    for t in TS:
        for x in (-t, t):
            want = float(special.stdtr(df, x))  # scipy.special.stdtr(df, x)
            if want > 1e-300:
                assert _rel(t_cdf(x, df), want) < 1e-12, (df, x)


@pytest.mark.parametrize("df", DFS)
def test_t_ppf_matches_scipy(df: float) -> None:
    for p in PS:
        want = float(special.stdtrit(df, p))  # scipy.special.stdtrit(df, p)
        got = t_ppf(p, df)
        assert abs(got) < 1e-14 if want == 0 else _rel(got, want) < 1e-12, (df, p)
        assert t_cdf(got, df) == pytest.approx(p, rel=1e-11)


def test_t_closed_forms_near_zero_where_scipy_rounds() -> None:
    # Cauchy (df = 1): F(t) = 1/2 + atan(t) / pi; df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2)).
    # scipy.special.stdtr(1, -1e-8) gives 0.4999999952568131, off in the ninth digit.
    for t in (-1e-8, -1e-5, 3e-7):
        assert t_cdf(t, 1.0) == pytest.approx(0.5 + math.atan(t) / math.pi, rel=1e-15)
        assert t_cdf(t, 2.0) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), rel=1e-15)
    assert t_ppf(1e-12, 1.0) == pytest.approx(math.tan(math.pi * (1e-12 - 0.5)), rel=1e-3)
    assert t_ppf(1e-12, 1.0) == pytest.approx(-1 / math.tan(math.pi * 1e-12), rel=1e-15)


def test_normal_matches_scipy() -> None:
    for i in range(-300, 81):
        x = i / 10
        assert _rel(normal_cdf(x), float(special.ndtr(x))) < 2e-13, x
    for p in (1e-300, 1e-100, 1e-20, 1e-10, *PS, 1 - 1e-10):
        assert _rel(normal_ppf(p), float(special.ndtri(p))) < 1e-14, p
    assert normal_ppf(0.0) == -math.inf and normal_ppf(1.0) == math.inf


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 10, 20, 50, 100, 1000])
def test_chi2_sf_matches_scipy(df: int) -> None:
    for x in (1e-6, 0.01, 0.5, 1.0, 2.0, 3.84, 5.0, 10.0, 30.0, 60.0, 100.0, 200.0, 500.0, 1000.0, 1500.0):
        want = float(special.chdtrc(df, x))  # scipy.special.chdtrc(df, x)
        if want > 1e-300:
            assert _rel(chi2_sf(x, df), want) < 1e-12, (df, x)
    assert chi2_sf(0.0, df) == 1.0


@settings(max_examples=300, deadline=None)
@given(df=st.floats(0.2, 1e9), x=st.floats(-50, 50))
def test_t_cdf_is_a_distribution(df: float, x: float) -> None:
    value = t_cdf(x, df)
    assert 0.0 <= value <= 1.0
    assert value + t_cdf(-x, df) == pytest.approx(1.0, abs=1e-14)
    assert _rel(value, float(special.stdtr(df, x))) < 1e-11 or abs(x) < 1e-6


def test_degenerate_arguments_give_nan_or_limits() -> None:
    assert math.isnan(t_cdf(1.0, 0.0)) and math.isnan(t_ppf(1.5, 3.0)) and math.isnan(chi2_sf(1.0, -1))
    assert t_cdf(-math.inf, 5.0) == 0.0 and t_cdf(math.inf, 5.0) == 1.0
    assert t_ppf(1.0, 5.0) == math.inf and t_ppf(0.5, 5.0) == 0.0
    assert t_cdf(-2.0, math.inf) == pytest.approx(float(special.ndtr(-2.0)), rel=1e-15)
