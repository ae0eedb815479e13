"""Where things are by default, and the environment variables that move them."""

from __future__ import annotations

import os
from pathlib import Path

#: The embedded default warehouse, relative to the working directory.
DEFAULT_DB = Path("data") / "insights.duckdb"
#: Default timezone for timestamps that carry no offset.
DEFAULT_TIMEZONE = "UTC"


def db_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: the argument, else $INSIGHTS_DB, else data/insights.duckdb."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get("INSIGHTS_DB") or DEFAULT_DB)


def key_path(db: Path) -> Path:
    """The pseudonymization key: $INSIGHTS_KEY_FILE, else a hidden file beside the warehouse.

    The key never goes into the warehouse file itself, so a copy of the database alone cannot be
    used to re-identify anybody.
    """
    env = os.environ.get("INSIGHTS_KEY_FILE")
    if env:
        return Path(env)
    return db.with_name(f".{db.name}.key")
