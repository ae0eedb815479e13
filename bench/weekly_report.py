"""Weekly report benchmark: `insights report weekly` on about a million post snapshots and five million chat events.

    python -m bench.weekly_report [--posts 170000] [--sessions 500000] [--repeat 3]

Generates the demo logs once (Parquet, cached under bench/data/weekly-<posts>-<sessions>-<end>/ with the
warehouse built from them: ingest per kind without building, then one build), then runs the command a marketer's
scheduler runs, `insights report weekly --force`, --repeat times, each in its own fresh process (imports, kernel
start and all), and prints the wall time of each run with the split its manifest records: query time (the
report's SQL, inside the notebook), notebook execution (kernel start and queries included) and HTML export.
The target is under 60 s on 2 cores. Results are also written to bench/results/weekly-report-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KINDS = ("posts", "post_metrics", "chat_events", "leads", "assignments")


def build_warehouse(folder: Path, n_posts: int, n_sessions: int, end: str) -> Path:
    """The cached warehouse of the demo at this size; generated, loaded and built on the first call."""
    from insights import ingest
    from insights.datasets import generate_demo
    from insights.warehouse import connect
    from insights.warehouse.build import build

    db = folder / "insights.duckdb"
    if db.is_file() and (folder / "READY").is_file():
        return db
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    logs = generate_demo(folder / "logs", n_posts=n_posts, n_sessions=n_sessions, end=end, file_format="parquet")
    print(f"generated the demo logs in {time.perf_counter() - t0:.0f} s", flush=True)
    t0 = time.perf_counter()
    for kind in KINDS:
        report = ingest(kind, logs.files[kind], db=db, build=False)
        print(f"  loaded {report.rows_loaded:>10,} {kind}", flush=True)
    with connect(db) as con:
        build(con)
    print(f"loaded and built the warehouse in {time.perf_counter() - t0:.0f} s", flush=True)
    shutil.rmtree(folder / "logs")
    (folder / "READY").write_text("ok\n")
    return db


def sizes(db: Path) -> dict[str, int]:
    from insights.warehouse import connect

    with connect(db, read_only=True) as con:
        return {
            table: int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
            for table in (
                "marts.posts",
                "staging.post_metrics",
                "raw.chat_events",
                "marts.chat_sessions",
                "marts.leads",
            )
        }


def run_once(db: Path, week: str, reports: Path) -> dict[str, float]:
    """One `insights report weekly --force` in a fresh process: wall time and the manifest's durations."""
    command = [sys.executable, "-m", "insights", "report", "weekly", "--week", week, "--db", str(db)]
    command += ["--reports", str(reports), "--notebooks", str(ROOT / "notebooks"), "--force", "--json"]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"the weekly report failed:\n{done.stderr}")
    run = json.loads(done.stdout)
    manifest = json.loads(Path(run["manifest_path"]).read_text())
    return {"wall": wall, **{k: float(v) for k, v in manifest["durations"].items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=170_000)
    parser.add_argument("--sessions", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--end", help="last day of the demo data, YYYY-MM-DD (default: last Sunday)")
    args = parser.parse_args()

    from insights.datasets.timeline import default_end
    from insights.reports.weeks import IsoWeek

    end = args.end or default_end().isoformat()
    week = str(IsoWeek.containing(datetime.fromisoformat(end).date()))
    db = build_warehouse(HERE / "data" / f"weekly-{args.posts}-{args.sessions}-{end}", args.posts, args.sessions, end)
    counts = sizes(db)
    print(
        f"warehouse {db} ({db.stat().st_size / 1e9:.2f} GB): {counts['staging.post_metrics']:,} post snapshots of "
        f"{counts['marts.posts']:,} posts, {counts['raw.chat_events']:,} chat events in "
        f"{counts['marts.chat_sessions']:,} sessions, {counts['marts.leads']:,} leads; week {week}",
        flush=True,
    )

    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        for i in range(args.repeat):
            runs.append(run_once(db, week, Path(tmp)))
            r = runs[-1]
            print(
                f"run {i + 1}: {r['wall']:.1f} s wall (manifest: total {r['total']:.1f} s = queries {r['query']:.2f} s "
                f"inside notebook {r['execute']:.1f} s + HTML export {r['export']:.2f} s)",
                flush=True,
            )
    median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    print(
        f"median of {len(runs)}: {median['wall']:.1f} s wall; total {median['total']:.1f} s, queries "
        f"{median['query']:.2f} s, notebook execution {median['execute']:.1f} s, HTML export {median['export']:.2f} s "
        f"(target < 60 s)"
    )
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = results / f"weekly-report-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "posts": args.posts,
                "sessions": args.sessions,
                "week": week,
                "counts": counts,
                "runs": runs,
                "median": median,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            },
            indent=2,
        )
    )
    print(f"results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
