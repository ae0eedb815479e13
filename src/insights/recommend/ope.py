"""Off-policy evaluation: what a policy would have earned, judged on decisions another policy made.

Before anyone follows a recommendation, the logged decisions (one row per post: its context, the action taken, the
reward it got and, ideally, the probability the logging policy gave that action) say what the recommendation would
have earned, as long as the logging policy sometimes did what the recommendation does. :func:`evaluate_policy`
computes, for a target policy pi(a | x) and logging probabilities mu(a | x), with weights w = pi / mu:

- **IPS** (inverse propensity scoring): mean of w r. Unbiased when mu is right and mu > 0 wherever pi > 0;
  its variance grows with the weights;
- **SNIPS** (self-normalised IPS): sum(w r) / sum(w). Slightly biased, usually far less variable; its interval comes
  from the delta method for a ratio of means;
- **DR** (doubly robust): mean over rows of sum_a pi(a | x) q(x, a) + w (r - q(x, a)), with a reward model q.
  Unbiased when either the logging probabilities or the model are right, and it fills in actions never logged in a
  context from the model;
- the logging policy's own value (the mean reward), and each estimator's lift over it with its interval (the lift's
  per-row terms are paired with the rewards, so the interval accounts for the shared rows).

Standard errors are the per-row terms' sample standard deviation over sqrt(n) (normal intervals); the effective sample
size (sum w)^2 / sum w^2 says how many logged decisions the estimate really rests on.

The default reward model (``reward_model="cell_means"``) is the mean logged reward of each (context, action); an
action never logged in a context gets the action's mean over all contexts (or, never logged anywhere, the overall
mean). It is fitted on the same rows it corrects: no cross-fitting is done. With many rows per cell that costs
little; with few, the model partly fits each row's own noise, so DR leans toward the model and its interval is a
little narrow. With estimated propensities (below) the residuals of cell means sum to zero in every cell, so DR
equals the model's value. A model fitted elsewhere can be passed instead (a mapping or a table of predictions).

When the logging probabilities were not recorded (``propensity=None``) each action's share within its context stands
in for them: the standard fallback, right when the logging policy depended on nothing but the context column.

Rows stay in the engine: one grouped query returns, per (context, action), the count and the means and covariances of
r, 1/mu and r/mu. Since pi(a | x) is constant within a cell, every estimator, its variance and the effective sample
size follow from these moments, whatever the target; a million logged rows come back as a few dozen.

>>> evaluation = evaluate_policy(
...     logged, {platform: {"video": 1.0} for platform in ("facebook", "instagram", "linkedin", "x")},
...     context="platform", action="content_type", reward="engagement_rate", propensity="propensity",
...     reward_label="engagement per impression", units="posts",
... )  # doctest: +SKIP
>>> print(evaluation)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from insights.distributions import normal_ppf
from insights.errors import invalid_parameter
from insights.params import check_open_unit
from insights.recommend._inputs import column_expression
from insights.results import TableResult, format_number, format_percent
from insights.tables import as_relation, first_line, is_table_like

__all__ = ["ESTIMATORS", "POLICY_NOTES", "PolicyEstimate", "PolicyEvaluation", "PolicyNote", "evaluate_policy"]

#: the rows of a :class:`PolicyEvaluation`, in order
ESTIMATORS = ("logging", "ips", "snips", "dr")
_LABELS = {"logging": "logged (what was done)", "ips": "IPS", "snips": "SNIPS", "dr": "doubly robust"}

#: stable note codes -> what they mean
POLICY_NOTES = {
    "no_rows": "no logged row can be used",
    "few_rows": "fewer than two usable rows: no standard errors",
    "propensity_estimated": "logging probabilities estimated as each action's share within its context",
    "propensity_missing": "rows without a logging probability were left out",
    "propensity_zero": "rows with a logging probability of 0 (or below) were left out",
    "propensity_above_one": "rows with a logging probability above 1 were left out",
    "missing_values": "rows without a context, an action or a finite reward were left out",
    "no_support": "the target puts weight on actions never logged in their context",
    "no_overlap": "the target puts no weight on any logged action",
    "small_ess": "the effective sample size is small (under 100, or under 10% of the rows)",
    "model_extrapolated": "the cell-means reward model had no data for some (context, action) the target uses",
}
_VIRTUAL_TABLE = "_insights_logged"
_SMALL_ESS = 100.0
_SMALL_ESS_SHARE = 0.10
#: relative size under which a variance computed from sums is rounding error
_ROUNDING = 1e-12
#: (context, action) pairs a note names before it says "and N more"
_SHOWN_PAIRS = 4

# the per-cell sums (see the module docstring); `r` is the reward, `mu` the logging probability; a row is usable
# when it has a context, an action, a finite reward and 0 < mu <= 1
_AGGREGATES = """
, flagged AS (
    SELECT
        context,
        action,
        mu,
        context IS NOT NULL AND action IS NOT NULL AND r IS NOT NULL AND isfinite(r) AS has_values,
        CASE WHEN context IS NOT NULL AND action IS NOT NULL AND isfinite(r) AND mu > 0 AND mu <= 1 THEN r END AS rr,
        CASE WHEN context IS NOT NULL AND action IS NOT NULL AND isfinite(r) AND mu > 0 AND mu <= 1 THEN 1.0 / mu END
            AS u
    FROM logged
)
SELECT
    context,
    action,
    sum(CASE WHEN has_values THEN 0 ELSE 1 END) AS n_missing,
    sum(CASE WHEN has_values AND mu IS NULL THEN 1 ELSE 0 END) AS n_no_propensity,
    sum(CASE WHEN has_values AND mu <= 0 THEN 1 ELSE 0 END) AS n_zero_propensity,
    sum(CASE WHEN has_values AND mu > 1 THEN 1 ELSE 0 END) AS n_big_propensity,
    count(rr) AS n,
    favg(ur) AS m_ur,
    favg(u) AS m_u,
    favg(rr) AS m_r,
    var_pop(ur) AS v_ur,
    var_pop(u) AS v_u,
    var_pop(rr) AS v_r,
    covar_pop(ur, u) AS c_ur_u,
    covar_pop(ur, rr) AS c_ur_r,
    covar_pop(u, rr) AS c_u_r,
    max(u) AS u_max,
    min(rr) AS r_min,
    max(rr) AS r_max
