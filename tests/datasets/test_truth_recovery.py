"""The planted effects can be recovered from the written files, within 99.9% intervals.

Each check also asserts that the data would reject a clearly different value (usually "no
effect"), so a generator that forgot to plant the effect fails.
"""

from __future__ import annotations

import math
from datetime import timedelta

import duckdb
import numpy as np
import pytest

from insights.datasets import DemoLogs


def _rate(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, int]:
    """(mean of a 0/1 expression, n) from a query returning those two columns."""
    row = con.execute(sql).fetchone()
    assert row is not None
    return float(row[0]), int(row[1])


# --- 1. engagement ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def week_one(con: duckdb.DuckDBPyConnection, demo: DemoLogs) -> dict[str, np.ndarray]:
    """Per post with a 7-day snapshot: attributes, impressions, engagements and the planted rate."""
    truth = demo.truth.engagement
    table = con.execute(
        """
        SELECT p.post_id, p.account_id, p.platform, p.content_type, p.origin, p.published_at,
               m.impressions, m.likes + m.comments + m.shares + m.saves AS engagements
        FROM posts p JOIN post_metrics m USING (post_id)
        WHERE m.observed_at - p.published_at BETWEEN INTERVAL 168 HOUR AND INTERVAL 169 HOUR
        """
    ).fetch_arrow_table()
    rows = table.to_pylist()
    rate = [
        truth.expected_rate(
            r["account_id"],
            r["platform"],
            r["content_type"],
            r["origin"],
            truth.best_slots[r["platform"]].contains(r["published_at"]),
        )
        for r in rows
    ]
    slot = [truth.best_slots[r["platform"]].contains(r["published_at"]) for r in rows]
    return {
        "content_type": np.array([r["content_type"] for r in rows]),
        "origin": np.array([r["origin"] for r in rows]),
        "slot": np.array(slot),
        "impressions": np.array([r["impressions"] for r in rows], dtype=float),
        "engagements": np.array([r["engagements"] for r in rows], dtype=float),
        "rate": np.array(rate),
    }


def _group_z(posts: dict[str, np.ndarray], mask: np.ndarray, sigma: float, scale: float = 1.0) -> float:
    """z of the group's engagements against the planted model (times `scale`): Poisson-lognormal variance."""
    mu = posts["impressions"][mask] * posts["rate"][mask] * scale
    var = mu + mu**2 * (math.exp(sigma**2) - 1)
    return float((posts["engagements"][mask].sum() - mu.sum()) / math.sqrt(var.sum()))


def test_engagement_by_content_type_matches_planted_ratios(week_one: dict[str, np.ndarray], demo: DemoLogs) -> None:
    truth = demo.truth.engagement
    assert len(week_one["rate"]) > 1500
    for content_type, ratio in truth.content_type_ratio.items():
        mask = week_one["content_type"] == content_type
        assert mask.sum() > 100, content_type
        assert abs(_group_z(week_one, mask, truth.post_noise_sigma)) <= Z, content_type
        if ratio != 1.0:  # without the planted ratio the data would disagree
            assert abs(_group_z(week_one, mask, truth.post_noise_sigma, 1 / ratio)) > Z, content_type


def test_engagement_by_origin_matches_planted_ratios(week_one: dict[str, np.ndarray], demo: DemoLogs) -> None:
    truth = demo.truth.engagement
    for origin, ratio in truth.origin_ratio.items():
        mask = week_one["origin"] == origin
        assert abs(_group_z(week_one, mask, truth.post_noise_sigma)) <= Z, origin
        if ratio != 1.0:
            assert abs(_group_z(week_one, mask, truth.post_noise_sigma, 1 / ratio)) > Z, origin


def test_best_posting_slot_lifts_engagement(week_one: dict[str, np.ndarray], demo: DemoLogs) -> None:
    truth = demo.truth.engagement
    slot = week_one["slot"]
    assert slot.sum() > 150
    assert abs(_group_z(week_one, slot, truth.post_noise_sigma)) <= Z
    assert abs(_group_z(week_one, ~slot, truth.post_noise_sigma)) <= Z
    assert abs(_group_z(week_one, slot, truth.post_noise_sigma, 1 / truth.best_slot_ratio)) > Z


def test_counters_never_decrease_and_grow_with_age(con: duckdb.DuckDBPyConnection) -> None:
    decreases = con.execute(
        """
        SELECT count(*) FROM (
            SELECT impressions - lag(impressions) OVER w AS d_imp, reach - lag(reach) OVER w AS d_reach,
                   likes - lag(likes) OVER w AS d_likes, clicks - lag(clicks) OVER w AS d_clicks,
                   followers - lag(followers) OVER w AS d_followers,
                   video_views - lag(video_views) OVER w AS d_views
            FROM post_metrics WINDOW w AS (PARTITION BY post_id ORDER BY observed_at)
        ) WHERE least(d_imp, d_reach, d_likes, d_clicks, d_followers, coalesce(d_views, 0)) < 0
        """
    ).fetchone()
    assert decreases == (0,)
    share_1h = con.execute(
        """
        SELECT sum(impressions) FILTER (WHERE age < INTERVAL 2 HOUR) / sum(impressions) FILTER (WHERE age > INTERVAL 7 DAY
               AND age < INTERVAL 8 DAY)
        FROM (SELECT m.impressions, m.observed_at - p.published_at AS age FROM post_metrics m JOIN posts p USING (post_id))
        """
    ).fetchone()
    assert share_1h is not None and 0.005 < share_1h[0] < 0.05


# --- 2. prompt version and qualified leads ------------------------------------------------------


def test_prompt_version_leads_qualify_more_often(con: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    truth, prompt = demo.truth.leads, demo.truth.prompt
    max_delay = truth.delay_days["mql"][1]
    cutoff = demo.truth.end - timedelta(days=max_delay)
    query = """
        WITH chat_leads AS (
            SELECT l.lead_id, min(l.changed_at) AS created, bool_or(l.stage = 'mql') AS qualified,
                   any_value(l.session_id) AS session_id
            FROM leads l WHERE l.source = 'chatbot' GROUP BY l.lead_id
        ), entry AS (
            SELECT session_id, entry_post_id FROM chat_events WHERE event = 'session_start'
        )
        SELECT avg(qualified::INT), count(*)
        FROM chat_leads JOIN entry USING (session_id) LEFT JOIN posts p ON p.post_id = entry.entry_post_id
        WHERE created < ? AND coalesce(p.prompt_id = ? AND p.prompt_version = ?, false) = ?
    """
    base = truth.qualify_rate["chatbot"]
    prompted = base * prompt.qualify_ratio
    row_yes = con.execute(query, [cutoff, prompt.prompt_id, prompt.prompt_version, True]).fetchone()
    row_no = con.execute(query, [cutoff, prompt.prompt_id, prompt.prompt_version, False]).fetchone()
    assert row_yes is not None and row_no is not None
    p_yes, n_yes = float(row_yes[0]), int(row_yes[1])
    p_no, n_no = float(row_no[0]), int(row_no[1])
    assert n_yes > 100 and n_no > 1000
    assert within(p_yes, prompted, binomial_se(prompted, n_yes))
    assert within(p_no, base, binomial_se(base, n_no))
    assert not within(p_yes, base, binomial_se(base, n_yes))
    assert demo.truth.prompt.n_posts == con.execute(
        "SELECT count(*) FROM posts WHERE prompt_id = ? AND prompt_version = ?", [prompt.prompt_id, prompt.prompt_version]
    ).fetchone()[0]  # type: ignore[index]
