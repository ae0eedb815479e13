"""Predicting a draft post's engagement rate, and judging that prediction honestly against a naive baseline.

:class:`EngagementPredictor` is a scikit-learn style estimator: gradient-boosted trees with a Poisson loss, fitted
on the engagement rate of each usable post with its exposure as the sample weight (the same likelihood as a Poisson
model of the counts with exposure as offset), with categorical features handled natively. It uses only what is
known before a post goes out (platform, account, content type, origin, prompt, paid, planned local time, text),
never the post's counters.

:func:`time_ordered_cv` scores it the way it will be used: trained on the past, tested on later posts, with a gap
that leaves out training posts whose 7-day counters were not known yet when the test period began. The same folds
score a baseline (each account's rate so far), so the result says plainly whether the model adds anything.

A model learns from posts, so one row per usable post leaves the engine, and only the columns the model reads
(a posts table is thousands to hundreds of thousands of rows, not a log). Importing this module needs scikit-learn
(the ``models`` extra); ``import insights.engagement`` does not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sqlglot import exp

from insights._optional import require
from insights.errors import NotFittedError as InsightsNotFittedError
from insights.errors import invalid_parameter
from insights.params import check_count, check_int, check_open_unit
from insights.results import TableResult, format_number, format_percent
from insights.tables import as_relation, require_columns

try:
    from sklearn.base import BaseEstimator, RegressorMixin, clone
    from sklearn.exceptions import NotFittedError
except ImportError:  # pragma: no cover - without the extra, say which one to install
    require("sklearn", "models")
    raise

__all__ = [
    "BASELINES",
    "DEFAULT_FEATURES",
    "EngagementPredictor",
    "FoldScore",
    "ForecastEvaluation",
    "ForecastScores",
    "PredictorNotFittedError",
    "time_ordered_cv",
]

Floats = npt.NDArray[np.float64]

#: What a draft is known by: its placement, its origin and prompt, its planned local time and its text.
DEFAULT_FEATURES = (
    "platform",
    "account",
    "content_type",
    "origin",
    "model",
    "prompt_id",
    "prompt_version",
    "is_paid",
    "local_hour",
    "local_weekday",
    "hour_of_week",
    "text_length",
    "n_hashtags",
    "has_emoji",
    "is_question",
    "has_cta",
    "has_link",
)

#: account_mean: each account's rate in the training posts (ratio of sums); pooled: one rate for all posts
BASELINES = ("account_mean", "pooled")

#: columns that hold what a post did, not what it is: a model fed them would predict a draft from its future
_OUTCOMES = ("engagements", "engagement_rate", "exposure", "exclusion")

#: posts that can be scored: measured (no exclusion reason) with a positive exposure and a count
_USABLE = "engagements IS NOT NULL AND engagements >= 0 AND exposure > 0"

#: the gradient-boosting trees bin a categorical feature into at most 255 categories; rarer ones are read as
#: missing, like the categories first seen at prediction time
MAX_CATEGORIES = 255

#: below this many posts one thread fits faster than several (OpenMP's start-up and waits cost more than the work,
#: most of all on a busy machine): measured 0.2 s on one thread against 0.5-2.8 s on two for the demo's 1,837 posts
SINGLE_THREAD_POSTS = 50_000

#: a fold with fewer training posts is skipped (with a note): the trees would only learn noise
MIN_TRAIN_POSTS = 30

_NUMERIC_TYPES = (
    "BOOLEAN",
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
)
_TIME_TYPES = ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE")
_GAP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(hours?|days?|weeks?)\s*$", re.IGNORECASE)


class PredictorNotFittedError(InsightsNotFittedError, NotFittedError):  # type: ignore[misc]
    """A predictor was asked to predict before it was fitted (also scikit-learn's NotFittedError)."""


# --------------------------------------------------------------------------------------------------------------------
# reading posts


def _column_type(relation: duckdb.DuckDBPyRelation, column: str) -> str:
    return str(relation.types[relation.columns.index(column)]).upper()


def _is_numeric(sql_type: str) -> bool:
    return sql_type in _NUMERIC_TYPES or sql_type.startswith("DECIMAL")


def _is_categorical(sql_type: str) -> bool:
    return sql_type == "VARCHAR" or sql_type.startswith("ENUM")


def _usable(relation: duckdb.DuckDBPyRelation) -> tuple[duckdb.DuckDBPyRelation, int]:
    """The posts a model can learn from or be scored on, and how many others were left out."""
    condition = ("exclusion IS NULL AND " if "exclusion" in relation.columns else "") + _USABLE
    usable = relation.filter(condition)
    total = relation.aggregate("count(*)").fetchall()[0][0]
    kept = usable.aggregate("count(*)").fetchall()[0][0]
    return usable, int(total) - int(kept)


def _fetch(
    relation: duckdb.DuckDBPyRelation, categorical: Mapping[str, bool], extra: Sequence[str] = (), function: str = ""
) -> dict[str, npt.NDArray[Any]]:
    """The feature columns (categorical ones as str or None, the others as float with NaN) and `extra` as stored."""
    items = []
    for i, (column, is_categorical) in enumerate(categorical.items()):
        target = "VARCHAR" if is_categorical else "DOUBLE"
        items.append(exp.alias_(exp.cast(exp.column(column, quoted=True), target), f"_f{i}", quoted=True))
    for i, column in enumerate(extra):
        items.append(exp.alias_(exp.cast(exp.column(column, quoted=True), "DOUBLE"), f"_x{i}", quoted=True))
    if not items:
        return {}
    try:
        arrays = relation.project(", ".join(item.sql("duckdb") for item in items)).fetchnumpy()
    except duckdb.Error as error:
        raise invalid_parameter(
            "X", function, "must have values of the types seen at fit", str(error).splitlines()[0]
        ) from None
    out: dict[str, npt.NDArray[Any]] = {}
    for i, (column, is_categorical) in enumerate(categorical.items()):
        values = arrays[f"_f{i}"]
        if is_categorical:
            # not np.ma.filled(values, None): None there means "the array's own fill value" ('?' for text)
            text = np.array(np.ma.getdata(values), dtype=object)
            text[np.ma.getmaskarray(values)] = None
            out[column] = text
        else:
            out[column] = np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)
    for i, column in enumerate(extra):
        out[column] = np.ma.filled(np.ma.asarray(arrays[f"_x{i}"], dtype=np.float64), np.nan)
    return out


