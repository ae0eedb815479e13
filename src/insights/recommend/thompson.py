"""Thompson-sampling allocation: how often to post each option next, from what is known about each option so far.

Each option (an *arm*: a content type, a slot, a prompt) of a *segment* (an account, an audience) comes with the
posterior of its expected outcome, as the shrunk estimates produce it: ``mean`` (an engagement rate, leads per
post) and ``log_se``, the standard error of ``log(mean)``. Read as ``log(outcome) ~ Normal(log(mean), log_se^2)``
(a lognormal posterior), :func:`thompson_allocation` draws every arm's outcome many times and counts how often each
arm has the highest draw: that share, the probability the arm is best, is how often to post it. Good options get
most posts, uncertain ones keep some, clearly worse ones fade out, and the split moves as evidence comes in.

An optional floor (``min_probability``) keeps every arm in play; the share it needs is taken from the arms above the
floor in proportion to their shares.

The :class:`Allocation` writes itself to the warehouse (``recommend.allocations``, one transaction, one run id per
allocation), reads back with :func:`read_allocation`, and draws the planned posts with :meth:`Allocation.choose`,
which also returns the probability of each choice: log it with the post (the *propensity*) so that
:func:`insights.recommend.ope.evaluate_policy` can later judge any other policy on what was posted.

>>> allocation = thompson_allocation(
...     [
...         {"segment": "facebook/brightloop", "arm": "video", "mean": 0.054, "log_se": 0.08},
...         {"segment": "facebook/brightloop", "arm": "image", "mean": 0.040, "log_se": 0.06},
...     ],
...     seed=1,
... )
>>> allocation.probabilities("facebook/brightloop")["video"] > 0.99
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import numbers
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from insights.distributions import normal_ppf
from insights.errors import InsightsError, WarehouseError, invalid_parameter
from insights.params import check_int, check_open_unit, check_optional_instant
from insights.recommend._inputs import check_seed
from insights.results import TableResult, format_number, format_percent
from insights.tables import as_relation, is_table_like, require_columns

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "ALLOCATIONS_TABLE",
    "Allocation",
    "AllocationNotFoundError",
    "ArmAllocation",
    "Choices",
    "read_allocation",
    "thompson_allocation",
]

#: where :meth:`Allocation.write` keeps every allocation, one row per (run, segment, arm)
ALLOCATIONS_TABLE = "recommend.allocations"

_ALLOCATIONS_DDL = (
    "CREATE SCHEMA IF NOT EXISTS recommend",
    """
    CREATE TABLE IF NOT EXISTS recommend.allocations (
        run_id VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        valid_from TIMESTAMPTZ,
        valid_to TIMESTAMPTZ,
        segment VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        probability DOUBLE NOT NULL,
        p_best DOUBLE NOT NULL,
        mean DOUBLE NOT NULL,
        log_se DOUBLE NOT NULL,
        n_posts BIGINT,
        draws BIGINT NOT NULL,
        seed BIGINT NOT NULL,
        min_probability DOUBLE NOT NULL,
        alpha DOUBLE NOT NULL,
        PRIMARY KEY (run_id, segment, arm)
    )
    """,
)
_COLUMNS = (
    "run_id",
    "created_at",
    "valid_from",
    "valid_to",
    "segment",
    "arm",
    "probability",
    "p_best",
    "mean",
    "log_se",
    "n_posts",
    "draws",
    "seed",
    "min_probability",
    "alpha",
)
_INSERT = f"INSERT INTO recommend.allocations ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"  # noqa: S608 - constant columns
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM recommend.allocations WHERE run_id = ?"  # noqa: S608 - constant columns

#: normal draws per block (draws x arms), so a segment with many arms never holds all its draws at once
_BLOCK_VALUES = 1 << 20
#: how many segments the summary names one by one
_SUMMARY_SEGMENTS = 12


class AllocationNotFoundError(InsightsError, LookupError):
    """The warehouse holds no allocation (or not the run asked for)."""


@dataclass(frozen=True)
class ArmAllocation:
    """One arm of one segment: how often to post it (``probability``) and why.

    ``p_best`` is the probability the arm has the highest expected outcome in its segment (the Thompson share);
    ``probability`` is that share after the floor. ``mean`` and ``log_se`` are the posterior given, ``ci_low`` and
    ``ci_high`` its interval (``mean * exp(-/+ z log_se)``); ``n_posts`` the evidence behind it, when given.
    """

    segment: str
    arm: str
    probability: float
    p_best: float
    mean: float
    log_se: float
    ci_low: float
    ci_high: float
    n_posts: int | None = None


@dataclass(frozen=True)
class Allocation(TableResult):
    """How often to post each arm of each segment: Thompson shares with an optional floor.

    Build one with :func:`thompson_allocation` or :func:`read_allocation`. ``run_id``, ``created_at``,
    ``valid_from`` and ``valid_to`` are set on an allocation read from the warehouse.
    """

    arms: tuple[ArmAllocation, ...]
    draws: int
    seed: int
    min_probability: float
    alpha: float = 0.05
    run_id: str | None = None
    created_at: dt.datetime | None = None
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None

    @property
    def title(self) -> str:
        return "Allocation" + (f" {self.run_id}" if self.run_id else "")

    def segments(self) -> list[str]:
        """The segments, in order."""
        return list(dict.fromkeys(a.segment for a in self.arms))

    def probabilities(self, segment: str) -> dict[str, float]:
        """Arm -> probability of one segment (the floor applied), highest first."""
        if segment not in self.segments():
            raise invalid_parameter(
                "segment", "Allocation.probabilities", "must be a segment of the allocation" + _known(self), segment
            )
        return {a.arm: a.probability for a in self.arms if a.segment == segment}

    def as_policy(self) -> dict[str, dict[str, float]]:
        """Segment -> {arm: probability}: the allocation as a policy :func:`evaluate_policy` can judge."""
        policy: dict[str, dict[str, float]] = {}
        for a in self.arms:
            policy.setdefault(a.segment, {})[a.arm] = a.probability
        return policy

    @property
    def has_posts(self) -> bool:
        return any(a.n_posts is not None for a in self.arms)

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for a in self.arms:
            row: dict[str, Any] = {
                "segment": a.segment,
                "arm": a.arm,
                "probability": a.probability,
                "p_best": a.p_best,
                "mean": a.mean,
                "ci_low": a.ci_low,
                "ci_high": a.ci_high,
                "log_se": a.log_se,
            }
            if self.has_posts:
                row["n_posts"] = a.n_posts
            rows.append(row)
        return rows

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        level = f"{(1 - self.alpha) * 100:g}%"
        headers = ["segment", "arm", "share of posts", "P(best)", "expected outcome", f"{level} interval"]
        if self.has_posts:
            headers.append("posts")
        cells = []
        for a in self.arms:
            row = [
                a.segment,
                a.arm,
                _share(a.probability),
                _share(a.p_best),
                format_number(a.mean),
                f"{format_number(a.ci_low)} to {format_number(a.ci_high)}",
            ]
            if self.has_posts:
                row.append("" if a.n_posts is None else format_number(a.n_posts))
            cells.append(row)
        return headers, cells

    def summary_lines(self) -> list[str]:
        lines = []
        segments = self.segments()
        for segment in segments[:_SUMMARY_SEGMENTS]:
            arms = [a for a in self.arms if a.segment == segment]
            lines.append(_segment_sentence(segment, arms, self._period()))
        if len(segments) > _SUMMARY_SEGMENTS:
            lines.append(f"... and {len(segments) - _SUMMARY_SEGMENTS} more segments (see the table).")
        # the largest Monte Carlo standard error of a share is 0.5 / sqrt(draws); 1.96 of them at most
        error = 1.96 * 0.5 / math.sqrt(self.draws)
        lines.append(
            "Each share is the chance that the option has the highest expected outcome given the evidence so far "
            f"(Thompson sampling, {self.draws:,} draws per segment; Monte Carlo error at most "
            f"±{error * 100:.1f} points)."
        )
        if self.min_probability > 0:
            lines.append(
                f"Every option keeps at least {_share(self.min_probability)} of the posts, so what is known about "
                "the others keeps improving."
            )
        return lines

    def _period(self) -> str:
        """When the allocation applies (" from 2026-03-02 until 2026-03-09"), if it was written with a period."""
        text = ""
        if self.valid_from is not None:
            text += f" from {self.valid_from:%Y-%m-%d}"
        if self.valid_to is not None:
            text += f" until {self.valid_to:%Y-%m-%d}"
        return text

    def write(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        run_id: str | None = None,
        valid_from: dt.date | dt.datetime | str | None = None,
        valid_to: dt.date | dt.datetime | str | None = None,
    ) -> str:
        """Add this allocation to ``recommend.allocations`` in one transaction (all rows or none); return its run id.

        The schema and table are created when missing. ``run_id`` defaults to a new random id (uuid4, hex); a run id
        already in the table is refused. ``valid_from``/``valid_to`` record the period the allocation is for.

        >>> run_id = allocation.write(con, valid_from="2026-03-02", valid_to="2026-03-09")  # doctest: +SKIP
        """
        import duckdb

        fn = "Allocation.write"
        if not isinstance(con, duckdb.DuckDBPyConnection):
            raise invalid_parameter("con", fn, "must be a DuckDB connection", type(con).__name__)
        if run_id is None:
            run_id = uuid.uuid4().hex
        elif not isinstance(run_id, str) or not run_id.strip():
            raise invalid_parameter("run_id", fn, "must be None or a non-empty string", run_id)
        start = check_optional_instant("valid_from", fn, valid_from)
        end = check_optional_instant("valid_to", fn, valid_to)
        if start is not None and end is not None and end <= start:
            raise invalid_parameter("valid_to", fn, f"must be after valid_from ({start.isoformat()})", valid_to)
        created_at = dt.datetime.now(dt.UTC)
        rows = [
            (
                run_id,
                created_at,
                start,
                end,
                a.segment,
                a.arm,
                a.probability,
                a.p_best,
                a.mean,
                a.log_se,
                a.n_posts,
                self.draws,
                self.seed,
                self.min_probability,
                self.alpha,
            )
            for a in self.arms
        ]
        try:
            con.execute("BEGIN TRANSACTION")
        except duckdb.TransactionException:
            raise invalid_parameter(
                "con", fn, "must not be inside an open transaction (commit or roll it back first)", "a transaction"
            ) from None
        try:
            for statement in _ALLOCATIONS_DDL:
                con.execute(statement)
            taken = con.execute("SELECT count(*) FROM recommend.allocations WHERE run_id = ?", [run_id]).fetchall()
            if taken[0][0]:
                raise invalid_parameter(
                    "run_id",
                    fn,
                    f"must be new ({ALLOCATIONS_TABLE} already holds this run; nothing was written)",
                    run_id,
                )
            con.executemany(_INSERT, rows)
            con.execute("COMMIT")
        except BaseException as error:
            con.execute("ROLLBACK")
            if isinstance(error, duckdb.Error):
                raise WarehouseError(
                    f"The allocation could not be written to {ALLOCATIONS_TABLE}, and nothing was written: {error}"
                ) from error
            raise
        return run_id

    def choose(self, segment: str, n: int, *, seed: int | None = None) -> Choices:
        """Draw the arms of ``n`` planned posts in ``segment`` with the allocation's probabilities.

        Each choice carries its ``propensity``, the probability it had of being drawn: log it with the post, so the
        posts can later judge other policies (:func:`evaluate_policy` with ``propensity=``). ``seed`` makes the
        draw repeatable; None draws fresh randomness.

        >>> allocation.choose("facebook/brightloop", 5, seed=3).arms()  # doctest: +SKIP
        ['video', 'video', 'image', 'video', 'video']
        """
        fn = "Allocation.choose"
        if not isinstance(segment, str) or segment not in self.segments():
            raise invalid_parameter("segment", fn, "must be a segment of the allocation" + _known(self), segment)
        check_int("n", fn, n, 1)
        seed = check_seed("seed", fn, seed, optional=True)
        arms = [a for a in self.arms if a.segment == segment]
        p = np.array([a.probability for a in arms])
        picks = np.random.default_rng(seed).choice(len(arms), size=n, p=p / p.sum())
        return Choices(
            segment=segment,
            arms_chosen=tuple(arms[i].arm for i in picks),
            propensities=tuple(float(p[i]) for i in picks),
            run_id=self.run_id,
        )

    def plot(self) -> Any:
        """Stacked bars: each segment's split of posts across its arms."""
        from insights._optional import require

        go = require("plotly.graph_objects", "reports")
        fig = go.Figure()
        segments = self.segments()
        for arm in dict.fromkeys(a.arm for a in self.arms):
            shares = {a.segment: a.probability for a in self.arms if a.arm == arm}
            fig.add_trace(
                go.Bar(
                    y=segments,
                    x=[shares.get(s, 0.0) for s in segments],
                    name=arm,
                    orientation="h",
                    hovertemplate="%{y}: %{x:.0%}<extra>" + arm + "</extra>",
                )
            )
        fig.update_layout(
            barmode="stack",
            title="Share of next posts per option",
            xaxis={"tickformat": ".0%", "range": [0, 1]},
            yaxis={"autorange": "reversed"},
            template="plotly_white",
        )
        return fig


