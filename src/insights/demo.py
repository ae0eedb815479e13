"""The main job on the embedded default: demo logs -> ingest -> build -> check -> summary.

`insights demo` (and `make run`) calls `run_demo`. The demo logs carry a few planted malformed
rows, so the summary shows the reject path working, not only the happy one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from insights import config
from insights.ingestion import LoadReport, ingest
from insights.warehouse import connect

#: Kinds in load order (posts first, so later marts can relate to them).
LOAD_ORDER = ("posts", "post_metrics", "chat_events", "leads", "assignments")
DEMO_MALFORMED_ROWS = 12


@dataclass(frozen=True)
class DemoSummary:
    """Everything the main job did, printable as a short report."""

    db: str
    loads: tuple[LoadReport, ...]
    build: Any
    checks: Any
    warehouse: Any
    seconds: float
    #: the planted effects of the generated logs (insights.datasets.DemoTruth)
    truth: Any = None

    @property
    def checks_passed(self) -> bool:
        return bool(self.checks.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "db": self.db,
            "loads": [r.to_dict() for r in self.loads],
            "build": self.build.to_dict(),
            "checks": self.checks.to_dict(),
            "warehouse": self.warehouse.to_dict(),
            "seconds": round(self.seconds, 2),
        }

    def __str__(self) -> str:
        lines = ["Loaded the demo logs:"]
        for r in self.loads:
            lines.append(
                f"  {r.kind:<13} {r.rows_read:>9,} read  {r.rows_loaded:>9,} loaded  "
                f"{r.rows_rejected:>4,} rejected  {r.rows_duplicate:>4,} duplicate"
            )
        failed = [c for c in self.checks.results if not c.passed]
        lines += [
            "",
            str(self.warehouse),
            "",
            f"Built {len(self.build.models)} models; {len(self.checks.results) - len(failed)} of "
            f"{len(self.checks.results)} column checks passed.",
        ]
        lines += [f"  FAILED {c.model}.{c.column}: {c.check} ({c.failures} rows)" for c in failed]
        lines += ["", f"Done in {self.seconds:.1f} s. The warehouse is {self.db}"]
        return "\n".join(lines)


def run_demo(
    *,
    db: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] = Path("data") / "demo",
    seed: int = 7,
    n_posts: int = 2000,
    n_sessions: int = 20000,
    fresh: bool = True,
    end: date | str | None = None,
) -> DemoSummary:
    """Generate the demo logs, load them into the warehouse, build it, check it and summarize it.

    ``end`` is the last day of the data (default: last Sunday), as in :func:`insights.datasets.generate_demo`.
    """
    from insights.datasets import generate_demo
    from insights.warehouse.build import build
    from insights.warehouse.checks import run_checks
    from insights.warehouse.summary import summarize

    started = time.perf_counter()
    db_file = config.db_path(db)
    if fresh:
        for stale in (db_file, db_file.with_name(db_file.name + ".wal")):
            stale.unlink(missing_ok=True)
    logs = generate_demo(
        Path(out_dir), seed=seed, n_posts=n_posts, n_sessions=n_sessions, malformed=DEMO_MALFORMED_ROWS, end=end
    )
    loads = tuple(ingest(kind, logs.files[kind], db=db_file) for kind in LOAD_ORDER)
    with connect(db_file) as con:
        built = build(con)
        checks = run_checks(con)
        warehouse = summarize(con, db=str(db_file))
    return DemoSummary(
        db=str(db_file),
        loads=loads,
        build=built,
        checks=checks,
        warehouse=warehouse,
        seconds=time.perf_counter() - started,
        truth=logs.truth,
    )
