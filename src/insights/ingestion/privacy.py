"""Pseudonymization and redaction, as SQL the engine runs on every row before it is stored.

Identifiers (user ids, emails, phones) become keyed SHA-256 pseudonyms: the same person gets the same
pseudonym in every table, so joins still work, but without the key nobody can recompute it. The key
is a random 256-bit secret kept in a file outside the warehouse, created on first use.
Free text has emails, card numbers and phone numbers replaced by [email], [card] and [phone].
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

from insights.contract import PiiKind
from insights.errors import ConfigurationError

#: Patterns (RE2 syntax, which DuckDB uses; they also work in Python's re).
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
CARD_PATTERN = r"\b\d(?:[ -]?\d){12,18}\b"
# International numbers with a '+', North American 3-3-4, European 0X XX XX XX XX, or a bare run of
# 9 to 15 digits. Dates, times, prices and short order numbers are left alone.
PHONE_PATTERN = (
    r"\+\d(?:[\s().-]{0,2}\d){7,14}"
    r"|\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}\b"
    r"|\b0\d(?:[\s.-]?\d\d){4}\b"
    r"|\b\d{9,15}\b"
)
# Cheap test that skips the replacements for text that cannot hold any of the above.
_PREFILTER = r"@|\d[\s().-]{0,2}\d[\s().-]{0,2}\d[\s().-]{0,2}\d[\s().-]{0,2}\d[\s().-]{0,2}\d[\s().-]{0,2}\d"

_PREFIXES: dict[str, str] = {"id": "u_", "email": "e_", "phone": "p_"}
_PSEUDONYM_HEX = 20  # 80 bits: collisions stay improbable well past a billion people


def sql_string(value: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def redact_sql(expr: str) -> str:
    """SQL that returns `expr` with emails, card numbers and phone numbers replaced."""
    replaced = f"regexp_replace({expr}, {sql_string(EMAIL_PATTERN)}, '[email]', 'g')"
    replaced = f"regexp_replace({replaced}, {sql_string(CARD_PATTERN)}, '[card]', 'g')"
    replaced = f"regexp_replace({replaced}, {sql_string(PHONE_PATTERN)}, '[phone]', 'g')"
    return f"(CASE WHEN regexp_matches({expr}, {sql_string(_PREFILTER)}) THEN {replaced} ELSE {expr} END)"


def normalize_sql(expr: str, pii: PiiKind) -> str:
    """How an identifier is normalized before hashing, so 'A@B.com ' and 'a@b.com' match."""
    if pii == "email":
        return f"lower(trim({expr}))"
    if pii == "phone":
        return f"regexp_replace({expr}, '[^0-9+]', '', 'g')"
    return f"trim({expr})"


def token_sql(normalized: str, pii: PiiKind, key_param: str = "$key") -> str:
    """SQL for the keyed pseudonym of an already normalized value; the key is a bound parameter."""
    digest = f"sha256({key_param} || '|' || {normalized})"
    return f"('{_PREFIXES[pii]}' || left({digest}, {_PSEUDONYM_HEX}))"


def pseudonym_sql(expr: str, pii: PiiKind, key_param: str = "$key") -> str:
    """SQL for the keyed pseudonym of `expr`."""
    return token_sql(normalize_sql(expr, pii), pii, key_param)


def pseudonym(value: str, pii: PiiKind, key: str) -> str:
    """The same pseudonym as `pseudonym_sql`, computed in Python (for `insights forget`)."""
    if pii == "email":
        norm = value.strip().lower()
    elif pii == "phone":
        norm = re.sub(r"[^0-9+]", "", value)
    else:
        norm = value.strip()
    digest = hashlib.sha256(f"{key}|{norm}".encode()).hexdigest()
    return _PREFIXES[pii] + digest[:_PSEUDONYM_HEX]


def redact(text: str) -> str:
    """Python twin of `redact_sql`, for text that never passes through the engine."""
    text = re.sub(EMAIL_PATTERN, "[email]", text)
    text = re.sub(CARD_PATTERN, "[card]", text)
    return re.sub(PHONE_PATTERN, "[phone]", text)


def load_key(path: Path) -> str:
    """Read the pseudonymization key, creating it (readable by the owner only) on first use."""
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise ConfigurationError(
                f"{path}: the pseudonymization key is damaged (expected 64 hex characters); "
                "restore it from your backup, or move it away to start a new key (old pseudonyms will not match)."
            )
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    os.replace(tmp, path)
    return key
