"""The load report: what one `insights ingest` did, file by file.

The same object is returned by `insights.ingest(...)`, printed by the CLI and dumped by `--json`.
Invariant, per file and in total: rows_loaded + rows_rejected + rows_duplicate == rows_read.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class FileReport:
    """One input file's load."""

    file: str
    format: str
    load_id: int | None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_duplicate: int
    reject_reasons: dict[str, int] = field(default_factory=dict)
    empty_cells: dict[str, int] = field(default_factory=dict)
    columns_absent: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    duplicate_of: int | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class LoadReport:
    """Every file of one ingest call, with totals."""

    kind: str
    db: str
    files: tuple[FileReport, ...]
    seconds: float

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_duplicate(self) -> int:
        return sum(f.rows_duplicate for f in self.files)

    @property
    def reject_reasons(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.reject_reasons)
        return dict(total.most_common())

    @property
    def empty_cells(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.empty_cells)
        return {k: v for k, v in sorted(total.items()) if v}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "db": self.db,
            "files": [asdict(f) for f in self.files],
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "rows_duplicate": self.rows_duplicate,
            "reject_reasons": self.reject_reasons,
            "empty_cells": self.empty_cells,
            "seconds": round(self.seconds, 3),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=list)

    def __str__(self) -> str:
        lines = [f"Loaded {self.kind} into {self.db} in {self.seconds:.1f} s"]
        header = ("file", "read", "loaded", "rejected", "duplicate")
        rows = [
            (
                f.file + (f"  (already loaded as load {f.duplicate_of})" if f.duplicate_of else ""),
                f.rows_read,
                f.rows_loaded,
                f.rows_rejected,
                f.rows_duplicate,
            )
            for f in self.files
        ]
        if len(self.files) > 1:
            rows.append(("total", self.rows_read, self.rows_loaded, self.rows_rejected, self.rows_duplicate))
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        fmt = "  ".join([f"{{:<{widths[0]}}}"] + [f"{{:>{w}}}" for w in widths[1:]])
        lines += [fmt.format(*header), *(fmt.format(*r) for r in rows)]
        if self.reject_reasons:
            lines.append("rejected rows (see meta.rejects for file, line and content):")
            lines += [f"  {n:>8}  {reason}" for reason, n in self.reject_reasons.items()]
        if self.empty_cells:
            lines.append("empty cells kept as NULL: " + ", ".join(f"{k} {v}" for k, v in self.empty_cells.items()))
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return "```\n" + str(self) + "\n```"
