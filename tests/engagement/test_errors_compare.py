"""Every public callable of insights.engagement.compare refuses a wrong call in the one sentence shape of the project."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import insights.engagement.compare as co
from insights.engagement import EngagementModel
from tests.engagement.test_compare import HAND
from tests.test_parameter_errors import assert_one_sentence, missing_wrong_calls

#: results are built by compare_origins, not by callers
NOT_CALLED_BY_USERS = {"OriginComparison", "OriginRatio"}

WRONG_CALLS: dict[str, Callable[[], object]] = {
    "compare_origins": lambda: co.compare_origins(HAND, strata=("platform", "colour")),
    # every other parameter, once
    "compare_origins features": lambda: co.compare_origins("posts.csv"),
    "compare_origins features columns": lambda: co.compare_origins(HAND.drop_columns(["origin"])),
    "compare_origins strata str": lambda: co.compare_origins(HAND, strata="platform"),
    "compare_origins strata empty": lambda: co.compare_origins(HAND, strata=()),
    "compare_origins strata repeated": lambda: co.compare_origins(HAND, strata=("platform", "platform")),
    "compare_origins strata column": lambda: co.compare_origins(HAND, strata=("campaign",)),
    "compare_origins reference": lambda: co.compare_origins(HAND, reference=""),
    "compare_origins alpha": lambda: co.compare_origins(HAND, alpha=1.0),
    "compare_origins model": lambda: co.compare_origins(HAND, model="negative_binomial"),  # type: ignore[arg-type]
    "compare_origins model terms": lambda: co.compare_origins(HAND, model=EngagementModel(["colour"])),
}


def test_every_public_callable_has_a_wrong_call() -> None:
    missing = missing_wrong_calls(co, WRONG_CALLS, NOT_CALLED_BY_USERS)
    assert not missing, f"add a wrong call for {missing}"


@pytest.mark.parametrize("name", sorted(WRONG_CALLS))
def test_a_wrong_call_reads_as_one_sentence(name: str) -> None:
    assert_one_sentence(WRONG_CALLS[name])
