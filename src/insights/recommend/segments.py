"""Per-segment recommendations: which content type, posting slot and prompt to use, with empirical Bayes shrinkage.

For every segment (an account, a platform, a campaign ...) and every choice dimension (content type, posting slot,
prompt), :func:`recommend` estimates the expected outcome of each option for that segment, picks the best, and says
how much better it is than what the segment does now, with an interval, how many of the segment's posts it rests on
and how much of it is the segment's own data rather than the pool.

The method:

1. **Pooled effects.** One count model over all segments: outcome ~ Poisson(exposure x exp(segment + every choice +
   adjusters)), each a categorical main effect. For engagement the exposure is the post's impressions (or whatever
   denominator post_features used); for leads it is 1 per post, so the outcome reads as leads per post. The model is
   fitted on cell sums the engine computes (posts, outcome, exposure and their squares and cross products per
   combination of segment, options and adjusters): the Poisson likelihood depends on the posts only through those
   sums, so the estimates are those of a Poisson regression on the posts, and no post leaves the engine. The
   covariance is the sandwich over posts (from the same sums), so intervals hold however much posts vary; the NB2
   dispersion of the posts around the model comes from the sums too (moments). With dozens of options (56 slots of
   3 hours) the best raw estimate is partly luck, so each choice's option effects are first shrunk toward their
   average by their standard errors (empirical Bayes).
2. **Deviations, shrunk.** For each (segment, option) cell, observed over expected outcome against the pooled model
   (which has no segment x option interaction): log(O/E), with the NB2 variance sum(mu + dispersion mu^2) as O's
   variance (as :func:`insights.engagement.shrinkage.observed_expected`; a cell without any outcome reads as half an
   outcome). :func:`insights.engagement.shrinkage.shrink` pulls it toward 0, the pooled effect, by its noise; the
   spread between cells tau^2 is estimated by weighted moments on the counts (on log(O/E), small counts pass their
   skew for spread). The weight tau^2 / (tau^2 + se^2) says how much of the estimate is the segment's own data. With
   `pool_by` (default: the platform), the group's deviation is estimated and shrunk first, and the segment's is
   measured from it, so an account leans on its platform before the whole pool.

An option's expected outcome in a segment is exp(pooled effect + group deviation + segment deviation), and its lift
is that against the segment's current mix of options (weighted by exposure; by posts for leads):
lift_k = exp(theta_k) / sum_j w_j exp(theta_j). The interval of log(lift) is by the delta method, from the pooled
effects' covariance and the shrunk deviations' variances. Only options the segment has used at least `min_posts`
times are candidates: a platform may not offer what the segment never posted.

A slot is a weekday x block of `block_hours` hours in local time (post_features' local_weekday and local_hour). A
prompt is the prompt id and version together ("hook v2"); it exists only for AI-drafted posts, so prompts are compared
among the segment's AI posts, and its current mix is that of its AI posts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
from scipy.linalg import solve_triangular
from sqlglot import exp

from insights.distributions import normal_ppf
from insights.engagement.design import NONE_LEVEL, WEEKDAY_NAMES, Categorical, Column, Encoding
from insights.engagement.glm import fit_glm
from insights.engagement.shrinkage import shrink
from insights.errors import invalid_parameter
from insights.params import check_choice, check_int, check_open_unit
from insights.results import TableResult, format_number
from insights.tables import as_relation, require_columns

__all__ = [
    "BLOCK_HOURS",
    "CHOICES",
    "DEFAULT_CHOICES",
    "OUTCOMES",
    "OptionEstimate",
    "PooledEffect",
    "Recommendations",
    "SegmentRecommendation",
    "lead_outcomes",
    "recommend",
]

#: what can be recommended, and the post_features columns each needs
CHOICES = MappingProxyType(
    {
        "content_type": ("content_type",),
        "slot": ("local_weekday", "local_hour"),
        "prompt": ("prompt_id", "prompt_version"),
        "prompt_version": ("prompt_version",),
        "origin": ("origin",),
    }
)
DEFAULT_CHOICES = ("content_type", "slot", "prompt")
#: the outcomes, each with the lead_outcomes column it counts (None: engagements from post_features)
OUTCOMES = MappingProxyType({"engagement": None, "leads": "n_leads", "qualified_leads": "n_qualified_leads"})
#: slot lengths that tile a day
BLOCK_HOURS = (1, 2, 3, 4, 6, 8, 12)
#: choices that exist only for AI-drafted posts: they go last in the model, so the "(none)" level of human posts is
#: the column dropped as aliased with the origin, not an origin level
_AI_ONLY = ("prompt", "prompt_version")

_OUTCOME_TEXT = {
    "engagement": ("engagement", "engagements per unit of exposure"),
    "leads": ("leads per post", "leads per post (chat sessions started on the post that left contact details)"),
    "qualified_leads": ("qualified leads per post", "qualified leads per post (leads that reached mql or beyond)"),
}
_CHOICE_LABELS = {
    "content_type": "content type",
    "slot": "slot",
    "prompt": "prompt",
    "prompt_version": "prompt version",
    "origin": "origin",
}

_LEAD_OUTCOMES_SQL = """
SELECT
    post_id,
    count(session_id) AS n_sessions,
    count(*) FILTER (WHERE is_lead) AS n_leads,
    count(*) FILTER (WHERE is_qualified) AS n_qualified_leads,
    count(*) FILTER (WHERE is_won) AS n_won_leads,
    coalesce(sum(revenue), 0) AS revenue
