"""Best time to post, per account: hour-of-week rate ratios shrunk toward the pool, with intervals, and a test.

:func:`best_times` answers "when should this account post?" in four steps, all on sums (no loop over posts):

1. A count model without time terms (:data:`TIMING_TERMS`: account, content type, origin, model, prompt version,
   paid and the text features) gives each post its expected engagements, so a slot is not credited for the kind of
   posts that happen to go out in it.
2. Each slot (an hour of the week in the account's local time, or a block of ``block_hours`` hours) gets observed
   over expected engagements against the account's average post: theta = log(O/E in the slot) - log(O/E over all
   the account's posts), with the model-based standard error s = sqrt(sum(mu + alpha mu^2)) / E (NB2 variance).
3. Two levels of empirical Bayes on the log scale. Each pool (the account's platform, or all accounts) is shrunk
   toward 0, its own average, with the spread tau_pool^2 of its slots (DerSimonian-Laird). Each account's slot is
   then shrunk toward what the *other* accounts of its pool say about that slot (leave one out, so an account's
   posts are not counted twice), with the spread tau_account^2 of accounts around their pool:

       P = tau_account^2 + v,   w = P / (P + s^2),   estimate = m + w (theta - m),
       variance = w s^2 + 2 / (k - 2) (1 - w)^2 (theta - m)^2

   where m and v are the pool's (leave-one-out) posterior mean and variance and w the weight the account's own
   posts get. The last term is Morris's (1983) allowance for a spread itself estimated from k slots, so a slot does
   not look certain only because tau^2 came out as 0. An account with little history at a slot gets w near 0 and
   the pool's value with the pool's uncertainty; a slot nobody in the pool used has no estimate.
4. Each account's ``top`` slots by estimate are recommended; adjacent ones merge into a window, which is estimated
   as one cell by the same two levels over windows as wide (their spread, not that of single hours: a block of good
   hours is judged as a block rather than as hours that each might be noise).

The ratios are against the account's *average post* as it posts today, so a window's ratio is also the lift a
randomized test of "post in the window" against "post as usual" should find: :func:`posting_time_experiment` turns
it into an experiment definition with a sample size, and :func:`assign_posting_times` randomizes planned posts into
its arms. See docs/engagement.md.

>>> best = best_times(post_features(con, timezone={"brightloop-hq": "Europe/Berlin"}))  # doctest: +SKIP
>>> best.plot("linkedin/brightloop-hq")  # doctest: +SKIP
>>> plan = posting_time_experiment(best, "linkedin/brightloop-hq")  # doctest: +SKIP
>>> assign_posting_times(["draft-1", "draft-2"], plan, seed=1).to_csv("assignments.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from insights.engagement.data import fetch
from insights.engagement.design import WEEKDAY_NAMES, level_label
from insights.engagement.features import EngagementDefinition
from insights.engagement.model import DEFAULT_TERMS, EngagementModel
from insights.engagement.shrinkage import between_variance
from insights.errors import invalid_parameter
from insights.params import check_choice, check_instance, check_int, check_open_unit, check_path
from insights.results import TableResult, format_number
from insights.tables import as_relation, require_columns
from insights.warehouse.expressions import quote_identifier

if TYPE_CHECKING:
    from insights.experiments.definition import Experiment

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: inputs that describe when a post went out: a model given to best_times must not hold them, or it explains the
#: very effect best_times measures
TIME_TERMS = ("local_hour", "local_weekday", "hour_of_week")
#: the count model best_times fits when none is given: the default model without its time terms
TIMING_TERMS = tuple(t for t in DEFAULT_TERMS if t not in TIME_TERMS)
BLOCK_HOURS = (1, 2, 3, 4, 6)
POOLS = ("platform", "all")
#: the arms of a posting-time experiment; "usual" is the control
RECOMMENDED, USUAL = "recommended", "usual"
HOURS_PER_WEEK = 168
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


# --- records ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotEstimate:
    """One slot of one account (or pool): its rate ratio against the average post, and where the number comes from.

    `observed_ratio` is O/E of the account's own posts in the slot, no shrinkage (NaN without posts); `pool_ratio`
    what its pool says (for an account: the other accounts of its pool; for a pool: 1, its average); `rate_ratio`,
    `low` and `high` the shrunk estimate and its interval; `prob_better` the probability that the slot beats the
    average post; `account_weight` the share of the estimate that rests on the account's own posts.
    """

    name: str
    slot: int
    weekday: int
    start_hour: int
    end_hour: int
    label: str
    n_posts: int
    observed_ratio: float
    pool_ratio: float
    rate_ratio: float
    low: float
    high: float
    prob_better: float
    account_weight: float

    @property
    def is_untried(self) -> bool:
        """No post of this account (or pool) went out in the slot."""
        return self.n_posts == 0


@dataclass(frozen=True)
class WindowEstimate:
    """Consecutive slots as one cell: shrunk like a slot (with the spread of windows as wide), and observed.

    `observed_ratio` (with `observed_low`, `observed_high`) puts the window's posts together without shrinkage:
    what the data alone say, unbiased for a window chosen before looking at them. `end_hour` passes 24 when the
    window runs past midnight.
    """

    name: str
    label: str
    weekday: int
    start_hour: int
    end_hour: int
    n_posts: int
    rate_ratio: float
    low: float
    high: float
    prob_better: float
    observed_ratio: float
    observed_low: float
    observed_high: float
    account_weight: float


@dataclass(frozen=True)
class Recommendation:
    """One recommended slot of an account, with the window of adjacent recommended slots it belongs to."""

    account: str
    rank: int
    slot: SlotEstimate
    window: WindowEstimate

    @property
    def basis(self) -> str:
        """'account' when the account's own posts carry at least half of the estimate, else 'pool'."""
        return "account" if self.slot.account_weight >= 0.5 else "pool"


@dataclass(frozen=True, eq=False)
class TimeSlots(TableResult):
    """Every slot of some accounts (or pools) as rows: what the heatmap shows, for tables and other modules."""

    slots: tuple[SlotEstimate, ...]
    alpha: float
    kind: str = "account"

    @property
    def title(self) -> str:
        return "Engagement by time slot, against the average post" + (" (pools)" if self.kind == "pool" else "")

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                self.kind: s.name,
                "slot": s.label,
                "weekday": s.weekday,
                "start_hour": s.start_hour,
                "end_hour": s.end_hour,
                "n_posts": s.n_posts,
                "observed_ratio": s.observed_ratio,
                "pool_ratio": s.pool_ratio,
                "rate_ratio": s.rate_ratio,
                "low": s.low,
                "high": s.high,
                "prob_better": s.prob_better,
                "account_weight": s.account_weight,
                "is_untried": s.is_untried,
            }
            for s in self.slots
        ]

    def summary_lines(self) -> list[str]:
        return [
            f"{len(self.slots):,} slots; rate ratios against the average post with {1 - self.alpha:.0%} intervals "
            "(NaN: nobody in the pool posted then)."
        ]


