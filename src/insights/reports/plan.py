"""The "what to post next week" report as a library: `plan_report(con, week)` reads the posts published before
the week and returns a PlanReport of plain-language sections; `notebooks/plan.ipynb` only calls it and shows it
(`insights report plan [--week YYYY-Www]`).

Sections, in reading order:
1. `what`: per account, the content type, posting slot and prompt version with the best expected engagement,
   with the expected lift over what the account does now, its interval and the posts it rests on;
2. `when`: each account's best hours of the week, shrunk toward its platform, with P(better than average);
3. `allocation`: how often to post each content type next week (Thompson sampling), as recorded in the
   warehouse's `recommend.allocations` when the runner recorded it;
4. `check`: what following the recommendation would have given on the posts already published (off-policy
   evaluation: IPS, self-normalised IPS, doubly robust, with the effective sample size);
5. `evidence`: the rate ratios of the count model (content type, origin, prompt, paid, time, text);
6. `ai_vs_human`: AI-drafted against human-written posts of the same platform, content type and time;
7. `test`: a randomized posting-time test of the most promising window, sized for its predicted lift.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb

from insights.errors import invalid_parameter
from insights.reports.catalog import plan_week
from insights.reports.sections import Section, SectionedReport, section_from_result
from insights.reports.weeks import IsoWeek

__all__ = ["PlanReport", "plan_allocation", "plan_report"]

#: weeks of history the plan learns from
HISTORY_WEEKS = 26


@dataclass(frozen=True)
class PlanReport(SectionedReport):
    """What to post next week, when and in which mix, with the evidence and a way to check it."""

    week: IsoWeek
    headline: str
    sections: tuple[Section, ...]
    allocation_run: str | None = None
    row_counts: dict[str, int] = field(compare=False, default_factory=dict)
    query_seconds: float = field(compare=False, default=0.0)

    @property
    def title(self) -> str:
        return f"What to post in {self.week}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the week, the headline, the allocation run and each section (no figures)."""
        return {
            "week": str(self.week),
            "headline": self.headline,
            "allocation_run": self.allocation_run,
            "sections": [s.to_dict() for s in self.sections],
        }


def _features(con: duckdb.DuckDBPyConnection, week: IsoWeek, timezone: str) -> Any:
    from insights.engagement import post_features

    start = week.start - dt.timedelta(weeks=HISTORY_WEEKS)
    return post_features(con, timezone=timezone, start=start, end=week.start)


def plan_allocation(
    con: duckdb.DuckDBPyConnection, week: IsoWeek | str | None = None, *, timezone: str = "UTC", seed: int = 0
) -> Any:
    """Next week's Thompson-sampling mix of content types per account (an Allocation, not yet written)."""
    from insights.recommend import recommend

    the_week = plan_week(week, "plan_allocation")
    return _mix(recommend(_features(con, the_week, timezone), choices=("content_type",)), seed)


def _mix(recommendations: Any, seed: int) -> Any:
    """The content-type mix per account (a 5% floor, so every format keeps being tried and can be evaluated)."""
    from insights.recommend import thompson_allocation

    return thompson_allocation(recommendations.arms(choice="content_type"), seed=seed, min_probability=0.05)


