"""Multiple-testing corrections pinned to statsmodels.stats.multitest.multipletests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights.errors import InvalidParameterError
from insights.experiments import CORRECTION_METHODS, adjust_pvalues

P = [0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.045]

# statsmodels 0.15.0: statsmodels.stats.multitest.multipletests(P, method=M)[1].tolist(), M named in each row
EXPECTED = {
    "holm": [0.06, 0.16, 0.15, 0.035, 0.4, 0.5, 0.16],  # M = "holm"
    "hochberg": [0.06, 0.135, 0.135, 0.035, 0.4, 0.5, 0.135],  # M = "simes-hochberg"
    "bonferroni": [0.07, 0.28, 0.21, 0.035, 1.0, 1.0, 0.315],  # M = "bonferroni"
    "sidak": [
        0.06793465209301,
        0.24855252189184,
        0.19201715521887,
        0.0344793531905157,
        0.7902848,
        0.9921875,
        0.27552467046293505,
    ],  # M = "sidak"
    "bh": [0.035, 0.063, 0.063, 0.035, 0.23333333333333336, 0.5, 0.063],  # M = "fdr_bh"
    "by": [0.09075, 0.16334999999999997, 0.16334999999999997, 0.09075, 0.605, 1.0, 0.16334999999999997],  # "fdr_by"
}


@pytest.mark.parametrize("method", CORRECTION_METHODS)
def test_matches_statsmodels(method: str) -> None:
    np.testing.assert_allclose(adjust_pvalues(P, method=method), EXPECTED[method], rtol=1e-9)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), max_size=20), st.sampled_from(CORRECTION_METHODS))
def test_adjusted_are_capped_monotone_and_not_smaller(p: list[float], method: str) -> None:
    adjusted = adjust_pvalues(p, method=method)  # type: ignore[arg-type]
    raw = np.asarray(p)
    assert adjusted.shape == raw.shape
    assert np.all(adjusted <= 1.0)
    assert np.all(adjusted >= raw - 1e-12)
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= -1e-12)


def test_empty_family() -> None:
    assert adjust_pvalues([]).size == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"p_values": [0.1], "method": "fdr"},
            "The 'method' parameter of adjust_pvalues must be one of holm, hochberg, bonferroni, sidak, bh, by. "
            "Got 'fdr' instead.",
        ),
        (
            {"p_values": [0.1, 1.2]},
            "The 'p_values' parameter of adjust_pvalues must contain only numbers in [0, 1]. Got [0.1, 1.2] instead.",
        ),
    ],
)
def test_invalid_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        adjust_pvalues(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message