# --- the estimator ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TwoLevelFit:
    """Two-level estimates on one grid (slots, or windows of several slots), log scale, accounts (pools) x cells.

    `target` is each account cell's prior mean, what the other accounts of its pool say; `weight` the share of the
    estimate resting on the account's own posts; `tau2_pool` and `tau2_account` the spreads per pool.
    """

    estimate: Array
    se: Array
    weight: Array
    target: Array
    pool_estimate: Array
    pool_se: Array
    tau2_pool: Array
    tau2_account: Array


def _log_ratios(o: Array, e: Array, v: Array, n: Array) -> tuple[Array, Array]:
    """log(O/E) of each cell against its row's average post (the row's total O/E), and the model-based se.

    Cells without posts get NaN and an infinite se. A cell with posts but no engagement reads as
    log(0.5 / (E + 0.5)), lower than any engaged cell, instead of being dropped as if it said nothing. The rows of a
    grid of sliding windows sum every post once per window it is in, so their total O/E is still the average post's.
    """
    total_o, total_e = o.sum(axis=1, keepdims=True), e.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        center = np.where((total_o > 0) & (total_e > 0), np.log(total_o / total_e), 0.0)
        used = (n > 0) & (e > 0)
        safe_e = np.where(used, e, 1.0)
        ratio = np.where(o > 0, o / safe_e, 0.5 / (safe_e + 0.5))
        theta = np.where(used, np.log(ratio) - center, np.nan)
        se = np.where(used, np.sqrt(v) / safe_e, np.inf)
    return theta, se


def _posterior(theta: Array, se: Array, prior_mean: Array, prior_var: Array, k: Array) -> tuple[Array, Array, Array]:
    """Normal prior N(prior_mean, prior_var) times the normal likelihood of theta: mean, variance, data weight.

    Cells without an estimate keep the prior. The variance adds Morris's (1983) term 2 / (k - 2) (1 - w)^2
    (theta - prior_mean)^2 for a prior spread that was itself estimated from k cells.
    """
    known = np.isfinite(theta) & np.isfinite(se)
    s2 = np.where(known, se, 0.0) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(known, np.where(prior_var + s2 > 0, prior_var / (prior_var + s2), 1.0), 0.0)
        morris = np.where(k > 2, 2.0 / (k - 2.0), 0.0)
    gap = np.where(known, np.nan_to_num(theta) - prior_mean, 0.0)
    mean = prior_mean + weight * gap
    variance = np.where(known, weight * s2 + morris * (1.0 - weight) ** 2 * gap**2, prior_var)
    return mean, variance, weight


def _spread(theta: Array, se: Array, target: Array, groups: IntArray, n_groups: int) -> tuple[Array, Array]:
    """DerSimonian-Laird spread of theta around target within each group of rows, and the cells behind it."""
    tau2 = np.zeros(n_groups)
    used = np.zeros(n_groups)
    for g in range(n_groups):  # one pass per pool (a handful), never one per post
        rows = groups == g
        t, s, m = theta[rows].ravel(), se[rows].ravel(), target[rows].ravel()
        tau2[g] = between_variance(t, s, m)
        used[g] = float(np.sum(np.isfinite(t) & np.isfinite(s) & (s > 0)))
    return tau2, used


def _sliding(grid: npt.NDArray[Any], width: int) -> Array:
    """Sums over `width` consecutive cells starting at each cell (the week wraps around)."""
    out = np.array(grid, dtype=np.float64)
    for k in range(1, width):
        out += np.roll(grid, -k, axis=1)
    return out


def _two_level(
    grids: tuple[Array, Array, Array, Array], account_pool: IntArray, n_pools: int, span: int
) -> TwoLevelFit:
    """Pools shrunk toward their average, then accounts toward the other accounts of their pool (module docstring).

    `grids` are the accounts' O, E, V and post counts per cell; `span` the slots per cell: overlapping windows are not
    independent, so the cells behind a spread count as cells / span in Morris's term.
    """
    o, e, v, n = grids
    n_cells = o.shape[1]

    def by_pool(values: Array) -> Array:
        out = np.zeros((n_pools, n_cells))
        np.add.at(out, account_pool, values)
        return out

    po, pe, pv, pn = by_pool(o), by_pool(e), by_pool(v), by_pool(n)
    zeros_pool = np.zeros((n_pools, n_cells))
    pool_theta, pool_se = _log_ratios(po, pe, pv, pn)
    tau2_pool, k_pool = _spread(pool_theta, pool_se, zeros_pool, np.arange(n_pools), n_pools)
    k_pool = k_pool / span
    pool_est, pool_var, _ = _posterior(
        pool_theta, pool_se, zeros_pool, np.broadcast_to(tau2_pool[:, None], po.shape), k_pool[:, None]
    )

    # what the other accounts of the pool say about each cell (leave one out): each account's prior mean
    ap = account_pool
    loo = [np.clip(pooled[ap] - own, 0.0, None) for pooled, own in ((po, o), (pe, e), (pv, v), (pn, n))]
    loo_theta, loo_se = _log_ratios(*loo)
    zeros = np.zeros_like(o)
    target, target_var, _ = _posterior(
        loo_theta, loo_se, zeros, np.broadcast_to(tau2_pool[ap][:, None], o.shape), k_pool[ap][:, None]
    )

    theta, se = _log_ratios(o, e, v, n)
    tau2_account, k_account = _spread(theta, np.sqrt(se**2 + target_var), target, ap, n_pools)
    prior_var = tau2_account[ap][:, None] + target_var
    estimate, variance, weight = _posterior(theta, se, target, prior_var, (k_account / span)[ap][:, None])
    nobody = pn[ap] == 0  # no post of the pool ever went out in the cell: nothing to say about it
    return TwoLevelFit(
        estimate=np.where(nobody, np.nan, estimate),
        se=np.where(nobody, np.nan, np.sqrt(variance)),
        weight=np.where(nobody, 0.0, weight),
        target=np.where(nobody, np.nan, target),
        pool_estimate=np.where(pn > 0, pool_est, np.nan),
        pool_se=np.where(pn > 0, np.sqrt(pool_var), np.nan),
        tau2_pool=tau2_pool,
        tau2_account=tau2_account,
    )


