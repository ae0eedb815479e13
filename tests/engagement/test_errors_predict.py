"""Every public callable of insights.engagement.predict refuses a wrong call in the one sentence shape of the project."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pyarrow as pa
import pytest

import insights.engagement.predict as pr
from tests.engagement.test_predict import synthetic_posts
from tests.test_parameter_errors import assert_one_sentence, missing_wrong_calls

#: results are built by time_ordered_cv, not by callers; the error is raised, not called
NOT_CALLED_BY_USERS = {"FoldScore", "ForecastEvaluation", "ForecastScores", "PredictorNotFittedError"}

POSTS = synthetic_posts(120, seed=5)
FITTED = pr.EngagementPredictor(max_iter=5).fit(POSTS)
DRAFTS = POSTS.drop_columns(["exposure", "engagements", "exclusion"])
UNUSABLE = POSTS.set_column(POSTS.column_names.index("exposure"), "exposure", pa.array([0.0] * POSTS.num_rows))

WRONG_CALLS: dict[str, Callable[[], object]] = {
    "EngagementPredictor": lambda: pr.EngagementPredictor(learning_rate=-0.1).fit(POSTS),
    "EngagementPredictor.predict": lambda: FITTED.predict(42),
    "EngagementPredictor.predict_engagements": lambda: FITTED.predict_engagements(DRAFTS),
    "EngagementPredictor.score": lambda: FITTED.score(POSTS, [1, 2]),  # type: ignore[arg-type]
    "time_ordered_cv": lambda: pr.time_ordered_cv(POSTS, n_splits=0),
    # every other parameter, once
    "features str": lambda: pr.EngagementPredictor(features="account").fit(POSTS),
    "features repeated": lambda: pr.EngagementPredictor(features=("account", "account")).fit(POSTS),
    "features outcome": lambda: pr.EngagementPredictor(features=("account", "engagement_rate")).fit(POSTS),
    "features missing": lambda: pr.EngagementPredictor(features=("account", "colour")).fit(POSTS),
    "features type": lambda: pr.EngagementPredictor(features=("account", "published_at")).fit(POSTS),
    "max_iter": lambda: pr.EngagementPredictor(max_iter=0).fit(POSTS),
    "max_depth": lambda: pr.EngagementPredictor(max_depth=0).fit(POSTS),
    "min_samples_leaf": lambda: pr.EngagementPredictor(min_samples_leaf=0.5).fit(POSTS),  # type: ignore[arg-type]
    "l2_regularization": lambda: pr.EngagementPredictor(l2_regularization=-1.0).fit(POSTS),
    "random_state": lambda: pr.EngagementPredictor(random_state=-3).fit(POSTS),
    "fit y": lambda: pr.EngagementPredictor().fit(POSTS, [1.0]),  # type: ignore[arg-type]
    "fit X type": lambda: pr.EngagementPredictor().fit([[1, 2]]),
    "fit X unusable": lambda: pr.EngagementPredictor().fit(UNUSABLE),
    "fit X ragged dict": lambda: pr.EngagementPredictor().fit({"account": ["a", "b"], "exposure": [1.0]}),
    "predict missing feature": lambda: FITTED.predict(DRAFTS.drop_columns(["content_type"])),
    "predict wrong type": lambda: FITTED.predict({**DRAFTS.to_pydict(), "text_length": ["long"] * DRAFTS.num_rows}),
    "cv X": lambda: pr.time_ordered_cv("posts.parquet"),
    "cv X without published_at": lambda: pr.time_ordered_cv(POSTS.drop_columns(["published_at"])),
    "cv X published_at type": lambda: pr.time_ordered_cv(
        POSTS.set_column(1, "published_at", pa.array(["2026-01-01"] * POSTS.num_rows))
    ),
    "cv estimator": lambda: pr.time_ordered_cv(POSTS, "trees"),
    "cv gap text": lambda: pr.time_ordered_cv(POSTS, gap="a fortnight"),
    "cv gap negative": lambda: pr.time_ordered_cv(POSTS, gap=dt.timedelta(days=-1)),
    "cv gap bool": lambda: pr.time_ordered_cv(POSTS, gap=True),
    "cv baseline": lambda: pr.time_ordered_cv(POSTS, baseline="median"),
    "cv bootstrap": lambda: pr.time_ordered_cv(POSTS, bootstrap=-1),
    "cv ci_level": lambda: pr.time_ordered_cv(POSTS, ci_level=95),
    "cv seed": lambda: pr.time_ordered_cv(POSTS, seed=1.5),  # type: ignore[arg-type]
}


def test_every_public_callable_has_a_wrong_call() -> None:
    missing = missing_wrong_calls(pr, WRONG_CALLS, NOT_CALLED_BY_USERS)
    missing += sorted(
        {"EngagementPredictor.predict", "EngagementPredictor.predict_engagements", "EngagementPredictor.score"}
        - set(WRONG_CALLS)
    )
    assert not missing, f"add a wrong call for {missing}"


@pytest.mark.parametrize("name", sorted(WRONG_CALLS))
def test_a_wrong_call_reads_as_one_sentence(name: str) -> None:
    assert_one_sentence(WRONG_CALLS[name])