FROM (SELECT *, u * rr AS ur FROM flagged)
GROUP BY context, action
"""
_MOMENTS = ("m_ur", "m_u", "m_r", "v_ur", "v_u", "v_r", "c_ur_u", "c_ur_r", "c_u_r")


@dataclass(frozen=True)
class PolicyNote:
    """Something the reader must know about an evaluation: a stable ``code`` (see ``POLICY_NOTES``) and a sentence."""

    code: str
    message: str


@dataclass(frozen=True)
class PolicyEstimate:
    """One estimator's value of the target policy, its standard error and interval, and its lift over logging.

    ``lift`` is ``value`` minus the logged mean reward, with its own interval (NaN on the logging row);
    ``relative_lift`` is ``value / logged mean - 1``. ``ess`` is the effective sample size of the weights and
    ``max_weight`` the largest weight pi / mu (the logging row: all rows, weight 1).
    """

    estimator: str
    value: float
    se: float
    ci_low: float
    ci_high: float
    lift: float
    lift_ci_low: float
    lift_ci_high: float
    relative_lift: float
    ess: float
    max_weight: float

    def row(self) -> dict[str, Any]:
        return {
            "estimator": self.estimator,
            "value": self.value,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "lift": self.lift,
            "lift_ci_low": self.lift_ci_low,
            "lift_ci_high": self.lift_ci_high,
            "relative_lift": self.relative_lift,
            "ess": self.ess,
            "max_weight": self.max_weight,
        }


@dataclass(frozen=True)
class PolicyEvaluation(TableResult):
    """The value of a target policy on logged decisions: one row per estimator (``ESTIMATORS``) and the notes.

    ``n_rows`` logged rows were used of ``n_read``; ``n_contexts`` contexts; ``ess`` is the effective sample size
    of the weights; ``notes`` say what limits the estimates (codes in ``POLICY_NOTES``).
    """

    estimates: tuple[PolicyEstimate, ...]
    n_rows: int
    n_read: int
    n_contexts: int
    ess: float
    max_weight: float
    alpha: float
    reward: str
    reward_label: str | None
    units: str
    policy_label: str
    is_rate: bool
    propensity_source: str
    reward_model: str
    notes: tuple[PolicyNote, ...] = ()

    @property
    def title(self) -> str:
        return f"Off-policy evaluation of {self.policy_label}"

    def estimate(self, estimator: str) -> PolicyEstimate:
        """The row of one estimator ("logging", "ips", "snips" or "dr")."""
        for e in self.estimates:
            if e.estimator == estimator:
                return e
        raise invalid_parameter(
            "estimator", "PolicyEvaluation.estimate", "must be one of " + ", ".join(ESTIMATORS), estimator
        )

    @property
    def note_codes(self) -> tuple[str, ...]:
        return tuple(n.code for n in self.notes)

    def rows(self) -> list[dict[str, Any]]:
        return [e.row() for e in self.estimates]

    def _value(self, value: float) -> str:
        return format_percent(value, 2) if self.is_rate else format_number(value)

    def _lift(self, value: float) -> str:
        if not math.isfinite(value):
            return "n/a"
        if self.is_rate:
            return f"{value * 100:+.2f} pts"
        return ("+" if value >= 0 else "") + format_number(value)

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        level = f"{(1 - self.alpha) * 100:g}%"
        headers = ["estimator", "value", f"{level} interval", "lift vs logged", f"{level} interval of lift", "ESS"]
        cells = []
        for e in self.estimates:
            interval = f"{self._value(e.ci_low)} to {self._value(e.ci_high)}" if math.isfinite(e.se) else "n/a"
            lift_interval = (
                f"{self._lift(e.lift_ci_low)} to {self._lift(e.lift_ci_high)}" if math.isfinite(e.lift_ci_low) else ""
            )
            cells.append(
                [
                    _LABELS[e.estimator],
                    self._value(e.value),
                    interval,
                    "" if e.estimator == "logging" else self._lift(e.lift),
                    lift_interval,
                    format_number(round(e.ess)) if math.isfinite(e.ess) else "n/a",
                ]
            )
        return headers, cells

    def headline(self) -> PolicyEstimate:
        """The estimate the summary leads with: doubly robust, else SNIPS, else IPS (the first that is defined)."""
        for name in ("dr", "snips", "ips"):
            e = self.estimate(name)
            if math.isfinite(e.value):
                return e
        return self.estimate("dr")

    def summary_lines(self) -> list[str]:
        logging = self.estimate("logging")
        if self.n_rows == 0:
            return [n.message for n in self.notes]
        best = self.headline()
        level = f"{(1 - self.alpha) * 100:g}%"
        if self.reward_label:
            phrase = f"about {self._value(best.value)} {self.reward_label}"
        else:
            phrase = f"an average {self.reward} of {self._value(best.value)}"
        interval = (
            f" ({level} interval {self._value(best.ci_low)} to {self._value(best.ci_high)})"
            if math.isfinite(best.se)
            else ""
        )
        lines = [
            f"Following {self.policy_label} would have given {phrase}{interval} against "
            f"{self._value(logging.value)} from the logged {self.units}; the estimate rests on an effective "
            f"{self.ess:,.0f} of {self.n_rows:,} {self.units}."
        ]
        if math.isfinite(best.lift_ci_low):
            if best.lift_ci_low > 0:
                verdict = "clearly better than what was done"
            elif best.lift_ci_high < 0:
                verdict = "clearly worse than what was done"
            else:
                verdict = "not clearly different from what was done"
            relative = f", {best.relative_lift * 100:+.0f}%" if math.isfinite(best.relative_lift) else ""
            lines.append(
                f"That is {self._lift(best.lift)}{relative} ({level} interval {self._lift(best.lift_ci_low)} to "
                f"{self._lift(best.lift_ci_high)}): {verdict} ({_LABELS[best.estimator]} estimate; the others are "
                "in the table)."
            )
        lines += [n.message for n in self.notes]
        return lines

    def plot(self) -> Any:
        """Each estimator's value with its interval, against the logged mean reward (a dashed line)."""
        from insights._optional import require

        go = require("plotly.graph_objects", "reports")
        shown = [e for e in self.estimates if e.estimator != "logging" and math.isfinite(e.value)]
        scale = 100.0 if self.is_rate else 1.0
        fig = go.Figure(
            go.Scatter(
                x=[e.value * scale for e in shown],
                y=[_LABELS[e.estimator] for e in shown],
                mode="markers",
                marker={"size": 10},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [(e.ci_high - e.value) * scale if math.isfinite(e.se) else 0 for e in shown],
                    "arrayminus": [(e.value - e.ci_low) * scale if math.isfinite(e.se) else 0 for e in shown],
                },
                name=self.policy_label,
            )
        )
        logging = self.estimate("logging")
        if math.isfinite(logging.value):
            fig.add_vline(
                x=logging.value * scale, line_dash="dash", annotation_text=f"logged {self._value(logging.value)}"
            )
        fig.update_layout(
            title=self.title,
            xaxis_title=(self.reward_label or self.reward) + (" (%)" if self.is_rate else ""),
            yaxis={"autorange": "reversed"},
            template="plotly_white",
            showlegend=False,
        )
        return fig


