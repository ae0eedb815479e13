"""marts.chat_sessions: one row per session, aggregated from its events."""

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


def event(session_id: str, ts: datetime, role: str, **fields: Any) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "user_id": fields.pop("user_id", "u_" + session_id),
        "ts": ts,
        "role": role,
        **fields,
    }


def test_a_full_session_is_aggregated(con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At) -> None:
    def t(minutes: float) -> datetime:
        return at(0, minutes / 60)

    load(
        "raw.chat_events",
        event(
            "s1",
            t(0),
            "system",
            event="session_start",
            channel=" Web",
            entry_post_id="p1",
            link_id="L1",
            utm_source="linkedin",
            utm_campaign="spring",
            bot_version="b7",
        ),
        event("s1", t(1), "user", text="how much?", intent="pricing", intent_confidence=0.9, tokens_in=10),
        event("s1", t(1.5), "bot", text="from 10 EUR", latency_ms=100.0, tokens_in=200, tokens_out=30),
        event("s1", t(2), "user", text="and support?", intent="support", channel="whatsapp"),
        event("s1", t(2.5), "bot", text="sorry?", latency_ms=300.0, is_fallback=True, tokens_out=5),
        event("s1", t(3), "bot", event="lead_captured"),
        event("s1", t(4), "user", event="csat", csat=4.0),
        event("s1", t(5), "user", event="csat", csat=5.0),
    )
    build(con)
    [got] = rows("SELECT * FROM marts.chat_sessions")
    assert got == {
        "session_id": "s1",
        "user_id": "u_s1",
        "started_at": t(0),
        "ended_at": t(5),
        "duration_seconds": 300.0,
        "n_events": 8,
        "n_messages": 4,
        "n_user_turns": 2,
        "n_bot_turns": 2,
        "n_agent_turns": 0,
        "channel": "web",
        "entry_post_id": "p1",
        "link_id": "L1",
        "utm_source": "linkedin",
        "utm_medium": None,
        "utm_campaign": "spring",
        "utm_content": None,
        "bot_version": "b7",
        "first_intent": "pricing",
        "is_handoff": False,
        "n_fallbacks": 1,
        "is_lead_captured": True,
        "csat": 5.0,
        "tokens_in": 210,
        "tokens_out": 35,
        "mean_latency_ms": 200.0,
        # continuous percentile of (100, 300): 100 + 0.95 * 200
        "p95_latency_ms": pytest.approx(290.0),
    }


def test_handoff_and_lead_capture_flags(con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At) -> None:
    load(
        "raw.chat_events",
        # an agent message is a handoff; a lead that names the session is a capture
        event("s_agent", at(0), "user", text="hi"),
        event("s_agent", at(0, 1), "agent", text="Hello, Ana here"),
        # a handoff event without any agent message is a handoff too
        event("s_event", at(0), "user", text="hi"),
        event("s_event", at(0, 1), "system", event="Handoff"),
        # neither
        event("s_plain", at(0), "user", text="hi"),
    )
    load("raw.leads", {"lead_id": "l1", "stage": "new", "changed_at": at(1), "session_id": "s_agent"})
    build(con)
    got = rows(
        "SELECT session_id, is_handoff, is_lead_captured, n_agent_turns, n_messages, tokens_in, "
        "mean_latency_ms, csat FROM marts.chat_sessions ORDER BY session_id"
    )
    assert got == [
        {
            "session_id": "s_agent",
            "is_handoff": True,
            "is_lead_captured": True,
            "n_agent_turns": 1,
            "n_messages": 2,
            "tokens_in": None,
            "mean_latency_ms": None,
            "csat": None,
        },
        {
            "session_id": "s_event",
            "is_handoff": True,
            "is_lead_captured": False,
            "n_agent_turns": 0,
            "n_messages": 1,
            "tokens_in": None,
            "mean_latency_ms": None,
            "csat": None,
        },
        {
            "session_id": "s_plain",
            "is_handoff": False,
            "is_lead_captured": False,
            "n_agent_turns": 0,
            "n_messages": 1,
            "tokens_in": None,
            "mean_latency_ms": None,
            "csat": None,
        },
    ]


def test_first_values_follow_conversation_order_not_load_order(
    con: duckdb.DuckDBPyConnection, load: Load, rows: Rows, at: At
) -> None:
    load(
        "raw.chat_events",
        event("s1", at(0, 2), "user", text="later", intent="later_intent", entry_post_id="p_late"),
        event("s1", at(0, 1), "user", text="first", intent="first_intent", entry_post_id="p_first"),
    )
    build(con)
    assert rows("SELECT first_intent, entry_post_id, duration_seconds FROM marts.chat_sessions") == [
        {"first_intent": "first_intent", "entry_post_id": "p_first", "duration_seconds": 3600.0}
    ]
