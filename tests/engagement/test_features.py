"""Post features built in the engine: engagement sets, denominators, local time, text features, exclusions; rates."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from insights.engagement import EngagementDefinition, engagement_rates, post_features

COUNTERS = ("impressions", "reach", "likes", "comments", "shares", "saves", "clicks", "video_views", "followers")


def _warehouse(posts: list[dict[str, object]]) -> duckdb.DuckDBPyConnection:
    """A connection whose marts.posts holds `posts` (every counter given both lifetime and at 7 days)."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    columns = ", ".join(
        [
            "post_id VARCHAR",
            "platform VARCHAR",
            "account_id VARCHAR",
            "published_at TIMESTAMPTZ",
            "content_type VARCHAR",
            "text VARCHAR",
            "origin VARCHAR",
            "model VARCHAR",
            "prompt_id VARCHAR",
            "prompt_version VARCHAR",
            "campaign VARCHAR",
            "is_paid BOOLEAN",
            "is_7d_observed BOOLEAN",
            *[f"{c} DOUBLE" for c in COUNTERS],
            *[f"{c}_7d DOUBLE" for c in COUNTERS],
        ]
    )
    con.execute(f"CREATE TABLE marts.posts ({columns})")
    for post in posts:
        row = {"platform": "x", "account_id": "acct", "is_7d_observed": True, **post}
        names = ", ".join(row)
        con.execute(f"INSERT INTO marts.posts ({names}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
    return con


def test_text_features_read_the_text() -> None:
    con = _warehouse(
        [
            {"post_id": "a", "published_at": "2026-03-02 09:30:00+00", "text": "Sign up today! #saas #growth 🚀"},
            {"post_id": "b", "published_at": "2026-03-02 09:30:00+00", "text": "Ready for spring? www.example.com"},
            {"post_id": "c", "published_at": "2026-03-02 09:30:00+00", "text": None},
        ]
    )
    rows = post_features(con).order("post_id")
    got = rows.select("post_id, text_length, n_hashtags, has_emoji, is_question, has_cta, has_link").fetchall()
    assert got == [
        ("a", 30, 2, True, False, True, False),
        ("b", 33, 0, False, True, False, True),
        ("c", 0, 0, False, False, False, False),
    ]


def test_local_time_per_account_and_hour_of_week() -> None:
    con = _warehouse(
        [
            # Monday 2026-03-02 13:30 UTC is 08:30 in New York (EST) and 14:30 in Berlin (CET)
            {"post_id": "ny", "account_id": "east", "published_at": "2026-03-02 13:30:00+00"},
            {"post_id": "be", "account_id": "europe", "published_at": "2026-03-02 13:30:00+00"},
            {"post_id": "ut", "account_id": "other", "published_at": "2026-03-02 13:30:00+00"},
            # Sunday 23:30 UTC is already Monday 00:30 in Berlin
            {"post_id": "sun", "account_id": "europe", "published_at": "2026-03-01 23:30:00+00"},
        ]
    )
    zones = {"east": "America/New_York", "x/europe": "Europe/Berlin"}
    rows = {
        r[0]: r[1:]
        for r in post_features(con, timezone=zones)
        .select("post_id, local_weekday, local_hour, hour_of_week")
        .fetchall()
    }
    assert rows == {"ny": (0, 8, 8), "be": (0, 14, 14), "ut": (0, 13, 13), "sun": (0, 0, 0)}
    everyone = post_features(con, timezone="Asia/Tokyo").filter("post_id = 'ut'").select("local_hour").fetchall()
    assert everyone == [(22,)]


def test_engagement_set_denominator_age_and_exclusions() -> None:
    base = {"likes_7d": 10.0, "comments_7d": 2.0, "shares_7d": 1.0, "saves_7d": 4.0, "impressions_7d": 100.0}
    con = _warehouse(
        [
            {"post_id": "fb", "platform": "facebook", "published_at": "2026-03-02 09:00:00+00", **base},
            {"post_id": "x", "platform": "x", "published_at": "2026-03-02 09:00:00+00", **base, "reach_7d": 50.0},
            {"post_id": "young", "published_at": "2026-03-02 09:00:00+00", "is_7d_observed": False},
            {"post_id": "noexp", "published_at": "2026-03-02 09:00:00+00", "likes_7d": 3.0},
            {"post_id": "zero", "published_at": "2026-03-02 09:00:00+00", "likes_7d": 0.0, "impressions_7d": 0.0},
            {"post_id": "life", "published_at": "2026-03-02 09:00:00+00", "likes": 7.0, "impressions": 70.0},
        ]
    )
    definition = EngagementDefinition(by_platform={"X": ("likes", "comments")})
    rows = {
        r[0]: r[1:]
        for r in post_features(con, engagement=definition)
        .select("post_id, engagements, exposure, exclusion")
        .fetchall()
    }
    assert rows["fb"] == (17.0, 100.0, None)
    assert rows["x"] == (12.0, 100.0, None)
    assert rows["young"][2] == rows["life"][2] == "not measured yet"
    assert rows["noexp"][2] == "no exposure reported"
    assert rows["zero"][2] == "zero exposure"
    by_reach = post_features(con, engagement=EngagementDefinition(denominator="reach")).filter("post_id = 'x'")
    assert by_reach.select("engagement_rate").fetchall() == [(17.0 / 50.0,)]
    lifetime = post_features(con, engagement=EngagementDefinition(age="lifetime")).filter("post_id = 'life'")
    assert lifetime.select("engagements, exposure, exclusion").fetchall() == [(7.0, 70.0, None)]
    assert definition.label == "likes + comments + shares + saves per impression, at 7 days; on x: likes + comments"


def test_period_filter(demo_con: duckdb.DuckDBPyConnection) -> None:
    every = post_features(demo_con).aggregate("count(*)").fetchall()[0][0]
    first = post_features(demo_con, end="2026-01-01").aggregate("count(*), max(published_at)").fetchall()[0]
    later = post_features(demo_con, start="2026-01-01").aggregate("count(*), min(published_at)").fetchall()[0]
    assert first[0] + later[0] == every
    assert first[1].isoformat() < "2026-01-01" <= later[1].isoformat()


def test_rates_both_ways_match_a_direct_computation(demo_con: duckdb.DuckDBPyConnection) -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    features = post_features(demo_con)
    rates = engagement_rates(features, by=["platform"])
    data = features.filter("exclusion IS NULL AND platform = 'linkedin'").select("engagements, exposure").fetchnumpy()
    e, x = np.asarray(data["engagements"]), np.asarray(data["exposure"])
    row = next(g for g in rates.groups if g.group == ("linkedin",))
    n = len(e)
    assert row.n_posts == n
    ratio = e.sum() / x.sum()
    assert row.ratio_of_sums == pytest.approx(ratio, rel=1e-12)
    # the ratio estimator's standard error (Cochran, Sampling Techniques, 2nd ed., eq. 6.9 without the fpc)
    se = np.sqrt(np.sum((e - ratio * x) ** 2) / (n - 1) * n) / x.sum()
    assert row.ratio_of_sums_high - row.ratio_of_sums == pytest.approx(1.959963984540054 * se, rel=1e-9)
    r = e / x
    low, high = scipy_stats.t.interval(0.95, n - 1, loc=r.mean(), scale=scipy_stats.sem(r))
    assert (row.mean_of_ratios_low, row.mean_of_ratios_high) == pytest.approx((low, high), rel=1e-9)
    assert "ratio of sums" in str(rates) and rates.n_excluded > 0
    total = engagement_rates(features, by=[])
    assert total.groups[0].n_posts == sum(g.n_posts for g in rates.groups)