@dataclass(frozen=True)
class _Cell:
    """The rows of one (context, action): their count, and the means and population covariances of y = (r/mu, 1/mu,
    r), which DuckDB computes by a streaming (Welford) update: stable however large the means are next to the
    spread."""

    context: str
    action: str
    n: int
    m_ur: float
    m_u: float
    m_r: float
    v_ur: float
    v_u: float
    v_r: float
    c_ur_u: float
    c_ur_r: float
    c_u_r: float
    u_max: float

    @property
    def mean(self) -> np.ndarray:
        return np.array([self.m_ur, self.m_u, self.m_r])

    @property
    def covariance(self) -> np.ndarray:
        return np.array(
            [
                [self.v_ur, self.c_ur_u, self.c_ur_r],
                [self.c_ur_u, self.v_u, self.c_u_r],
                [self.c_ur_r, self.c_u_r, self.v_r],
            ]
        )


def evaluate_policy(
    logged: object,
    target: object,
    *,
    context: str = "segment",
    action: str = "action",
    reward: str = "reward",
    propensity: str | None = None,
    reward_model: object = "cell_means",
    alpha: float = 0.05,
    reward_label: str | None = None,
    units: str = "decisions",
    policy_label: str = "the target policy",
) -> PolicyEvaluation:
    """Estimate the value of ``target`` on ``logged`` decisions by IPS, SNIPS and doubly robust (see the module doc).

    - ``logged``: one row per logged decision, as a DuckDB relation, a pandas/polars frame or a Parquet/CSV path;
      ``context``, ``action``, ``reward`` and ``propensity`` name its columns (or SQL expressions over them; context
      and action are compared as text). ``propensity`` is the probability the logging policy gave the action taken;
      None estimates it as the action's share within its context (and says so in a note). Rows without a context,
      action or finite reward, or whose propensity is missing, 0 or above 1, are left out and counted in notes.
    - ``target``: context -> {action: probability} (a deterministic policy is ``{action: 1.0}``; a bare action name
      means the same), an :class:`~insights.recommend.thompson.Allocation` (segment -> arm), or a table with the
      context and action columns (or ``segment`` and ``arm``) and ``probability``. Each context's probabilities must
      sum to 1. Every context of the logged data must be in the target: to evaluate a policy on some contexts only,
      filter the logged rows first.
    - ``reward_model``: "cell_means" (default), or predictions q(x, a) as context -> {action: value} or a table with
      the context and action columns and ``predicted_reward``; it must cover every logged (context, action) and every
      one the target uses.
    - ``alpha``: 1 - the level of the intervals. ``reward_label`` ("engagement per impression"), ``units`` ("posts")
      and ``policy_label`` ("the recommendation") only change the wording of the summary.
    """
    import duckdb

    fn = "evaluate_policy"
    check_open_unit("alpha", fn, alpha)
    for name, value in (("units", units), ("policy_label", policy_label)):
        if not isinstance(value, str) or not value.strip():
            raise invalid_parameter(name, fn, "must be a non-empty string", value)
    if reward_label is not None and (not isinstance(reward_label, str) or not reward_label.strip()):
        raise invalid_parameter("reward_label", fn, "must be None or a non-empty string", reward_label)
    if isinstance(reward_model, str) and reward_model != "cell_means":
        raise invalid_parameter(
            "reward_model",
            fn,
            "must be 'cell_means', a mapping of context to {action: prediction} or a table",
            reward_model,
        )
    relation = as_relation(logged, "logged", fn)
    columns = list(relation.columns)
    table = "the logged data"
    ctx = column_expression(context, columns, parameter="context", function=fn, table=table)
    act = column_expression(action, columns, parameter="action", function=fn, table=table)
    rew = column_expression(reward, columns, parameter="reward", function=fn, table=table)
    mu = (
        None
        if propensity is None
        else column_expression(propensity, columns, parameter="propensity", function=fn, table=table)
    )
    policy = _read_policy(target, fn, context, action)

    sql = _query(ctx, act, rew, mu)
    try:
        result = relation.query(_VIRTUAL_TABLE, sql)
        assert result is not None  # a SELECT returns a relation
        names = list(result.columns)
        fetched = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    except duckdb.Error as error:
        raise invalid_parameter(
            "logged",
            fn,
            "must be readable with the given columns (a numeric reward and propensity)",
            first_line(error),
        ) from None

    notes: list[PolicyNote] = []
    n_read = sum(
        int(r["n"])
        + int(r["n_missing"])
        + int(r["n_no_propensity"])
        + int(r["n_zero_propensity"])
        + int(r["n_big_propensity"])
        for r in fetched
    )
    _count_notes(fetched, units, propensity is not None, notes)
    cells = [_cell(r) for r in fetched if int(r["n"]) > 0]
    cells.sort(key=lambda c: (c.context, c.action))  # a fixed order: the cells combine in the same order on every run
    is_rate = bool(cells) and all(r["r_min"] >= 0 and r["r_max"] <= 1 for r in fetched if int(r["n"]) > 0)
    if propensity is None:
        cells = _estimated_propensities(cells)
        if cells:
            notes.append(
                PolicyNote(
                    "propensity_estimated",
                    f"No logging probabilities were given, so each action's share of its context's {units} stands in "
                    "for them (the usual fallback when the logging policy was not recorded): right if what was done "
                    f"depended on nothing but {context}; the intervals treat those shares as known.",
                )
            )

    contexts = sorted({c.context for c in cells})
    missing = [x for x in contexts if x not in policy]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise invalid_parameter(
            "target",
            fn,
            f"must give probabilities for every context of the logged data (filter the logged rows to the contexts "
            f"it covers; missing: {shown})",
            sorted(policy)[:5],
        )
    common: dict[str, Any] = {
        "alpha": float(alpha),
        "reward": reward,
        "reward_label": reward_label,
        "units": units,
        "policy_label": policy_label,
        "is_rate": is_rate,
        "propensity_source": "estimated" if propensity is None else "column",
        "reward_model": "cell_means" if isinstance(reward_model, str) else "given",
    }
    if not cells:
        notes.append(PolicyNote("no_rows", f"No logged row can be used: nothing to estimate ({n_read:,} rows read)."))
        nan = math.nan
        empty = tuple(PolicyEstimate(e, nan, nan, nan, nan, nan, nan, nan, nan, 0.0, nan) for e in ESTIMATORS)
        return PolicyEvaluation(
            estimates=empty,
            n_rows=0,
            n_read=n_read,
            n_contexts=0,
            ess=0.0,
            max_weight=nan,
            notes=tuple(notes),
            **common,
        )

    q, extrapolated = _reward_model(reward_model, cells, policy, fn, context, action)
    if extrapolated:
        notes.append(
            PolicyNote(
                "model_extrapolated",
                "The reward model (mean reward per context and action) has no data for "
                + _pairs_text(extrapolated)
                + "; it uses the action's mean over all contexts there (the overall mean for an action never logged).",
            )
        )
    estimates, ess, max_weight = _estimate(cells, policy, q, float(alpha))
    n = sum(c.n for c in cells)
    _support_notes(cells, policy, n, units, notes)
    if n < 2:
        notes.append(PolicyNote("few_rows", "Fewer than two usable rows: no standard errors or intervals."))
    if ess < _SMALL_ESS or ess < _SMALL_ESS_SHARE * n:
        notes.append(
            PolicyNote(
                "small_ess",
                f"The weights leave an effective sample of only {ess:,.0f} of {n:,} {units}: the estimates rest on "
                f"few {units} and may move a lot with more data.",
            )
        )
    return PolicyEvaluation(
        estimates=estimates,
        n_rows=n,
        n_read=n_read,
        n_contexts=len(contexts),
        ess=ess,
        max_weight=max_weight,
        notes=tuple(notes),
        **common,
    )


