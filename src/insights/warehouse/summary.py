"""A short account of what the warehouse holds: rows per table, date ranges, rejected rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from insights.warehouse.connection import first_row

_RANGES = (
    ("posts", "raw.posts", "published_at"),
    ("post metrics", "raw.post_metrics", "observed_at"),
    ("chat events", "raw.chat_events", "ts"),
    ("leads", "raw.leads", "changed_at"),
    ("assignments", "raw.assignments", "assigned_at"),
)


@dataclass(frozen=True)
class WarehouseSummary:
    """Rows per table, the time span of each log, and the rejected rows by reason."""

    db: str
    size_bytes: int | None
    tables: dict[str, int]
    date_ranges: dict[str, tuple[str, str] | None]
    rows_rejected: int
    reject_reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "db": self.db,
            "size_bytes": self.size_bytes,
            "tables": self.tables,
            "date_ranges": {k: list(v) if v else None for k, v in self.date_ranges.items()},
            "rows_rejected": self.rows_rejected,
            "reject_reasons": self.reject_reasons,
        }

    def __str__(self) -> str:
        size = f" ({self.size_bytes / 1e6:.1f} MB)" if self.size_bytes else ""
        lines = [f"Warehouse: {self.db}{size}", "", "rows per table:"]
        width = max((len(t) for t in self.tables), default=10)
        lines += [f"  {t:<{width}}  {n:>10,}" for t, n in self.tables.items()]
        lines += ["", "date range (UTC):"]
        for name, span in self.date_ranges.items():
            lines.append(f"  {name:<13} " + (f"{span[0]}  to  {span[1]}" if span else "no rows"))
        lines += [
            "",
            f"rejected rows: {self.rows_rejected:,}" + (" (see meta.rejects)" if self.rows_rejected else ""),
        ]
        lines += [f"  {n:>8,}  {reason}" for reason, n in list(self.reject_reasons.items())[:8]]
        return "\n".join(lines)


def summarize(con: duckdb.DuckDBPyConnection, db: str = "") -> WarehouseSummary:
    """Summarize the warehouse behind `con`."""
    tables = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('raw', 'staging', 'marts') AND table_type = 'BASE TABLE' "
        "ORDER BY CASE table_schema WHEN 'raw' THEN 1 WHEN 'staging' THEN 2 ELSE 3 END, table_name"
    ).fetchall()
    counts: dict[str, int] = {}
    for (name,) in tables:
        schema, table = str(name).split(".", 1)
        row = first_row(con.execute(f'SELECT count(*) FROM "{schema}"."{table}"'))
        counts[str(name)] = int(row[0]) if row else 0
    ranges: dict[str, tuple[str, str] | None] = {}
    for label, table, column in _RANGES:
        span = f"strftime(min({column}), '%Y-%m-%d %H:%M'), strftime(max({column}), '%Y-%m-%d %H:%M')"
        row = first_row(con.execute(f"SELECT {span} FROM {table}"))
        ranges[label] = (str(row[0]), str(row[1])) if row and row[0] is not None else None
    reasons = con.execute("SELECT reason, count(*) FROM meta.rejects GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    path = Path(db) if db else None
    return WarehouseSummary(
        db=db or "(in memory)",
        size_bytes=path.stat().st_size if path and path.exists() else None,
        tables=counts,
        date_ranges=ranges,
        rows_rejected=sum(int(n) for _, n in reasons),
        reject_reasons={str(r): int(n) for r, n in reasons},
    )
