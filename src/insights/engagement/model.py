"""An exposure-aware count model of engagement: rate ratios with intervals for what a post is and when it went out.

:class:`EngagementModel` fits engagements ~ NB2(exposure x exp(X beta)) (or Poisson), so a coefficient is a rate
ratio: how many times the engagement per impression of a level is that of the reference level, with everything
else in the model held fixed. Account effects are fixed effects (one level per account), so a big account's
audience does not pass for better content. It follows scikit-learn's conventions: the constructor stores
settings, `fit` validates and returns self, learned state ends in an underscore.

>>> model = EngagementModel().fit(post_features(con))  # doctest: +SKIP
>>> model.rate_ratios_  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from insights.distributions import chi2_sf, normal_cdf, normal_ppf
from insights.engagement.data import Columns, fetch
from insights.engagement.design import (
    CATEGORICAL,
    DEFAULT_REFERENCE,
    NUMERIC,
    TERMS,
    Column,
    Encoding,
    level_label,
)
from insights.engagement.glm import GlmFit, fit_glm
from insights.errors import invalid_parameter, not_fitted
from insights.params import check_choice, check_int, check_open_unit
from insights.results import TableResult, format_number
from insights.tables import as_relation

#: The inputs of the default model: who posted, what, by whom or which model and prompt, paid, when, and the text.
DEFAULT_TERMS = (
    "account",
    "content_type",
    "origin",
    "model",
    "prompt_version",
    "is_paid",
    "local_hour",
    "local_weekday",
    "text_length",
    "n_hashtags",
    "has_emoji",
    "is_question",
    "has_cta",
    "has_link",
)
FAMILIES = ("negative_binomial", "poisson")
COVARIANCES = ("robust", "model")

TERM_LABELS = {
    "account": "account",
    "platform": "platform",
    "content_type": "content type",
    "origin": "origin",
    "model": "model",
    "prompt_id": "prompt",
    "prompt_version": "prompt version",
    "campaign": "campaign",
    "local_hour": "hour (local)",
    "local_weekday": "weekday (local)",
    "hour_of_week": "hour of week (local)",
    "is_paid": "paid",
    "has_emoji": "emoji",
    "is_question": "question",
    "has_cta": "call to action",
    "has_link": "link in text",
    "text_length": "text length",
    "n_hashtags": "hashtags",
}


@dataclass(frozen=True)
class RateRatio:
    """One model column read as a rate ratio against its reference."""

    term: str
    level: str
    reference: str
    rate_ratio: float
    low: float
    high: float
    p_value: float
    n_posts: int


@dataclass(frozen=True)
class RateRatios(TableResult):
    """Rate ratios with intervals, one row per model column, plus what was left out and why."""

    ratios: tuple[RateRatio, ...]
    engagement: str
    n_posts: int
    n_excluded: int
    alpha: float
    dispersion: float
    aliased: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        return "Engagement rate ratios"

    def get(self, term: str, level: str | None = None) -> RateRatio:
        """The row of `term` (and `level`, for a categorical term)."""
        for r in self.ratios:
            if r.term == term and (level is None or r.level == level):
                return r
        raise KeyError((term, level))

    def rows(self) -> list[dict[str, Any]]:
        return [dict(vars(r)) for r in self.ratios]

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        headers = ["input", "level", "against", "rate ratio", f"{1 - self.alpha:.0%} interval", "p", "posts"]
        cells = [
            [
                TERM_LABELS.get(r.term, r.term),
                r.level,
                r.reference,
                f"{r.rate_ratio:.2f}x",
                f"{r.low:.2f}-{r.high:.2f}",
                f"{r.p_value:.3g}",
                format_number(r.n_posts),
            ]
            for r in self.ratios
        ]
        return headers, cells

    def summary_lines(self) -> list[str]:
        lines = [
            f"Engagement: {self.engagement}. {format_number(self.n_posts)} posts"
            + (f" ({format_number(self.n_excluded)} not measurable yet, left out)." if self.n_excluded else ".")
        ]
        clear = [r for r in self.ratios if r.term != "account" and (r.low > 1 or r.high < 1)]
        clear.sort(key=lambda r: -abs(math.log(r.rate_ratio)))
        for r in clear[:3]:
            lines.append(
                f"{TERM_LABELS.get(r.term, r.term).capitalize()} {r.level}: {r.rate_ratio:.2f}x the engagement of "
                f"{r.reference} ({1 - self.alpha:.0%} interval {r.low:.2f}-{r.high:.2f})."
            )
        if self.aliased:
            lines.append("Not separable from inputs before them, so not estimated: " + ", ".join(self.aliased) + ".")
        lines += list(self.notes)
        return lines

    def plot(self) -> Any:
        """A forest plot of the rate ratios (log scale), accounts left out."""
        from insights._optional import require

        go = require("plotly.graph_objects", "reports")
        shown = [r for r in self.ratios if r.term != "account"][::-1]
        labels = [f"{TERM_LABELS.get(r.term, r.term)}: {r.level}" for r in shown]
        figure = go.Figure(
            go.Scatter(
                x=[r.rate_ratio for r in shown],
                y=labels,
                mode="markers",
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [r.high - r.rate_ratio for r in shown],
                    "arrayminus": [r.rate_ratio - r.low for r in shown],
                },
                name="rate ratio",
            )
        )
        figure.add_vline(x=1.0, line_dash="dot")
        figure.update_xaxes(type="log", title="rate ratio (1 = same as the reference)")
        figure.update_layout(title=self.title, height=max(300, 22 * len(shown) + 120), showlegend=False)
        return figure


@dataclass(frozen=True)
class TermTest:
    """A joint Wald test that every column of a term is zero: how much the term matters."""

    term: str
    df: int
    chi2: float
    p_value: float


@dataclass(frozen=True)
class TermTests(TableResult):
    """Joint Wald tests per term, largest chi-square first: which inputs matter most."""

    tests: tuple[TermTest, ...]

    @property
    def title(self) -> str:
        return "Which inputs matter (joint Wald tests)"

    def rows(self) -> list[dict[str, Any]]:
        return [dict(vars(t)) for t in self.tests]

    def summary_lines(self) -> list[str]:
        if not self.tests:
            return []
        top = self.tests[0]
        return [
            f"The strongest input is {TERM_LABELS.get(top.term, top.term)} (chi-square {top.chi2:.1f} on {top.df} df)."
        ]


def _check_terms(function: str, terms: object) -> tuple[str, ...]:
    if isinstance(terms, str) or not isinstance(terms, Sequence) or not terms:
        raise invalid_parameter(
            "terms", function, "must be a non-empty sequence of inputs from " + ", ".join(TERMS), terms
        )
    bad = [t for t in terms if t not in TERMS]
    if bad or len(set(terms)) != len(terms):
        raise invalid_parameter("terms", function, "must be distinct inputs from " + ", ".join(TERMS), terms)
    return tuple(terms)


class EngagementModel:
    """Engagements per unit of exposure as a negative binomial (or Poisson) regression.

    Settings: `terms` (the inputs, from :data:`insights.engagement.design.TERMS`), `family`
    ("negative_binomial" or "poisson"), `covariance` ("robust": sandwich, valid when the variance
    function is wrong; "model": from the likelihood), `alpha` (1 - confidence of the intervals),
    `reference` (reference level per term, default text posts and human-written posts), `min_posts`
    (levels with fewer posts are estimated together as "(rare)").

    Learned: `coef_`, `cov_`, `dispersion_` (NB2 alpha; 0 for Poisson), `encoding_`, `rate_ratios_`,
    `term_tests_`, `n_posts_`, `n_excluded_`, `converged_`, `deviance_`, `null_deviance_`.
    """

    def __init__(
        self,
        terms: Sequence[str] = DEFAULT_TERMS,
        *,
        family: str = "negative_binomial",
        covariance: str = "robust",
        alpha: float = 0.05,
        reference: Mapping[str, str] | None = None,
        min_posts: int = 10,
    ) -> None:
        self.terms = terms
        self.family = family
        self.covariance = covariance
        self.alpha = alpha
        self.reference = reference
        self.min_posts = min_posts

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The settings, as scikit-learn's clone and grid search expect: the constructor's parameters."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def set_params(self, **params: Any) -> EngagementModel:
        """Change settings; unknown names are refused."""
        for name, value in params.items():
            if name not in self.get_params():
                raise invalid_parameter(
                    name, "EngagementModel.set_params", "is not a setting of EngagementModel", value
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        return f"EngagementModel(terms={tuple(self.terms)!r}, family={self.family!r})"

    def _validated(self, function: str) -> tuple[tuple[str, ...], dict[str, str]]:
        terms = _check_terms(function, self.terms)
        check_choice("family", function, self.family, FAMILIES)
        check_choice("covariance", function, self.covariance, COVARIANCES)
        check_open_unit("alpha", function, self.alpha)
        check_int("min_posts", function, self.min_posts, 1)
        reference = dict(DEFAULT_REFERENCE)
        if self.reference is not None:
            if not isinstance(self.reference, Mapping) or any(t not in CATEGORICAL for t in self.reference):
                raise invalid_parameter("reference", function, "must map categorical inputs to a level", self.reference)
            reference.update({str(k): str(v) for k, v in self.reference.items()})
        return terms, reference

    def fit(self, X: object, y: object = None) -> EngagementModel:
        """Fit on a features relation (post_features) or frame; only usable posts (exclusion IS NULL) count."""
        fn = "EngagementModel.fit"
        terms, reference = self._validated(fn)
        relation = as_relation(X, "X", fn)
        data, n_excluded = fetch(relation, [*terms, "engagements", "exposure"], "X", fn)
        n = len(data["engagements"])
        if n <= 1:
            raise invalid_parameter("X", fn, "must hold at least 2 usable posts (exclusion IS NULL)", n)
        encoding = Encoding.learn(data, terms, reference, self.min_posts)
        encoding = encoding.without_aliased(encoding.design(data, n).cross(np.ones(n)))
        design = encoding.design(data, n)
        if design.p >= n:
            raise invalid_parameter("X", fn, f"must hold more usable posts than model columns ({design.p})", n)
        y_counts = np.asarray(np.round(data["engagements"]), dtype=np.float64)
        result = fit_glm(design, y_counts, np.log(data["exposure"]), family=self.family)
        self.encoding_ = encoding
        self.coef_ = result.coef
        self.cov_ = result.cov_robust if self.covariance == "robust" else result.cov_model
        self.dispersion_ = result.alpha
        self.n_posts_ = n
        self.n_excluded_ = n_excluded
        self.converged_ = result.converged
        self.deviance_ = result.deviance
        self.null_deviance_ = result.null_deviance
        self.log_likelihood_ = result.log_likelihood
        self.rate_ratios_ = self._ratios(data, result, relation)
        self.term_tests_ = self._term_tests()
        return self

    def _column_counts(self, data: Columns) -> list[int]:
        per_level = {
            term: np.bincount(self.encoding_.level_index(term, data[term]), minlength=len(names))
            for term, names in self.encoding_.levels.items()
        }
        counts = []
        for c in self.encoding_.columns:
            if c.level is not None:
                counts.append(int(per_level[c.term][self.encoding_.levels[c.term].index(c.level)]))
            else:
                counts.append(int(np.count_nonzero(data[c.term])))
        return counts

    def _ratios(self, data: Columns, result: GlmFit, relation: Any) -> RateRatios:
        z = normal_ppf(1 - self.alpha / 2)
        rows = []
        se = np.sqrt(np.diag(self.cov_))
        for j, (column, n_posts) in enumerate(zip(self.encoding_.columns, self._column_counts(data), strict=True), 1):
            b, s = float(self.coef_[j]), float(se[j])
            rows.append(
                RateRatio(
                    term=column.term,
                    level=_level(column),
                    reference=_reference(self.encoding_, column),
                    rate_ratio=math.exp(b),
                    low=math.exp(b - z * s),
                    high=math.exp(b + z * s),
                    p_value=2 * normal_cdf(-abs(b / s)) if s > 0 else float("nan"),
                    n_posts=n_posts,
                )
            )
        notes = []
        for term, levels in self.encoding_.rare.items():
            names = ", ".join(sorted(level_label(term, v) for v in levels))
            notes.append(
                f"{TERM_LABELS.get(term, term).capitalize()} {names}: fewer than {self.min_posts} posts each, "
                "so estimated together as (rare)."
            )
        if not result.converged:
            notes.append(f"The fit did not converge in {result.n_iterations} iterations; read the numbers with care.")
        engagement = "engagements per unit of exposure"
        return RateRatios(
            ratios=tuple(rows),
            engagement=engagement,
            n_posts=self.n_posts_,
            n_excluded=self.n_excluded_,
            alpha=self.alpha,
            dispersion=result.alpha,
            aliased=tuple(c.label for c in self.encoding_.aliased),
            notes=tuple(notes),
        )

    def _term_tests(self) -> TermTests:
        tests = []
        for term in self.encoding_.terms:
            index = [j for j, c in enumerate(self.encoding_.columns, 1) if c.term == term]
            if not index:
                continue
            b = self.coef_[index]
            cov = self.cov_[np.ix_(index, index)]
            chi2 = float(b @ np.linalg.solve(cov, b))
            tests.append(TermTest(term=term, df=len(index), chi2=chi2, p_value=chi2_sf(chi2, len(index))))
        tests.sort(key=lambda t: -t.chi2 / t.df)
        return TermTests(tests=tuple(tests))

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "coef_"):
            raise not_fitted(self, method)

    def predict_rate(self, X: object) -> npt.NDArray[np.float64]:
        """Expected engagement per unit of exposure of each usable post of `X` (unseen levels read as the reference)."""
        fn = "EngagementModel.predict_rate"
        self._check_fitted(fn)
        data, _ = fetch(as_relation(X, "X", fn), [*self.encoding_.terms, "exposure"], "X", fn)
        n = len(data["exposure"])
        return np.exp(self.encoding_.design(data, n).times(self.coef_))

    def predict(self, X: object) -> npt.NDArray[np.float64]:
        """Expected engagements of each usable post of `X`: its exposure times its expected rate."""
        fn = "EngagementModel.predict"
        self._check_fitted(fn)
        relation = as_relation(X, "X", fn)
        data, _ = fetch(relation, [*self.encoding_.terms, "exposure"], "X", fn)
        n = len(data["exposure"])
        exposure: npt.NDArray[np.float64] = data["exposure"]
        return np.exp(self.encoding_.design(data, n).times(self.coef_)) * exposure


def _level(column: Column) -> str:
    if column.level is not None:
        return level_label(column.term, None if column.level == "(none)" else column.level)
    return NUMERIC[column.term][1] if column.term in NUMERIC else "yes"


def _reference(encoding: Encoding, column: Column) -> str:
    if column.level is not None:
        ref = encoding.reference(column.term)
        return level_label(column.term, None if ref in (None, "(none)") else ref)
    return "one less" if column.term in NUMERIC else "no"