def _query(ctx: Any, act: Any, rew: Any, mu: Any) -> str:
    """The grouped query over the virtual table of the logged rows (sqlglot renders the caller's expressions)."""
    from sqlglot import exp

    projection = [
        exp.cast(ctx, "VARCHAR").as_("context"),
        exp.cast(act, "VARCHAR").as_("action"),
        exp.cast(rew, "DOUBLE").as_("r"),
        (exp.Literal.number(1.0) if mu is None else exp.cast(mu, "DOUBLE")).as_("mu"),
    ]
    inner = exp.select(*projection).from_(exp.to_table(_VIRTUAL_TABLE)).sql("duckdb")
    return "WITH logged AS (" + inner + ")" + _AGGREGATES


def _cell(record: Mapping[str, Any]) -> _Cell:
    return _Cell(
        context=str(record["context"]),
        action=str(record["action"]),
        n=int(record["n"]),
        **{m: float(record[m]) for m in _MOMENTS},
        u_max=float(record["u_max"]),
    )


def _estimated_propensities(cells: list[_Cell]) -> list[_Cell]:
    """Cells with mu = n(x, a) / n(x): within a cell 1/mu is the constant u = n(x) / n(x, a)."""
    n_context: dict[str, int] = {}
    for c in cells:
        n_context[c.context] = n_context.get(c.context, 0) + c.n
    out = []
    for c in cells:
        u = n_context[c.context] / c.n
        out.append(
            _Cell(
                context=c.context,
                action=c.action,
                n=c.n,
                m_ur=u * c.m_r,
                m_u=u,
                m_r=c.m_r,
                v_ur=u * u * c.v_r,
                v_u=0.0,
                v_r=c.v_r,
                c_ur_u=0.0,
                c_ur_r=u * c.v_r,
                c_u_r=0.0,
                u_max=u,
            )
        )
    return out