def _prob_positive(mean: Array, sd: Array) -> Array:
    """P(true log ratio > 0) under the normal posterior (0.5 when it is exactly 0 with no spread)."""
    from scipy.special import ndtr

    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, mean / np.where(sd > 0, sd, 1.0), np.sign(mean) * np.inf)
        prob = np.where(np.isfinite(mean), np.where(np.isnan(z), 0.5, ndtr(z)), np.nan)
    return np.asarray(prob, dtype=np.float64)


def _ratio(log_value: float, shift: float = 0.0) -> float:
    value = log_value + shift
    return math.exp(value) if math.isfinite(value) else math.nan


def _range_label(start: int, end: int) -> str:
    """'Tue 08:00-11:00', or 'Sun 23:00-Mon 01:00' across midnight (hours of the week, wrapping)."""
    first = level_label("hour_of_week", start % HOURS_PER_WEEK)
    if (end - 1) // 24 == start // 24:
        return f"{first}-{end % 24 if end % 24 else 24:02d}:00"
    return f"{first}-{level_label('hour_of_week', end % HOURS_PER_WEEK)}"


def _weekday(value: object, function: str) -> int:
    if isinstance(value, str) and value[:3].title() in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(value[:3].title())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    raise invalid_parameter("weekday", function, "must be 0-6 (0 = Monday) or a day name such as 'Tue'", value)


def _top_slots(estimate: Array, top: int) -> list[int]:
    """The `top` slots with the highest estimate (slots without one never), ties by time."""
    finite = np.flatnonzero(np.isfinite(estimate))
    order = finite[np.argsort(-estimate[finite], kind="stable")]
    return [int(i) for i in order[:top]]


def _runs(picks: Sequence[int], n_slots: int) -> list[list[int]]:
    """The picked slots as runs of consecutive slots (the week wraps: Sunday night touches Monday morning)."""
    chosen = set(picks)
    if len(chosen) == n_slots:
        return [sorted(chosen)]
    runs = []
    for slot in sorted(chosen):
        if (slot - 1) % n_slots in chosen:
            continue  # inside a run that starts earlier
        run = [slot]
        while (run[-1] + 1) % n_slots in chosen:
            run.append((run[-1] + 1) % n_slots)
        runs.append(run)
    return runs