FROM marts.lineage
WHERE post_id IS NOT NULL
GROUP BY post_id
"""


def lead_outcomes(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """One row per post that started at least one chat session: what its sessions led to (from marts.lineage).

    Columns: post_id, n_sessions, n_leads, n_qualified_leads (reached mql or beyond), n_won_leads, revenue. A
    relation, nothing fetched: :func:`recommend` joins it to the post features in the engine (posts missing here
    brought no session, so they count as 0).

    >>> recommend(post_features(con), outcome="qualified_leads", leads=lead_outcomes(con))  # doctest: +SKIP
    """
    fn = "lead_outcomes"
    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise invalid_parameter("con", fn, "must be a DuckDB connection to the warehouse", type(con).__name__)
    try:
        return con.sql(_LEAD_OUTCOMES_SQL)
    except duckdb.CatalogException:
        raise invalid_parameter(
            "con", fn, "must be a connection to a built warehouse (marts.lineage is missing)", "a connection"
        ) from None


@dataclass(frozen=True)
class PooledEffect:
    """The pooled effect of one option (all segments together) against the choice's reference option (the most
    used one): as fitted (`rate_ratio`, `low`, `high`) and after shrinking the options toward their average
    (`shrunk_ratio`, what the recommendations start from)."""

    choice: str
    option: str
    reference: str
    rate_ratio: float
    low: float
    high: float
    shrunk_ratio: float
    n_posts: int


@dataclass(frozen=True)
class OptionEstimate:
    """One option in one segment: its expected outcome, its lift against the segment's current mix, the evidence.

    `mean` is the expected outcome (engagement rate, leads per post) and `log_se` the standard error of log(lift)
    (the segment's common level cancels between options, so it is left out). `n_posts`: the segment's posts with
    this option; `weight`: the shrinkage weight, the share of the deviation from the pool that is the segment's own
    data (0: all pool, 1: all own). `pooled_ratio`: what the pool (the segment's group, with `pool_by`) expects of
    the option against the average option. `is_candidate`: used at least min_posts times.
    """

    segment: str
    choice: str
    option: str
    mean: float
    lift: float
    low: float
    high: float
    log_se: float
    n_posts: int
    weight: float
    pooled_ratio: float
    is_candidate: bool


@dataclass(frozen=True)
class SegmentRecommendation:
    """The best option of one choice for one segment, against what the segment does now.

    `expected`: the expected outcome with the best option; `current`: the segment's observed outcome per unit of
    exposure (per post for leads) with its current mix; `lift`, `low`, `high`: expected over current with its
    interval; `n_posts`: the segment's posts with the best option; `n_segment_posts`: its posts in the comparison
    (for prompts, its AI posts); `weight`: the shrinkage weight of the best option's cell. `note`: a stable code
    when there is no recommendation (`no_posts`, `no_candidates`, `no_outcome`) or when it rests on one option
    only (`one_option`), else None.
    """

    segment: str
    choice: str
    best: str | None
    expected: float
    current: float
    lift: float
    low: float
    high: float
    n_posts: int
    n_segment_posts: int
    weight: float
    note: str | None = None


_NOTES = {
    "no_posts": "no posts in this comparison",
    "no_candidates": "no option used often enough to judge",
    "no_outcome": "no outcome yet in this segment",
    "one_option": "only one option used often enough, so nothing to choose between",
}


@dataclass(frozen=True)
class Recommendations(TableResult):
    """Per segment and choice, the option with the best expected outcome, its lift over the current mix and the
    evidence behind it; every option's estimate in `options`, the pooled effects in `pooled`.

    The spreads the shrinkage used, per choice (log scale): `effect_tau2` between the options' pooled effects,
    `pool_tau2` between the pool groups' deviations (with `pool_by`), `tau2` between the segments' deviations.
    `dispersion`: the NB2 dispersion of single posts around the pooled model.
    """

    recommendations: tuple[SegmentRecommendation, ...]
    options: tuple[OptionEstimate, ...]
    pooled: tuple[PooledEffect, ...]
    outcome: str
    segment: tuple[str, ...]
    choices: tuple[str, ...]
    pool_by: str | None
    alpha: float
    block_hours: int
    min_posts: int
    n_posts: int
    n_excluded: int
    dispersion: float
    effect_tau2: tuple[tuple[str, float], ...]
    pool_tau2: tuple[tuple[str, float], ...]
    tau2: tuple[tuple[str, float], ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        return f"What to post, per {' x '.join(self.segment)}: {_OUTCOME_TEXT[self.outcome][0]}"

    def get(self, segment: str, choice: str) -> SegmentRecommendation:
        """The recommendation for `segment` and `choice`."""
        for r in self.recommendations:
            if r.segment == segment and r.choice == choice:
                return r
        raise KeyError((segment, choice))

    def arms(self, segment: str | None = None, *, choice: str = "content_type") -> list[dict[str, Any]]:
        """The candidate options of `choice` as arms for :func:`insights.recommend.thompson_allocation`.

        One dict per (segment, option) with segment, arm, mean (expected outcome, > 0), log_se and n_posts; all
        segments unless `segment` is given. Segments without any outcome yet are left out (their means are 0).

        >>> thompson_allocation(result.arms(choice="content_type"))  # doctest: +SKIP
        """
        fn = "Recommendations.arms"
        check_choice("choice", fn, choice, self.choices)
        if segment is not None and segment not in {r.segment for r in self.recommendations}:
            raise invalid_parameter("segment", fn, "must be one of the segments of the result", segment)
        return [
            {"segment": o.segment, "arm": o.option, "mean": o.mean, "log_se": o.log_se, "n_posts": o.n_posts}
            for o in self.options
            if o.choice == choice
            and o.is_candidate
            and o.mean > 0
            and math.isfinite(o.log_se)
            and (segment is None or o.segment == segment)
        ]

    def rows(self) -> list[dict[str, Any]]:
        return [dict(vars(r)) for r in self.recommendations]

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        level = f"{1 - self.alpha:.0%}"
        headers = [" x ".join(self.segment), "choice", "best", "lift vs now", f"{level} interval", "expected", "now"]
        headers += ["posts (best)", "posts", "own data"]
        percent = self.outcome == "engagement"
        cells = [
            [
                r.segment,
                _CHOICE_LABELS[r.choice],
                r.best if r.best is not None else f"({_NOTES[r.note or 'no_candidates']})",
                _times(r.lift),
                _range(r.low, r.high),
                _value(r.expected, percent),
                _value(r.current, percent),
                format_number(r.n_posts),
                format_number(r.n_segment_posts),
                "n/a" if not math.isfinite(r.weight) else f"{r.weight:.0%}",
            ]
            for r in self.recommendations
        ]
        return headers, cells

    def summary_lines(self, limit: int = 12) -> list[str]:
        """The clear gains (interval above 1) in plain language, strongest first, then what is left."""
        short, long = _OUTCOME_TEXT[self.outcome]
        level = f"{1 - self.alpha:.0%}"
        segments = sorted({r.segment for r in self.recommendations})
        lines = [
            f"Outcome: {long}. {format_number(self.n_posts)} posts in {len(segments)} segments"
            + (f" ({format_number(self.n_excluded)} not measurable yet, left out)." if self.n_excluded else ".")
        ]
        clear = [r for r in self.recommendations if r.best is not None and r.low > 1 and r.note != "one_option"]
        lean = f"what its {self.pool_by} shows" if self.pool_by is not None else "the pooled estimate"
        clear.sort(key=lambda r: (-r.lift, r.segment, r.choice))
        for r in clear[:limit]:
            own = "mostly its own data" if r.weight >= 0.5 else f"mostly {lean}"
            mix = "its current prompt mix" if r.choice in _AI_ONLY else "its current mix"
            lines.append(
                f"On {r.segment}, {_action(r.choice, r.best or '')}: about {r.lift:.2f}x the {short} of {mix} "
                f"({level} {r.low:.2f}-{r.high:.2f}), from {format_number(r.n_posts)} of its "
                f"{format_number(r.n_segment_posts)} posts, {own}."
            )
        if len(clear) > limit:
            lines.append(f"... and {len(clear) - limit} more clear gains in the table.")
        judged = [r for r in self.recommendations if r.best is not None]
        unclear = len(judged) - len(clear)
        if unclear:
            lines.append(
                f"For {unclear} of {len(judged)} segment choices no option clearly beats the current mix "
                "(the interval of the best one includes 1): keep doing what works, or test."
            )
        if "prompt" in self.choices or "prompt_version" in self.choices:
            lines.append("Prompts are compared among each segment's AI-drafted posts only.")
        within = f" and its {self.pool_by}'s" if self.pool_by is not None else ""
        lines.append(
            f"Each option's estimate for a segment is its effect over all segments times the segment's{within} own "
            "deviation, each shrunk toward the pool by how noisy it is; 'own data' says how much is the segment's."
        )
        return lines + list(self.notes)

    def plot(self, choice: str = "content_type") -> Any:
        """Each segment's lift of every candidate option of `choice` with its interval (log scale)."""
        from insights._optional import require

        check_choice("choice", "Recommendations.plot", choice, self.choices)
        go = require("plotly.graph_objects", "reports")
        shown = [o for o in self.options if o.choice == choice and o.is_candidate]
        figure = go.Figure()
        for option in sorted({o.option for o in shown}):
            mine = [o for o in shown if o.option == option]
            figure.add_trace(
                go.Scatter(
                    x=[o.lift for o in mine],
                    y=[o.segment for o in mine],
                    mode="markers",
                    name=option,
                    error_x={
                        "type": "data",
                        "symmetric": False,
                        "array": [o.high - o.lift for o in mine],
                        "arrayminus": [o.lift - o.low for o in mine],
                    },
                )
            )
        figure.add_vline(x=1.0, line_dash="dot")
        figure.update_xaxes(type="log", title="expected outcome against the current mix (1 = the same)")
        n_segments = len({o.segment for o in shown})
        figure.update_layout(title=f"{self.title}: {_CHOICE_LABELS[choice]}", height=max(300, 40 * n_segments + 160))
        return figure


def _action(choice: str, option: str) -> str:
    return {
        "content_type": f"post {option}",
        "slot": f"post on {option}",
        "prompt": f"draft AI posts with prompt {option}",
        "prompt_version": f"draft AI posts with prompt version {option}",
        "origin": f"publish {option} posts",
    }[choice]


def _times(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.2f}x"


def _range(low: float, high: float) -> str:
    return "n/a" if not (math.isfinite(low) and math.isfinite(high)) else f"{low:.2f}-{high:.2f}"


def _value(value: float, percent: bool) -> str:
    if not math.isfinite(value):
        return "n/a"
    return f"{value:.2%}" if percent else f"{value:.3g}"


def _slot_label(start: int, block_hours: int) -> str:
    """A slot from the hour of the week it starts at: 'Wed 12:00-15:00'."""
    weekday, hour = divmod(start, 24)
    return f"{WEEKDAY_NAMES[weekday]} {hour:02d}:00-{hour + block_hours:02d}:00"


# ---------------------------------------------------------------------------------------------------------------
# checking the call


def _names(name: str, function: str, value: object, allowed: Sequence[str] | None, *, empty: bool) -> tuple[str, ...]:
    """A name or a sequence of distinct names (from `allowed`, when given)."""
    values = (value,) if isinstance(value, str) else value
    what = "names from " + ", ".join(allowed) if allowed is not None else "column names"
    rule = f"must be {'a sequence' if empty else 'a name or a non-empty sequence'} of distinct {what}"
    if not isinstance(values, Sequence) or (not values and not empty):
        raise invalid_parameter(name, function, rule, value)
    if any(not isinstance(v, str) or not v or (allowed is not None and v not in allowed) for v in values):
        raise invalid_parameter(name, function, rule, value)
    if len(set(values)) != len(values):
        raise invalid_parameter(name, function, rule, value)
    return tuple(values)


def _text(expression: exp.Expr) -> exp.Expr:
    return exp.func("coalesce", exp.cast(expression, "VARCHAR"), exp.Literal.string(NONE_LEVEL))


def _choice_sql(choice: str, block_hours: int) -> exp.Expr:
    if choice == "slot":
        weekday = exp.cast(exp.column("local_weekday", quoted=True), "INTEGER")
        hour = exp.cast(exp.column("local_hour", quoted=True), "INTEGER")
        block = exp.Literal.number(block_hours)
        start = exp.Add(
            this=exp.Mul(this=weekday, expression=exp.Literal.number(24)),
            expression=exp.Mul(this=exp.paren(exp.IntDiv(this=hour, expression=block)), expression=block),
        )
        return _text(start)
    if choice == "prompt":
        prompt, version = exp.column("prompt_id", quoted=True), exp.column("prompt_version", quoted=True)
        pair = exp.DPipe(this=exp.DPipe(this=prompt, expression=exp.Literal.string(" ")), expression=version)
        return (
            exp.case()
            .when(prompt.is_(exp.null()), exp.Literal.string(NONE_LEVEL))
            .else_(exp.func("coalesce", pair, prompt.copy()))
        )
    return _text(exp.column(CHOICES[choice][0], quoted=True))


def _segment_sql(columns: tuple[str, ...]) -> exp.Expr:
    parts = [_text(exp.column(c, quoted=True)) for c in columns]
    out = parts[0]
    for part in parts[1:]:
        out = exp.DPipe(this=exp.DPipe(this=out, expression=exp.Literal.string(" / ")), expression=part)
    return out


@dataclass(frozen=True)
class _Cells:
    """Sums per combination of segment, options and adjusters: everything the model and the shrinkage need."""

    terms: dict[str, npt.NDArray[np.str_]]
    n_posts: npt.NDArray[np.int64]
    y: npt.NDArray[np.float64]
    e: npt.NDArray[np.float64]
    yy: npt.NDArray[np.float64]
    ye: npt.NDArray[np.float64]
    ee: npt.NDArray[np.float64]

    def subset(self, keep: npt.NDArray[np.bool_]) -> _Cells:
        return _Cells(
            {t: v[keep] for t, v in self.terms.items()},
            self.n_posts[keep],
            self.y[keep],
            self.e[keep],
            self.yy[keep],
            self.ye[keep],
            self.ee[keep],
        )


def _cell_sums(
    relation: duckdb.DuckDBPyRelation,
    terms: dict[str, exp.Expr],
    outcome: exp.Expr,
    exposure: exp.Expr,
    usable: exp.Expr,
) -> _Cells:
    y = exp.paren(outcome)
    e = exp.paren(exposure)
    sums = {
        "n_posts": exp.func("count", exp.Star()),
        "y": exp.func("sum", y),
        "e": exp.func("sum", e),
        "yy": exp.func("sum", exp.Mul(this=y.copy(), expression=y.copy())),
        "ye": exp.func("sum", exp.Mul(this=y.copy(), expression=e.copy())),
        "ee": exp.func("sum", exp.Mul(this=e.copy(), expression=e.copy())),
    }
    keys = [exp.alias_(sql, f"t{i}", quoted=True) for i, sql in enumerate(terms.values())]
    key_columns = [exp.column(f"t{i}", quoted=True) for i in range(len(terms))]
    query = (
        exp.select(*keys, *[exp.alias_(sql, name, quoted=True) for name, sql in sums.items()])
        .from_("features")
        .where(usable)
        .group_by(*key_columns)
        .order_by(*[c.copy() for c in key_columns])
    )
    grouped = relation.query("features", query.sql("duckdb"))
    assert grouped is not None  # a SELECT always gives a relation
    table = grouped.to_arrow_table()

    def numbers(name: str) -> npt.NDArray[np.float64]:
        return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)

    return _Cells(
        terms={
            term: np.asarray(table.column(f"t{i}").to_numpy(zero_copy_only=False), dtype=object).astype(str)
            for i, term in enumerate(terms)
        },
        n_posts=np.asarray(table.column("n_posts").to_numpy(), dtype=np.int64),
        y=numbers("y"),
        e=numbers("e"),
        yy=numbers("yy"),
        ye=numbers("ye"),
        ee=numbers("ee"),
    )


# ---------------------------------------------------------------------------------------------------------------
# the pooled model on cell sums


@dataclass(frozen=True)
class _Pooled:
    """The pooled model: its columns, coefficients, sandwich covariance, each cell's expected outcome, dispersion."""

    encoding: Encoding
    coef: npt.NDArray[np.float64]
    cov: npt.NDArray[np.float64]
    mu: npt.NDArray[np.float64]
    mu2: npt.NDArray[np.float64]
    dispersion: float
    converged: bool

    def effects(self, term: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The log effect of each level of `term` (in encoding order) against its reference, NaN when its column
        was aliased, and their covariance (zero for the reference)."""
        levels = self.encoding.levels[term]
        index = {c.level: j for j, c in enumerate(self.encoding.columns, start=1) if c.term == term}
        at = np.array([index.get(level, 0) for level in levels], dtype=np.int64)
        effect = np.where(at > 0, self.coef[at], np.nan)
        effect[0] = 0.0
        cov = np.where(np.outer(at > 0, at > 0), self.cov[np.ix_(at, at)], 0.0)
        return effect, cov


def _levels(values: npt.NDArray[np.str_], n_posts: npt.NDArray[np.int64]) -> tuple[str, ...]:
    """Levels by posts, most first; "(none)" after the real levels, so it is never a reference."""
    uniques, inverse = np.unique(values, return_inverse=True)
    counts = np.bincount(inverse.reshape(-1), weights=n_posts, minlength=len(uniques))
    names = [str(u) for u in uniques]
    order = sorted(range(len(names)), key=lambda i: (names[i] == NONE_LEVEL, -counts[i], names[i]))
    return tuple(names[i] for i in order)


def _fit_pooled(cells: _Cells) -> _Pooled:
    """Poisson regression on the cell sums: segment, adjusters and choices, each a main effect."""
    terms = tuple(t for t in cells.terms if t != "pool")
    data: dict[str, Categorical] = {}
    levels: dict[str, tuple[str, ...]] = {}
    for term in terms:
        seen, codes = np.unique(cells.terms[term], return_inverse=True)
        data[term] = Categorical(codes.reshape(-1).astype(np.int32), tuple(str(v) for v in seen))
        levels[term] = _levels(cells.terms[term], cells.n_posts)
    columns = tuple(Column(t, level, f"{t}={level}") for t in terms for level in levels[t][1:])
    encoding = Encoding(terms, MappingProxyType(levels), columns, ())
    n = len(cells.y)
    kept = _independent_columns(encoding.design(data, n).cross(cells.n_posts.astype(np.float64)))
    encoding = Encoding(
        terms,
        encoding.levels,
        tuple(columns[j - 1] for j in kept[1:]),
        tuple(c for j, c in enumerate(columns, start=1) if j not in set(kept)),
    )
    design = encoding.design(data, n)
    fit = fit_glm(design, cells.y, np.log(cells.e), family="poisson")
    rate = np.exp(design.times(fit.coef))
    mu = rate * cells.e
    # sum over the cell's posts of (y - rate e)^2 and of mu^2, from the sums: the posts of a cell share their rate
    squares = np.maximum(cells.yy - 2 * rate * cells.ye + rate**2 * cells.ee, 0.0)
    mu2 = rate**2 * cells.ee
    cov = fit.cov_model @ design.cross(squares) @ fit.cov_model
    dispersion = max(0.0, float(np.sum(squares - mu)) / float(np.sum(mu2))) if np.sum(mu2) > 0 else 0.0
    return _Pooled(encoding, fit.coef, cov, mu, mu2, dispersion, fit.converged)


def _independent_columns(gram: npt.NDArray[np.float64], tolerance: float = 1e-9) -> list[int]:
    """The columns (0, the intercept, first) that are not (nearly) linear combinations of the kept ones before them.

    The rule of Encoding.without_aliased (a column goes when less than `tolerance` of its square sum is left once
    the kept columns are projected out), by growing one Cholesky factor a row at a time, so that a thousand
    segments cost one O(p^3) pass instead of one factorisation per column.
    """
    p = gram.shape[0]
    kept = [0]
    factor = np.zeros((p, p))
    factor[0, 0] = math.sqrt(gram[0, 0])
    for j in range(1, p):
        if gram[j, j] <= 0:
            continue
        k = len(kept)
        row = solve_triangular(factor[:k, :k], gram[kept, j], lower=True, check_finite=False)
        rest = gram[j, j] - float(row @ row)
        if rest > tolerance * gram[j, j]:
            factor[k, :k] = row
            factor[k, k] = math.sqrt(rest)
            kept.append(j)
    return kept


# ---------------------------------------------------------------------------------------------------------------
# per choice: the groups' and segments' deviations, shrunk, and the lifts


@dataclass(frozen=True)
class _Deviations:
    """Shrunk log(O/E) per (group, option), their standard errors and weights, and tau^2."""

    estimate: npt.NDArray[np.float64]
    se: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]
    tau2: float


def _deviations(
    group: npt.NDArray[np.int64],
    option: npt.NDArray[np.int64],
    shape: tuple[int, int],
    y: npt.NDArray[np.float64],
    mu: npt.NDArray[np.float64],
    variance: npt.NDArray[np.float64],
    real: npt.NDArray[np.bool_],
) -> _Deviations:
    """Observed over expected per (group, option) cell, shrunk toward 0 by its noise (empirical Bayes)."""
    cell = group * shape[1] + option

    def per_cell(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.bincount(cell, weights=values, minlength=shape[0] * shape[1]).astype(np.float64).reshape(shape)

    observed, expected, var = per_cell(y), per_cell(mu), per_cell(variance)
    has_data = (expected > 0) & real[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        # a cell without any outcome reads as half an outcome: still evidence of a low rate, not of nothing
        theta = np.where(has_data, np.log(np.maximum(observed, 0.5) / expected), np.nan)
        se = np.where(has_data, np.sqrt(var) / expected, np.inf)
    # tau^2 by weighted moments on the counts, E (O - E)^2 / var O = 1 + tau^2 E^2 / var O, less one degree of
    # freedom per group and option the model fitted: on log(O/E), small counts (a few leads per cell) would pass
    # their skew for spread between cells (simulated with no spread: 0.04 instead of 0; this way 0.009)
    m = int(has_data.sum())
    df = max(m - int(has_data.any(axis=1).sum()) - int(has_data.any(axis=0).sum()) + 1, 1)
    safe = np.where(has_data, var, 1.0)
    q = float(np.sum(np.where(has_data, (observed - expected) ** 2 / safe, 0.0)))
    information = float(np.sum(np.where(has_data, expected**2 / safe, 0.0)))
    tau2 = max(0.0, (q - df) / information) if m > 1 and information > 0 else 0.0
    shrunk = shrink(theta.ravel(), se.ravel(), 0.0, tau2=tau2)
    weight = np.where(has_data, shrunk.weight.reshape(shape), 0.0)
    return _Deviations(
        np.where(real[None, :], shrunk.estimate.reshape(shape), 0.0),
        np.where(real[None, :], shrunk.se.reshape(shape), 0.0),
        weight,
        shrunk.tau2,
    )


@dataclass(frozen=True)
class _Choice:
    recommendations: list[SegmentRecommendation]
    options: list[OptionEstimate]
    pooled: list[PooledEffect]
    effect_tau2: float
    pool_tau2: float | None
    tau2: float


def _shrink_effects(
    effect: npt.NDArray[np.float64],
    cov: npt.NDArray[np.float64],
    n_posts: npt.NDArray[np.float64],
    real: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    """The options' log effects centred on their post-weighted average, the same shrunk toward it, the shrunk ones'
    covariance, and the spread tau^2 between options.

    Centred on the average, the effects no longer depend on which option is the reference; each is shrunk by its
    own standard error (empirical Bayes, as for the cells), and the covariance of the centred effects is scaled by
    the square roots of the weights (so each variance is the shrunk one, weight x se^2).
    """
    k = len(effect)
    w = np.where(real, n_posts, 0.0)
    w = w / w.sum() if w.sum() > 0 else w
    centring = np.eye(k) - np.outer(np.ones(k), w)
    values = np.where(real, effect, 0.0)
    centred = centring @ values
    centred_cov = centring @ cov @ centring.T
    se = np.sqrt(np.maximum(np.diag(centred_cov), 0.0))
    theta = np.where(real & (se > 0), centred, np.nan)
    shrunk = shrink(theta, np.where(real & (se > 0), se, np.inf), 0.0)
    estimate = np.where(real, np.where(se > 0, shrunk.estimate, centred), np.nan)
    scale = np.sqrt(np.where(real & (se > 0), shrunk.weight, 1.0))
    return np.where(real, centred, np.nan), estimate, centred_cov * np.outer(scale, scale), shrunk.tau2


def _choose(
    cells: _Cells,
    pooled: _Pooled,
    choice: str,
    *,
    by_pool: bool,
    block_hours: int,
    min_posts: int,
    alpha: float,
) -> _Choice:
    segments = tuple(sorted(set(cells.terms["segment"].tolist())))
    options = pooled.encoding.levels[choice]
    labels = [_option_label(choice, option, block_hours) for option in options]
    s, k = len(segments), len(options)
    segment_code = _code(cells.terms["segment"], segments)
    option_code = _code(cells.terms[choice], options)
    effect, raw_cov = pooled.effects(choice)
    real = np.isfinite(effect) & np.array([option != NONE_LEVEL for option in options])

    # the options' pooled effects themselves are shrunk toward their average: with dozens of slots, the best of the
    # raw estimates is mostly luck; the posts' expected outcomes move with them, so deviations are measured from here
    posts_per_option = np.bincount(option_code, weights=cells.n_posts, minlength=k).astype(np.float64)
    centred, shrunk_effect, effect_cov, effect_tau2 = _shrink_effects(effect, raw_cov, posts_per_option, real)
    factor = np.exp(np.where(real, shrunk_effect - centred, 0.0))[option_code]
    mu, mu2 = pooled.mu * factor, pooled.mu2 * factor**2
    raw_effect, effect = effect, shrunk_effect
    pool_var = np.zeros((s, k))
    pool_tau2 = None
    if by_pool:
        # first the pool group's own deviation from the overall effect, shrunk; the segments then deviate from it
        pools = tuple(sorted(set(cells.terms["pool"].tolist())))
        pool_code = _code(cells.terms["pool"], pools)
        found = _deviations(pool_code, option_code, (len(pools), k), cells.y, mu, mu + pooled.dispersion * mu2, real)
        factor = np.exp(found.estimate[pool_code, option_code])
        mu, mu2 = mu * factor, mu2 * factor**2
        pool_of_segment = np.zeros(s, dtype=np.int64)
        pool_of_segment[segment_code] = pool_code
        pool_deviation = found.estimate[pool_of_segment]
        pool_var = found.se[pool_of_segment] ** 2
        pool_tau2 = found.tau2
    else:
        pool_deviation = np.zeros((s, k))
    own = _deviations(segment_code, option_code, (s, k), cells.y, mu, mu + pooled.dispersion * mu2, real)

    def per_cell(values: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        cell = segment_code * k + option_code
        return np.bincount(cell, weights=values, minlength=s * k).astype(np.float64).reshape(s, k)

    observed, exposure = per_cell(cells.y), per_cell(cells.e)
    n_posts = per_cell(cells.n_posts.astype(np.float64)).astype(np.int64)
    log_effect = np.where(real[None, :], np.nan_to_num(effect)[None, :] + pool_deviation + own.estimate, -np.inf)
    theta_var = np.where(real[None, :], pool_var + own.se**2, 0.0)
    mix = np.where(real[None, :], exposure, 0.0)
    totals = mix.sum(axis=1)
    safe_totals = np.where(totals > 0, totals, 1.0)
    share = mix / safe_totals[:, None]
    current = np.where(totals > 0, np.where(real[None, :], observed, 0.0).sum(axis=1) / safe_totals, 0.0)
    top = np.max(np.where(share > 0, log_effect, -np.inf), axis=1, initial=-np.inf)
    top = np.where(np.isfinite(top), top, 0.0)[:, None]
    scaled = share * np.exp(log_effect - top)
    level_now = np.log(np.maximum(scaled.sum(axis=1, keepdims=True), 1e-300)) + top
    log_lift = log_effect - level_now
    # delta method: d log(lift_k) / d theta_j = [j == k] - pi_j, with pi the current mix's shares of the outcome
    pi = scaled / np.maximum(scaled.sum(axis=1, keepdims=True), 1e-300)
    gradient = np.eye(k)[None, :, :] - pi[:, None, :]
    log_lift_var = np.einsum("skj,jl,skl->sk", gradient, effect_cov, gradient, optimize=True)
    log_lift_var += np.einsum("skj,sj->sk", gradient**2, theta_var)
    log_lift_se = np.sqrt(np.maximum(log_lift_var, 0.0))
    z = normal_ppf(1 - alpha / 2)
    candidate = real[None, :] & (n_posts >= min_posts)

    recommendations, estimates = [], []
    for i, segment in enumerate(segments):
        n_segment = int(n_posts[i, real].sum())
        for j in np.flatnonzero(candidate[i]).tolist():
            lift = math.exp(log_lift[i, j])
            estimates.append(
                OptionEstimate(
                    segment=segment,
                    choice=choice,
                    option=labels[j],
                    mean=float(current[i] * lift),
                    lift=lift,
                    low=math.exp(log_lift[i, j] - z * log_lift_se[i, j]),
                    high=math.exp(log_lift[i, j] + z * log_lift_se[i, j]),
                    log_se=float(log_lift_se[i, j]),
                    n_posts=int(n_posts[i, j]),
                    weight=float(own.weight[i, j]),
                    pooled_ratio=math.exp(effect[j] + pool_deviation[i, j]),
                    is_candidate=True,
                )
            )
        note = None
        if n_segment == 0:
            note = "no_posts"
        elif not candidate[i].any():
            note = "no_candidates"
        elif not current[i] > 0:
            note = "no_outcome"
        if note is not None:
            recommendations.append(_empty(segment, choice, note, float(current[i]), n_segment))
            continue
        best = int(np.flatnonzero(candidate[i])[np.argmax(log_lift[i, candidate[i]])])
        lift = math.exp(log_lift[i, best])
        recommendations.append(
            SegmentRecommendation(
                segment=segment,
                choice=choice,
                best=labels[best],
                expected=float(current[i] * lift),
                current=float(current[i]),
                lift=lift,
                low=math.exp(log_lift[i, best] - z * log_lift_se[i, best]),
                high=math.exp(log_lift[i, best] + z * log_lift_se[i, best]),
                n_posts=int(n_posts[i, best]),
                n_segment_posts=n_segment,
                weight=float(own.weight[i, best]),
                note="one_option" if int(candidate[i].sum()) == 1 else None,
            )
        )
    effect_se = np.sqrt(np.maximum(np.diag(raw_cov), 0.0))
    pooled_rows = [
        PooledEffect(
            choice=choice,
            option=labels[j],
            reference=labels[0],
            rate_ratio=math.exp(raw_effect[j]),
            low=math.exp(raw_effect[j] - z * effect_se[j]),
            high=math.exp(raw_effect[j] + z * effect_se[j]),
            shrunk_ratio=math.exp(effect[j] - effect[0]),
            n_posts=int(posts_per_option[j]),
        )
        for j in range(1, k)
        if real[j]
    ]
    return _Choice(recommendations, estimates, pooled_rows, effect_tau2, pool_tau2, own.tau2)


def _code(values: npt.NDArray[np.str_], levels: Sequence[str]) -> npt.NDArray[np.int64]:
    uniques, inverse = np.unique(values, return_inverse=True)
    index = {level: i for i, level in enumerate(levels)}
    return np.array([index[str(u)] for u in uniques], dtype=np.int64)[inverse.reshape(-1)]


def _option_label(choice: str, level: str, block_hours: int) -> str:
    if choice == "slot" and level != NONE_LEVEL:
        return _slot_label(int(level), block_hours)
    return level


# ---------------------------------------------------------------------------------------------------------------
# the door


def recommend(
    features: object,
    *,
    segment: str | Sequence[str] = "account",
    choices: Sequence[str] = DEFAULT_CHOICES,
    outcome: str = "engagement",
    leads: duckdb.DuckDBPyRelation | duckdb.DuckDBPyConnection | None = None,
    pool_by: str | None = "platform",
    adjust: Sequence[str] = ("is_paid",),
    block_hours: int = 3,
    min_posts: int = 5,
    alpha: float = 0.05,
) -> Recommendations:
    """Per segment and choice, the option with the best expected outcome, shrunk toward the pool (empirical Bayes).

    `features`: what :func:`insights.engagement.features.post_features` returns (or the same columns as a frame);
    only usable posts (exclusion NULL) count. `segment`: the column (or columns, read together) that makes a
    segment, e.g. "account" or ("platform", "campaign"). `choices`: what to recommend, from :data:`CHOICES`.
    `outcome`: "engagement" (engagements per unit of exposure), "leads" or "qualified_leads" (per post; these need
    `leads`: :func:`lead_outcomes` of the warehouse, or the connection itself, on the same connection as
    `features`). `pool_by`: a column that groups the segments (each segment within one group), so that a segment
    is shrunk toward its group's effects, themselves shrunk toward the effects pooled over all segments (best
    posting times and formats differ between platforms); None shrinks toward the overall effects directly.
    `adjust`: other columns the model holds fixed (paid posts get more impressions, so more leads).
    `block_hours`: the length of a slot (a divisor of 24). `min_posts`: how often a segment must have used an option
    for it to be a candidate. `alpha`: 1 - the confidence of the intervals.

    >>> result = recommend(post_features(con))  # doctest: +SKIP
    >>> result.get("instagram/brightloop", "content_type").best  # doctest: +SKIP
    'video'
    """
    fn = "recommend"
    relation = as_relation(features, "features", fn)
    segment_columns = _names("segment", fn, segment, None, empty=False)
    chosen = _names("choices", fn, choices, tuple(CHOICES), empty=False)
    if "prompt" in chosen and "prompt_version" in chosen:
        raise invalid_parameter(
            "choices", fn, "must not hold both prompt and prompt_version (one holds the other)", choices
        )
    check_choice("outcome", fn, outcome, tuple(OUTCOMES))
    adjusters = _names("adjust", fn, adjust, None, empty=True)
    if pool_by is not None and (not isinstance(pool_by, str) or not pool_by):
        raise invalid_parameter("pool_by", fn, "must be None or a column name such as 'platform'", pool_by)
    if isinstance(block_hours, bool) or block_hours not in BLOCK_HOURS:
        raise invalid_parameter("block_hours", fn, "must be one of " + ", ".join(map(str, BLOCK_HOURS)), block_hours)
    check_int("min_posts", fn, min_posts, 1)
    check_open_unit("alpha", fn, alpha)

    choice_columns = {c for choice in chosen for c in CHOICES[choice]}
    require_columns(relation, segment_columns, "segment", fn)
    require_columns(relation, [c for choice in chosen for c in CHOICES[choice]], "choices", fn)
    require_columns(relation, adjusters, "adjust", fn)
    if pool_by is not None:
        require_columns(relation, [pool_by], "pool_by", fn)
        if pool_by in choice_columns:
            raise invalid_parameter("pool_by", fn, "must not be a column of a choice", pool_by)
    clash = (set(segment_columns) | set(adjusters)) & choice_columns
    if clash or set(segment_columns) & set(adjusters):
        raise invalid_parameter(
            "adjust" if set(adjusters) & (choice_columns | set(segment_columns)) else "segment",
            fn,
            "must not name a column that is also a segment, a choice or an adjuster",
            tuple(sorted(clash or set(segment_columns) & set(adjusters))),
        )

    usable: exp.Expr = exp.true()
    if "exclusion" in relation.columns:
        usable = exp.column("exclusion", quoted=True).is_(exp.null())
    lead_column = OUTCOMES[outcome]
    if lead_column is None:
        require_columns(relation, ["engagements", "exposure"], "features", fn)
        y: exp.Expr = exp.column("engagements", quoted=True)
        e: exp.Expr = exp.column("exposure", quoted=True)
        usable = exp.and_(
            usable, y.copy().is_(exp.null()).not_(), exp.GT(this=e.copy(), expression=exp.Literal.number(0))
        )
    else:
        relation = _with_leads(relation, leads, lead_column, fn)
        y = exp.func("coalesce", exp.column(lead_column, quoted=True), exp.Literal.number(0))
        e = exp.Literal.number(1)

    # the model's terms: the segment first, then the adjusters, then the choices (AI-only ones last)
    order = sorted(chosen, key=lambda c: c in _AI_ONLY)
    terms: dict[str, exp.Expr] = {"segment": _segment_sql(segment_columns)}
    terms["pool"] = exp.Literal.string("all") if pool_by is None else _text(exp.column(pool_by, quoted=True))
    terms.update({f"adjust:{a}": _text(exp.column(a, quoted=True)) for a in adjusters})
    terms.update({c: _choice_sql(c, block_hours) for c in order})

    n_total = int(relation.aggregate("count(*)").fetchall()[0][0])
    cells = _cell_sums(relation, terms, y, e, usable)
    n_usable = int(cells.n_posts.sum())
    if pool_by is not None:
        pairs = np.unique(np.char.add(np.char.add(cells.terms["segment"], "\x1f"), cells.terms["pool"]))
        if len(pairs) != len(np.unique(cells.terms["segment"])):
            raise invalid_parameter(
                "pool_by", fn, "must be one value within each segment (a segment cannot belong to two groups)", pool_by
            )
    segments_all = tuple(sorted(set(cells.terms["segment"].tolist())))
    notes: list[str] = []
    # a level (segment, option, adjuster) without any outcome has no finite effect: its posts cannot inform the model
    silent: dict[str, list[str]] = {}
    for term, values in cells.terms.items():
        if term != "pool":
            names, inverse = np.unique(values, return_inverse=True)
            totals = np.bincount(inverse.reshape(-1), weights=cells.y, minlength=len(names))
            silent[term] = [str(v) for v in names[totals <= 0]]
    keep = np.ones(len(cells.y), dtype=bool)
    for term, levels in silent.items():
        keep &= ~np.isin(cells.terms[term], levels)
    cells = cells.subset(keep)
    if silent["segment"]:
        notes.append(f"No {_OUTCOME_TEXT[outcome][0]} at all yet in {', '.join(silent['segment'])}: left out.")
    left_out = [
        f"{_CHOICE_LABELS[c]} {_option_label(c, level, block_hours)}"
        for c in chosen
        for level in silent[c]
        if level != NONE_LEVEL
    ]
    if left_out:
        listed = ", ".join(left_out[:5]) + (f" and {len(left_out) - 5} more" if len(left_out) > 5 else "")
        notes.append(f"Options without any {_OUTCOME_TEXT[outcome][0]} in any segment, left out: {listed}.")
    recommendations = [_empty(s, c, "no_outcome") for s in silent["segment"] for c in chosen]
    options: list[OptionEstimate] = []
    pooled_rows: list[PooledEffect] = []
    tau2: list[tuple[str, float]] = []
    effect_tau2: list[tuple[str, float]] = []
    pool_tau2: list[tuple[str, float]] = []
    dispersion = math.nan
    if cells.y.sum() > 0 and len(cells.y) > 1:
        pooled = _fit_pooled(cells)
        dispersion = pooled.dispersion
        if not pooled.converged:
            notes.append("The pooled model did not converge (an option without any outcome?): read with care.")
        for choice in chosen:
            found = _choose(
                cells,
                pooled,
                choice,
                by_pool=pool_by is not None,
                block_hours=block_hours,
                min_posts=min_posts,
                alpha=alpha,
            )
            recommendations += found.recommendations
            options += found.options
            pooled_rows += found.pooled
            tau2.append((choice, found.tau2))
            effect_tau2.append((choice, found.effect_tau2))
            if found.pool_tau2 is not None:
                pool_tau2.append((choice, found.pool_tau2))
    else:
        recommendations = [_empty(s, c, "no_outcome") for s in segments_all for c in chosen]
    return Recommendations(
        recommendations=tuple(sorted(recommendations, key=lambda r: (r.segment, chosen.index(r.choice)))),
        options=tuple(options),
        pooled=tuple(pooled_rows),
        outcome=outcome,
        segment=segment_columns,
        choices=chosen,
        pool_by=pool_by,
        alpha=alpha,
        block_hours=block_hours,
        min_posts=min_posts,
        n_posts=n_usable,
        n_excluded=n_total - n_usable,
        dispersion=dispersion,
        effect_tau2=tuple(effect_tau2),
        pool_tau2=tuple(pool_tau2),
        tau2=tuple(tau2),
        notes=tuple(notes),
    )


def _empty(
    segment: str, choice: str, note: str, current: float = 0.0, n_segment_posts: int = 0
) -> SegmentRecommendation:
    """A row without a recommendation, saying why."""
    nan = math.nan
    return SegmentRecommendation(segment, choice, None, nan, current, nan, nan, nan, 0, n_segment_posts, nan, note)


def _with_leads(
    relation: duckdb.DuckDBPyRelation, leads: object, column: str, function: str
) -> duckdb.DuckDBPyRelation:
    """The features with the lead outcomes joined by post_id, in the engine."""
    if isinstance(leads, duckdb.DuckDBPyConnection):
        leads = lead_outcomes(leads)
    if not isinstance(leads, duckdb.DuckDBPyRelation):
        raise invalid_parameter(
            "leads", function, "must be lead_outcomes(con) or the warehouse connection for a lead outcome", leads
        )
    if "post_id" not in leads.columns or column not in leads.columns:
        raise invalid_parameter(
            "leads", function, f"must have the columns post_id and {column} (as lead_outcomes gives)", leads.columns
        )
    require_columns(relation, ["post_id"], "features", function)
    clash = [c for c in leads.columns if c != "post_id" and c in relation.columns]
    if clash:
        raise invalid_parameter("leads", function, "must not repeat columns of features other than post_id", clash)
    try:
        wanted = ", ".join(exp.column(c, quoted=True).sql("duckdb") for c in ("post_id", column))
        return relation.join(leads.select(wanted), "post_id", how="left")
    except duckdb.InvalidInputException:
        raise invalid_parameter(
            "leads", function, "must come from the same connection as features", "a relation of another connection"
        ) from None
