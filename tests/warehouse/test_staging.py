"""Staging models: latest post version, snapshot union, sequence numbers, cleaning."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb

from insights.warehouse import build

Load = Callable[..., None]
Rows = Callable[..., list[dict[str, Any]]]
At = Callable[..., datetime]
NewLoad = Callable[..., None]


def test_posts_take_the_most_recent_raw_row(
    con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At, new_load: NewLoad
) -> None:
    new_load(con, 1, at(1))
    new_load(con, 2, at(5))
    load(
        "raw.posts",
        # p1: the latest observed_at wins even though it came in an earlier load
        {
            "post_id": "p1",
            "platform": "x",
            "published_at": at(0),
            "campaign": "old",
            "observed_at": at(2),
            "_load_id": 2,
        },
        {
            "post_id": "p1",
            "platform": "x",
            "published_at": at(0),
            "campaign": "new",
            "observed_at": at(3),
            "_load_id": 1,
        },
        # p2: same observed_at, so the later load wins
        {
            "post_id": "p2",
            "platform": "x",
            "published_at": at(0),
            "campaign": "old",
            "observed_at": at(2),
            "_load_id": 1,
        },
        {
            "post_id": "p2",
            "platform": "x",
            "published_at": at(0),
            "campaign": "new",
            "observed_at": at(2),
            "_load_id": 2,
        },
        # p3: no observed_at, so the load time stands in: load 2 (day 5) beats observed day 4
        {
            "post_id": "p3",
            "platform": "x",
            "published_at": at(0),
            "campaign": "old",
            "observed_at": at(4),
            "_load_id": 1,
        },
        {"post_id": "p3", "platform": "x", "published_at": at(0), "campaign": "new", "_load_id": 2},
    )
    build(con)
    got = rows("SELECT post_id, campaign, updated_at, n_versions FROM staging.posts ORDER BY post_id")
    assert got == [
        {"post_id": "p1", "campaign": "new", "updated_at": at(3), "n_versions": 2},
        {"post_id": "p2", "campaign": "new", "updated_at": at(2), "n_versions": 2},
        {"post_id": "p3", "campaign": "new", "updated_at": at(5), "n_versions": 2},
    ]


def test_posts_vocabularies_are_cleaned(con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At) -> None:
    load(
        "raw.posts",
        {
            "post_id": "p1",
            "platform": " LinkedIn ",
            "published_at": at(0),
            "content_type": "Image ",
            "origin": " AI_Edited",
            "paid": True,
        },
        {"post_id": "p2", "platform": "x", "published_at": at(0), "content_type": "  ", "origin": ""},
    )
    build(con)
    assert rows("SELECT post_id, platform, content_type, origin, is_paid FROM staging.posts ORDER BY 1") == [
        {
            "post_id": "p1",
            "platform": "linkedin",
            "content_type": "image",
            "origin": "ai_edited",
            "is_paid": True,
        },
        {"post_id": "p2", "platform": "x", "content_type": None, "origin": None, "is_paid": None},
    ]


def test_post_metrics_union_prefers_post_metrics_on_a_tie(
    con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At, new_load: NewLoad
) -> None:
    new_load(con, 1, at(6))
    load(
        "raw.posts",
        # counters with an observed_at: a snapshot; ties with the post_metrics row below, which wins
        {
            "post_id": "p1",
            "platform": "x",
            "published_at": at(0),
            "observed_at": at(1),
            "likes": 1,
            "_load_id": 1,
        },
        # counters without observed_at: a snapshot at the load time
        {"post_id": "p1", "platform": "x", "published_at": at(0), "impressions": 70, "_load_id": 1},
        # no counters: an attribute version, not a snapshot
        {"post_id": "p1", "platform": "x", "published_at": at(0), "observed_at": at(2), "_load_id": 1},
    )
    load(
        "raw.post_metrics",
        {"post_id": "p1", "observed_at": at(1), "likes": 2, "impressions": 10},
        {"post_id": "p1", "observed_at": at(3), "likes": 4},
        {"post_id": "ghost", "observed_at": at(3), "likes": 4},
    )
    build(con)
    got = rows("SELECT post_id, observed_at, impressions, likes, source FROM staging.post_metrics ORDER BY 1, 2")
    assert got == [
        {"post_id": "ghost", "observed_at": at(3), "impressions": None, "likes": 4, "source": "post_metrics"},
        {"post_id": "p1", "observed_at": at(1), "impressions": 10, "likes": 2, "source": "post_metrics"},
        {"post_id": "p1", "observed_at": at(3), "impressions": None, "likes": 4, "source": "post_metrics"},
        {"post_id": "p1", "observed_at": at(6), "impressions": 70, "likes": None, "source": "posts"},
    ]


def test_post_metrics_same_kind_tie_takes_the_latest_load(
    con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At
) -> None:
    load(
        "raw.post_metrics",
        {"post_id": "p1", "observed_at": at(1), "likes": 2, "_load_id": 5},
        {"post_id": "p1", "observed_at": at(1), "likes": 3, "_load_id": 7},
    )
    build(con)
    assert rows("SELECT likes FROM staging.post_metrics") == [{"likes": 3}]


def test_chat_events_sequence_and_cleaning(con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At) -> None:
    load(
        "raw.chat_events",
        # loaded out of order; the bot reply and user question share a timestamp
        {"session_id": "s1", "user_id": "u1", "ts": at(0, 1), "role": "BOT ", "text": "answer", "_key": 1},
        {"session_id": "s1", "user_id": "u1", "ts": at(0, 1), "role": "user", "text": "question", "_key": 2},
        {
            "session_id": "s1",
            "user_id": "u1",
            "ts": at(0),
            "role": "system",
            "event": " Session_Start",
            "channel": "Web",
            "_key": 3,
        },
        {
            "session_id": "s1",
            "user_id": "u1",
            "ts": at(0, 2),
            "role": "bot",
            "event": "lead_captured",
            "_key": 4,
        },
        {
            "session_id": "s1",
            "user_id": "u1",
            "ts": at(0, 3),
            "role": "bot",
            "event": "handoff",
            "text": "An agent joins",
            "_key": 5,
        },
        {"session_id": "s2", "user_id": "u2", "ts": at(0), "role": "user", "text": "hi", "_key": 6},
    )
    build(con)
    got = rows(
        "SELECT session_id, session_seq, role, event, text, is_message, channel FROM staging.chat_events "
        "ORDER BY session_id, session_seq"
    )
    assert got == [
        {
            "session_id": "s1",
            "session_seq": 1,
            "role": "system",
            "event": "session_start",
            "text": None,
            "is_message": False,
            "channel": "web",
        },
        {
            "session_id": "s1",
            "session_seq": 2,
            "role": "user",
            "event": None,
            "text": "question",
            "is_message": True,
            "channel": None,
        },
        {
            "session_id": "s1",
            "session_seq": 3,
            "role": "bot",
            "event": None,
            "text": "answer",
            "is_message": True,
            "channel": None,
        },
        {
            "session_id": "s1",
            "session_seq": 4,
            "role": "bot",
            "event": "lead_captured",
            "text": None,
            "is_message": False,
            "channel": None,
        },
        {
            "session_id": "s1",
            "session_seq": 5,
            "role": "bot",
            "event": "handoff",
            "text": "An agent joins",
            "is_message": True,
            "channel": None,
        },
        {
            "session_id": "s2",
            "session_seq": 1,
            "role": "user",
            "event": None,
            "text": "hi",
            "is_message": True,
            "channel": None,
        },
    ]


def test_leads_are_numbered_in_pipeline_order(con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At) -> None:
    load(
        "raw.leads",
        {"lead_id": "l1", "stage": "MQL", "changed_at": at(1), "source": " Chatbot"},
        {"lead_id": "l1", "stage": "new", "changed_at": at(1)},
        {"lead_id": "l1", "stage": "lost", "changed_at": at(3)},
    )
    build(con)
    assert rows("SELECT change_seq, stage, stage_rank, source FROM staging.leads ORDER BY change_seq") == [
        {"change_seq": 1, "stage": "new", "stage_rank": 1, "source": None},
        {"change_seq": 2, "stage": "mql", "stage_rank": 2, "source": "chatbot"},
        {"change_seq": 3, "stage": "lost", "stage_rank": 6, "source": None},
    ]


def test_assignments_flag_first_and_multi_variant_exposures(
    con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At
) -> None:
    load(
        "raw.assignments",
        {"experiment_id": "e1", "unit_id": "u1", "variant": "b", "assigned_at": at(2), "unit_type": " User"},
        {"experiment_id": "e1", "unit_id": "u1", "variant": "a", "assigned_at": at(1)},
        {
            "experiment_id": "e1",
            "unit_id": "u2",
            "variant": "a",
            "assigned_at": at(1),
            "unit_type": "session",
        },
    )
    build(con)
    got = rows(
        "SELECT unit_id, variant, unit_type, exposure_seq, is_first_exposure, is_multi_variant "
        "FROM staging.assignments ORDER BY unit_id, exposure_seq"
    )
    assert got == [
        {
            "unit_id": "u1",
            "variant": "a",
            "unit_type": "user",
            "exposure_seq": 1,
            "is_first_exposure": True,
            "is_multi_variant": True,
        },
        {
            "unit_id": "u1",
            "variant": "b",
            "unit_type": "user",
            "exposure_seq": 2,
            "is_first_exposure": False,
            "is_multi_variant": True,
        },
        {
            "unit_id": "u2",
            "variant": "a",
            "unit_type": "session",
            "exposure_seq": 1,
            "is_first_exposure": True,
            "is_multi_variant": False,
        },
    ]
