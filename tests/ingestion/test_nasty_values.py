"""Nasty values are data, not code."""

from __future__ import annotations

import duckdb

from insights import ingest
from tests.conftest import CHAT_HEADER, chat_rows

SQLISH = "'); DROP TABLE raw.chat_events; --"


def _rows(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()


def test_sql_in_values_and_column_names_is_stored_verbatim(db, write_csv):
    header = (*CHAT_HEADER, SQLISH, 'x" ; SELECT 1; --')
    rows = [[*r, SQLISH, '=HYPERLINK("http://evil","click")'] for r in chat_rows(3)]
    rows[0][4] = SQLISH
    rows[1][4] = '=HYPERLINK("http://evil.example","click me")'
    rows[2][4] = "+cmd|' /C calc'!A0"
    report = ingest("chat", [write_csv([header, *rows])], db=db)
    assert report.rows_loaded == 3
    texts = sorted(r[0] for r in _rows(db, "SELECT text FROM raw.chat_events"))
    assert texts == sorted([SQLISH, '=HYPERLINK("http://evil.example","click me")', "+cmd|' /C calc'!A0"])
    extra = _rows(db, "SELECT extra FROM raw.chat_events LIMIT 1")[0][0]
    assert SQLISH in extra and 'x\\" ; SELECT 1; --' in extra


def test_huge_text_emoji_bom_crlf_and_semicolons(db, write_csv):
    rows = chat_rows(4)
    rows[0][4] = "x" * 10_000_000
    rows[1][4] = "Great 👍🏽 ça marche — 日本語; with; semicolons"
    rows[2][4] = "line one\nline two"
    path = write_csv([CHAT_HEADER, *rows], delimiter=";", bom=True, crlf=True)
    report = ingest("chat", [path], db=db)
    assert report.rows_loaded == 4, report
    assert _rows(db, "SELECT max(length(text)) FROM raw.chat_events") == [(10_000_000,)]
    assert _rows(db, "SELECT text FROM raw.chat_events WHERE text LIKE 'Great%'") == [(rows[1][4],)]
    assert _rows(db, "SELECT count(*) FROM raw.chat_events WHERE text = 'line one\nline two'") == [(1,)]


def test_mixed_timestamp_offsets_are_the_same_instant(db, write_csv):
    rows = chat_rows(4)
    for r, ts in zip(
        rows,
        [
            "2026-03-01T12:00:00Z",
            "2026-03-01T14:00:00+02:00",
            "2026-03-01T07:00:00-05:00",
            "2026-03-01T17:30:00+05:30",
        ],
        strict=True,
    ):
        r[2] = ts
        r[0] = "same"
    rows = [[*r[:3], r[3], f"{i}", *r[5:]] for i, r in enumerate(rows)]
    ingest("chat", [write_csv([CHAT_HEADER, *rows])], db=db)
    assert _rows(db, "SELECT count(DISTINCT ts), strftime(min(ts), '%H:%M') FROM raw.chat_events") == [(1, "12:00")]
