"""The personal data planted in the files is all listed in the truth, so a test can prove it is gone."""

from __future__ import annotations

import re

import duckdb

from insights.datasets import DemoLogs

EMAIL = re.compile(r"[a-z]+\.[a-z]+\d+@example\.(?:com|net|org)")
PHONE = re.compile(r"(?:\+1 \d{3} 555 01\d\d|\(\d{3}\) 555-01\d\d|\d{3}-555-01\d\d)")
CARD = re.compile(r"\b(?:\d[ -]?){13,16}\b")


def _texts(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0] for r in con.execute("SELECT text FROM chat_events WHERE role = 'user' AND text IS NOT NULL").fetchall()
    ]


def test_truth_lists_every_email_phone_and_card_in_chat_texts(con: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    pii = demo.truth.pii
    texts = _texts(con)
    found_emails = {m for t in texts for m in EMAIL.findall(t)}
    found_phones = {m for t in texts for m in PHONE.findall(t)}
    found_cards = {m.strip() for t in texts for m in CARD.findall(t)}
    assert found_emails and found_phones and found_cards
    assert found_emails <= set(pii.emails)
    assert found_phones <= set(pii.phones)
    assert found_cards == set(pii.cards)
    assert len(pii.cards) >= 4 and len(pii.emails) > 1000 and len(pii.phones) > 300


def test_every_planted_value_is_in_a_file(con: duckdb.DuckDBPyConnection, demo: DemoLogs) -> None:
    pii = demo.truth.pii
    blob = "\n".join(_texts(con))
    lead_emails = {r[0] for r in con.execute("SELECT DISTINCT email FROM leads WHERE email IS NOT NULL").fetchall()}
    lead_phones = {r[0] for r in con.execute("SELECT DISTINCT phone FROM leads WHERE phone IS NOT NULL").fetchall()}
    assert lead_emails <= set(pii.emails) and lead_phones <= set(pii.phones)
    assert all(e in lead_emails or e in blob for e in pii.emails)
    assert all(p in lead_phones or p in blob for p in pii.phones)
    assert all(c in blob for c in pii.cards)


def test_chatbot_leads_carry_the_contact_the_user_typed(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        """
        SELECT count(*), count(*) FILTER (WHERE contains(c.text, l.email)),
               count(*) FILTER (WHERE l.phone IS NOT NULL AND NOT contains(c.text, l.phone))
        FROM (SELECT DISTINCT lead_id, session_id, email, phone FROM leads WHERE source = 'chatbot') l
        JOIN chat_events c ON c.session_id = l.session_id AND c.role = 'user'
             AND c.ts = (SELECT max(ts) FROM chat_events x WHERE x.session_id = l.session_id AND x.role = 'user')
        """
    ).fetchone()
    assert row is not None and row[0] > 1000 and row[1] == row[0] and row[2] == 0
