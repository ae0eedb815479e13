"""Sample ratio mismatch check pinned to scipy.stats.chisquare."""

from __future__ import annotations

import math

import pytest

from insights.errors import InvalidParameterError
from insights.experiments import SrmResult, srm_test


def test_two_arms_match_scipy() -> None:
    result = srm_test([5000, 5300])
    # scipy 1.17.1: scipy.stats.chisquare([5000, 5300]) -> statistic, pvalue
    assert result.statistic == pytest.approx(8.737864077669903, rel=1e-9)
    assert result.p_value == pytest.approx(0.003116693839866867, rel=1e-9)
    assert result.df == 1 and result.expected == (5150.0, 5150.0)
    assert result.is_mismatch is False  # above the default 0.001 threshold
    assert srm_test([5000, 5300], threshold=0.01).is_mismatch is True


def test_three_arms_match_scipy() -> None:
    result = srm_test([3300, 3350, 3420])
    # scipy 1.17.1: scipy.stats.chisquare([3300, 3350, 3420])
    assert result.statistic == pytest.approx(2.1648460774577956, rel=1e-9)
    assert result.p_value == pytest.approx(0.33877366863192865, rel=1e-9)
    assert result.df == 2 and not result.is_mismatch


def test_unequal_weights_match_scipy() -> None:
    result = srm_test([2100, 5050, 2850], [0.2, 0.5, 0.3])
    # scipy 1.17.1: scipy.stats.chisquare([2100, 5050, 2850], f_exp=[2000, 5000, 3000])
    assert result.statistic == pytest.approx(13.0, rel=1e-9)
    assert result.p_value == pytest.approx(0.0015034391929775717, rel=1e-9)
    assert result.expected == pytest.approx((2000.0, 5000.0, 3000.0))
    # Weights need not sum to one.
    assert srm_test([2100, 5050, 2850], [2, 5, 3]).p_value == pytest.approx(result.p_value, rel=1e-12)


def test_no_units_gives_note() -> None:
    result = srm_test([0, 0])
    assert isinstance(result, SrmResult)
    assert result.note == "no_units" and math.isnan(result.p_value) and not result.is_mismatch
    assert result.to_dict()["note"] == "no_units"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: srm_test([10]),
            "The 'observed' parameter of srm_test must hold at least two non-negative integer counts. Got [10] instead.",
        ),
        (
            lambda: srm_test([10, -1]),
            "The 'observed' parameter of srm_test must hold at least two non-negative integer counts. Got [10, -1] instead.",
        ),
        (
            lambda: srm_test([10, 12], [1.0]),
            "The 'expected_weights' parameter of srm_test must hold 2 positive finite numbers, one per arm. Got [1.0] instead.",
        ),
        (
            lambda: srm_test([10, 12], threshold=0),
            "The 'threshold' parameter of srm_test must be in (0, 1). Got 0 instead.",
        ),
    ],
)
def test_invalid_arguments(call: object, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        call()  # type: ignore[operator]
    assert str(info.value) == message
