"""Every public callable of insights.engagement refuses a wrong call in the one sentence shape of the project."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa
import pytest

import insights.engagement as en
from tests.engagement import test_errors_compare as compare_errors
from tests.engagement import test_errors_predict as predict_errors
from tests.test_parameter_errors import assert_one_sentence, missing_wrong_calls

#: results are built by the functions that return them; the error is raised, not called
NOT_CALLED_BY_USERS = {
    "EngagementRates",
    "RateRatio",
    "RateRatios",
    "RateRow",
    "TermTest",
    "TermTests",
    "BestTimes",
    "PostingAssignments",
    "PostingTimeExperiment",
    "Recommendation",
    "SlotEstimate",
    "TimeSlots",
    "TwoLevelFit",
    "WindowEstimate",
    *predict_errors.NOT_CALLED_BY_USERS,
    *compare_errors.NOT_CALLED_BY_USERS,
}

CON = duckdb.connect()
POSTS = pa.table(
    {
        "account": ["x/a", "x/b"] * 10,
        "content_type": ["text", "video"] * 10,
        "engagements": [float(i) for i in range(20)],
        "exposure": [100.0] * 20,
        "exclusion": pa.array([None] * 20, pa.string()),
    }
)
FITTED = en.EngagementModel(["account"], family="poisson").fit(POSTS)

WRONG_CALLS: dict[str, Callable[[], object]] = {
    **{k: v for k, v in predict_errors.WRONG_CALLS.items() if " " not in k},
    **{k: v for k, v in compare_errors.WRONG_CALLS.items() if " " not in k},
    "EngagementDefinition": lambda: en.EngagementDefinition(counters=("likes", "retweets")),
    "post_features": lambda: en.post_features(CON, timezone="Mars/Olympus"),
    "engagement_rates": lambda: en.engagement_rates(POSTS, by=["colour"]),
    "EngagementModel": lambda: en.EngagementModel(family="gaussian").fit(POSTS),
    "EngagementModel.fit": lambda: en.EngagementModel(["colour"]).fit(POSTS),
    "EngagementModel.predict": lambda: FITTED.predict("posts.csv"),
    "EngagementModel.predict_rate": lambda: FITTED.predict_rate(POSTS.drop_columns(["account"])),
    "EngagementModel.set_params": lambda: FITTED.set_params(colour="red"),
    "shrink": lambda: en.shrink([0.1], [0.1], 0.0, tau2=-1.0),
    "best_times": lambda: en.best_times(POSTS, block_hours=5),
    "posting_time_experiment": lambda: en.posting_time_experiment(42, "x/a"),  # type: ignore[arg-type]
    "assign_posting_times": lambda: en.assign_posting_times(["p1"], 42, seed=1),  # type: ignore[arg-type]
    # every other parameter, once
    "EngagementDefinition by_platform": lambda: en.EngagementDefinition(by_platform={"x": "likes"}),
    "EngagementDefinition denominator": lambda: en.EngagementDefinition(denominator="views"),
    "EngagementDefinition age": lambda: en.EngagementDefinition(age="30d"),
    "post_features engagement": lambda: en.post_features(CON, engagement="likes"),  # type: ignore[arg-type]
    "post_features start": lambda: en.post_features(CON, start="last week"),
    "post_features timezone map": lambda: en.post_features(CON, timezone={"a": 5}),  # type: ignore[dict-item]
    "engagement_rates features": lambda: en.engagement_rates(42),
    "engagement_rates alpha": lambda: en.engagement_rates(POSTS, by=[], alpha=5),
    "engagement_rates engagement": lambda: en.engagement_rates(POSTS, engagement="likes"),  # type: ignore[arg-type]
    "EngagementModel terms": lambda: en.EngagementModel("account").fit(POSTS),  # type: ignore[arg-type]
    "EngagementModel covariance": lambda: en.EngagementModel(["account"], covariance="hc3").fit(POSTS),
    "EngagementModel alpha": lambda: en.EngagementModel(["account"], alpha=0).fit(POSTS),
    "EngagementModel min_posts": lambda: en.EngagementModel(["account"], min_posts=0).fit(POSTS),
    "EngagementModel reference": lambda: en.EngagementModel(["account"], reference={"paid": "yes"}).fit(POSTS),
    "EngagementModel too few posts": lambda: en.EngagementModel(["account"]).fit(POSTS.slice(0, 1)),
}


def test_every_public_callable_has_a_wrong_call() -> None:
    missing = missing_wrong_calls(en, WRONG_CALLS, NOT_CALLED_BY_USERS)
    assert not missing, f"add a wrong call for {missing}"


@pytest.mark.parametrize("name", sorted(WRONG_CALLS))
def test_a_wrong_call_reads_as_one_sentence(name: str) -> None:
    assert_one_sentence(WRONG_CALLS[name])
