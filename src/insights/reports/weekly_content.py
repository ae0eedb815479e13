"""Content sections of the weekly report: engagement at a fixed post age by platform, content type and origin,
and the top and bottom posts of the week's cohort.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev group

from insights.reports import _text, charts
from insights.reports.sections import Chart, Section
from insights.reports.weekly_queries import MIN_IMPRESSIONS, N_TOP_POSTS, WeeklyData, cohort_window

#: A group (platform, content type, origin) is compared only with at least this many posts at the fixed age.
MIN_GROUP_POSTS = 3
_DIMENSION_WORDS = {"platform": "platform", "content_type": "content type", "origin": "origin"}


def _group_words(dimension: str, value: str) -> str:
    if dimension == "origin":
        return _text.ORIGIN_WORDS.get(value, value)
    if dimension == "platform" and value != _text.NOT_SET:
        return value[:1].upper() + value[1:]
    return value


def _engagement_takeaway(dimension: str, rows: pd.DataFrame, age: int) -> str:
    words = _DIMENSION_WORDS[dimension]
    rate_column = f"engagement_rate_{age}d"
    eligible = rows[(rows["n_posts"] >= MIN_GROUP_POSTS) & (rows["impressions"] > 0)]
    if len(eligible) >= 2:
        best, worst = eligible.iloc[0], eligible.iloc[-1]
        b, w = float(best[rate_column]), float(worst[rate_column])
        best_words = _text.sentence_case(_group_words(dimension, str(best["group"])))
        worst_words = _group_words(dimension, str(worst["group"]))
        if w > 0 and b / w >= 1.05:
            return (
                f"{best_words} posts engaged {b / w:.1f}x as much as {worst_words} posts this week "
                f"({_text.rate(b)} vs {_text.rate(w)} of impressions at {age} days)."
            )
        if w == 0:
            return f"{best_words} posts engaged {_text.rate(b)} of impressions at {age} days; {worst_words} posts 0%."
        return (
            f"{best_words} and {worst_words} posts engaged about equally this week "
            f"({_text.rate(b)} vs {_text.rate(w)} of impressions at {age} days)."
        )
    if len(eligible) == 1:
        only = eligible.iloc[0]
        return (
            f"Only {_group_words(dimension, str(only['group']))} posts reached {MIN_GROUP_POSTS} posts at {age} days "
            f"this week ({_text.rate(float(only[rate_column]))} of impressions); other {words}s are too small "
            "to compare."
        )
    return (
        f"No {words} had {MIN_GROUP_POSTS} or more posts at {age} days this week, too few to compare; "
        "the grey markers show the 4 weeks before."
    )


def engagement_section(data: WeeklyData) -> Section:
    age = data.age_days
    rate_column, before_column = f"engagement_rate_{age}d", f"engagement_rate_{age}d_previous_4_weeks"
    cohort = data.cohorts.get(0, {})
    before = [data.cohorts[i] for i in range(-4, 0) if i in data.cohorts]
    total: dict[str, Any] = {
        "dimension": "all",
        "group": "all posts",
        "n_posts": int(cohort.get("n_measured", 0)),
        "impressions": _text.number_or_zero(cohort.get("impressions")),
        "engagements": _text.number_or_zero(cohort.get("engagements")),
        "n_posts_previous_4_weeks": sum(int(r["n_measured"]) for r in before),
        "impressions_previous_4_weeks": sum(_text.number_or_zero(r["impressions"]) for r in before),
        "engagements_previous_4_weeks": sum(_text.number_or_zero(r["engagements"]) for r in before),
    }
    rows = [total] + [
        {
            **{k: v for k, v in r.items() if k != "value"},
            "group": _text.NOT_SET if r["value"] is None else str(r["value"]),
        }
        for r in data.engagement_by
    ]
    table = pd.DataFrame(rows)
    table[rate_column] = [_text.ratio(e, i) for e, i in zip(table["engagements"], table["impressions"], strict=True)]
    table[before_column] = [
        _text.ratio(e, i)
        for e, i in zip(table["engagements_previous_4_weeks"], table["impressions_previous_4_weeks"], strict=True)
    ]
    order = {"all": 0, "platform": 1, "content_type": 2, "origin": 3}
    table = table.assign(_order=table["dimension"].map(order), _sort=table[rate_column].fillna(-1.0))
    table = table.sort_values(["_order", "_sort", "group"], ascending=[True, False, True]).drop(
        columns=["_order", "_sort"]
    )
    table = table[
        [
            "dimension",
            "group",
            "n_posts",
            "impressions",
            "engagements",
            rate_column,
            "n_posts_previous_4_weeks",
            before_column,
        ]
    ].reset_index(drop=True)
    table = table.astype({rate_column: "float64", before_column: "float64"})

    published_from, published_to = cohort_window(data.week, age)
    published = _text.period(published_from.date(), (published_to - timedelta(days=1)).date())
    n_cohort, n_measured = int(cohort.get("n_posts", 0)), int(cohort.get("n_measured", 0))
    rate = _text.ratio(float(total["engagements"]), float(total["impressions"]))
    rate_before = _text.ratio(
        float(total["engagements_previous_4_weeks"]), float(total["impressions_previous_4_weeks"])
    )
    definition = (
        f"Engagement is (likes + comments + shares + saves) / impressions, both counted {age} days after a post "
        "went out and summed over the posts, so every post is compared at the same age."
    )
    if n_measured:
        found = (
            f"This week that is the {_text.plural(n_measured, 'post')} published {published} (they turned {age} days "
            f"old this week): {_text.rate(rate)} of impressions, against {_text.rate(rate_before)} for the posts of "
            "the 4 weeks before."
        )
    else:
        found = f"No post published {published} has metrics at {age} days, so there is no rate this week."
    if n_cohort > n_measured:
        young = _text.plural(n_cohort - n_measured, "post")
        found += f" {young} of that week have no snapshot at {age} days yet and are left out."
    chart_list = []
    for dimension in ("content_type", "platform", "origin"):
        rows_of = table[(table["dimension"] == dimension) & (table["n_posts"] > 0)]
        if rows_of.empty:
            continue
        words = _DIMENSION_WORDS[dimension]
        figure = charts.rate_bars(
            [_group_words(dimension, g) for g in rows_of["group"]],
            [None if pd.isna(x) else float(x) for x in rows_of[rate_column]],
            [int(n) for n in rows_of["n_posts"]],
            context_rates=[None if pd.isna(x) else float(x) for x in rows_of[before_column]],
            title=f"Engagement rate at {age} days by {words}",
            x_title=words,
            y_title="engagement rate",
        )
        chart_list.append(Chart(figure, _engagement_takeaway(dimension, rows_of, age)))
    return Section("engagement", f"Engagement at {age} days", definition + " " + found, table, tuple(chart_list))


# --- top and bottom posts ------------------------------------------------------------------------------


def posts_section(data: WeeklyData) -> Section:
    age = data.age_days
    rows = data.top_bottom
    head = rows[0] if rows else {"min_impressions": None, "n_measured": 0, "n_ranked": 0}
    n_ranked, n_measured = int(head["n_ranked"] or 0), int(head["n_measured"] or 0)
    min_impressions = _text.number_or_zero(head["min_impressions"])
    n_top = min(N_TOP_POSTS, (n_ranked + 1) // 2)
    n_bottom = min(N_TOP_POSTS, n_ranked - n_top)
    picked = []
    for r in rows:
        if r["post_id"] is None:
            continue
        if r["rank_top"] <= n_top:
            picked.append({"ranking": "top", "rank": int(r["rank_top"]), **r})
        elif r["rank_bottom"] <= n_bottom:
            picked.append({"ranking": "bottom", "rank": int(r["rank_top"]), **r})
    columns = {  # the text early, so it gets the width
        "ranking": "ranking",
        "rank": "rank",
        "engagement_rate": f"engagement_rate_{age}d",
        "text": "text",
        "platform": "platform",
        "content_type": "content_type",
        "origin": "origin",
        "impressions_at_age": f"impressions_{age}d",
        "engagements_at_age": f"engagements_{age}d",
        "published_at": "published_at",
        "post_id": "post_id",
    }
    table = pd.DataFrame(
        [{new: r[old] for old, new in columns.items()} for r in picked], columns=list(columns.values())
    )
    table = table.astype({f"impressions_{age}d": "float64", f"engagement_rate_{age}d": "float64"})
    if picked:
        best, worst = picked[0], picked[-1]

        def describe(r: dict[str, Any]) -> str:
            origin = _text.ORIGIN_WORDS.get(str(r["origin"]), "") if r["origin"] else ""
            return ", ".join(str(x) for x in (r["platform"], r["content_type"], origin) if x)

        summary = (
            f"{_text.plural(n_ranked, 'post')} of the {_text.count(n_measured)} that turned {age} days old this week "
            f"had at least {_text.count(min_impressions)} impressions at {age} days and were ranked by engagement "
            "rate. "
            f"The best engaged {_text.rate(best['engagement_rate'])} of its impressions ({describe(best)}), "
            f"the weakest {_text.rate(worst['engagement_rate'])} ({describe(worst)})."
        )
    elif n_measured:
        summary = (
            f"None of the {_text.count(n_measured)} posts that turned {age} days old this week had at least "
            f"{_text.count(min_impressions)} impressions at {age} days, so none is ranked."
        )
    else:
        summary = f"No post turned {age} days old with metrics this week, so there is nothing to rank."
    if n_measured:
        summary += (
            f" The bar is a quarter of the median post's impressions, and at least {MIN_IMPRESSIONS}, "
            "so that posts seen by few people do not top the list."
        )
    return Section("posts", "Top and bottom posts", summary, table.reset_index(drop=True), ())
