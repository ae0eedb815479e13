"""Invariants of the build, checked with hypothesis: results do not depend on the order rows arrived in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from insights.warehouse import build, connect, run_checks

MARTS = ["marts.posts", "marts.chat_sessions", "marts.leads", "marts.lineage", "staging.chat_events"]


def raw_rows(at: Callable[..., datetime]) -> list[tuple[str, dict[str, Any]]]:
    """A scenario full of ties: equal timestamps, two leads on one session, shared links."""
    rows: list[tuple[str, dict[str, Any]]] = [
        ("raw.posts", {"post_id": "p1", "platform": "x", "published_at": at(0), "link_id": "L", "_key": 1}),
        ("raw.posts", {"post_id": "p2", "platform": "x", "published_at": at(0), "link_id": "L", "_key": 2}),
        ("raw.post_metrics", {"post_id": "p1", "observed_at": at(3), "likes": 3, "_key": 3}),
        ("raw.post_metrics", {"post_id": "p1", "observed_at": at(9), "likes": 9, "_key": 4}),
        (
            "raw.posts",
            {
                "post_id": "p1",
                "platform": "x",
                "published_at": at(0),
                "link_id": "L",
                "observed_at": at(9),
                "likes": 99,
                "_key": 5,
            },
        ),
    ]
    for i, (session, user) in enumerate([("s1", "u1"), ("s2", "u1"), ("s3", "u2")]):
        for j, role in enumerate(["user", "bot", "user", "agent"]):
            rows.append(
                (
                    "raw.chat_events",
                    {
                        "session_id": session,
                        "user_id": user,
                        "ts": at(i, j // 2),
                        "role": role,
                        "text": f"m{j}",
                        "link_id": "L" if session != "s3" else None,
                        "intent": f"i{j}",
                        "latency_ms": 10.0 * j,
                        "_key": 100 + 10 * i + j,
                    },
                )
            )
    rows += [
        (
            "raw.leads",
            {"lead_id": "l1", "stage": "new", "changed_at": at(1), "session_id": "s2", "_key": 201},
        ),
        (
            "raw.leads",
            {"lead_id": "l2", "stage": "new", "changed_at": at(1), "session_id": "s2", "_key": 202},
        ),
        ("raw.leads", {"lead_id": "l2", "stage": "won", "changed_at": at(4), "value": 10.0, "_key": 203}),
        ("raw.leads", {"lead_id": "l3", "stage": "new", "changed_at": at(5), "user_id": "u2", "_key": 204}),
        ("raw.leads", {"lead_id": "l3", "stage": "mql", "changed_at": at(5), "_key": 205}),
    ]
    return rows


def built_marts(
    rows: list[tuple[str, dict[str, Any]]], insert_rows: Callable[..., None], *, checked: bool = False
) -> dict[str, Any]:
    con: duckdb.DuckDBPyConnection = connect(":memory:")
    for table, row in rows:
        insert_rows(con, table, row)
    build(con)
    if checked:
        assert run_checks(con).passed
    marts = {name: sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr) for name in MARTS}
    con.close()
    return marts


def test_marts_do_not_depend_on_row_order(at: Callable[..., datetime], insert_rows: Callable[..., None]) -> None:
    rows = raw_rows(at)
    expected = built_marts(rows, insert_rows, checked=True)

    @settings(max_examples=6, deadline=None)
    @given(st.permutations(rows))
    def check(shuffled: list[tuple[str, dict[str, Any]]]) -> None:
        assert built_marts(shuffled, insert_rows) == expected

    check()