# --- the result ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BestTimes(TableResult):
    """Best times to post per account: recommended slots, the full grid, any window, a heatmap and a summary.

    `rows()` holds each account's `top` recommended slots; :meth:`cells` and :meth:`pooled` the whole grid;
    :meth:`window` any window of slots; :meth:`plot` the weekday x hour heatmap. Hours are local time as
    post_features gave them. The arrays are accounts (or pools) x slots; estimates on the log scale.
    """

    accounts: tuple[str, ...]
    pools: tuple[str, ...]
    account_pool: IntArray
    block_hours: int
    pool_by: str
    top: int
    alpha: float
    #: per account and slot: observed engagements, model-expected engagements, model variance, posts
    observed: Array
    expected: Array
    variance: Array
    n_posts: IntArray
    fit: TwoLevelFit
    #: per account: usable posts, sum y, sum x, sum y^2, sum x^2, sum xy (y engagements, x exposure)
    post_sums: Array
    #: per account: posts a week over its history (NaN when unknown)
    posts_per_week: Array
    dispersion: float
    n_excluded: int
    notes: tuple[str, ...] = ()
    _windows: dict[int, TwoLevelFit] = field(default_factory=dict, repr=False)

    @property
    def title(self) -> str:
        return "Best times to post"

    @property
    def n_slots(self) -> int:
        return HOURS_PER_WEEK // self.block_hours

    @property
    def estimate(self) -> Array:
        """Shrunk log rate ratio per account and slot (NaN where nobody in the pool posted)."""
        return self.fit.estimate

    @property
    def se(self) -> Array:
        """Posterior standard deviation of :attr:`estimate`."""
        return self.fit.se

    @property
    def weight(self) -> Array:
        """Share of each estimate resting on the account's own posts (0 for untried slots)."""
        return self.fit.weight

    def _z(self) -> float:
        from insights.distributions import normal_ppf

        return normal_ppf(1 - self.alpha / 2)

    def _row(self, name: object, parameter: str, function: str, *, pools: bool = True) -> tuple[str, int]:
        if isinstance(name, str) and name in self.accounts:
            return "account", self.accounts.index(name)
        if pools and isinstance(name, str) and name in self.pools:
            return "pool", self.pools.index(name)
        shown = [*self.accounts[:12], *(self.pools if pools else ())]
        what = "an account or a pool" if pools else "an account"
        raise invalid_parameter(parameter, function, f"must be {what} of this result ({', '.join(shown)})", name)

    def _window_fit(self, width: int) -> TwoLevelFit:
        if width == 1:
            return self.fit
        if width not in self._windows:
            o, e, v, n = (_sliding(g, width) for g in (self.observed, self.expected, self.variance, self.n_posts))
            self._windows[width] = _two_level((o, e, v, n), self.account_pool, len(self.pools), width)
        return self._windows[width]

    def _pool_grids(self) -> tuple[Array, Array, Array, Array]:
        out = []
        for grid in (self.observed, self.expected, self.variance, self.n_posts):
            pooled = np.zeros((len(self.pools), self.n_slots))
            np.add.at(pooled, self.account_pool, grid)
            out.append(pooled)
        return out[0], out[1], out[2], out[3]

    def _slot_label(self, slot: int) -> str:
        start = slot * self.block_hours
        if self.block_hours == 1:
            return level_label("hour_of_week", start)
        return _range_label(start, start + self.block_hours)

    def _slots_of(self, kind: str, row: int, slots: Sequence[int] | None = None) -> list[SlotEstimate]:
        """The SlotEstimate records of one account or pool (all slots, or those asked for, in that order)."""
        z = self._z()
        if kind == "account":
            name = self.accounts[row]
            grids = (self.observed[row], self.expected[row], self.variance[row], self.n_posts[row])
            est, se, weight = self.fit.estimate[row], self.fit.se[row], self.fit.weight[row]
            target = self.fit.target[row]
        else:
            name = self.pools[row]
            grids = tuple(g[row] for g in self._pool_grids())
            est, se = self.fit.pool_estimate[row], self.fit.pool_se[row]
            weight = np.where(grids[3] > 0, 1.0, 0.0)
            target = np.where(np.isfinite(est), 0.0, np.nan)
        theta, _ = _log_ratios(*(g[None, :] for g in grids))
        prob = _prob_positive(est, se)
        out = []
        for slot in range(self.n_slots) if slots is None else slots:
            start = slot * self.block_hours
            e, s = float(est[slot]), float(se[slot])
            out.append(
                SlotEstimate(
                    name=name,
                    slot=slot,
                    weekday=start // 24,
                    start_hour=start % 24,
                    end_hour=start % 24 + self.block_hours,
                    label=self._slot_label(slot),
                    n_posts=int(grids[3][slot]),
                    observed_ratio=_ratio(float(theta[0, slot])),
                    pool_ratio=_ratio(float(target[slot])),
                    rate_ratio=_ratio(e),
                    low=_ratio(e, -z * s),
                    high=_ratio(e, z * s),
                    prob_better=float(prob[slot]),
                    account_weight=float(weight[slot]),
                )
            )
        return out

    def cells(self, account: str | None = None) -> TimeSlots:
        """Every slot of every account (or of one), with its estimate, interval and where it comes from."""
        rows: Sequence[int] = range(len(self.accounts))
        if account is not None:
            rows = [self._row(account, "account", "BestTimes.cells", pools=False)[1]]
        return TimeSlots(tuple(s for r in rows for s in self._slots_of("account", r)), self.alpha, "account")

    def pooled(self) -> TimeSlots:
        """Every slot of every pool, shrunk toward the pool's average: what an account without history starts from."""
        return TimeSlots(
            tuple(s for r in range(len(self.pools)) for s in self._slots_of("pool", r)), self.alpha, "pool"
        )

    def window(self, name: str, weekday: int | str, start_hour: int, end_hour: int) -> WindowEstimate:
        """The window `weekday` start_hour:00 to end_hour:00 of an account or a pool, as one estimate.

        Shrunk like a slot, with the spread of windows as wide (so a block of good hours is judged as a block), and
        observed: the window's posts together, no shrinkage. Hours fall on the slot grid (multiples of
        block_hours); end_hour may pass midnight, up to 24 hours after the start.

        >>> best.window("linkedin", "Tue", 8, 11).observed_ratio  # doctest: +SKIP
        """
        fn = "BestTimes.window"
        kind, row = self._row(name, "name", fn)
        day = _weekday(weekday, fn)
        b = self.block_hours
        if (
            isinstance(start_hour, bool)
            or not isinstance(start_hour, int)
            or not 0 <= start_hour < 24
            or start_hour % b
        ):
            raise invalid_parameter("start_hour", fn, f"must be an hour 0-23 that is a multiple of {b}", start_hour)
        if (
            isinstance(end_hour, bool)
            or not isinstance(end_hour, int)
            or not start_hour < end_hour <= start_hour + 24
            or end_hour % b
        ):
            raise invalid_parameter(
                "end_hour", fn, f"must be after start_hour, at most 24 hours later and a multiple of {b}", end_hour
            )
        return self._window(kind, row, (day * 24 + start_hour) // b, (end_hour - start_hour) // b)

    def _window(self, kind: str, row: int, first: int, width: int) -> WindowEstimate:
        fit = self._window_fit(width)
        z = self._z()
        if kind == "account":
            name = self.accounts[row]
            grids = (self.observed, self.expected, self.variance, self.n_posts)
            est, se, weight = fit.estimate[row, first], fit.se[row, first], fit.weight[row, first]
        else:
            name = self.pools[row]
            grids = self._pool_grids()  # type: ignore[assignment]
            est, se, weight = fit.pool_estimate[row, first], fit.pool_se[row, first], 1.0
        o, e, v, n = (_sliding(g[row : row + 1], width)[:, first] for g in grids)
        totals = [float(g[row].sum()) for g in grids[:2]]
        if o[0] > 0 and e[0] > 0 and totals[0] > 0 and totals[1] > 0:
            observed = math.log(o[0] / e[0]) - math.log(totals[0] / totals[1])
            observed_se = math.sqrt(v[0]) / e[0]
        else:
            observed = observed_se = math.nan
        start = first * self.block_hours
        return WindowEstimate(
            name=name,
            label=_range_label(start, start + width * self.block_hours),
            weekday=start // 24,
            start_hour=start % 24,
            end_hour=start % 24 + width * self.block_hours,
            n_posts=int(n[0]),
            rate_ratio=_ratio(float(est)),
            low=_ratio(float(est), -z * float(se)),
            high=_ratio(float(est), z * float(se)),
            prob_better=float(_prob_positive(np.array([est]), np.array([se]))[0]),
            observed_ratio=_ratio(observed),
            observed_low=_ratio(observed, -z * observed_se),
            observed_high=_ratio(observed, z * observed_se),
            account_weight=float(weight),
        )

    # --- recommendations -------------------------------------------------------------------------------------------

    def recommendations(self, account: str | None = None) -> list[Recommendation]:
        """Each account's (or one account's) `top` slots, best first, each with the window of adjacent picks."""
        rows: Sequence[int] = range(len(self.accounts))
        if account is not None:
            rows = [self._row(account, "account", "BestTimes.recommendations", pools=False)[1]]
        out: list[Recommendation] = []
        for row in rows:
            picks = _top_slots(self.fit.estimate[row], self.top)
            if not picks:
                continue
            slots = self._slots_of("account", row, picks)
            runs = _runs(picks, self.n_slots)
            windows = [self._window("account", row, run[0], len(run)) for run in runs]
            for rank, (slot, estimate) in enumerate(zip(picks, slots, strict=True), start=1):
                where = next(i for i, run in enumerate(runs) if slot in run)
                out.append(Recommendation(self.accounts[row], rank, estimate, windows[where]))
        return out

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "account": r.account,
                "rank": r.rank,
                "slot": r.slot.label,
                "window": r.window.label,
                "rate_ratio": r.slot.rate_ratio,
                "low": r.slot.low,
                "high": r.slot.high,
                "prob_better": r.slot.prob_better,
                "n_posts": r.slot.n_posts,
                "account_weight": r.slot.account_weight,
                "basis": r.basis,
                "is_untried": r.slot.is_untried,
            }
            for r in self.recommendations()
        ]

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        headers = [
            "account",
            "#",
            "slot",
            "rate ratio",
            f"{1 - self.alpha:.0%} interval",
            "P(better)",
            "posts",
            "rests on",
        ]
        cells = []
        for r in self.recommendations():
            s = r.slot
            rests = "untried by this account" if s.is_untried else f"{r.basis} ({s.account_weight:.0%} account)"
            cells.append(
                [
                    r.account,
                    str(r.rank),
                    s.label,
                    f"{s.rate_ratio:.2f}x",
                    f"{s.low:.2f}-{s.high:.2f}",
                    f"{s.prob_better:.0%}",
                    format_number(s.n_posts),
                    rests,
                ]
            )
        return headers, cells

    def summary_lines(self, max_accounts: int = 10) -> list[str]:
        """One sentence per account (those with the most posts first), then how to read them."""
        level = f"{1 - self.alpha:.0%}"
        lines = []
        best = {r.account: r.window for r in self.recommendations() if r.rank == 1}
        order = sorted(best, key=lambda a: (-self.post_sums[self.accounts.index(a), 0], a))
        for account in order[:max_accounts]:
            w = best[account]
            figure = f"about {w.rate_ratio:.2f}x its average engagement ({level} {w.low:.2f}-{w.high:.2f})"
            if w.n_posts == 0:
                source = "untried by this account: the estimate is its pool's"
            elif w.account_weight < 0.5:
                source = f"from {w.n_posts:,} posts there and its pool (its own posts carry {w.account_weight:.0%})"
            else:
                source = f"from {w.n_posts:,} posts there"
            if w.low > 1:
                lines.append(f"Best time for {account}: {w.label}, {figure}, {source}.")
            else:
                lines.append(f"No time is clearly better for {account} yet; best guess {w.label}, {figure}, {source}.")
        if len(order) > max_accounts:
            lines.append(f"... and {len(order) - max_accounts:,} more accounts (see the table).")
        pool = "its platform's accounts" if self.pool_by == "platform" else "all accounts"
        lines.append(
            "Hours are local time. A slot is compared with the account's average post, adjusted for what was posted "
            f"(content type, origin, paid, text), and shrunk toward {pool} where its own history is thin."
        )
        if self.n_excluded:
            lines.append(f"{self.n_excluded:,} posts not measurable yet were left out.")
        lines += list(self.notes)
        return lines

    # --- the chart -------------------------------------------------------------------------------------------------

    def plot(self, name: str | None = None) -> Any:
        """A weekday x hour heatmap of the shrunk rate ratio of an account (default: the one with most posts) or pool.

        Colours are on the log scale around 1 (the average post); slots without an estimate stay blank, untried ones
        say so in the hover text.
        """
        from insights._optional import require

        go = require("plotly.graph_objects", "reports")
        fn = "BestTimes.plot"
        if name is None:
            if not self.accounts:
                raise invalid_parameter("name", fn, "must name an account (this result has none)", name)
            name = self.accounts[int(np.argmax(self.post_sums[:, 0]))]
        kind, row = self._row(name, "name", fn)
        per_day = 24 // self.block_hours
        z: list[list[float | None]] = [[None] * per_day for _ in range(7)]
        text = [[""] * per_day for _ in range(7)]
        for s in self._slots_of(kind, row):
            if math.isfinite(s.rate_ratio):
                i, j = s.weekday, s.start_hour // self.block_hours
                z[i][j] = math.log2(s.rate_ratio)
                untried = ", untried by this account" if s.is_untried and kind == "account" else ""
                text[i][j] = f"{s.label}: {s.rate_ratio:.2f}x ({s.low:.2f}-{s.high:.2f}), {s.n_posts} posts{untried}"
        limit = max([abs(v) for day in z for v in day if v is not None] or [1.0]) or 1.0
        ticks = [0.8, 0.9, 1.0, 1.1, 1.25]
        figure = go.Figure(
            go.Heatmap(
                z=z,
                x=[f"{h * self.block_hours:02d}:00" for h in range(per_day)],
                y=list(WEEKDAY_NAMES),
                text=text,
                hoverinfo="text",
                colorscale="RdBu",
                zmid=0.0,
                zmin=-limit,
                zmax=limit,
                colorbar={
                    "title": "rate ratio",
                    "tickvals": [math.log2(t) for t in ticks],
                    "ticktext": [f"{t:g}x" for t in ticks],
                },
            )
        )
        figure.update_yaxes(autorange="reversed", title="weekday (local)")
        figure.update_xaxes(title="hour (local)")
        figure.update_layout(title=f"Engagement by time slot: {name}, against its average post")
        return figure