def _category_order(value: str | None) -> tuple[bool, str]:
    return (value is not None, value or "")


def _learn_categories(values: npt.NDArray[Any]) -> tuple[str | None, ...]:
    """The categories a feature is encoded with: the most frequent (NULL is a category of its own), sorted."""
    counts: dict[str | None, int] = {}
    for value in values.tolist():
        counts[value] = counts.get(value, 0) + 1
    kept = sorted(counts, key=lambda c: (-counts[c], *_category_order(c)))[:MAX_CATEGORIES]
    return tuple(sorted(kept, key=_category_order))


def _encode(values: npt.NDArray[Any], categories: tuple[str | None, ...]) -> Floats:
    """Category codes 0..k-1; a value not among the categories is NaN (the trees' missing value)."""
    index = {c: float(i) for i, c in enumerate(categories)}
    return np.fromiter((index.get(v, math.nan) for v in values.tolist()), dtype=np.float64, count=len(values))


# --------------------------------------------------------------------------------------------------------------------
# the estimator


class EngagementPredictor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Expected engagement rate of a post from what is known before it goes out.

    Gradient-boosted trees (scikit-learn's HistGradientBoostingRegressor) with a Poisson loss, fitted on each usable
    post's engagement rate with its exposure as the sample weight: the likelihood of a Poisson model of the
    engagement counts with exposure as offset. Text columns (VARCHAR) among `features` are categorical and handled
    natively by the trees; booleans and numbers are numeric. A category first seen at prediction time (a new
    account) is read as missing: at each split it follows the side most training posts took (beyond 255 categories
    the rarest are read as missing at fit too, and then an unseen category goes their way). The defaults (shallow
    trees, many small steps) suit a few thousand posts; there is no early stopping, whose validation split would
    be random rather than time-ordered.

    The constructor only stores settings; :meth:`fit` validates them and learns ``feature_names_in_``,
    ``n_features_in_``, ``categories_`` (categorical feature -> its categories, None for NULL), ``n_posts_``,
    ``n_excluded_``, ``pooled_rate_`` and ``model_``.

    >>> model = EngagementPredictor().fit(post_features(con))  # doctest: +SKIP
    >>> model.predict(drafts)  # expected engagements per impression  # doctest: +SKIP
    """

    def __init__(
        self,
        features: Sequence[str] = DEFAULT_FEATURES,
        *,
        max_iter: int = 300,
        learning_rate: float = 0.03,
        max_depth: int | None = 3,
        min_samples_leaf: int = 30,
        l2_regularization: float = 1.0,
        random_state: int | None = 0,
    ) -> None:
        self.features = features
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def _check_settings(self) -> tuple[str, ...]:
        fn = "EngagementPredictor"
        features = self.features
        if (
            isinstance(features, str)
            or not isinstance(features, Sequence)
            or not features
            or not all(isinstance(f, str) and f for f in features)
            or len(set(features)) != len(features)
        ):
            raise invalid_parameter("features", fn, "must be a non-empty sequence of distinct column names", features)
        leaking = [f for f in features if f in _OUTCOMES]
        if leaking:
            raise invalid_parameter(
                "features", fn, "must not hold what a post did (" + ", ".join(_OUTCOMES) + ")", leaking
            )
        check_int("max_iter", fn, self.max_iter, 1)
        _check_positive("learning_rate", fn, self.learning_rate)
        if self.max_depth is not None:
            check_int("max_depth", fn, self.max_depth, 1)
        check_int("min_samples_leaf", fn, self.min_samples_leaf, 1)
        if (
            isinstance(self.l2_regularization, bool)
            or not isinstance(self.l2_regularization, int | float)
            or not math.isfinite(self.l2_regularization)
            or self.l2_regularization < 0
        ):
            raise invalid_parameter("l2_regularization", fn, "must be a number >= 0", self.l2_regularization)
        if self.random_state is not None:
            check_count("random_state", fn, self.random_state)
        return tuple(features)

    def fit(self, X: object, y: None = None) -> EngagementPredictor:
        """Learn from the usable posts of `X` (the output of post_features, or the same columns as a frame).

        Usable posts have no exclusion reason (``exclusion IS NULL``), a count of engagements and a positive
        exposure; the others are left out and counted in ``n_excluded_``. `y` must be None: the target is read from
        X's ``engagements`` and ``exposure`` columns. Returns the fitted predictor.
        """
        fn = "EngagementPredictor.fit"
        features = self._check_settings()
        if y is not None:
            raise invalid_parameter(
                "y",
                fn,
                "must be None (the target is read from the engagements and exposure columns of X)",
                type(y).__name__,
            )
        relation = as_relation(X, "X", fn)
        require_columns(relation, (*features, "engagements", "exposure"), "X", fn)
        categorical: dict[str, bool] = {}
        for feature in features:
            sql_type = _column_type(relation, feature)
            if _is_categorical(sql_type):
                categorical[feature] = True
            elif _is_numeric(sql_type) or sql_type == '"NULL"' or sql_type == "NULL":
                categorical[feature] = False
            else:
                raise invalid_parameter(
                    "features", fn, "must name text, boolean or numeric columns", f"{feature} of type {sql_type}"
                )
        usable, n_excluded = _usable(relation)
        columns = _fetch(usable, categorical, ("engagements", "exposure"), fn)
        engagements, exposure = columns["engagements"], columns["exposure"]
        if len(exposure) == 0 or not engagements.sum() > 0:
            raise invalid_parameter(
                "X",
                fn,
                "must hold usable posts (exclusion IS NULL, exposure > 0) with some engagements",
                f"{len(exposure)} usable posts with {engagements.sum():g} engagements",
            )
        categories = {f: _learn_categories(columns[f]) for f, is_cat in categorical.items() if is_cat}
        matrix = self._matrix(columns, categorical, categories)

        ensemble = require("sklearn.ensemble", "models")
        model = ensemble.HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=self.max_iter,
            learning_rate=float(self.learning_rate),
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=float(self.l2_regularization),
            categorical_features=np.array(list(categorical.values()), dtype=bool),
            early_stopping=False,  # its validation split would be random, not time-ordered
            random_state=self.random_state,
        )
        with _threads(len(exposure)):
            model.fit(matrix, engagements / exposure, sample_weight=exposure)

        self.feature_names_in_ = np.array(features, dtype=object)
        self.n_features_in_ = len(features)
        self.categories_ = categories
        self.n_posts_ = len(exposure)
        self.n_excluded_ = n_excluded
        self.pooled_rate_ = float(engagements.sum() / exposure.sum())
        self.model_ = model
        return self

    @staticmethod
    def _matrix(
        columns: Mapping[str, npt.NDArray[Any]],
        categorical: Mapping[str, bool],
        categories: Mapping[str, tuple[str | None, ...]],
    ) -> Floats:
        parts = [
            _encode(columns[f], categories[f]) if is_cat else columns[f].astype(np.float64)
            for f, is_cat in categorical.items()
        ]
        return np.column_stack(parts) if parts else np.empty((0, 0))

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "model_"):
            raise PredictorNotFittedError(
                f"This EngagementPredictor is not fitted yet: call fit(X) with post features (post_features) "
                f"before {method}."
            )

    def _predict(self, X: object, function: str, extra: Sequence[str] = ()) -> tuple[Floats, dict[str, Floats]]:
        """Predicted rates of every row of `X` and its `extra` columns, read in one pass (so in the same order)."""
        self._check_fitted(function.rsplit(".", 1)[-1])
        relation = as_relation(X, "X", function)
        features = [str(f) for f in self.feature_names_in_]
        require_columns(relation, [*features, *extra], "X", function)
        categorical = {f: f in self.categories_ for f in features}
        columns = _fetch(relation, categorical, extra, function)
        matrix = self._matrix(columns, categorical, self.categories_)
        if len(matrix) == 0:
            return np.empty(0), {c: columns[c] for c in extra}
        with _threads(len(matrix)):
            rates = np.asarray(self.model_.predict(matrix), dtype=np.float64)
        return rates, {c: columns[c] for c in extra}

    def predict(self, X: object) -> Floats:
        """Expected engagement rate (engagements per unit of exposure) of every row of `X`, in X's order.

        `X` needs the feature columns only (a draft has no counters); every row is predicted, usable or not.
        """
        return self._predict(X, "EngagementPredictor.predict")[0]

    def predict_engagements(self, X: object) -> Floats:
        """Expected engagements of every row of `X`: the predicted rate times X's ``exposure`` (NaN where unknown)."""
        rates, extra = self._predict(X, "EngagementPredictor.predict_engagements", ("exposure",))
        return rates * extra["exposure"]

    def score(self, X: object, y: None = None, sample_weight: None = None) -> float:
        """D² of the usable posts of `X`: the share of the Poisson deviance of their counts that the predicted
        rates explain, relative to predicting every post the posts' own pooled rate (1 is perfect, 0 no better)."""
        fn = "EngagementPredictor.score"
        self._check_fitted("score")
        if y is not None or sample_weight is not None:
            raise invalid_parameter("y", fn, "must be None (the target is read from X)", type(y).__name__)
        relation = as_relation(X, "X", fn)
        require_columns(relation, ["engagements", "exposure"], "X", fn)
        rates, counts = self._predict(_usable(relation)[0], fn, ("engagements", "exposure"))
        return _scores(counts["engagements"], counts["exposure"], rates).d2


def _threads(n_rows: int) -> contextlib.AbstractContextManager[Any]:
    """One OpenMP thread for small data (see SINGLE_THREAD_POSTS), the library's default otherwise."""
    if n_rows >= SINGLE_THREAD_POSTS:
        return contextlib.nullcontext()
    limits: contextlib.AbstractContextManager[Any] = require("threadpoolctl", "models").threadpool_limits(1)
    return limits


def _check_positive(name: str, function: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise invalid_parameter(name, function, "must be a number > 0", value)
    return float(value)


# --------------------------------------------------------------------------------------------------------------------
# scores


@dataclass(frozen=True)
class ForecastScores:
    """How well predicted rates fit the counts of `n_posts` posts.

    ``poisson_deviance``: mean Poisson deviance per post of the engagement counts against predicted rate x exposure;
    ``d2``: the share of that deviance explained relative to the posts' own pooled rate (sklearn's D² with
    power 1; negative when worse than one pooled rate); ``mae_rate``: mean absolute error of the rate, weighted by
    exposure; ``spearman``: Spearman rank correlation of predicted and actual rates (NaN when one is constant).
    """

    n_posts: int
    poisson_deviance: float
    d2: float
    mae_rate: float
    spearman: float


def _unit_deviance(engagements: Floats, expected: Floats) -> Floats:
    """2 (y log(y / mu) - (y - mu)) per post, with y log(y / mu) = 0 at y = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = np.where(engagements > 0, engagements * np.log(engagements / expected), 0.0)
    return np.asarray(2.0 * (log_term - (engagements - expected)), dtype=np.float64)


def _spearman(a: Floats, b: Floats) -> float:
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    from scipy.stats import rankdata

    return float(np.corrcoef(rankdata(a), rankdata(b))[0, 1])


def _scores(engagements: Floats, exposure: Floats, rate: Floats) -> ForecastScores:
    n = len(exposure)
    if n == 0:
        return ForecastScores(0, math.nan, math.nan, math.nan, math.nan)
    deviance = _unit_deviance(engagements, rate * exposure)
    null = _unit_deviance(engagements, np.full(n, engagements.sum() / exposure.sum()) * exposure)
    actual = engagements / exposure
    null_sum = float(null.sum())
    return ForecastScores(
        n_posts=n,
        poisson_deviance=float(deviance.mean()),
        d2=1.0 - float(deviance.sum()) / null_sum if null_sum > 0 else math.nan,
        mae_rate=float(np.sum(exposure * np.abs(actual - rate)) / exposure.sum()),
        spearman=_spearman(rate, actual),
    )


# --------------------------------------------------------------------------------------------------------------------
# time-ordered cross-validation


@dataclass(frozen=True)
class FoldScore:
    """One split of :func:`time_ordered_cv`: its boundaries and how the model and the baseline scored on it.

    Training posts were published before ``train_end_at`` (= ``test_start_at`` - gap); ``last_train_at`` is the
    latest one actually used. Test posts were published from ``test_start_at`` to ``last_test_at`` (inclusive).
    ``skill`` = 1 - model deviance / baseline deviance.
    """

    fold: int
    n_train: int
    n_test: int
    train_end_at: dt.datetime
    last_train_at: dt.datetime
    test_start_at: dt.datetime
    last_test_at: dt.datetime
    model: ForecastScores
    baseline: ForecastScores
    skill: float


def _percent(value: float) -> str:
    return format_percent(value, 1)


@dataclass(frozen=True)
class ForecastEvaluation(TableResult):
    """Time-ordered cross-validation of an engagement predictor against a baseline (see :func:`time_ordered_cv`).

    ``folds`` holds each split; ``model`` and ``baseline`` the scores over every test post together; ``skill``
    (1 - model deviance / baseline deviance) with its paired bootstrap interval ``skill_low``-``skill_high``.
    ``beats_baseline`` is True when the whole interval is above 0.
    """

    folds: tuple[FoldScore, ...]
    model: ForecastScores
    baseline: ForecastScores
    skill: float
    skill_low: float
    skill_high: float
    estimator: str
    baseline_name: str
    n_splits: int
    gap: dt.timedelta
    n_posts: int
    n_excluded: int
    bootstrap: int
    ci_level: float
    seed: int
    notes: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        return "Engagement forecast: time-ordered cross-validation"

    @property
    def beats_baseline(self) -> bool:
        """True when the model's skill over the baseline is above 0 with the stated confidence."""
        return math.isfinite(self.skill_low) and self.skill_low > 0

    @property
    def verdict(self) -> str:
        """One sentence: does the model beat the baseline?"""
        name = _BASELINE_LABELS[self.baseline_name]
        if not self.folds:
            return "No fold could be scored, so there is no verdict."
        interval = (
            f" ({format_percent(self.ci_level, 0)} interval {_percent(self.skill_low)} to {_percent(self.skill_high)})"
            if math.isfinite(self.skill_low)
            else ""
        )
        wins = sum(f.skill > 0 for f in self.folds)
        folds = f"; lower deviance in {wins} of {len(self.folds)} folds"
        if self.beats_baseline:
            return f"The model beats {name}: skill {_percent(self.skill)}{interval}{folds}."
        if math.isfinite(self.skill_high) and self.skill_high < 0:
            return f"The model is worse than {name}: skill {_percent(self.skill)}{interval}{folds}."
        return f"The model does not clearly beat {name}: skill {_percent(self.skill)}{interval}{folds}."

    def rows(self) -> list[dict[str, Any]]:
        rows = [_row(str(f.fold), f.n_train, f, f.model, f.baseline, f.skill) for f in self.folds]
        if self.folds:
            rows.append(_row("all", None, None, self.model, self.baseline, self.skill))
        return rows

    def summary_lines(self) -> list[str]:
        gap = _gap_text(self.gap)
        lines = [
            f"{self.estimator} against {_BASELINE_LABELS[self.baseline_name]}, on {self.n_posts:,} usable posts "
            f"({self.n_excluded:,} left out: not measured or no exposure), in {len(self.folds)} expanding-window "
            f"folds: each trained on posts published at least {gap} before its test posts.",
            self.verdict,
        ]
        if self.folds:
            lines.append(
                f"Over all test posts: D² {self.model.d2:.3f} for the model, {self.baseline.d2:.3f} for the "
                f"baseline; Spearman rank correlation {_number(self.model.spearman)} and "
                f"{_number(self.baseline.spearman)}; mean absolute error of the rate {_percent(self.model.mae_rate)} "
                f"and {_percent(self.baseline.mae_rate)}."
            )
        if self.bootstrap and self.folds:
            lines.append(
                f"The interval resamples the {self.model.n_posts:,} test posts with replacement ({self.bootstrap:,} "
                f"paired resamples, seed {self.seed}); it holds the fitted models fixed, so it leaves out the "
                "variation from refitting them."
            )
        return lines + list(self.notes)

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        headers = [
            "fold",
            "train posts",
            "test from",
            "test posts",
            "deviance: model",
            "deviance: baseline",
            "skill",
            "D²: model",
            "D²: baseline",
            "Spearman: model",
            "Spearman: baseline",
        ]
        cells = []
        for row in self.rows():
            start = row["test_start_at"]
            cells.append(
                [
                    row["fold"],
                    format_number(row["n_train"]) if row["n_train"] is not None else "",
                    start.strftime("%Y-%m-%d %H:%M") if start is not None else "",
                    format_number(row["n_test"]),
                    _number(row["model_deviance"]),
                    _number(row["baseline_deviance"]),
                    _percent(row["skill"]),
                    _number(row["model_d2"]),
                    _number(row["baseline_d2"]),
                    _number(row["model_spearman"]),
                    _number(row["baseline_spearman"]),
                ]
            )
        return headers, cells

    def plot(self) -> Any:
        """Mean Poisson deviance per test post in each fold, model against baseline (plotly bars)."""
        go = require("plotly.graph_objects", "reports")
        labels = [f"fold {f.fold}" for f in self.folds]
        fig = go.Figure()
        fig.add_trace(go.Bar(x=labels, y=[f.model.poisson_deviance for f in self.folds], name="model"))
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[f.baseline.poisson_deviance for f in self.folds],
                name=_BASELINE_LABELS[self.baseline_name],
            )
        )
        fig.update_layout(
            title=self.title,
            yaxis_title="mean Poisson deviance per post (lower is better)",
            barmode="group",
            margin={"l": 20, "r": 20, "t": 50, "b": 40},
        )
        return fig


