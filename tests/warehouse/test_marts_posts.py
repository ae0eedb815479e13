"""marts.posts: latest metrics per counter, and counters at a fixed age of 7 days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb
import pytest

from insights.warehouse import build

Load = Callable[..., None]
Rows = Callable[..., list[dict[str, Any]]]
At = Callable[..., datetime]
AddPost = Callable[..., None]


@pytest.fixture
def posts(con: duckdb.DuckDBPyConnection, load: Load, at: At) -> Callable[..., None]:
    """posts(post_id, (day, impressions, likes), ...): a post published at day 0 and its snapshots."""

    def add(post_id: str, *snapshots: tuple[float, int | None, int | None]) -> None:
        load("raw.posts", {"post_id": post_id, "platform": "x", "published_at": at(0)})
        for observed, impressions, likes in snapshots:
            load(
                "raw.post_metrics",
                {"post_id": post_id, "observed_at": at(observed), "impressions": impressions, "likes": likes},
            )

    return add


def seven_day(rows: Rows, post_id: str) -> dict[str, Any]:
    return rows("SELECT impressions_7d, likes_7d, is_7d_observed FROM marts.posts WHERE post_id = ?", post_id)[0]


def test_interpolates_between_the_snapshots_around_day_7(
    con: duckdb.DuckDBPyConnection, posts: AddPost, rows: Rows
) -> None:
    posts("p", (5, 100, 10), (9, 300, 30))
    build(con)
    # 100 + (300 - 100) * (7 - 5) / (9 - 5)
    assert seven_day(rows, "p") == {"impressions_7d": 200.0, "likes_7d": 20.0, "is_7d_observed": True}


def test_starts_from_zero_at_publication_without_an_earlier_snapshot(
    con: duckdb.DuckDBPyConnection, posts: AddPost, rows: Rows
) -> None:
    posts("p", (10, 300, 20))
    build(con)
    # 0 + 300 * 7 / 10
    assert seven_day(rows, "p") == {
        "impressions_7d": pytest.approx(210.0),
        "likes_7d": pytest.approx(14.0),
        "is_7d_observed": True,
    }


def test_uses_a_snapshot_exactly_at_day_7(con: duckdb.DuckDBPyConnection, posts: AddPost, rows: Rows) -> None:
    posts("p", (3, 50, 1), (7, 150, 3), (10, 900, 9))
    build(con)
    assert seven_day(rows, "p") == {"impressions_7d": 150.0, "likes_7d": 3.0, "is_7d_observed": True}


def test_is_null_when_the_post_is_not_7_days_old_in_the_data(
    con: duckdb.DuckDBPyConnection, posts: AddPost, rows: Rows
) -> None:
    posts("p", (3, 50, 1), (6.9, 150, 3))
    posts("no_snapshots")
    build(con)
    assert seven_day(rows, "p") == {"impressions_7d": None, "likes_7d": None, "is_7d_observed": False}
    assert seven_day(rows, "no_snapshots") == {
        "impressions_7d": None,
        "likes_7d": None,
        "is_7d_observed": False,
    }


def test_each_counter_uses_the_snapshots_that_report_it(
    con: duckdb.DuckDBPyConnection, posts: AddPost, rows: Rows
) -> None:
    posts("p", (5, 100, 10), (8, 400, None), (12, None, 50))
    build(con)
    got = seven_day(rows, "p")
    # impressions between days 5 and 8: 100 + 300 * 2 / 3; likes between days 5 and 12: 10 + 40 * 2 / 7
    assert got["impressions_7d"] == pytest.approx(300.0)
    assert got["likes_7d"] == pytest.approx(10 + 40 * 2 / 7)
    # a counter reported only after day 7 is still NULL if no snapshot at or after day 7 reports it
    posts("q", (5, 100, 10), (8, 400, None))
    build(con)
    assert seven_day(rows, "q")["likes_7d"] is None


def test_latest_metrics_take_each_counters_latest_report(
    con: duckdb.DuckDBPyConnection, posts: AddPost, rows: Rows, at: At
) -> None:
    posts("p", (5, 100, 10), (8, 400, None), (12, None, 50))
    posts("empty")
    build(con)
    got = rows(
        "SELECT post_id, impressions, likes, n_snapshots, latest_observed_at, age_days "
        "FROM marts.posts ORDER BY post_id"
    )
    assert got == [
        {
            "post_id": "empty",
            "impressions": None,
            "likes": None,
            "n_snapshots": 0,
            "latest_observed_at": None,
            "age_days": None,
        },
        {
            "post_id": "p",
            "impressions": 400,
            "likes": 50,
            "n_snapshots": 3,
            "latest_observed_at": at(12),
            "age_days": 12.0,
        },
    ]


def test_latest_metrics_prefer_post_metrics_over_a_tied_posts_row(
    con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At
) -> None:
    load(
        "raw.posts",
        {"post_id": "p", "platform": "x", "published_at": at(0), "observed_at": at(2), "likes": 99},
        {"post_id": "p", "platform": "x", "published_at": at(0), "observed_at": at(1), "likes": 5},
    )
    load("raw.post_metrics", {"post_id": "p", "observed_at": at(2), "likes": 7})
    build(con)
    assert rows("SELECT likes, n_snapshots, age_days FROM marts.posts") == [
        {"likes": 7, "n_snapshots": 2, "age_days": 2.0}
    ]


def test_snapshots_of_posts_never_loaded_are_left_out(
    con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At
) -> None:
    load("raw.post_metrics", {"post_id": "ghost", "observed_at": at(2), "likes": 7})
    build(con)
    assert rows("SELECT count(*) AS n FROM marts.posts") == [{"n": 0}]
    assert rows("SELECT count(*) AS n FROM staging.post_metrics") == [{"n": 1}]