# --- the entry point ----------------------------------------------------------------------------------------------


def _check_model(model: object, fn: str) -> EngagementModel:
    if not isinstance(model, EngagementModel):
        raise invalid_parameter("model", fn, "must be a fitted EngagementModel or None", type(model).__name__)
    if not hasattr(model, "coef_"):
        raise invalid_parameter("model", fn, "must be fitted first (call its fit)", model)
    timed = [t for t in model.terms if t in TIME_TERMS]
    if timed:
        raise invalid_parameter("model", fn, "must have no time terms (they would explain what is measured)", timed)
    return model


def _compact(column: Any) -> tuple[tuple[str, ...], IntArray]:
    """A categorical column's levels that occur, sorted, and each row's index into them."""
    present = np.unique(column.codes)
    order = sorted(range(len(present)), key=lambda i: str(column.levels[present[i]]))
    lookup = np.full(max(len(column.levels), 1), -1, dtype=np.int64)
    lookup[present[order]] = np.arange(len(present))
    return tuple(str(column.levels[present[i]]) for i in order), lookup[column.codes]


def best_times(
    features: object,
    *,
    model: EngagementModel | None = None,
    block_hours: int = 1,
    pool_by: str = "platform",
    top: int = 3,
    alpha: float = 0.05,
) -> BestTimes:
    """Best times to post per account, from a post_features relation (or a frame with its columns).

    `model`: a fitted EngagementModel without time terms (default: one with :data:`TIMING_TERMS` is fitted here).
    `block_hours`: the width of a slot, 1, 2, 3, 4 or 6 hours from local midnight (1: hours; wider blocks gather
    more posts per slot when history is short). `pool_by`: what an account with little history leans on, its
    "platform" or "all" accounts. `top`: slots recommended per account. `alpha`: 1 - the level of the intervals.

    >>> best = best_times(post_features(con, timezone="Europe/Berlin"))  # doctest: +SKIP
    >>> best.rows()[0]["window"]  # doctest: +SKIP
    'Tue 08:00-10:00'
    """
    fn = "best_times"
    if isinstance(block_hours, bool) or block_hours not in BLOCK_HOURS:
        raise invalid_parameter("block_hours", fn, "must be one of 1, 2, 3, 4, 6", block_hours)
    check_choice("pool_by", fn, pool_by, POOLS)
    check_int("top", fn, top, 1)
    check_open_unit("alpha", fn, alpha)
    relation = as_relation(features, "features", fn)
    needed = ["account", "hour_of_week", "engagements", "exposure", *(["platform"] if pool_by == "platform" else [])]
    terms = TIMING_TERMS if model is None else _check_model(model, fn).terms
    require_columns(relation, [*terms, *needed], "features", fn)
    fitted = EngagementModel(TIMING_TERMS).fit(relation) if model is None else model

    # the usable posts once, in one order: the model's predictions and the columns below both scan this table
    n_excluded = 0
    usable = relation
    if "exclusion" in relation.columns:
        n_excluded = int(relation.aggregate("count(*) FILTER (WHERE exclusion IS NOT NULL)").fetchall()[0][0])
        usable = relation.filter("exclusion IS NULL")
    table = usable.select(", ".join(quote_identifier(c) for c in dict.fromkeys([*terms, *needed]))).to_arrow_table()
    n = table.num_rows
    if n == 0:
        raise invalid_parameter("features", fn, "must hold at least one usable post (exclusion IS NULL)", n)
    mu = np.asarray(fitted.predict(table), dtype=np.float64)
    data, _ = fetch(as_relation(table, "features", fn), needed, "features", fn)
    hours = data["hour_of_week"]
    try:
        hour_levels = np.array([int(float(h)) for h in hours.levels] or [0], dtype=np.int64)
    except ValueError:
        raise invalid_parameter("features", fn, "must have hour_of_week in 0-167", hours.levels[:3]) from None
    hour = hour_levels[hours.codes]
    if len(mu) != n or hour.min() < 0 or hour.max() >= HOURS_PER_WEEK:
        raise invalid_parameter("features", fn, "must have hour_of_week in 0-167", int(hour.max()))
    accounts, account = _compact(data["account"])
    if pool_by == "platform":
        pool_names, pool_of_post = _compact(data["platform"])
        # an account belongs to one pool: that of its first post here
        first = np.full(len(accounts), n, dtype=np.int64)
        np.minimum.at(first, account, np.arange(n))
        used, account_pool = np.unique(pool_of_post[first], return_inverse=True)
        pools = tuple(pool_names[i] for i in used)
        account_pool = account_pool.reshape(-1).astype(np.int64)
    else:
        pools, account_pool = ("all",), np.zeros(len(accounts), dtype=np.int64)

    y = np.asarray(data["engagements"], dtype=np.float64)
    x = np.asarray(data["exposure"], dtype=np.float64)
    dispersion = float(fitted.dispersion_)
    n_slots = HOURS_PER_WEEK // block_hours
    cell = account * n_slots + hour // block_hours
    shape = (len(accounts), n_slots)

    def grid(weights: Array | None) -> Array:
        return np.bincount(cell, weights=weights, minlength=shape[0] * shape[1]).astype(np.float64).reshape(shape)

    grids = (grid(y), grid(mu), grid(mu + dispersion * mu**2), grid(None))
    sums = np.column_stack(
        [np.bincount(account, weights=w, minlength=len(accounts)) for w in (None, y, x, y * y, x * x, y * x)]
    ).astype(np.float64)
    notes = []
    if pool_by == "platform" and len(pools) == len(accounts) > 1:
        notes.append("Each platform has one account here, so each account leans on its own history only.")
    return BestTimes(
        accounts=accounts,
        pools=pools,
        account_pool=account_pool,
        block_hours=block_hours,
        pool_by=pool_by,
        top=top,
        alpha=alpha,
        observed=grids[0],
        expected=grids[1],
        variance=grids[2],
        n_posts=grids[3].astype(np.int64),
        fit=_two_level(grids, account_pool, len(pools), 1),
        post_sums=sums,
        posts_per_week=_posting_rates(relation, accounts),
        dispersion=dispersion,
        n_excluded=n_excluded,
        notes=tuple(notes),
    )


