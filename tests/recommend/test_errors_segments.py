"""Every public callable of insights.recommend.segments refuses a wrong call in the one sentence shape of the project."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pytest

import insights.recommend.segments as sg
from tests.recommend.test_segments import ORDINARY, synthetic_posts
from tests.test_parameter_errors import assert_one_sentence, missing_wrong_calls

#: results are built by recommend, not by callers
NOT_CALLED_BY_USERS = {"OptionEstimate", "PooledEffect", "Recommendations", "SegmentRecommendation"}

POSTS = synthetic_posts(9, dict(list(ORDINARY.items())[:3]))
RESULT = sg.recommend(POSTS, choices=("content_type",), pool_by=None)
EMPTY = duckdb.connect()
OTHER = duckdb.connect().sql("SELECT 'p1' AS post_id, 1 AS n_leads")

WRONG_CALLS: dict[str, Callable[[], object]] = {
    "recommend": lambda: sg.recommend(POSTS, choices=("colour",)),
    "lead_outcomes": lambda: sg.lead_outcomes("warehouse.duckdb"),  # type: ignore[arg-type]
    "Recommendations.arms": lambda: RESULT.arms(choice="slot"),
    "Recommendations.plot": lambda: RESULT.plot("prompt"),
    # every other parameter, once
    "lead_outcomes con": lambda: sg.lead_outcomes(EMPTY),
    "recommend features": lambda: sg.recommend([1, 2, 3]),
    "recommend segment": lambda: sg.recommend(POSTS, segment=("account", 3)),  # type: ignore[arg-type]
    "recommend segment column": lambda: sg.recommend(POSTS, segment="audience", pool_by=None),
    "recommend segment is a choice": lambda: sg.recommend(
        POSTS, segment="content_type", choices=("content_type",), pool_by=None
    ),
    "recommend choices empty": lambda: sg.recommend(POSTS, choices=()),
    "recommend choices both prompts": lambda: sg.recommend(POSTS, choices=("prompt", "prompt_version")),
    "recommend choices columns": lambda: sg.recommend(POSTS, choices=("slot",), pool_by=None),
    "recommend outcome": lambda: sg.recommend(POSTS, outcome="revenue"),
    "recommend leads": lambda: sg.recommend(POSTS, choices=("content_type",), outcome="leads", pool_by=None),
    "recommend leads columns": lambda: sg.recommend(
        POSTS, choices=("content_type",), outcome="qualified_leads", leads=OTHER, pool_by=None
    ),
    "recommend pool_by": lambda: sg.recommend(POSTS, choices=("content_type",), pool_by=""),
    "recommend pool_by column": lambda: sg.recommend(POSTS, choices=("content_type",)),
    "recommend pool_by nested": lambda: sg.recommend(POSTS, choices=("content_type",), pool_by="is_paid", adjust=()),
    "recommend adjust": lambda: sg.recommend(POSTS, choices=("content_type",), pool_by=None, adjust="is_paid,"),
    "recommend adjust clash": lambda: sg.recommend(
        POSTS, choices=("content_type",), adjust=("content_type",), pool_by=None
    ),
    "recommend block_hours": lambda: sg.recommend(POSTS, choices=("content_type",), block_hours=5),
    "recommend min_posts": lambda: sg.recommend(POSTS, choices=("content_type",), min_posts=0),
    "recommend alpha": lambda: sg.recommend(POSTS, choices=("content_type",), alpha=0.0),
    "arms segment": lambda: RESULT.arms("x/nobody", choice="content_type"),
}


def test_every_public_callable_has_a_wrong_call() -> None:
    missing = missing_wrong_calls(sg, WRONG_CALLS, NOT_CALLED_BY_USERS)
    missing += sorted({"Recommendations.arms", "Recommendations.plot"} - set(WRONG_CALLS))
    assert not missing, f"add a wrong call for {missing}"


@pytest.mark.parametrize("name", sorted(WRONG_CALLS))
def test_a_wrong_call_reads_as_one_sentence(name: str) -> None:
    assert_one_sentence(WRONG_CALLS[name])


def test_leads_from_another_connection_are_refused() -> None:
    with pytest.raises(ValueError, match="same connection as features"):
        sg.recommend(
            duckdb.connect().from_arrow(POSTS).project("*, 'p' || row_number() OVER () AS post_id"),
            choices=("content_type",),
            outcome="leads",
            leads=OTHER,
            pool_by=None,
        )