def plan_report(
    con: duckdb.DuckDBPyConnection,
    week: IsoWeek | str | None = None,
    *,
    timezone: str = "UTC",
    allocation_run: str | None = None,
    seed: int = 0,
) -> PlanReport:
    """Read the posts of the 26 weeks before `week` (default: next ISO week) and plan the week.

    `timezone` gives the accounts' local time. `allocation_run` is the run id of the allocation the runner
    recorded in `recommend.allocations` for this week; without it the allocation is computed here and not
    recorded. The connection may be read-only; nothing is written, opened or closed.
    """
    from insights.engagement import (
        TIMING_TERMS,
        EngagementModel,
        best_times,
        compare_origins,
        posting_time_experiment,
    )
    from insights.recommend import evaluate_policy, read_allocation, recommend

    function = "plan_report"
    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise invalid_parameter("con", function, "must be a DuckDB connection to the warehouse", con)
    the_week = plan_week(week, function)
    started = time.perf_counter()
    features = _features(con, the_week, timezone)
    n_posts = int(features.filter("exclusion IS NULL").aggregate("count(*)").fetchall()[0][0])
    if n_posts < 50:
        empty = Section(
            "what",
            "What to post",
            f"Only {n_posts} measurable posts in the {HISTORY_WEEKS} weeks before {the_week}: too few to plan from.",
            _empty_table(),
        )
        return PlanReport(the_week, empty.summary, (empty,), row_counts={"posts": n_posts})

    # one count model serves the evidence and the best times: without time terms, since the hours of the week are
    # what best_times measures against it (and what the "when" section shows)
    model = EngagementModel(TIMING_TERMS).fit(features)
    # posting times come from best_times (hours, shrunk toward the platform), so they are not chosen twice here
    recommendations = recommend(features, choices=("content_type", "prompt"))
    best = best_times(features, model=model)
    if allocation_run is not None:
        allocation = read_allocation(con, allocation_run)
        recorded = f"Recorded in the warehouse as run {allocation_run}."
    else:
        allocation = _mix(recommendations, seed)
        recorded = "Not recorded: run `insights report plan` to record the allocation with the report."
    policy = {
        r.segment: {r.best: 1.0}
        for r in recommendations.recommendations
        if r.choice == "content_type" and r.best is not None
    }
    check = None
    if policy:
        accounts = duckdb.ColumnExpression("account").isin(*(duckdb.ConstantExpression(a) for a in sorted(policy)))
        check = evaluate_policy(
            features.filter("exclusion IS NULL").filter(accounts),
            policy,
            context="account",
            action="content_type",
            reward="engagement_rate",
            reward_label="engagement per impression",
            units="posts",
            policy_label="the recommended content type",
        )
    origins = compare_origins(features)
    # the test goes to the most promising window of all accounts: the best first-ranked slot
    firsts = [r for r in best.recommendations() if r.rank == 1]
    test = posting_time_experiment(best, max(firsts, key=lambda r: r.window.rate_ratio).account) if firsts else None
    query_seconds = time.perf_counter() - started

    sections = [
        # the three clearest gains in words, every account in the table
        section_from_result("what", "What to post", recommendations, lines=recommendations.summary_lines(limit=3)),
        section_from_result("when", "When to post", best, lines=best.summary_lines(max_accounts=3)),
        section_from_result("allocation", "Next week's mix", allocation, notes=(recorded,)),
    ]
    if check is not None:
        sections.append(section_from_result("check", "Would it have worked? Checked on past posts", check, chart=False))
    sections += [
        section_from_result("evidence", "What drives engagement", model.rate_ratios_),
        section_from_result("ai_vs_human", "AI-drafted against human-written, like for like", origins),
    ]
    if test is not None:
        sections.append(section_from_result("test", "Check the best time with a randomized test", test, chart=False))
    headline = " ".join([*_headline(recommendations), *(check.summary_lines()[:1] if check is not None else [])])
    return PlanReport(
        week=the_week,
        headline=headline,
        sections=tuple(sections),
        allocation_run=allocation_run,
        row_counts={"posts": n_posts, **{f"rows.{s.key}": len(s.table) for s in sections}},
        query_seconds=query_seconds,
    )


def _headline(recommendations: Any) -> list[str]:
    """'Post more video: the best format for 7 of 8 accounts, 1.4x-1.6x the engagement of their current mix.'"""
    clear = [
        r for r in recommendations.recommendations if r.choice == "content_type" and r.best is not None and r.low > 1
    ]
    if not clear:
        return ["No content type is clearly better than what each account posts now."]
    counts: dict[str, list[Any]] = {}
    for r in clear:
        counts.setdefault(r.best, []).append(r)
    best, rows = max(counts.items(), key=lambda kv: len(kv[1]))
    n_accounts = len({r.segment for r in recommendations.recommendations if r.choice == "content_type"})
    low, high = min(r.lift for r in rows), max(r.lift for r in rows)
    span = f"{low:.1f}x" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f}x-{high:.1f}x"
    return [
        f"Post more {best}: clearly the best format for {len(rows)} of {n_accounts} accounts, "
        f"{span} the engagement of their current mix."
    ]


def _empty_table() -> Any:
    import pandas as pd  # type: ignore[import-untyped]

    return pd.DataFrame()
