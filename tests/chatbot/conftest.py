"""Fixtures for the chatbot tests: a hand-written warehouse of a few sessions, and the demo warehouse's reports.

The demo reports are module-scoped and built once: each is one call over the fixed-date demo warehouse
(tests/conftest.py), whose planted numbers are in ``demo_warehouse[1].truth``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from insights.warehouse import build, connect

#: Monday of the hand-written week; the week before is the comparison period.
T0 = datetime(2026, 2, 2, tzinfo=UTC)


def at(days: float, minutes: float = 0) -> datetime:
    return T0 + timedelta(days=days, minutes=minutes)


Event = dict[str, Any]


def session(session_id: str, start: datetime, *rows: tuple[str, dict[str, Any]], **common: Any) -> list[Event]:
    """A session's rows one minute apart: a session_start, then (role, fields) pairs, then a session_end."""
    base = {"session_id": session_id, "user_id": common.pop("user_id", "u_" + session_id), **common}
    out: list[Event] = [{**base, "ts": start, "role": "system", "event": "session_start"}]
    for i, (role, fields) in enumerate(rows, start=1):
        row = {**base, "ts": start + timedelta(minutes=i), "role": role, **fields}
        if role in ("user", "bot", "agent") and "event" not in fields:
            row["event"] = "message"
        out.append(row)
    out.append({**base, "ts": start + timedelta(minutes=len(rows) + 1), "role": "system", "event": "session_end"})
    return out


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


def user(text: str) -> tuple[str, dict[str, Any]]:
    return "user", {"text": text}


def bot(text: str, intent: str | None = None, *, fallback: bool = False, confidence: float | None = None, **more: Any):
    fields: dict[str, Any] = {"text": text, "intent": intent, "is_fallback": fallback}
    if confidence is not None:
        fields["intent_confidence"] = confidence
    return "bot", {**fields, **more}


def handoff(text: str | None = None) -> tuple[str, dict[str, Any]]:
    return "system", {"event": "handoff", **({"text": text} if text else {})}


def agent(text: str = "Hi, I'm Sam from the team.") -> tuple[str, dict[str, Any]]:
    return "agent", {"text": text}


#: the hand-written week: each session tests one rule (see the tests that read it)
SESSIONS: list[Event] = [
    # s1: the bot fails, then a person takes over -> reason "after a fallback"
    *session(
        "s1",
        at(0, 10),
        user("wie viel kostet das"),
        bot("Sorry, I didn't get that.", "pricing", fallback=True, confidence=0.2, latency_ms=100.0),
        user("price??"),
        bot("Sorry, I didn't get that.", "pricing", fallback=True, confidence=0.1, latency_ms=300.0),
        handoff(),
        agent(),
        channel="web",
    ),
    # s2: the user asks for a person after a good answer -> "user asked for a person"
    *session(
        "s2",
        at(1, 10),
        user("my invoice is wrong"),
        bot("Let me check.", "support", confidence=0.9, latency_ms=200.0, tokens_in=1000, tokens_out=100),
        user("Can I talk to a HUMAN please"),
        bot("Of course.", "support", confidence=0.8, latency_ms=400.0, tokens_in=1200, tokens_out=50),
        handoff(),
        channel="web",
    ),
    # s3: an agent joins without a handoff event; last intent pricing -> "intent: pricing"
    *session(
        "s3",
        at(2, 10),
        user("how much is pro"),
        bot("Pro is $39.", "pricing", confidence=0.95, latency_ms=500.0),
        agent(),
        channel="messenger",
    ),
    # s4: the system logs why it handed off -> "logged: billing dispute"
    *session(
        "s4",
        at(3, 10),
        user("refund me"),
        bot("I can help with refunds.", "support", confidence=0.7, latency_ms=600.0),
        handoff("  Billing Dispute "),
        agent(),
        channel="messenger",
    ),
    # s5: a user message, no bot reply, then a handoff -> "no reason in the data"
    *session("s5", at(4, 10), user("hello?"), handoff(), agent(), channel="whatsapp"),
    # s6: no user message: a handoff here is not counted (not a conversation)
    *session("s6", at(5, 10), handoff(), agent(), channel="web"),
    # s7: understood, lead captured, rated; two bot rows after one user message: only the first is a reply
    *session(
        "s7",
        at(6, 10),
        user("book a demo"),
        bot("Sure, what's your email?", "demo_request", confidence=0.4, latency_ms=700.0, tokens_in=500),
        bot("(typing...)", None),
        user("me at [email]"),
        bot("Thanks!", "provide_contact", confidence=0.99, latency_ms=800.0, tokens_out=20),
        ("system", {"event": "lead_captured"}),
        ("system", {"event": "csat", "csat": 5.0}),
        channel="web",
    ),
    # s8: the week before: one conversation, rated, not handed off
    *session(
        "s8",
        at(-3, 10),
        user("pricing please"),
        bot("Starter is $19.", "pricing", confidence=0.9, latency_ms=900.0),
        ("system", {"event": "csat", "csat": 3.0}),
        channel="web",
    ),
    # s9: after the week: never counted
    *session("s9", at(7, 10), user("hi"), bot("Hello!", "other", confidence=0.9), channel="web"),
]

LEADS: list[dict[str, Any]] = [
    # the lead of s7, qualified 2 days after its creation
    {"lead_id": "L1", "stage": "new", "changed_at": at(6, 20), "session_id": "s7", "source": "chatbot"},
    {"lead_id": "L1", "stage": "mql", "changed_at": at(8, 20), "session_id": "s7", "source": "chatbot"},
    # a lead naming s2 that never qualifies
    {"lead_id": "L2", "stage": "new", "changed_at": at(1, 30), "session_id": "s2", "source": "chatbot"},
    # a form lead without a session: never a chatbot lead
    {"lead_id": "L3", "stage": "new", "changed_at": at(2, 0), "source": "form"},
    # a change far later, so the data's last lead change is day 30
    {"lead_id": "L3", "stage": "mql", "changed_at": at(30, 0), "source": "form"},
]


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("chat") / "small.duckdb"
    con = connect(path)
    try:
        insert(con, "raw.chat_events", SESSIONS)
        insert(con, "raw.leads", LEADS)
        build(con)
    finally:
        con.close()
    return path


@pytest.fixture
def small_con(small_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(small_warehouse, read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def demo_read(demo_warehouse: tuple[Path, Any]) -> Iterator[Callable[..., Any]]:
    """Call a function with a read-only connection to the demo warehouse (module-scoped, for shared reports)."""
    con = connect(demo_warehouse[0], read_only=True)

    def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return function(con, *args, **kwargs)

    yield call
    con.close()
