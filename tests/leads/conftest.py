"""Small hand-made marts (an in-memory DuckDB with marts.lineage and marts.leads) whose journeys and funnel can be
worked out by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

D0 = dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.UTC)


def day(n: float, minutes: float = 0, seconds: float = 0) -> dt.datetime:
    return D0 + dt.timedelta(days=n, minutes=minutes, seconds=seconds)


LINEAGE_COLUMNS = {
    "post_id": "VARCHAR",
    "platform": "VARCHAR",
    "content_type": "VARCHAR",
    "origin": "VARCHAR",
    "model": "VARCHAR",
    "prompt_id": "VARCHAR",
    "prompt_version": "VARCHAR",
    "campaign": "VARCHAR",
    "post_match": "VARCHAR",
    "session_id": "VARCHAR",
    "user_id": "VARCHAR",
    "started_at": "TIMESTAMPTZ",
    "channel": "VARCHAR",
    "bot_version": "VARCHAR",
    "lead_id": "VARCHAR",
    "lead_match": "VARCHAR",
    "lead_created_at": "TIMESTAMPTZ",
    "is_lead": "BOOLEAN",
    "is_qualified": "BOOLEAN",
    "is_won": "BOOLEAN",
    "won_at": "TIMESTAMPTZ",
    "revenue": "DOUBLE",
}
LEADS_COLUMNS = {
    "lead_id": "VARCHAR",
    "user_id": "VARCHAR",
    "session_id": "VARCHAR",
    "source": "VARCHAR",
    "campaign": "VARCHAR",
    "created_at": "TIMESTAMPTZ",
    "new_at": "TIMESTAMPTZ",
    "mql_at": "TIMESTAMPTZ",
    "sql_at": "TIMESTAMPTZ",
    "opportunity_at": "TIMESTAMPTZ",
    "won_at": "TIMESTAMPTZ",
    "lost_at": "TIMESTAMPTZ",
    "is_qualified": "BOOLEAN",
    "is_won": "BOOLEAN",
    "value": "DOUBLE",
}

POSTS: dict[str | None, dict[str, Any]] = {
    None: {},
    "p1": {"platform": "facebook", "content_type": "image", "origin": "human", "campaign": "always-on"},
    "p2": {
        "platform": "instagram",
        "content_type": "video",
        "origin": "ai",
        "prompt_id": "hook",
        "prompt_version": "v2",
        "campaign": "spring-launch",
    },
    "p3": {
        "platform": "x",
        "content_type": "text",
        "origin": "ai_edited",
        "prompt_id": "benefit",
        "prompt_version": "v1",
        "campaign": "always-on",
    },
    "p9": {},  # named by a session, never loaded: no attributes
}


def session(
    session_id: str, user: str, at: dt.datetime, post: str | None, lead: dict[str, Any] | None = None
) -> dict[str, Any]:
    row: dict[str, Any] = {"session_id": session_id, "user_id": user, "started_at": at, "post_id": post, **POSTS[post]}
    row.update(lead or {"is_lead": False, "is_qualified": False, "is_won": False})
    return row


def lead(lead_id: str, created: dt.datetime, *, qualified: bool = False, won: float | None = None) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "lead_created_at": created,
        "is_lead": True,
        "is_qualified": qualified or won is not None,
        "is_won": won is not None,
        "revenue": won if won is not None else 0.0,
    }


def lone_lead(lead_id: str, user: str | None, created: dt.datetime, **kwargs: Any) -> dict[str, Any]:
    return {"user_id": user, "lead_match": "none", **lead(lead_id, created, **kwargs)}


#: u1: three sessions then a won lead, two more sessions (the first of them 35 days before the last);
#: u2: a session from an unknown post 39 days before its lead, then a lead no session explains;
#: u3: two sessions at the same instant, no lead; u4: a touch exactly 30 days before its lead's session;
#: u5: a touch 30 days and one second before; L6: a form lead without a person.
LINEAGE = [
    session("s1", "u1", day(0), "p1"),
    session("s2", "u1", day(10), None),
    session("s3", "u1", day(20), "p2", lead("L1", day(20, minutes=2), won=1000.0)),
    session("s4", "u1", day(25), "p3"),
    session("s5", "u1", day(60), "p1"),
    session("s6", "u2", day(1), "p9"),
    session("s7", "u2", day(40), "p3", lead("L2", day(40, minutes=3))),
    lone_lead("L3", "u2", day(50)),
    session("s8", "u3", day(5), None),
    session("s9", "u3", day(5), "p2"),
    session("s10", "u4", day(1), "p2"),
    session("s11", "u4", day(31), "p1", lead("L4", day(31, minutes=2), qualified=True)),
    session("s12", "u5", day(2), "p3"),
    session("s13", "u5", day(32, seconds=1), None, lead("L5", day(32, minutes=1))),
    lone_lead("L6", None, day(15)),
]


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, str], rows: list[dict[str, Any]]) -> None:
    con.execute(f"CREATE TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
    for row in rows:
        unknown = set(row) - set(columns)
        assert not unknown, unknown
        con.execute(f"INSERT INTO {name} VALUES ({', '.join('?' for _ in columns)})", [row.get(c) for c in columns])


def marts(lineage: list[dict[str, Any]], leads: list[dict[str, Any]] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory engine with marts.lineage (and marts.leads) holding these rows."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE SCHEMA marts")
    _table(con, "marts.lineage", LINEAGE_COLUMNS, lineage)
    _table(con, "marts.leads", LEADS_COLUMNS, leads or [])
    return con


@pytest.fixture
def tiny_lineage() -> Iterator[duckdb.DuckDBPyConnection]:
    con = marts(LINEAGE)
    try:
        yield con
    finally:
        con.close()


@pytest.fixture
def demo_truth(demo_warehouse: tuple[Any, Any]) -> Any:
    """The planted truth of the shared demo warehouse (insights.datasets.truth.GroundTruth)."""
    return demo_warehouse[1].truth