def _count_notes(
    fetched: Sequence[Mapping[str, Any]], units: str, has_propensity: bool, notes: list[PolicyNote]
) -> None:
    def total(column: str) -> int:
        return sum(int(r[column] or 0) for r in fetched)

    missing = total("n_missing")
    if missing:
        notes.append(
            PolicyNote(
                "missing_values",
                f"{missing:,} logged rows without a context, an action or a finite reward were left out.",
            )
        )
    if not has_propensity:
        return
    for code, column, text in (
        ("propensity_missing", "n_no_propensity", "without a logging probability were left out"),
        (
            "propensity_zero",
            "n_zero_propensity",
            "with a logging probability of 0 or less were left out (an action that was taken cannot have had "
            "probability 0: check how the probabilities were logged)",
        ),
        ("propensity_above_one", "n_big_propensity", "with a logging probability above 1 were left out"),
    ):
        k = total(column)
        if k:
            notes.append(PolicyNote(code, f"{k:,} {units} {text}."))


def _read_policy(target: object, function: str, context: str, action: str) -> dict[str, dict[str, float]]:
    """The target as context -> {action: probability}, each context's probabilities checked to sum to 1."""
    from insights.recommend.thompson import Allocation

    raw: dict[str, dict[str, float]] = {}
    if isinstance(target, Allocation):
        raw = target.as_policy()
    elif isinstance(target, Mapping):
        for key, value in target.items():
            if isinstance(value, str):
                raw[str(key)] = {value: 1.0}
            elif isinstance(value, Mapping):
                raw[str(key)] = {str(a): _probability(p, function, key, a) for a, p in value.items()}
            else:
                raise invalid_parameter(
                    "target", function, "must map each context to {action: probability} (or to one action)", value
                )
    elif is_table_like(target):
        for (x, a), p in _read_pairs(target, "probability", "target", function, context, action).items():
            raw.setdefault(x, {})[a] = _probability(p, function, x, a)
    else:
        raise invalid_parameter(
            "target",
            function,
            "must be a mapping of context to {action: probability}, an Allocation or a table with probability",
            type(target).__name__,
        )
    if not raw:
        raise invalid_parameter("target", function, "must give probabilities for at least one context", target)
    policy: dict[str, dict[str, float]] = {}
    for x, actions in raw.items():
        total = sum(actions.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise invalid_parameter(
                "target", function, "must give probabilities that sum to 1 in every context", f"{total:.6g} for {x}"
            )
        # exact sums: the weights then add up to the ESS of identical policies to the last digit
        policy[x] = {a: p / total for a, p in actions.items() if p > 0}
    return policy


def _probability(value: object, function: str, x: object, a: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1 or math.isnan(value):
        raise invalid_parameter("target", function, "must give probabilities in [0, 1]", f"{value!r} for {x} / {a}")
    return float(value)


def _read_pairs(
    data: object, value_column: str, parameter: str, function: str, context: str, action: str
) -> dict[tuple[str, str], float]:
    """(context, action) -> value from a small table with the logged data's context and action columns (or
    ``segment`` and ``arm``) and `value_column`; a repeated pair is refused."""
    relation = as_relation(data, parameter, function)
    names = list(relation.columns)
    if context in names and action in names:
        keys = (context, action)
    elif "segment" in names and "arm" in names:
        keys = ("segment", "arm")
    else:
        keys = (context, action)
    needed = [*keys, value_column]
    lacking = [c for c in needed if c not in names]
    if lacking:
        raise invalid_parameter(
            parameter,
            function,
            f"must have the columns {', '.join(needed)} (or segment, arm, {value_column}; existing columns: "
            f"{', '.join(names)})",
            f"a table without {', '.join(lacking)}",
        )
    at = [names.index(c) for c in needed]
    out: dict[tuple[str, str], float] = {}
    for row in relation.fetchall():
        key = (str(row[at[0]]), str(row[at[1]]))
        if key in out:
            raise invalid_parameter(
                parameter, function, "must hold each (context, action) once", f"{key[0]} / {key[1]}"
            )
        value = row[at[2]]
        if isinstance(value, bool) or not isinstance(value, int | float) or value is None:
            raise invalid_parameter(parameter, function, f"must have a number in {value_column}", value)
        out[key] = float(value)
    return out


def _reward_model(
    model: object,
    cells: Sequence[_Cell],
    policy: Mapping[str, Mapping[str, float]],
    function: str,
    context: str,
    action: str,
) -> tuple[dict[tuple[str, str], float], list[tuple[str, str]]]:
    """q(x, a) for every logged cell and every (x, a) the target uses in a logged context; and the pairs the default
    model had to fill in from other contexts."""
    contexts = sorted({c.context for c in cells})
    needed = sorted({(c.context, c.action) for c in cells} | {(x, a) for x in contexts for a in policy[x]})
    if isinstance(model, str):
        q = {(c.context, c.action): c.m_r for c in cells}
        by_action: dict[str, list[float]] = {}
        for c in cells:
            sums = by_action.setdefault(c.action, [0.0, 0.0])
            sums[0] += c.n * c.m_r
            sums[1] += c.n
        overall = sum(c.n * c.m_r for c in cells) / sum(c.n for c in cells)
        extrapolated = [pair for pair in needed if pair not in q]
        for x, a in extrapolated:
            s, n = by_action.get(a, (0.0, 0.0))
            q[(x, a)] = s / n if n else overall
        return q, extrapolated
    given: dict[tuple[str, str], float] = {}
    if isinstance(model, Mapping):
        for x, actions in model.items():
            if not isinstance(actions, Mapping):
                raise invalid_parameter(
                    "reward_model", function, "must map each context to {action: predicted reward}", actions
                )
            for a, value in actions.items():
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                    raise invalid_parameter(
                        "reward_model", function, "must predict a finite number", f"{value!r} for {x} / {a}"
                    )
                given[(str(x), str(a))] = float(value)
    elif is_table_like(model):
        given = _read_pairs(model, "predicted_reward", "reward_model", function, context, action)
    else:
        raise invalid_parameter(
            "reward_model",
            function,
            "must be 'cell_means', a mapping of context to {action: prediction} or a table",
            type(model).__name__,
        )
    lacking = [pair for pair in needed if pair not in given]
    if lacking:
        raise invalid_parameter(
            "reward_model",
            function,
            "must predict every logged (context, action) and every one the target uses",
            "nothing for " + _pairs_text(lacking),
        )
    return {pair: given[pair] for pair in needed}, []


def _estimate(
    cells: Sequence[_Cell], policy: Mapping[str, Mapping[str, float]], q: Mapping[tuple[str, str], float], alpha: float
) -> tuple[tuple[PolicyEstimate, ...], float, float]:
    """Every estimator as the mean of per-row terms t = c0 + c1 w r + c2 w + c3 r, with per-cell coefficients.

    With w = pi u and pi constant in a cell, t = c0 + b . y for y = (u r, u, r) and b = (c1 pi, c2 pi, c3), so a
    cell's terms have mean c0 + b . mean(y) and spread b' cov(y) b: the sum of squares over all rows is the sum of
    the cells' spreads plus the spread of their means (no difference of large sums).
    """
    k = len(cells)
    pi = np.array([policy[c.context].get(c.action, 0.0) for c in cells])
    sizes = np.array([float(c.n) for c in cells])
    means = np.array([c.mean for c in cells])  # (k, 3)
    covariances = np.array([c.covariance for c in cells])  # (k, 3, 3)
    n = float(sizes.sum())
    sum_w = float((sizes * pi * means[:, 1]).sum())
    sum_w2 = float((sizes * pi * pi * (covariances[:, 1, 1] + means[:, 1] ** 2)).sum())
    ess = sum_w**2 / sum_w2 if sum_w2 > 0 else 0.0
    max_weight = float(max(pi[i] * c.u_max for i, c in enumerate(cells)))
    z = normal_ppf(1.0 - alpha / 2.0)

    def moments(coefficients: np.ndarray) -> tuple[float, float]:
        """Mean of the per-row terms and its standard error (the terms' sample SD over sqrt(n))."""
        b = np.column_stack([coefficients[:, 1] * pi, coefficients[:, 2] * pi, coefficients[:, 3]])
        cell_means = coefficients[:, 0] + np.einsum("kj,kj->k", b, means)
        mean = float((sizes * cell_means).sum() / n)
        if n < 2 or not math.isfinite(mean):
            return mean, math.nan
        within = float((sizes * np.einsum("ki,kij,kj->k", b, covariances, b)).sum())
        # a combination of correlated columns that is constant in truth comes out as rounding noise, positive or
        # negative, about 1e-16 of the columns' own spread: that is no spread at all
        scale = float((sizes * np.einsum("ki,kii,ki->k", b, covariances, b)).sum())
        if within <= _ROUNDING * scale:
            within = 0.0
        between = float((sizes * (cell_means - mean) ** 2).sum())
        return mean, math.sqrt((within + between) / (n - 1.0) / n)

    def per_cell(vector: Sequence[float]) -> np.ndarray:
        return np.tile(np.asarray(vector, dtype=np.float64), (k, 1))

    logging_terms = per_cell([0, 0, 0, 1])
    direct = {x: sum(p * q[(x, a)] for a, p in policy[x].items()) for x in {c.context for c in cells}}
    terms = {
        "logging": logging_terms,
        "ips": per_cell([0, 1, 0, 0]),
        "dr": np.array([[direct[c.context], 1.0, -q[(c.context, c.action)], 0.0] for c in cells]),
    }
    values = {name: moments(t)[0] for name, t in terms.items()}
    mean_reward = values["logging"]
    if sum_w > 0:
        values["snips"] = float((sizes * pi * means[:, 0]).sum()) / sum_w
        mean_w = sum_w / n
        # delta method: the influence of a row on sum(w r) / sum(w) is (w r - V w) / mean(w)
        terms["snips"] = per_cell([0, 1 / mean_w, -values["snips"] / mean_w, 0])
    else:
        values["snips"] = math.nan
        terms["snips"] = per_cell([math.nan] * 4)

    out = []
    for name in ESTIMATORS:
        value = values[name]
        se = moments(terms[name])[1]
        if name == "logging":
            lift = lift_se = relative = math.nan
        else:
            lift = value - mean_reward
            lift_se = moments(terms[name] - logging_terms)[1]
            relative = value / mean_reward - 1.0 if mean_reward != 0 else math.nan
        out.append(
            PolicyEstimate(
                estimator=name,
                value=value,
                se=se,
                ci_low=value - z * se,
                ci_high=value + z * se,
                lift=lift,
                lift_ci_low=lift - z * lift_se,
                lift_ci_high=lift + z * lift_se,
                relative_lift=relative,
                ess=n if name == "logging" else ess,
                max_weight=1.0 if name == "logging" else max_weight,
            )
        )
    return tuple(out), ess, max_weight


def _support_notes(
    cells: Sequence[_Cell], policy: Mapping[str, Mapping[str, float]], n: int, units: str, notes: list[PolicyNote]
) -> None:
    logged = {(c.context, c.action) for c in cells}
    n_context: dict[str, int] = {}
    for c in cells:
        n_context[c.context] = n_context.get(c.context, 0) + c.n
    unsupported: list[tuple[str, str]] = []
    mass = 0.0
    for x, n_x in sorted(n_context.items()):
        for a, p in sorted(policy[x].items()):
            if (x, a) not in logged:
                unsupported.append((x, a))
                mass += n_x * p
    share = mass / n
    if share >= 1.0 - 1e-12:
        notes.append(
            PolicyNote(
                "no_overlap",
                f"The target only uses actions never logged in their context ({_pairs_text(unsupported)}): IPS is 0 "
                "and SNIPS undefined by construction, and the doubly robust estimate is the reward model's guess.",
            )
        )
    elif unsupported:
        notes.append(
            PolicyNote(
                "no_support",
                f"The target puts {format_percent(share)} of its weight (over the logged {units}) on actions never "
                f"logged in their context ({_pairs_text(unsupported)}): IPS and SNIPS cannot see those and are "
                "biased, and the doubly robust estimate relies on the reward model there.",
            )
        )


def _pairs_text(pairs: Sequence[tuple[str, str]]) -> str:
    shown = ", ".join(f"{a} on {x}" for x, a in pairs[:_SHOWN_PAIRS])
    return shown + (f" and {len(pairs) - _SHOWN_PAIRS} more" if len(pairs) > _SHOWN_PAIRS else "")