def _posting_rates(relation: Any, accounts: tuple[str, ...]) -> Array:
    """Posts a week of each account over its history (every post, measurable or not); NaN when unknown."""
    out = np.full(len(accounts), np.nan)
    if "published_at" not in relation.columns:
        return out
    rows = relation.aggregate(
        "coalesce(CAST(account AS VARCHAR), '(none)') AS account_name, count(*) AS n, "
        "epoch(max(published_at)) - epoch(min(published_at)) AS span",
        "account_name",
    ).fetchall()
    index = {a: i for i, a in enumerate(accounts)}
    for name, count, span in rows:
        if name in index and span is not None and span > 0 and count > 1:
            out[index[name]] = (count - 1) / (float(span) / (7 * 86_400))
    return out


# --- the randomized check -----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PostingTimeExperiment(TableResult):
    """A randomized test of a recommended window: the definition, the predicted lift and the posts it needs.

    `definition` is what experiments/<id>.yaml holds (:meth:`write_yaml`); `experiment` the same as an
    :class:`insights.experiments.Experiment`, ready for ``analyze_experiment(con, plan.experiment)`` once the
    assignments from :func:`assign_posting_times` and the posts are in the warehouse.
    """

    account: str
    window: str
    slots: tuple[tuple[int, int, int], ...]
    definition: dict[str, Any]
    expected_lift: float
    predicted_ratio: float
    predicted_low: float
    predicted_high: float
    baseline_rate: float
    variance_per_post: float
    posts_per_week: float | None
    n_per_arm: int | None
    n_weeks: float | None
    days: int
    power_in_days: float | None
    alpha: float
    power: float
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return f"Posting-time experiment: {self.account}, {self.window}"

    @property
    def experiment_id(self) -> str:
        return str(self.definition["id"])

    @property
    def experiment(self) -> Experiment:
        """The definition as an Experiment (validated)."""
        from insights.experiments.definition import parse_experiment

        return parse_experiment(self.definition, f"experiment {self.experiment_id}")

    def write_yaml(self, folder: str | os.PathLike[str] = "experiments") -> Path:
        """Write the definition to folder/<id>.yaml (where `insights experiment analyze ID` finds it)."""
        import yaml

        root = check_path("folder", "PostingTimeExperiment.write_yaml", folder)
        root.mkdir(parents=True, exist_ok=True)
        path = root / f"{self.experiment_id}.yaml"
        path.write_text(yaml.safe_dump(self.definition, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    def rows(self) -> list[dict[str, Any]]:
        half = self.n_per_arm
        return [
            {"arm": RECOMMENDED, "schedule": f"{self.window} (local time)", "share": 0.5, "n_posts": half},
            {"arm": USUAL, "schedule": "the usual schedule", "share": 0.5, "n_posts": half},
        ]

    def summary_lines(self) -> list[str]:
        lines = [
            f"Randomize each planned post of {self.account} 50/50: '{RECOMMENDED}' goes out in {self.window} "
            f"(local time), '{USUAL}' on the usual schedule. Metric: engagements per exposure of the posts "
            "(a ratio, delta method over posts).",
            f"Predicted: {self.predicted_ratio:.2f}x the usual engagement rate ({1 - self.alpha:.0%} "
            f"{self.predicted_low:.2f}-{self.predicted_high:.2f}); the test is sized for {self.expected_lift:+.0%}.",
        ]
        if self.n_per_arm is None:
            lines.append("No lift to detect, so no sample size; give expected_lift to size the test.")
        else:
            size = (
                f"To detect it with {self.power:.0%} power at alpha {self.alpha:g} takes {self.n_per_arm:,} posts per "
                f"arm ({2 * self.n_per_arm:,} in all)"
            )
            if self.n_weeks is not None and self.posts_per_week is not None:
                size += f": about {self.n_weeks:.1f} weeks at {self.posts_per_week:.1f} posts a week"
            lines.append(size + ".")
        if self.power_in_days is not None:
            lines.append(f"In {self.days} days the power would be {self.power_in_days:.0%}.")
        lines += list(self.notes)
        return lines


def _slug(text: str) -> str:
    return _ID_UNSAFE.sub("-", text).strip("-.") or "account"


def _engagement_sql(definition: EngagementDefinition, platform: str | None) -> tuple[str, str, str | None]:
    counters = definition.by_platform.get(platform or "", definition.counters)
    numerator = " + ".join(f"coalesce({definition.column(c)}, 0)" for c in counters)
    denominator = definition.column(definition.denominator)
    where = "is_7d_observed" if definition.age == "7d" else None
    return numerator, denominator, where


def posting_time_experiment(
    best: BestTimes,
    account: str,
    *,
    days: int = 28,
    expected_lift: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    posts_per_week: float | None = None,
    engagement: EngagementDefinition | None = None,
    experiment_id: str | None = None,
) -> PostingTimeExperiment:
    """A randomized posting-time test of `account`'s recommended window against its usual schedule.

    Unit: the post; arms "recommended" and "usual" (control), 50/50; metric: the engagement rate of the posts as a
    ratio (engagements / exposure, delta method), read like `engagement` (default EngagementDefinition(), which
    should match the one best_times was given). The sample size detects `expected_lift` (default: the predicted
    window ratio - 1) with `power` at `alpha`, two-sided, using the per-post variance of the account's history;
    weeks follow from `posts_per_week` (default: the account's history). `days` gives the power of a test that runs
    that long.

    >>> plan = posting_time_experiment(best, "linkedin/brightloop-hq")  # doctest: +SKIP
    >>> plan.n_per_arm, plan.n_weeks  # doctest: +SKIP
    """
    fn = "posting_time_experiment"
    check_instance("best", fn, best, BestTimes)
    if not isinstance(account, str) or account not in best.accounts:
        raise invalid_parameter("account", fn, "must be an account of the BestTimes result", account)
    check_int("days", fn, days, 1)
    check_open_unit("alpha", fn, alpha)
    check_open_unit("power", fn, power)
    if expected_lift is not None and (
        isinstance(expected_lift, bool)
        or not isinstance(expected_lift, int | float)
        or not math.isfinite(expected_lift)
        or expected_lift <= -1
    ):
        raise invalid_parameter("expected_lift", fn, "must be None or a relative lift above -1", expected_lift)
    if posts_per_week is not None and (
        isinstance(posts_per_week, bool)
        or not isinstance(posts_per_week, int | float)
        or not math.isfinite(posts_per_week)
        or posts_per_week <= 0
    ):
        raise invalid_parameter("posts_per_week", fn, "must be None or a positive number", posts_per_week)
    definition = EngagementDefinition() if engagement is None else engagement
    check_instance("engagement", fn, definition, EngagementDefinition)
    exp_id = experiment_id if experiment_id is not None else f"exp-best-time-{_slug(account)}"
    if not isinstance(exp_id, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", exp_id):
        raise invalid_parameter("experiment_id", fn, "must be letters, digits, '.', '_' or '-'", exp_id)

    recs = best.recommendations(account)
    if not recs:
        raise invalid_parameter("account", fn, "must have a slot with an estimate to recommend", account)
    window = recs[0].window
    row = best.accounts.index(account)
    run = next(r for r in _runs([x.slot.slot for x in recs], best.n_slots) if recs[0].slot.slot in r)
    slots = tuple(
        ((s * best.block_hours) // 24, (s * best.block_hours) % 24, (s * best.block_hours) % 24 + best.block_hours)
        for s in run
    )
    lift = window.rate_ratio - 1.0 if expected_lift is None else float(expected_lift)

    n_posts, sum_y, sum_x, sum_yy, sum_xx, sum_xy = (float(v) for v in best.post_sums[row])
    notes: list[str] = []
    rate = sum_y / sum_x if sum_x > 0 else math.nan
    if n_posts > 1 and sum_x > 0:
        # n Var(ratio estimate) per post by the delta method: Var(y - R x) / mean(x)^2
        residual = (sum_yy - 2 * rate * sum_xy + rate * rate * sum_xx) / (n_posts - 1)
        variance = max(residual, 0.0) / (sum_x / n_posts) ** 2
    else:
        variance = math.nan
    weekly = posts_per_week if posts_per_week is not None else float(best.posts_per_week[row])
    weekly_rate = weekly if math.isfinite(weekly) else None
    n_per_arm = n_weeks = power_in_days = None
    if math.isfinite(variance) and variance > 0 and lift != 0 and math.isfinite(rate) and rate > 0:
        from insights.experiments.sizing import RatioMetric, sample_size
        from insights.experiments.sizing import power as power_at

        metric = RatioMetric(variance=variance, baseline_ratio=rate)
        daily = None if weekly_rate is None else weekly_rate / 7
        sized = sample_size(metric, lift, relative=True, alpha=alpha, power=power, daily_units=daily)
        n_per_arm = sized.n_control
        if n_per_arm is not None and weekly_rate is not None:
            n_weeks = 2 * n_per_arm / weekly_rate
        if weekly_rate is not None:
            in_days = weekly_rate * days / 7 / 2
            if in_days > 0:
                power_in_days = power_at(metric, lift, in_days, relative=True, alpha=alpha).power
    elif not (math.isfinite(variance) and variance > 0):
        notes.append("The account's history is too short for a per-post variance, so the test is not sized.")
    if weekly_rate is None:
        notes.append("The posting rate is unknown (no published_at); give posts_per_week for the weeks needed.")
    elif n_per_arm is not None:
        per_week = weekly_rate / 2
        notes.append(
            f"That puts about {per_week:.1f} posts a week into {window.label}; a window too small for them dilutes "
            "the test, so widen the window or lengthen the test rather than crowd it."
        )
    if window.low <= 1:
        notes.append("The window is not clearly better than the average post yet; the test is how to find out.")

    numerator, denominator, where = _engagement_sql(definition, account.split("/", 1)[0] if "/" in account else None)

    def measure(value: str) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "table": "marts.posts",
            "unit_column": "post_id",
            "time_column": "published_at",
            "value": value,
        }
        if where is not None:
            spec["where"] = where
        return spec

    spec = {
        "id": exp_id,
        "title": f"Best time to post: {account}, {window.label}",
        "hypothesis": (
            f"Posts of {account} published in {window.label} (local time) get {window.rate_ratio:.2f}x the "
            "engagement rate of posts on the usual schedule."
        ),
        "unit": "post",
        "control": USUAL,
        "variants": {USUAL: 0.5, RECOMMENDED: 0.5},
        "metrics": {
            "engagement_rate": {
                "role": "primary",
                "type": "ratio",
                "description": f"{definition.label}, per post",
                "numerator": measure(numerator),
                "denominator": measure(denominator),
            }
        },
        "options": {"alpha": alpha},
    }
    return PostingTimeExperiment(
        account=account,
        window=window.label,
        slots=slots,
        definition=spec,
        expected_lift=lift,
        predicted_ratio=window.rate_ratio,
        predicted_low=window.low,
        predicted_high=window.high,
        baseline_rate=rate,
        variance_per_post=variance,
        posts_per_week=weekly_rate,
        n_per_arm=n_per_arm,
        n_weeks=n_weeks,
        days=days,
        power_in_days=power_in_days,
        alpha=alpha,
        power=power,
        notes=tuple(notes),
    )


@dataclass(frozen=True, eq=False)
class PostingAssignments(TableResult):
    """Planned posts randomized to the arms of an experiment: rows of the `assignments` kind (unit_type post)."""

    experiment_id: str
    unit_ids: tuple[str, ...]
    variants: tuple[str, ...]
    probabilities: tuple[float, ...]
    assigned_at: dt.datetime
    schedules: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"Assignments of {self.experiment_id}"

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "experiment_id": self.experiment_id,
                "unit_id": unit,
                "variant": variant,
                "assigned_at": self.assigned_at,
                "assignment_prob": prob,
                "unit_type": "post",
            }
            for unit, variant, prob in zip(self.unit_ids, self.variants, self.probabilities, strict=True)
        ]

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        headers = ["post", "arm", "when to post", "probability"]
        cells = [
            [u, v, self.schedules.get(v, ""), f"{p:g}"]
            for u, v, p in zip(self.unit_ids, self.variants, self.probabilities, strict=True)
        ]
        return headers, cells

    def summary_lines(self) -> list[str]:
        counts = {v: self.variants.count(v) for v in dict.fromkeys(self.variants)}
        return [
            f"{len(self.unit_ids):,} planned posts randomized: "
            + ", ".join(f"{n:,} {v}" for v, n in counts.items())
            + ". Ingest the rows as the assignments kind; schedule each post as its arm says."
        ]

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the rows as a CSV file the assignments kind accepts (ISO-8601 times in UTC)."""
        target = check_path("path", "PostingAssignments.to_csv", path)
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["experiment_id", "unit_id", "variant", "assigned_at", "assignment_prob", "unit_type"])
            stamp = self.assigned_at.isoformat().replace("+00:00", "Z")
            for unit, variant, prob in zip(self.unit_ids, self.variants, self.probabilities, strict=True):
                writer.writerow([self.experiment_id, unit, variant, stamp, repr(prob), "post"])
        return target


def assign_posting_times(
    post_ids: Iterable[str],
    experiment: PostingTimeExperiment | Experiment,
    *,
    seed: int,
    assigned_at: dt.datetime | str | None = None,
) -> PostingAssignments:
    """Randomize planned (draft) posts to the experiment's arms with their planned probabilities.

    Complete randomization: the arms get their planned shares of the posts as exactly as whole posts allow (the
    remainder drawn at random), in a random order; each row records its arm's planned probability. The same ids and
    seed give the same assignment whatever the order of `post_ids`. `assigned_at` (default now, UTC) must come
    before the posts go out: only posts published from then on count in the readout.

    >>> assign_posting_times(["d1", "d2", "d3", "d4"], plan, seed=7).to_csv("assignments.csv")  # doctest: +SKIP
    """
    from insights.experiments.definition import Experiment as ExperimentClass
    from insights.params import check_instant

    fn = "assign_posting_times"
    if isinstance(post_ids, str) or not isinstance(post_ids, Iterable):
        raise invalid_parameter("post_ids", fn, "must be a sequence of post ids", type(post_ids).__name__)
    ids = list(post_ids)
    if not ids:
        raise invalid_parameter("post_ids", fn, "must hold at least one post id", ids)
    for p in ids:
        if not isinstance(p, str) or not p:
            raise invalid_parameter("post_ids", fn, "must hold non-empty strings", p)
    seen: set[str] = set()
    for p in ids:
        if p in seen:
            raise invalid_parameter("post_ids", fn, "must hold each post id once", p)
        seen.add(p)
    schedules: dict[str, str] = {}
    if isinstance(experiment, PostingTimeExperiment):
        definition = experiment.experiment
        schedules = {RECOMMENDED: f"in {experiment.window} (local time)", USUAL: "as usual"}
    elif isinstance(experiment, ExperimentClass):
        definition = experiment
    else:
        raise invalid_parameter(
            "experiment", fn, "must be a PostingTimeExperiment or an Experiment", type(experiment).__name__
        )
    if definition.unit != "post":
        raise invalid_parameter("experiment", fn, "must randomize posts (unit: post)", definition.unit)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise invalid_parameter("seed", fn, "must be a non-negative integer", seed)
    when = dt.datetime.now(dt.UTC) if assigned_at is None else check_instant("assigned_at", fn, assigned_at)

    arms = list(definition.variants)
    shares = np.asarray(definition.weights or [1.0 / len(arms)] * len(arms), dtype=np.float64)
    shares = shares / shares.sum()
    ids = sorted(ids)
    rng = np.random.default_rng(seed)
    counts = np.floor(shares * len(ids)).astype(np.int64)
    remainder = len(ids) - int(counts.sum())
    if remainder:
        extra = rng.choice(len(arms), size=remainder, replace=False, p=shares)
        counts[extra] += 1
    labels = np.repeat(np.arange(len(arms)), counts)
    rng.shuffle(labels)
    return PostingAssignments(
        experiment_id=definition.id,
        unit_ids=tuple(ids),
        variants=tuple(arms[i] for i in labels),
        probabilities=tuple(float(shares[i]) for i in labels),
        assigned_at=when,
        schedules=schedules,
    )
