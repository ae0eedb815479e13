"""Engagement rates with their denominator in plain sight: the ratio of sums and the mean of ratios, side by side.

The two answer different questions. The ratio of sums (all engagements / all impressions) is the rate of the
audience as a whole, dominated by the posts with the most impressions. The mean of ratios (the average post's
rate) weighs every post the same, so small posts count as much as big ones. Social tools often show one and
call it "engagement rate"; we show both, labelled, with intervals. Only sums come back from the engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from insights.distributions import normal_ppf, t_ppf
from insights.engagement.features import EngagementDefinition
from insights.errors import invalid_parameter
from insights.params import check_instance, check_open_unit
from insights.results import TableResult, format_number, format_percent
from insights.tables import as_relation
from insights.warehouse.expressions import quote_identifier


@dataclass(frozen=True)
class RateRow:
    """One group's rates: the ratio of sums and the mean of ratios, each with an interval."""

    group: tuple[str, ...]
    n_posts: int
    engagements: float
    exposure: float
    ratio_of_sums: float
    ratio_of_sums_low: float
    ratio_of_sums_high: float
    mean_of_ratios: float
    mean_of_ratios_low: float
    mean_of_ratios_high: float


@dataclass(frozen=True)
class EngagementRates(TableResult):
    """Engagement rates per group, both ways, with the engagement set and the denominator stated."""

    by: tuple[str, ...]
    groups: tuple[RateRow, ...]
    definition: str
    n_excluded: int
    alpha: float
    per_post: bool = False

    @property
    def title(self) -> str:
        return "Engagement rates" + (" by " + ", ".join(self.by) if self.by else "")

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for g in self.groups:
            row: dict[str, Any] = dict(zip(self.by, g.group, strict=True))
            row.update(
                n_posts=g.n_posts,
                engagements=g.engagements,
                exposure=g.exposure,
                ratio_of_sums=g.ratio_of_sums,
                ratio_of_sums_low=g.ratio_of_sums_low,
                ratio_of_sums_high=g.ratio_of_sums_high,
                mean_of_ratios=g.mean_of_ratios,
                mean_of_ratios_low=g.mean_of_ratios_low,
                mean_of_ratios_high=g.mean_of_ratios_high,
            )
            out.append(row)
        return out

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        level = f"{1 - self.alpha:.0%}"
        headers = [*self.by, "posts", "ratio of sums", f"{level} interval", "mean of ratios", f"{level} interval"]

        def show(value: float) -> str:
            # engagement per post is a count, per impression a share
            return format_number(round(value, 1)) if self.per_post else format_percent(value, 2)

        cells = [
            [
                *g.group,
                format_number(g.n_posts),
                show(g.ratio_of_sums),
                f"{show(g.ratio_of_sums_low)}-{show(g.ratio_of_sums_high)}",
                show(g.mean_of_ratios),
                f"{show(g.mean_of_ratios_low)}-{show(g.mean_of_ratios_high)}",
            ]
            for g in self.groups
        ]
        return headers, cells

    def summary_lines(self) -> list[str]:
        lines = [
            f"Engagement is {self.definition}.",
            "Ratio of sums: all engagements over all exposure (big posts weigh more). "
            "Mean of ratios: the average post's rate (every post weighs the same).",
        ]
        if self.n_excluded:
            lines.append(f"{format_number(self.n_excluded)} posts cannot be measured yet and are left out.")
        return lines


def engagement_rates(
    features: object,
    by: Sequence[str] = ("platform",),
    *,
    engagement: EngagementDefinition | None = None,
    alpha: float = 0.05,
) -> EngagementRates:
    """Ratio of sums and mean of ratios per group of a post_features relation (usable posts only).

    The ratio of sums' interval is the delta method over posts (each post's engagements and exposure vary
    together); the mean of ratios' is Student's t over the posts' rates. Pass the same `engagement`
    definition the features were built with to have it named in the result.

    >>> engagement_rates(post_features(con), by=["platform", "content_type"])  # doctest: +SKIP
    """
    fn = "engagement_rates"
    relation = as_relation(features, "features", fn)
    if isinstance(by, str) or not isinstance(by, Sequence) or any(c not in relation.columns for c in by):
        raise invalid_parameter("by", fn, "must be a sequence of columns of the features", by)
    definition = EngagementDefinition() if engagement is None else engagement
    check_instance("engagement", fn, definition, EngagementDefinition)
    alpha = check_open_unit("alpha", fn, alpha)
    for column in ("engagements", "exposure", "exclusion"):
        if column not in relation.columns:
            raise invalid_parameter("features", fn, f"must have the column {column} (use post_features)", column)
    n_excluded = int(relation.aggregate("count(*) FILTER (WHERE exclusion IS NOT NULL)").fetchall()[0][0])
    keys = [f"coalesce(CAST({quote_identifier(c)} AS VARCHAR), '(none)') AS {quote_identifier(c)}" for c in by]
    sums = (
        "count(*) AS n, sum(engagements) AS e, sum(exposure) AS x, sum(engagements * engagements) AS ee, "
        "sum(exposure * exposure) AS xx, sum(engagements * exposure) AS ex, "
        "sum(engagements / exposure) AS r, sum((engagements / exposure) * (engagements / exposure)) AS rr"
    )
    usable = relation.filter("exclusion IS NULL")
    if by:
        grouped = usable.select(", ".join([*keys, "engagements", "exposure"]))
        group_list = ", ".join(quote_identifier(c) for c in by)
        result = grouped.aggregate(f"{group_list}, {sums}", group_list).order(group_list).fetchall()
    else:
        result = [(*row,) for row in usable.aggregate(sums).fetchall() if row[0]]
    z = normal_ppf(1 - alpha / 2)
    groups = []
    for row in result:
        key = tuple(str(v) for v in row[: len(by)])
        n, e, x, ee, xx, ex, r, rr = (float(v) for v in row[len(by) :])
        ratio = e / x
        # delta method: var(sum e - R sum x) / (sum x)^2, with n / (n - 1) for the estimated R
        residual = max(ee - 2 * ratio * ex + ratio * ratio * xx, 0.0)
        se_ratio = math.sqrt(residual * n / (n - 1)) / x if n > 1 else math.nan
        mean = r / n
        se_mean = math.sqrt(max(rr - n * mean * mean, 0.0) / (n - 1) / n) if n > 1 else math.nan
        t = t_ppf(1 - alpha / 2, n - 1) if n > 1 else math.nan
        groups.append(
            RateRow(
                group=key,
                n_posts=int(n),
                engagements=e,
                exposure=x,
                ratio_of_sums=ratio,
                ratio_of_sums_low=ratio - z * se_ratio,
                ratio_of_sums_high=ratio + z * se_ratio,
                mean_of_ratios=mean,
                mean_of_ratios_low=mean - t * se_mean,
                mean_of_ratios_high=mean + t * se_mean,
            )
        )
    return EngagementRates(
        by=tuple(by),
        groups=tuple(groups),
        definition=definition.label,
        n_excluded=n_excluded,
        alpha=alpha,
        per_post=definition.denominator == "posts",
    )