@dataclass(frozen=True)
class Choices(TableResult):
    """Planned posts drawn from an allocation: the arm of each and the probability it had (its propensity)."""

    segment: str
    arms_chosen: tuple[str, ...]
    propensities: tuple[float, ...]
    run_id: str | None = None

    @property
    def title(self) -> str:
        return f"Planned posts on {self.segment}"

    def arms(self) -> list[str]:
        """The arm of each planned post, in order."""
        return list(self.arms_chosen)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"post": i + 1, "segment": self.segment, "arm": arm, "propensity": p, "run_id": self.run_id}
            for i, (arm, p) in enumerate(zip(self.arms_chosen, self.propensities, strict=True))
        ]

    def summary_lines(self) -> list[str]:
        counts: dict[str, int] = {}
        for arm in self.arms_chosen:
            counts[arm] = counts.get(arm, 0) + 1
        split = ", ".join(f"{arm} {k}" for arm, k in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        n = len(self.arms_chosen)
        return [
            f"{n} planned post{'s' if n != 1 else ''} on {self.segment}: {split}.",
            "Log each post's propensity with it: judging another policy on these posts later needs it.",
        ]


def thompson_allocation(
    arms: object,
    *,
    draws: int = 10_000,
    seed: int = 0,
    min_probability: float = 0.0,
    alpha: float = 0.05,
) -> Allocation:
    """Thompson-sampling shares per segment from each arm's lognormal posterior.

    ``arms``: one row per (segment, arm) with columns ``segment``, ``arm``, ``mean`` (> 0), ``log_se`` (>= 0) and
    optionally ``n_posts``, as a DuckDB relation, a pandas/polars frame, a Parquet/CSV path or an iterable of dicts
    (or of records with those attributes). For each segment, ``draws`` joint draws of its arms give the probability
    that each arm is best (exact ties share the win); ``min_probability`` then raises every arm to at least that
    share, taking what it needs from the arms above it in proportion (so it must be at most 1 / the most arms of a
    segment). The result depends only on ``seed`` and each segment's own arms, not on row order or on the other
    segments. ``alpha`` sets the level of the intervals shown.

    >>> thompson_allocation([{"segment": "x", "arm": "a", "mean": 0.02, "log_se": 0.0}]).probabilities("x")
    {'a': 1.0}
    """
    fn = "thompson_allocation"
    check_int("draws", fn, draws, 1)
    seed_value = check_seed("seed", fn, seed)
    assert seed_value is not None
    if isinstance(min_probability, bool) or not isinstance(min_probability, int | float):
        raise invalid_parameter("min_probability", fn, "must be a number in [0, 1]", min_probability)
    floor = float(min_probability)
    if not 0.0 <= floor <= 1.0:
        raise invalid_parameter("min_probability", fn, "must be a number in [0, 1]", min_probability)
    check_open_unit("alpha", fn, alpha)

    by_segment: dict[str, list[_Arm]] = {}
    for arm in _read_arms(arms, fn):
        by_segment.setdefault(arm.segment, []).append(arm)
    widest = max(by_segment, key=lambda s: (len(by_segment[s]), s))
    k_max = len(by_segment[widest])
    if floor * k_max > 1.0 + 1e-12:
        raise invalid_parameter(
            "min_probability",
            fn,
            f"must be at most 1 / {k_max} = {1 / k_max:.4g} (the most arms in a segment, in {widest}), "
            "so the floors can sum to at most 1",
            min_probability,
        )

    z = normal_ppf(1.0 - alpha / 2.0)
    out: list[ArmAllocation] = []
    for segment in sorted(by_segment):
        # a fixed arm order for the draws: the result must not depend on the order of the input rows
        seg_arms = sorted(by_segment[segment], key=lambda a: a.arm)
        log_mean = np.log(np.array([a.mean for a in seg_arms]))
        log_se = np.array([a.log_se for a in seg_arms])
        p_best = _p_best(log_mean, log_se, draws, _segment_rng(seed_value, segment))
        probability = _apply_floor(p_best, floor)
        rows = [
            ArmAllocation(
                segment=segment,
                arm=a.arm,
                probability=float(probability[i]),
                p_best=float(p_best[i]),
                mean=a.mean,
                log_se=a.log_se,
                ci_low=a.mean * math.exp(-z * a.log_se),
                ci_high=a.mean * math.exp(z * a.log_se),
                n_posts=a.n_posts,
            )
            for i, a in enumerate(seg_arms)
        ]
        out.extend(sorted(rows, key=lambda r: (-r.probability, r.arm)))
    return Allocation(arms=tuple(out), draws=draws, seed=seed_value, min_probability=floor, alpha=float(alpha))


def read_allocation(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> Allocation:
    """An allocation written by :meth:`Allocation.write`: the run ``run_id``, or the latest run when None.

    >>> allocation = read_allocation(con)  # doctest: +SKIP
    >>> allocation.choose("facebook/brightloop", 5, seed=1)  # doctest: +SKIP
    """
    import duckdb

    fn = "read_allocation"
    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise invalid_parameter("con", fn, "must be a DuckDB connection", type(con).__name__)
    if run_id is not None and (not isinstance(run_id, str) or not run_id.strip()):
        raise invalid_parameter("run_id", fn, "must be None (the latest run) or a run id", run_id)
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'recommend' AND table_name = 'allocations'"
    ).fetchall()
    if not exists[0][0]:
        raise AllocationNotFoundError(
            f"No allocation has been written to this warehouse yet: it has no {ALLOCATIONS_TABLE} table "
            "(write one with Allocation.write)."
        )
    latest = con.execute(
        "SELECT run_id FROM recommend.allocations ORDER BY created_at DESC, run_id DESC LIMIT 1"
    ).fetchall()
    if not latest:
        raise AllocationNotFoundError(f"No allocation has been written yet: {ALLOCATIONS_TABLE} is empty.")
    wanted = run_id if run_id is not None else str(latest[0][0])
    cursor = con.execute(_SELECT + " ORDER BY segment, probability DESC, arm", [wanted])
    names = [d[0] for d in cursor.description or []]
    records = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if not records:
        raise AllocationNotFoundError(
            f"No allocation run {wanted!r} in {ALLOCATIONS_TABLE}; the latest run is {latest[0][0]!r}."
        )
    alpha = float(records[0]["alpha"])
    z = normal_ppf(1.0 - alpha / 2.0)
    arms = tuple(
        ArmAllocation(
            segment=r["segment"],
            arm=r["arm"],
            probability=float(r["probability"]),
            p_best=float(r["p_best"]),
            mean=float(r["mean"]),
            log_se=float(r["log_se"]),
            ci_low=float(r["mean"]) * math.exp(-z * float(r["log_se"])),
            ci_high=float(r["mean"]) * math.exp(z * float(r["log_se"])),
            n_posts=None if r["n_posts"] is None else int(r["n_posts"]),
        )
        for r in records
    )
    first = records[0]
    return Allocation(
        arms=arms,
        draws=int(first["draws"]),
        seed=int(first["seed"]),
        min_probability=float(first["min_probability"]),
        alpha=alpha,
        run_id=wanted,
        created_at=_utc(first["created_at"]),
        valid_from=_utc(first["valid_from"]),
        valid_to=_utc(first["valid_to"]),
    )


@dataclass(frozen=True)
class _Arm:
    segment: str
    arm: str
    mean: float
    log_se: float
    n_posts: int | None


_FIELDS = ("segment", "arm", "mean", "log_se")


def _read_arms(data: object, function: str) -> list[_Arm]:
    """The arms as validated records; duplicated (segment, arm) pairs and bad posteriors are refused."""
    records: Iterable[Mapping[str, Any]]
    if is_table_like(data):
        relation = as_relation(data, "arms", function)
        require_columns(relation, _FIELDS, "arms", function)
        wanted = [*_FIELDS, *(["n_posts"] if "n_posts" in relation.columns else [])]
        names = list(relation.columns)
        positions = [names.index(c) for c in wanted]
        records = [{c: row[i] for c, i in zip(wanted, positions, strict=True)} for row in relation.fetchall()]
    elif isinstance(data, Iterable) and not isinstance(data, str | bytes | Mapping):
        records = [_as_mapping(item, function) for item in data]
    else:
        raise invalid_parameter(
            "arms",
            function,
            "must be a DuckDB relation, a pandas or polars DataFrame, a .parquet/.csv path or an iterable of dicts "
            "with segment, arm, mean and log_se",
            type(data).__name__,
        )
    arms: list[_Arm] = []
    seen: set[tuple[str, str]] = set()
    for record in records:
        arm = _arm(record, function)
        key = (arm.segment, arm.arm)
        if key in seen:
            raise invalid_parameter(
                "arms", function, "must list each (segment, arm) once", f"{key[0]} / {key[1]} twice"
            )
        seen.add(key)
        arms.append(arm)
    if not arms:
        raise invalid_parameter("arms", function, "must hold at least one arm", "no rows")
    return arms


def _as_mapping(item: object, function: str) -> Mapping[str, Any]:
    if isinstance(item, Mapping):
        missing = [f for f in _FIELDS if f not in item]
        if missing:
            raise invalid_parameter("arms", function, "must give segment, arm, mean and log_se for every arm", item)
        return item
    if all(hasattr(item, f) for f in _FIELDS):
        return {f: getattr(item, f) for f in (*_FIELDS, "n_posts") if hasattr(item, f)}
    raise invalid_parameter("arms", function, "must give segment, arm, mean and log_se for every arm", item)


def _arm(record: Mapping[str, Any], function: str) -> _Arm:
    names = []
    for field in ("segment", "arm"):
        value = record[field]
        if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
            raise invalid_parameter("arms", function, f"must name the {field} of every arm", dict(record))
        names.append(str(value))
    segment, arm = names
    where = f"{segment} / {arm}"
    mean = _number(record["mean"])
    if mean is None or not math.isfinite(mean) or mean <= 0:
        raise invalid_parameter(
            "arms", function, "must have a finite mean > 0 for every arm", f"{record['mean']} for {where}"
        )
    log_se = _number(record["log_se"])
    if log_se is None or not math.isfinite(log_se) or log_se < 0:
        raise invalid_parameter(
            "arms", function, "must have a finite log_se >= 0 for every arm", f"{record['log_se']} for {where}"
        )
    n_posts = record.get("n_posts")
    if n_posts is not None and not (isinstance(n_posts, float) and math.isnan(n_posts)):
        value = _number(n_posts)
        if value is None or not value.is_integer() or value < 0:
            raise invalid_parameter(
                "arms", function, "must have a whole n_posts >= 0 (or none) for every arm", f"{n_posts} for {where}"
            )
        n_posts = int(value)
    else:
        n_posts = None
    return _Arm(segment, arm, mean, log_se, n_posts)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def _segment_rng(seed: int, segment: str) -> np.random.Generator:
    # each segment its own stream, keyed by its name: adding a segment changes no other segment's shares
    digest = hashlib.sha256(segment.encode("utf-8")).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence([seed, *words]))


