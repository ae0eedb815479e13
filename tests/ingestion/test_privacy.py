"""Personal data: pseudonyms, redaction, the key outside the database, forgetting a person."""

from __future__ import annotations

import stat

import duckdb
import pytest

from insights import ingest
from insights.config import key_path
from insights.ingestion.privacy import pseudonym, redact
from insights.privacy import forget
from tests.conftest import CHAT_HEADER, chat_rows

EMAILS = ["jane.doe@example.com", "J.Smith+promo@mail.example.co.uk"]
PHONES = ["+1 415 555 0134", "(212) 555-0199", "06 12 34 56 78"]
CARD = "4111 1111 1111 1111"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane.doe@example.com today", "write to [email] today"),
        ("call +1 415 555 0134 or (212) 555-0199", "call [phone] or [phone]"),
        ("mon numéro: 06 12 34 56 78", "mon numéro: [phone]"),
        (f"card {CARD} exp 12/28", "card [card] exp 12/28"),
        ("meet on 2026-03-01 at 10:30, plan 3 costs 20 dollars, order 1234567", None),
    ],
)
def test_redaction_patterns(text, expected):
    assert redact(text) == (text if expected is None else expected)


def _load_personal_data(db, write_csv):
    rows = chat_rows(6)
    rows[0][1] = EMAILS[0]  # a user id that is an email
    rows[1][4] = f"reach me at {EMAILS[1]} or {PHONES[0]}"
    rows[2][4] = f"my card is {CARD}, phone {PHONES[1]}"
    rows[3][2] = f"bad time {EMAILS[1]}"  # rejected row: its raw copy must be protected too
    ingest("chat", [write_csv([CHAT_HEADER, *rows], "chat.csv")], db=db)
    leads = [
        ("lead_id", "stage", "changed_at", "user_id", "email", "phone", "notes"),
        ("L1", "new", "2026-03-01T10:00:00Z", "user0", EMAILS[1], PHONES[2], f"call {PHONES[1]}"),
        ("L1", "mql", "2026-03-02T10:00:00Z", "user0", EMAILS[1], PHONES[2], ""),
        ("L2", "new", "2026-03-01T10:00:00Z", "user9", "other@example.org", "+33 6 11 22 33 44", ""),
    ]
    ingest("leads", [write_csv(leads, "leads.csv")], db=db)


def test_no_raw_email_or_phone_anywhere_in_the_database_file(db, write_csv):
    _load_personal_data(db, write_csv)
    with duckdb.connect(str(db)) as con:
        con.execute("CHECKPOINT")
    data = db.read_bytes()
    for secret in [*EMAILS, *PHONES, CARD, "other@example.org", "+33 6 11 22 33 44"]:
        for variant in {secret, secret.lower(), secret.replace(" ", "")}:
            assert variant.encode() not in data, variant


def test_pseudonyms_are_keyed_stable_and_join(db, write_csv):
    _load_personal_data(db, write_csv)
    key_file = key_path(db)
    assert key_file.exists() and key_file.parent == db.parent
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    with duckdb.connect(str(db), read_only=True) as con:
        chat_user = con.execute("SELECT DISTINCT user_id FROM raw.chat_events WHERE session_id = 's1'").fetchall()
        lead = con.execute("SELECT DISTINCT user_id, email, phone FROM raw.leads WHERE lead_id = 'L1'").fetchall()
    assert chat_user == [(pseudonym("user0", "id", key),)]
    assert lead == [
        (
            pseudonym("user0", "id", key),
            pseudonym("j.smith+promo@mail.example.co.uk", "email", key),
            pseudonym("06 12 34 56 78", "phone", key),
        )
    ]
    assert pseudonym("user0", "id", "0" * 64) != pseudonym("user0", "id", key)


def test_forget_removes_a_person_everywhere(db, write_csv):
    _load_personal_data(db, write_csv)
    report = forget(user_id="user0", db=db)
    # user0's chat rows (rows 1, 2, 4 and 5; row 0 has another user, row 3 was rejected), both stage rows
    # of their lead L1, and the rejected row
    assert report.removed["raw.chat_events"] == 4
    assert report.removed["raw.leads"] == 2
    assert report.removed["meta.rejects"] == 1
    assert "Removed" in str(report)
    key = key_path(db).read_text().strip()
    token = pseudonym("user0", "id", key)
    with duckdb.connect(str(db), read_only=True) as con:
        for table in ("raw.chat_events", "raw.leads", "marts.chat_sessions", "marts.leads", "marts.lineage"):
            n = con.execute(f"SELECT count(*) FROM {table} WHERE user_id = ?", [token]).fetchone()
            assert n == (0,), table
        assert con.execute("SELECT count(*) FROM raw.leads WHERE lead_id = 'L2'").fetchone() == (1,)
    assert token.encode() not in db.read_bytes()
    assert forget(user_id="user0", db=db).total == 0


def test_forget_removes_the_person_s_user_and_session_assignments(db, write_csv):
    _load_personal_data(db, write_csv)
    assignments = [
        ("experiment_id", "unit_id", "variant", "assigned_at", "unit_type"),
        ("exp-a", "user0", "control", "2026-03-01T09:00:00Z", "user"),
        ("exp-a", "user9", "treatment", "2026-03-01T09:00:00Z", "user"),
        ("exp-b", "s1", "treatment", "2026-03-01T10:00:04Z", "session"),  # one of user0's sessions
        ("exp-b", "s9", "control", "2026-03-01T10:00:04Z", "session"),
    ]
    ingest("assignments", [write_csv(assignments, "assignments.csv")], db=db)
    report = forget(user_id="user0", db=db)
    assert report.removed["raw.assignments"] == 2
    with duckdb.connect(str(db), read_only=True) as con:
        left = con.execute("SELECT experiment_id, unit_type FROM raw.assignments ORDER BY 1, 2").fetchall()
    assert left == [("exp-a", "user"), ("exp-b", "session")]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT unit_id FROM raw.assignments WHERE unit_type = 'session'").fetchall() == [("s9",)]