_BASELINE_LABELS = {"account_mean": "the per-account rate", "pooled": "the pooled rate"}


def _number(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "n/a"


def _row(
    fold: str,
    n_train: int | None,
    bounds: FoldScore | None,
    model: ForecastScores,
    baseline: ForecastScores,
    skill: float,
) -> dict[str, Any]:
    return {
        "fold": fold,
        "n_train": n_train,
        "n_test": model.n_posts,
        "train_end_at": bounds.train_end_at if bounds else None,
        "last_train_at": bounds.last_train_at if bounds else None,
        "test_start_at": bounds.test_start_at if bounds else None,
        "last_test_at": bounds.last_test_at if bounds else None,
        "model_deviance": model.poisson_deviance,
        "baseline_deviance": baseline.poisson_deviance,
        "skill": skill,
        "model_d2": model.d2,
        "baseline_d2": baseline.d2,
        "model_mae_rate": model.mae_rate,
        "baseline_mae_rate": baseline.mae_rate,
        "model_spearman": model.spearman,
        "baseline_spearman": baseline.spearman,
    }


def _gap_text(gap: dt.timedelta) -> str:
    hours = gap.total_seconds() / 3600
    if hours % 24 == 0:
        days = int(hours // 24)
        return f"{days} day" + ("" if days == 1 else "s")
    return f"{hours:g} hours"


def _check_gap(function: str, gap: object) -> dt.timedelta:
    """Whole days (an int), a timedelta, or a string such as '7 days', '36 hours' or '1 week'; never negative."""
    rule = "must be a duration >= 0: whole days (an int), a timedelta or a string such as '7 days'"
    if isinstance(gap, bool):
        raise invalid_parameter("gap", function, rule, gap)
    if isinstance(gap, int):
        value = dt.timedelta(days=gap) if gap >= 0 else None
    elif isinstance(gap, dt.timedelta):
        value = gap if gap >= dt.timedelta(0) else None
    elif isinstance(gap, str) and (match := _GAP.match(gap)):
        amount, unit = float(match.group(1)), match.group(2).lower().rstrip("s")
        value = (
            dt.timedelta(hours=amount) if unit == "hour" else dt.timedelta(days=amount * (7 if unit == "week" else 1))
        )
    else:
        value = None
    if value is None:
        raise invalid_parameter("gap", function, rule, gap)
    return value


def _fold_bounds(published_us: npt.NDArray[np.int64], n_splits: int, gap_us: int) -> list[tuple[int, int, int]]:
    """(n_train, test_first, test_stop) row indices of each expanding-window fold of posts sorted by time.

    The posts after the first 1 / (n_splits + 1) of them are cut into `n_splits` test folds of about equal size; a
    fold starts at the publication time of its first post (posts published at the same instant stay together) and
    trains on the first `n_train` posts: those published strictly before its start minus `gap_us` microseconds.
    """
    n = len(published_us)
    if n == 0:
        return []
    starts = sorted({int(published_us[(k * n) // (n_splits + 1)]) for k in range(1, n_splits + 1)})
    firsts = [int(np.searchsorted(published_us, s, side="left")) for s in starts]
    stops = [*firsts[1:], n]
    folds = []
    for start, first, stop in zip(starts, firsts, stops, strict=True):
        n_train = int(np.searchsorted(published_us, start - gap_us, side="left"))
        if stop > first:
            folds.append((n_train, first, stop))
    return folds


def _arrow(relation: duckdb.DuckDBPyRelation) -> pa.Table:
    """The relation's rows as a pyarrow table (DuckDB 2 renamed fetch_arrow_table to to_arrow_table)."""
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return fetch()


def _instant(us: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=int(us))


def _baseline_rates(
    name: str, train_accounts: npt.NDArray[Any], train_e: Floats, train_n: Floats, test_accounts: npt.NDArray[Any]
) -> Floats:
    """The training posts' ratio-of-sums rate of each test post's account (the pooled rate for an account the
    training posts do not have, or in which they had no engagement), or the pooled rate for every post."""
    pooled = float(train_e.sum() / train_n.sum())
    if name == "pooled":
        return np.full(len(test_accounts), pooled)
    engaged: dict[Any, float] = {}
    exposed: dict[Any, float] = {}
    for account, e, n in zip(train_accounts.tolist(), train_e.tolist(), train_n.tolist(), strict=True):
        engaged[account] = engaged.get(account, 0.0) + e
        exposed[account] = exposed.get(account, 0.0) + n
    rates = {a: engaged[a] / exposed[a] for a in engaged if engaged[a] > 0}
    return np.array([rates.get(a, pooled) for a in test_accounts.tolist()], dtype=np.float64)


def _bootstrap_skill(
    model_deviance: Floats, baseline_deviance: Floats, resamples: int, ci_level: float, seed: int
) -> tuple[float, float]:
    """Percentile interval of 1 - sum(model) / sum(baseline) over resamples of the posts with replacement."""
    n = len(model_deviance)
    if resamples == 0 or n < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    batch = max(1, 4_000_000 // n)  # bounds the index matrix to about 32 MB
    skills: list[Floats] = []
    done = 0
    while done < resamples:
        k = min(batch, resamples - done)
        index = rng.integers(0, n, size=(k, n))
        skills.append(1.0 - model_deviance[index].sum(axis=1) / baseline_deviance[index].sum(axis=1))
        done += k
    values = np.concatenate(skills)
    tail = (1.0 - ci_level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def time_ordered_cv(
    X: object,
    estimator: Any = None,
    *,
    n_splits: int = 5,
    gap: int | str | dt.timedelta = "7 days",
    baseline: str = "account_mean",
    bootstrap: int = 1000,
    ci_level: float = 0.95,
    seed: int = 0,
) -> ForecastEvaluation:
    """Score `estimator` (default: an :class:`EngagementPredictor`) on later posts than it was trained on.

    The usable posts of `X` (as :meth:`EngagementPredictor.fit` reads them; `X` needs ``published_at`` and
    ``account``) are sorted by publication time; the first 1 / (n_splits + 1) of them only train, and the rest are
    cut into `n_splits` test folds. Each fold trains a fresh clone of the estimator on the posts published before
    the fold's first post minus `gap` (a post's 7-day counters are only known 7 days after it went out), and
    scores it against the `baseline` fitted on the same posts: each account's ratio-of-sums rate
    (``account_mean``; the pooled rate for an account not seen yet) or one pooled rate (``pooled``).

    The result has, per fold and over all test posts, the mean Poisson deviance of the counts, D², the exposure
    weighted mean absolute error of the rate and the Spearman rank correlation, for both; and the skill
    1 - model deviance / baseline deviance with a paired bootstrap interval over the test posts.

    >>> result = time_ordered_cv(post_features(con))  # doctest: +SKIP
    >>> result.beats_baseline, result.skill  # doctest: +SKIP
    (True, 0.40...)
    """
    fn = "time_ordered_cv"
    if estimator is None:
        estimator = EngagementPredictor()
    elif not all(callable(getattr(estimator, m, None)) for m in ("fit", "predict", "get_params")):
        raise invalid_parameter(
            "estimator", fn, "must be an estimator with fit, predict and get_params (an EngagementPredictor)", estimator
        )
    check_int("n_splits", fn, n_splits, 1)
    gap_delta = _check_gap(fn, gap)
    if not isinstance(baseline, str) or baseline not in BASELINES:
        raise invalid_parameter("baseline", fn, "must be one of " + ", ".join(BASELINES), baseline)
    check_count("bootstrap", fn, bootstrap)
    check_open_unit("ci_level", fn, ci_level)
    check_count("seed", fn, seed)

    relation = as_relation(X, "X", fn)
    require_columns(relation, ("published_at", "account", "engagements", "exposure"), "X", fn)
    if _column_type(relation, "published_at") not in _TIME_TYPES:
        raise invalid_parameter(
            "X", fn, "must have a timestamp column published_at", _column_type(relation, "published_at")
        )
    usable, n_excluded = _usable(relation)
    order = "published_at, post_id" if "post_id" in relation.columns else "published_at"
    ordered = usable.filter("published_at IS NOT NULL").order(order)
    table = _arrow(ordered.project("*, epoch_us(CAST(published_at AS TIMESTAMP)) AS _published_us"))
    published = np.asarray(table.column("_published_us").to_numpy(), dtype=np.int64)
    table = table.drop_columns(["_published_us"])
    n_excluded += int(usable.aggregate("count(*)").fetchall()[0][0]) - table.num_rows
    engagements = np.asarray(table.column("engagements").to_numpy(zero_copy_only=False), dtype=np.float64)
    exposure = np.asarray(table.column("exposure").to_numpy(zero_copy_only=False), dtype=np.float64)
    accounts = np.asarray(table.column("account").to_numpy(zero_copy_only=False), dtype=object)

    gap_us = gap_delta // dt.timedelta(microseconds=1)
    folds: list[FoldScore] = []
    notes: list[str] = []
    kept: list[tuple[int, int, Floats, Floats]] = []
    for k, (n_train, first, stop) in enumerate(_fold_bounds(published, n_splits, gap_us), start=1):
        if n_train < MIN_TRAIN_POSTS or not engagements[:n_train].sum() > 0:
            notes.append(
                f"Fold {k} is skipped: only {n_train:,} training posts (with {engagements[:n_train].sum():g} "
                f"engagements) were published {_gap_text(gap_delta)} before its first test post; "
                f"at least {MIN_TRAIN_POSTS} with some engagement are needed."
            )
            continue
        fitted = clone(estimator).fit(table.slice(0, n_train))
        model_rate = np.asarray(fitted.predict(table.slice(first, stop - first)), dtype=np.float64)
        base_rate = _baseline_rates(
            baseline, accounts[:n_train], engagements[:n_train], exposure[:n_train], accounts[first:stop]
        )
        e, n = engagements[first:stop], exposure[first:stop]
        model_scores, base_scores = _scores(e, n, model_rate), _scores(e, n, base_rate)
        folds.append(
            FoldScore(
                fold=k,
                n_train=n_train,
                n_test=stop - first,
                train_end_at=_instant(published[first] - gap_us),
                last_train_at=_instant(published[n_train - 1]),
                test_start_at=_instant(published[first]),
                last_test_at=_instant(published[stop - 1]),
                model=model_scores,
                baseline=base_scores,
                skill=1.0 - model_scores.poisson_deviance / base_scores.poisson_deviance,
            )
        )
        kept.append((first, stop, model_rate, base_rate))

    if kept:
        index = np.concatenate([np.arange(first, stop) for first, stop, _, _ in kept])
        model_rate = np.concatenate([m for _, _, m, _ in kept])
        base_rate = np.concatenate([b for _, _, _, b in kept])
        e, n = engagements[index], exposure[index]
        model_scores, base_scores = _scores(e, n, model_rate), _scores(e, n, base_rate)
        model_dev, base_dev = _unit_deviance(e, model_rate * n), _unit_deviance(e, base_rate * n)
        skill = 1.0 - float(model_dev.sum() / base_dev.sum())
        low, high = _bootstrap_skill(model_dev, base_dev, bootstrap, ci_level, seed)
    else:
        model_scores = base_scores = _scores(np.empty(0), np.empty(0), np.empty(0))
        skill = low = high = math.nan
        notes.append(f"No fold could be scored: {table.num_rows:,} usable posts are too few for {n_splits} folds.")

    return ForecastEvaluation(
        folds=tuple(folds),
        model=model_scores,
        baseline=base_scores,
        skill=skill,
        skill_low=low,
        skill_high=high,
        estimator=repr(estimator),
        baseline_name=baseline,
        n_splits=n_splits,
        gap=gap_delta,
        n_posts=table.num_rows,
        n_excluded=n_excluded,
        bootstrap=bootstrap,
        ci_level=float(ci_level),
        seed=seed,
        notes=tuple(notes),
    )