def _p_best(log_mean: np.ndarray, log_se: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Share of joint posterior draws in which each arm is highest; an exact tie splits the draw between the tied."""
    k = len(log_mean)
    if k == 1:
        return np.ones(1)
    wins = np.zeros(k)
    block = max(1, _BLOCK_VALUES // k)
    done = 0
    while done < draws:
        m = min(block, draws - done)
        values = log_mean + log_se * rng.standard_normal((m, k))
        is_top = values == values.max(axis=1, keepdims=True)
        wins += (is_top / is_top.sum(axis=1, keepdims=True)).sum(axis=0)
        done += m
    return np.asarray(wins / draws, dtype=np.float64)


def _apply_floor(p: np.ndarray, floor: float) -> np.ndarray:
    """Raise every share to at least `floor`; the arms above it give up the difference in proportion to their shares.

    The result is max(floor, c p) with c chosen so that it sums to 1: the arms that end at the floor are found by
    raising them one set at a time (at most k rounds).
    """
    k = len(p)
    if floor <= 0.0:
        return p.copy()
    if floor * k >= 1.0 - 1e-12:
        return np.full(k, 1.0 / k)
    at_floor = np.zeros(k, dtype=bool)
    while True:
        free = ~at_floor
        c = (1.0 - floor * at_floor.sum()) / p[free].sum()
        low = free & (c * p < floor)
        if not low.any():
            return np.where(at_floor, floor, c * p)
        at_floor |= low


def _share(p: float) -> str:
    if 0 < p < 0.005:
        return "under 1%"
    return format_percent(p, 0)


def _segment_sentence(segment: str, arms: Sequence[ArmAllocation], period: str) -> str:
    lead = arms[0]
    others = ", ".join(f"{a.arm} {_share(a.probability)}" for a in arms[1:5])
    if len(arms) > 5:
        others += f" and {len(arms) - 5} more"
    if len(arms) == 1:
        return f"Post {lead.arm} on {segment} every time{period}: it is the only option."
    if max(a.p_best for a in arms) < 0.5:
        return (
            f"On {segment} no option is clearly best yet: post {lead.arm} about {_share(lead.probability)} of the "
            f"time{period}, {others}."
        )
    return f"Post {lead.arm} on {segment} about {_share(lead.probability)} of the time{period} ({others})."


def _known(allocation: Allocation) -> str:
    segments = allocation.segments()
    shown = ", ".join(segments[:8]) + (", ..." if len(segments) > 8 else "")
    return f" ({shown})"


def _utc(value: object) -> dt.datetime | None:
    if value is None:
        return None
    assert isinstance(value, dt.datetime)
    return value.astimezone(dt.UTC) if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
