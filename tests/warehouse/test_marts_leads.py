"""marts.leads: one row per lead with the first time it reached each stage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb

from insights.warehouse import build

Load = Callable[..., None]
Rows = Callable[..., list[dict[str, Any]]]
At = Callable[..., datetime]


def change(lead_id: str, stage: str, changed_at: datetime, **fields: Any) -> dict[str, Any]:
    return {"lead_id": lead_id, "stage": stage, "changed_at": changed_at, **fields}


def test_stage_timestamps_and_flags(con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At) -> None:
    load(
        "raw.leads",
        # a straight path to won
        change("won", "new", at(1), user_id="u1", session_id="s1", source="Chatbot", campaign="spring"),
        change("won", "mql", at(2), value=500.0),
        change("won", "sql", at(3)),
        change("won", "opportunity", at(4), value=800.0),
        change("won", "won", at(5), value=1000.0),
        # skips mql, then is lost; mql twice would keep the first time
        change("skip", "new", at(1), session_id="s2"),
        change("skip", "sql", at(2), value=300.0),
        change("skip", "lost", at(6)),
        # stays new, no value
        change("new", "new", at(1)),
        # won without a value on the won row: the latest value recorded before
        change("won_no_value", "new", at(1), value=100.0),
        change("won_no_value", "mql", at(2)),
        change("won_no_value", "mql", at(3), value=200.0),
        change("won_no_value", "won", at(4)),
    )
    build(con)
    got = {r["lead_id"]: r for r in rows("SELECT * FROM marts.leads")}
    assert got["won"] == {
        "lead_id": "won",
        "user_id": "u1",
        "session_id": "s1",
        "source": "chatbot",
        "campaign": "spring",
        "created_at": at(1),
        "new_at": at(1),
        "mql_at": at(2),
        "sql_at": at(3),
        "opportunity_at": at(4),
        "won_at": at(5),
        "lost_at": None,
        "current_stage": "won",
        "furthest_stage": "won",
        "is_qualified": True,
        "is_won": True,
        "value": 1000.0,
        "n_changes": 5,
    }
    assert got["skip"] == {
        "lead_id": "skip",
        "user_id": None,
        "session_id": "s2",
        "source": None,
        "campaign": None,
        "created_at": at(1),
        "new_at": at(1),
        "mql_at": None,
        "sql_at": at(2),
        "opportunity_at": None,
        "won_at": None,
        "lost_at": at(6),
        "current_stage": "lost",
        "furthest_stage": "sql",
        "is_qualified": True,
        "is_won": False,
        "value": 300.0,
        "n_changes": 3,
    }
    assert (
        got["new"]["current_stage"],
        got["new"]["is_qualified"],
        got["new"]["is_won"],
        got["new"]["value"],
    ) == ("new", False, False, None)
    assert (got["won_no_value"]["mql_at"], got["won_no_value"]["value"]) == (at(2), 200.0)


def test_created_at_is_the_first_change_even_without_new(
    con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At
) -> None:
    load("raw.leads", change("l", "MQL ", at(3)), change("l", "won", at(2)))
    build(con)
    assert rows("SELECT created_at, new_at, mql_at, current_stage, is_qualified FROM marts.leads") == [
        {"created_at": at(2), "new_at": None, "mql_at": at(3), "current_stage": "mql", "is_qualified": True}
    ]
