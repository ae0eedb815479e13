"""`insights forget`: erase one person from every table of the warehouse.

Identifiers are stored as keyed pseudonyms, so the person is found by recomputing their pseudonym
with the key. Their chat events, leads (every stage row of those leads), experiment assignments (of the
person, and of their sessions when sessions were randomised) and
rejected rows are deleted in one transaction, the marts are rebuilt from what remains, and the file
is rewritten so that no deleted row survives in free pages of the database file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from insights import config
from insights.errors import ConfigurationError, InvalidParameterError
from insights.ingestion.privacy import load_key, pseudonym
from insights.warehouse import connect
from insights.warehouse.connection import first_row


@dataclass(frozen=True)
class ForgetReport:
    """How many rows were removed, per table."""

    who: str
    removed: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.removed.values())

    def to_dict(self) -> dict[str, Any]:
        return {"who": self.who, "removed": self.removed, "total": self.total}

    def __str__(self) -> str:
        if not self.total:
            return f"No rows of {self.who} were found; nothing was removed."
        lines = [f"Removed {self.total:,} rows of {self.who}:"]
        lines += [f"  {table:<22} {n:>8,}" for table, n in self.removed.items() if n]
        return "\n".join(lines)


def _compact(db: Path) -> None:
    """Rewrite the database file so deleted rows do not linger in its free blocks."""
    fresh = db.with_name(db.name + ".compact")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = connect(db, create=False)
    try:
        con.execute(f"ATTACH '{str(fresh).replace(chr(39), chr(39) * 2)}' AS fresh")
        con.execute("COPY FROM DATABASE " + first_row(con.execute("SELECT current_database()"))[0] + " TO fresh")  # type: ignore[index]
        con.execute("DETACH fresh")
    finally:
        con.close()
    os.replace(fresh, db)


def forget(
    *,
    user_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    db: str | os.PathLike[str] | None = None,
) -> ForgetReport:
    """Delete every row that belongs to one person, identified by user id, email or phone."""
    given = [(k, v) for k, v in (("user", user_id), ("email", email), ("phone", phone)) if v]
    if len(given) != 1:
        raise InvalidParameterError("Pass exactly one of user_id, email or phone to forget.")
    what, value = given[0]
    db_file = config.db_path(db)
    key_file = config.key_path(db_file)
    if not key_file.exists():
        raise ConfigurationError(
            f"{key_file}: the pseudonymization key is missing, so nobody can be looked up; "
            "restore the key file that was used when the data was loaded."
        )
    key = load_key(key_file)
    assert value is not None
    pii = {"user": "id", "email": "email", "phone": "phone"}[what]
    token = pseudonym(value, pii, key)  # type: ignore[arg-type]
    removed: dict[str, int] = {}
    con = connect(db_file, create=False)
    try:
        con.execute("BEGIN TRANSACTION")
        column = {"user": "user_id", "email": "email", "phone": "phone"}[what]
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _leads AS SELECT DISTINCT lead_id FROM raw.leads WHERE {column} = $t",
            {"t": token},
        )
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _users AS
               SELECT $t AS user_id WHERE $what = 'user'
               UNION SELECT user_id FROM raw.leads
               WHERE lead_id IN (SELECT lead_id FROM _leads) AND user_id IS NOT NULL""",
            {"t": token, "what": what},
        )
        # assignments first: a session-level assignment is found through the person's chat events
        statements = {
            "raw.assignments": """DELETE FROM raw.assignments WHERE unit_id IN (SELECT user_id FROM _users)
                OR (lower(unit_type) = 'session' AND unit_id IN (
                    SELECT session_id FROM raw.chat_events WHERE user_id IN (SELECT user_id FROM _users)))""",
            "raw.leads": "DELETE FROM raw.leads WHERE lead_id IN (SELECT lead_id FROM _leads)",
            "raw.chat_events": "DELETE FROM raw.chat_events WHERE user_id IN (SELECT user_id FROM _users)",
        }
        for table, sql in statements.items():
            row = first_row(con.execute(sql))
            removed[table] = int(row[0]) if row else 0
        users = [str(r[0]) for r in con.execute("SELECT user_id FROM _users").fetchall()]
        n = 0
        for t in {token, *users}:
            row = first_row(con.execute("DELETE FROM meta.rejects WHERE contains(raw, $t)", {"t": t}))
            n += int(row[0]) if row else 0
        removed["meta.rejects"] = n
        con.execute("COMMIT")
        if any(removed.values()):
            from insights.warehouse.build import build

            build(con)
    finally:
        con.close()
    if any(removed.values()):
        _compact(db_file)
    return ForgetReport(who=f"{what} {value}", removed=removed)
