"""Fixtures for warehouse tests: an empty in-memory warehouse, helpers to fill raw tables and read models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest

from insights.warehouse import connect

#: Day 0 of every hand-written scenario.
T0 = datetime(2024, 3, 1, tzinfo=UTC)

Load = Callable[..., None]
Rows = Callable[..., list[dict[str, Any]]]


def day(days: float, hours: float = 0) -> datetime:
    """T0 plus a number of days (and hours): scenarios read as a time line."""
    return T0 + timedelta(days=days, hours=hours)


def insert(con: duckdb.DuckDBPyConnection, table: str, *rows: dict[str, Any]) -> None:
    """Insert dict rows into a table; missing columns stay NULL."""
    for row in rows:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


def fetch(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Rows of a query as dicts."""
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def add_load(con: duckdb.DuckDBPyConnection, load_id: int, loaded_at: datetime, kind: str = "posts") -> None:
    """A meta.loads row, as the loader would write it."""
    insert(
        con,
        "meta.loads",
        {
            "load_id": load_id,
            "kind": kind,
            "file": f"file{load_id}.csv",
            "fingerprint": f"fp{load_id}",
            "size_bytes": 1,
            "format": "csv",
            "timezone": "UTC",
            "loaded_at": loaded_at,
            "rows_read": 1,
            "rows_loaded": 1,
            "rows_rejected": 0,
            "rows_duplicate": 0,
        },
    )


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(":memory:")
    yield connection
    connection.close()


@pytest.fixture
def load(con: duckdb.DuckDBPyConnection) -> Load:
    """load("raw.posts", {...}, {...}) inserts rows into the test warehouse."""
    return lambda table, *rows: insert(con, table, *rows)


@pytest.fixture
def rows(con: duckdb.DuckDBPyConnection) -> Rows:
    """rows("SELECT ...") returns the query's rows as dicts."""
    return lambda sql, *params: fetch(con, sql, *params)


# Pure helpers as session-scoped fixtures, so hypothesis tests (which build their own warehouse per
# example) can use them too.
@pytest.fixture(scope="session")
def at() -> Callable[..., datetime]:
    """at(days, hours=0): T0 plus that much time."""
    return day


@pytest.fixture(scope="session")
def insert_rows() -> Callable[..., None]:
    return insert


@pytest.fixture(scope="session")
def fetch_rows() -> Callable[..., list[dict[str, Any]]]:
    return fetch


@pytest.fixture(scope="session")
def new_load() -> Callable[..., None]:
    """new_load(con, load_id, loaded_at): a meta.loads row."""
    return add_load


def fill_small_scenario(con: duckdb.DuckDBPyConnection) -> None:
    """A little of everything: two posts with snapshots, two sessions, two leads, an experiment."""
    insert(
        con,
        "raw.posts",
        {
            "post_id": "p1",
            "platform": "LinkedIn",
            "published_at": day(0),
            "content_type": "image",
            "origin": "ai",
            "model": "gpt-x",
            "prompt_id": "pr1",
            "prompt_version": "v1",
            "campaign": "spring",
            "link_id": "L1",
            "_load_id": 1,
            "_key": 11,
        },
        {
            "post_id": "p2",
            "platform": "x",
            "published_at": day(1),
            "content_type": "text",
            "origin": "human",
            "link_id": "L2",
            "_load_id": 1,
            "_key": 12,
        },
    )
    insert(
        con,
        "raw.post_metrics",
        {"post_id": "p1", "observed_at": day(3), "impressions": 100, "likes": 5, "_load_id": 2, "_key": 21},
        {"post_id": "p1", "observed_at": day(9), "impressions": 400, "likes": 9, "_load_id": 2, "_key": 22},
        {"post_id": "p2", "observed_at": day(2), "impressions": 50, "_load_id": 2, "_key": 23},
    )
    insert(
        con,
        "raw.chat_events",
        {
            "session_id": "s1",
            "user_id": "u1",
            "ts": day(2),
            "role": "system",
            "event": "session_start",
            "channel": "web",
            "entry_post_id": "p1",
            "_key": 31,
        },
        {
            "session_id": "s1",
            "user_id": "u1",
            "ts": day(2, 0.01),
            "role": "user",
            "text": "hi",
            "intent": "pricing",
            "_key": 32,
        },
        {
            "session_id": "s1",
            "user_id": "u1",
            "ts": day(2, 0.02),
            "role": "bot",
            "text": "hello",
            "latency_ms": 120.0,
            "_key": 33,
        },
        {
            "session_id": "s2",
            "user_id": "u2",
            "ts": day(4),
            "role": "user",
            "text": "price?",
            "link_id": "L2",
            "_key": 34,
        },
        {
            "session_id": "s2",
            "user_id": "u2",
            "ts": day(4, 0.01),
            "role": "agent",
            "text": "let me help",
            "_key": 35,
        },
    )
    insert(
        con,
        "raw.leads",
        {
            "lead_id": "l1",
            "stage": "new",
            "changed_at": day(2, 0.03),
            "user_id": "u1",
            "session_id": "s1",
            "source": "chatbot",
            "_key": 41,
        },
        {
            "lead_id": "l1",
            "stage": "won",
            "changed_at": day(20),
            "user_id": "u1",
            "value": 1000.0,
            "_key": 42,
        },
        {"lead_id": "l2", "stage": "new", "changed_at": day(5), "user_id": "u2", "_key": 43},
    )
    insert(
        con,
        "raw.assignments",
        {"experiment_id": "e1", "unit_id": "u1", "variant": "a", "assigned_at": day(1), "_key": 51},
        {"experiment_id": "e1", "unit_id": "u2", "variant": "b", "assigned_at": day(1), "_key": 52},
    )


@pytest.fixture
def scenario(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The test warehouse filled with the small scenario (not built yet)."""
    fill_small_scenario(con)
    return con
