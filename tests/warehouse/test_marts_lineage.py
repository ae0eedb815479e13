"""marts.lineage: post -> chat session -> lead -> revenue, and its join rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb

from insights.warehouse import build

Load = Callable[..., None]
Rows = Callable[..., list[dict[str, Any]]]
At = Callable[..., datetime]


def session(load: Load, session_id: str, user_id: str, started_at: datetime, **fields: Any) -> None:
    load(
        "raw.chat_events",
        {
            "session_id": session_id,
            "user_id": user_id,
            "ts": started_at,
            "role": "user",
            "text": "hi",
            **fields,
        },
    )


def lead(load: Load, lead_id: str, created_at: datetime, **fields: Any) -> None:
    value = fields.pop("won_value", None)
    load("raw.leads", {"lead_id": lead_id, "stage": "new", "changed_at": created_at, **fields})
    if value is not None:
        load("raw.leads", {"lead_id": lead_id, "stage": "won", "changed_at": created_at, "value": value})


def test_session_to_post_by_entry_post_id_then_link_id(
    con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At
) -> None:
    load(
        "raw.posts",
        {
            "post_id": "p_entry",
            "platform": "x",
            "published_at": at(0),
            "origin": "ai",
            "model": "m1",
            "prompt_id": "pr1",
            "prompt_version": "v2",
            "campaign": "c1",
            "content_type": "video",
            "link_id": "L_entry",
        },
        {"post_id": "p_old", "platform": "linkedin", "published_at": at(1), "link_id": "L"},
        {"post_id": "p_new", "platform": "linkedin", "published_at": at(10), "link_id": "L"},
    )
    session(load, "s_entry", "u1", at(5), entry_post_id="p_entry", link_id="L")  # entry_post_id wins
    session(load, "s_link_old", "u2", at(5), link_id="L")  # latest post with L published before: p_old
    session(load, "s_link_new", "u3", at(12), link_id="L")  # now p_new
    session(load, "s_link_same_time", "u3", at(10), link_id="L")  # published the same instant: p_new
    session(load, "s_too_early", "u4", at(0.5), link_id="L")  # no post with L published yet
    session(load, "s_unknown_post", "u5", at(5), entry_post_id="p_never_loaded")
    session(load, "s_none", "u6", at(5))
    build(con)
    got = rows(
        "SELECT session_id, post_id, post_match, platform, origin, model, prompt_id, prompt_version, "
        "campaign, content_type FROM marts.lineage ORDER BY session_id"
    )
    by_session = {r.pop("session_id"): r for r in got}
    assert by_session["s_entry"] == {
        "post_id": "p_entry",
        "post_match": "entry_post_id",
        "platform": "x",
        "origin": "ai",
        "model": "m1",
        "prompt_id": "pr1",
        "prompt_version": "v2",
        "campaign": "c1",
        "content_type": "video",
    }
    assert {s: (r["post_id"], r["post_match"], r["platform"]) for s, r in by_session.items()} == {
        "s_entry": ("p_entry", "entry_post_id", "x"),
        "s_link_old": ("p_old", "link_id", "linkedin"),
        "s_link_new": ("p_new", "link_id", "linkedin"),
        "s_link_same_time": ("p_new", "link_id", "linkedin"),
        "s_too_early": (None, None, None),
        "s_unknown_post": ("p_never_loaded", "entry_post_id", None),
        "s_none": (None, None, None),
    }


def test_lead_to_session_by_session_id_then_user_within_30_days(
    con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At
) -> None:
    session(load, "s_a", "ua", at(0))
    lead(load, "l_by_session", at(50), session_id="s_a", user_id="other")  # session_id wins over any time rule
    session(load, "s_b_old", "ub", at(0))
    session(load, "s_b", "ub", at(5))
    session(load, "s_b_after", "ub", at(20))
    lead(load, "l_by_user", at(15), user_id="ub")  # latest session of ub started before day 15: s_b
    session(load, "s_c", "uc", at(0))
    lead(load, "l_30_days", at(30), user_id="uc")  # exactly 30 days: still attached
    session(load, "s_d", "ud", at(0))
    lead(load, "l_31_days", at(30, 1), user_id="ud")  # 30 days and an hour: not attached
    session(load, "s_e", "ue", at(3))
    lead(load, "l_dangling", at(4), session_id="s_missing", user_id="ue")  # unknown session_id: user fallback
    session(load, "s_f", "uf", at(10))
    lead(load, "l_before_session", at(9), user_id="uf")  # the only session starts after the lead
    lead(load, "l_no_user", at(9))
    build(con)
    got = rows("SELECT session_id, lead_id, lead_match, user_id FROM marts.lineage ORDER BY lead_id, session_id")
    assert got == [
        {"session_id": "s_c", "lead_id": "l_30_days", "lead_match": "user_id", "user_id": "uc"},
        {"session_id": None, "lead_id": "l_31_days", "lead_match": "none", "user_id": "ud"},
        {"session_id": None, "lead_id": "l_before_session", "lead_match": "none", "user_id": "uf"},
        {"session_id": "s_a", "lead_id": "l_by_session", "lead_match": "session_id", "user_id": "ua"},
        {"session_id": "s_b", "lead_id": "l_by_user", "lead_match": "user_id", "user_id": "ub"},
        {"session_id": "s_e", "lead_id": "l_dangling", "lead_match": "user_id", "user_id": "ue"},
        {"session_id": None, "lead_id": "l_no_user", "lead_match": "none", "user_id": None},
        {"session_id": "s_b_after", "lead_id": None, "lead_match": None, "user_id": "ub"},
        {"session_id": "s_b_old", "lead_id": None, "lead_match": None, "user_id": "ub"},
        {"session_id": "s_d", "lead_id": None, "lead_match": None, "user_id": "ud"},
        {"session_id": "s_f", "lead_id": None, "lead_match": None, "user_id": "uf"},
    ]


def test_a_session_holds_one_lead_and_every_lead_appears_once(
    con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At
) -> None:
    session(load, "s1", "u1", at(0))
    lead(load, "l_first", at(1), session_id="s1", won_value=100.0)
    lead(load, "l_second", at(2), session_id="s1", won_value=50.0)  # s1 is taken: own row
    lead(load, "l_user", at(0.5), user_id="u1")  # user fallback loses to session_id matches
    build(con)
    got = rows("SELECT session_id, lead_id, lead_match, is_won, revenue FROM marts.lineage ORDER BY lead_id")
    assert got == [
        {
            "session_id": "s1",
            "lead_id": "l_first",
            "lead_match": "session_id",
            "is_won": True,
            "revenue": 100.0,
        },
        {"session_id": None, "lead_id": "l_second", "lead_match": "none", "is_won": True, "revenue": 50.0},
        {"session_id": None, "lead_id": "l_user", "lead_match": "none", "is_won": False, "revenue": 0.0},
    ]


def test_revenue_and_lead_flags(con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At) -> None:
    load("raw.posts", {"post_id": "p1", "platform": "x", "published_at": at(0), "prompt_id": "pr1"})
    session(load, "s_won", "u1", at(1), entry_post_id="p1")
    session(load, "s_open", "u2", at(1), entry_post_id="p1")
    session(load, "s_no_lead", "u3", at(1), entry_post_id="p1")
    lead(load, "l_won", at(1, 1), session_id="s_won", won_value=1200.0)
    load(
        "raw.leads",
        {"lead_id": "l_open", "stage": "mql", "changed_at": at(2), "session_id": "s_open", "value": 999.0},
    )
    build(con)
    got = rows(
        "SELECT session_id, lead_id, lead_created_at, is_lead, is_qualified, is_won, won_at, revenue "
        "FROM marts.lineage ORDER BY session_id"
    )
    assert got == [
        {
            "session_id": "s_no_lead",
            "lead_id": None,
            "lead_created_at": None,
            "is_lead": False,
            "is_qualified": False,
            "is_won": False,
            "won_at": None,
            "revenue": None,
        },
        {
            "session_id": "s_open",
            "lead_id": "l_open",
            "lead_created_at": at(2),
            "is_lead": True,
            "is_qualified": True,
            "is_won": False,
            "won_at": None,
            "revenue": 0.0,
        },
        {
            "session_id": "s_won",
            "lead_id": "l_won",
            "lead_created_at": at(1, 1),
            "is_lead": True,
            "is_qualified": True,
            "is_won": True,
            "won_at": at(1, 1),
            "revenue": 1200.0,
        },
    ]
    # "which prompt template produced won deals" is one query
    assert rows("SELECT prompt_id, sum(revenue) AS revenue FROM marts.lineage GROUP BY prompt_id") == [
        {"prompt_id": "pr1", "revenue": 1200.0}
    ]
