"""Ingestion benchmark: insights' load against the plain-DuckDB limit and the tools users would pick.

    python -m bench.ingest [--rows 10000000] [--repeat 3] [--formats csv parquet] [--tools pandas polars]

Generates (once, cached under bench/data/) a chat_events log of --rows rows as CSV and as Parquet, then
runs every method --repeat times, each in its own fresh process writing a fresh database file:

- plain duckdb: CREATE TABLE AS SELECT * FROM read_csv/read_parquet, the engine's own limit
  (types sniffed, no validation, no deduplication, no privacy);
- insights: `insights ingest chat FILE --no-build` (validation, rejects, deduplication on the natural
  key, pseudonymization and redaction, the load ledger);
- pandas / polars: read the file into a data frame, then CREATE TABLE AS SELECT from it in DuckDB.

Each run's time includes closing the database (its checkpoint), so every method is timed until the rows
are durable. Peak memory is the child process's peak resident set. The machine is noisy: the table shows
medians, and ratios to plain DuckDB measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent

PLAIN = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
reader = "read_parquet" if sys.argv[1].endswith(".parquet") else "read_csv"
con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}('{sys.argv[1]}')")
print(con.execute("SELECT count(*) FROM t").fetchone()[0])
con.close()
"""

INSIGHTS = """
import sys
from insights import ingest
report = ingest("chat", [sys.argv[1]], db=sys.argv[2])
print(report.rows_loaded)
"""

PANDAS = """
import duckdb, sys, pandas as pd
path = sys.argv[1]
df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE t AS SELECT * FROM df")
print(con.execute("SELECT count(*) FROM t").fetchone()[0])
con.close()
"""

POLARS = """
import duckdb, sys, polars as pl
path = sys.argv[1]
df = pl.read_parquet(path) if path.endswith(".parquet") else pl.read_csv(path)
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE t AS SELECT * FROM df")
print(con.execute("SELECT count(*) FROM t").fetchone()[0])
con.close()
"""

# Each child ends by printing its own peak resident set (VmHWM belongs to the process image, so unlike
# ru_maxrss it does not inherit the parent's size across fork and exec).
PEAK = """
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""
METHODS = {
    name: code + PEAK
    for name, code in {
        "plain duckdb": PLAIN,
        "insights": INSIGHTS,
        "pandas": PANDAS,
        "polars": POLARS,
    }.items()
}


@dataclass
class Run:
    method: str
    format: str
    seconds: float
    peak_rss_mb: float
    rows: int


def _run(method: str, path: Path, workdir: Path) -> Run:
    db = workdir / f"{method.replace(' ', '_')}.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    env = {**os.environ, "INSIGHTS_KEY_FILE": str(workdir / "bench.key")}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", METHODS[method], str(path), str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{method} on {path.name} failed:\n{err}")
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    rows, peak_kb = out.strip().splitlines()[-2:]
    return Run(method, path.suffix.lstrip("."), seconds, int(peak_kb) / 1024, int(rows))


def _inputs(rows: int, formats: list[str]) -> dict[str, Path]:
    """The input files, generated once in a child process (keeping this process small)."""
    folder = HERE / "data"
    folder.mkdir(exist_ok=True)
    paths = {}
    for fmt in formats:
        path = folder / f"chat_events_{rows}.{fmt}"
        if not path.exists():
            print(f"generating {path.name} ...", flush=True)
            code = "import sys; from insights.datasets import generate_chat_events as g; g(sys.argv[1], int(sys.argv[2]), seed=11, file_format=sys.argv[3])"
            subprocess.run([sys.executable, "-c", code, str(path), str(rows), fmt], check=True)
        paths[fmt] = path
    return paths


def _table(runs: list[Run], rows: int) -> str:
    lines = [
        "| format | method | median s | rows/s | vs plain duckdb | peak memory MB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    fmts = sorted({r.format for r in runs})
    for fmt in fmts:
        plain = statistics.median(r.seconds for r in runs if r.format == fmt and r.method == "plain duckdb")
        for method in METHODS:
            mine = [r for r in runs if r.format == fmt and r.method == method]
            if not mine:
                continue
            med = statistics.median(r.seconds for r in mine)
            peak = max(r.peak_rss_mb for r in mine)
            lines.append(
                f"| {fmt} | {method} | {med:.1f} | {rows / med / 1e6:.2f} M | {plain / med:.2f}x throughput | {peak:,.0f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", nargs="+", default=["csv", "parquet"], choices=["csv", "parquet"])
    parser.add_argument("--tools", nargs="*", default=["pandas", "polars"], choices=["pandas", "polars"])
    args = parser.parse_args(argv)
    methods = ["plain duckdb", "insights", *args.tools]
    paths = _inputs(args.rows, args.formats)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(dir=HERE / "data") as tmp:
        for i in range(args.repeat):
            for fmt, path in paths.items():
                # Rotate the order so no method always runs on a warm or a cold page cache.
                order = methods[i % len(methods) :] + methods[: i % len(methods)]
                for method in order:
                    run = _run(method, path, Path(tmp))
                    print(f"  {fmt:<8} {method:<13} {run.seconds:6.1f} s  {run.peak_rss_mb:7.0f} MB", flush=True)
                    runs.append(run)
    table = _table(runs, args.rows)
    print()
    print(f"{args.rows:,} chat events, {args.repeat} runs each, {os.cpu_count()} cores, {platform.python_version()}")
    print(table)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (results / f"ingest-{stamp}.json").write_text(
        json.dumps({"rows": args.rows, "runs": [asdict(r) for r in runs], "table": table}, indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
