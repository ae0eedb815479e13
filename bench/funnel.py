"""Funnel benchmark: a 5-step ordered funnel with a 7-day window over 10 million chat events, in one run.

    python -m bench.funnel [--events 10000000] [--repeat 3] [--unit user] [--methods ...] [--profile]

Data (generated once, cached under bench/data/ by size): `generate_chat_events(..., seed=7, end="2026-03-01")` writes
a Parquet file; it is loaded into a DuckDB file as the table `chat_events`, with `session_seq` numbered as the
warehouse's staging.chat_events numbers it (by ts, then role, then a hash of the row); that table is written back as
a second Parquet file for pandas and polars, so every method sees the same rows and the same tie-breaker.

The funnel, per user (each session_start starts an attempt with its own 7-day window; a user counts at the furthest
step any attempt reached; ties go by ts, session_seq, then the steps a row matches):

1. session_start  2. a user message  3. a bot reply that is not a fallback  4. lead_captured  5. a csat of 4 or 5

The methods, each run --repeat times in its own fresh process, in rotating order:

- hand-written: one DuckDB statement with window functions, the practical limit of a hand-written query: per step,
  the latest step-1 time of an attempt that reached the step before (`max(...) OVER (PARTITION BY user ORDER BY
  ts, seq, mask ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)`), one window level per step, then a count per
  furthest step;
- hand-written list_reduce: insights' own algorithm written by hand (one GROUP BY with a sorted list and a
  `list_reduce`), counts only: what insights adds around it (time to convert, entry periods, the result) is the
  difference;
- insights: `Funnel([...], unit="user", window="7 days").compute(con, events="chat_events")`, the whole readout
  (counts, Wilson intervals, time to convert, conversion by entry day);
- pandas: `pd.read_parquet` of the needed columns, a sort, then per step a grouped `cummax` / `ffill` / `shift`;
- polars: a lazy `pl.scan_parquet` query doing the same with `.over("user_id")`.

Each process reports its in-process time (from opening the data to the step counts, imports done beforehand) and its
peak resident set; the parent times the whole process. All methods must give the same step counts (asserted). The
machine is noisy: the table shows medians, and ratios to the hand-written query measured in the same run. Results
are also written to bench/results/funnel-<time>.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.processes import measure, run_in_child, save_results

if TYPE_CHECKING:
    import duckdb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

SEED = 7
END = "2026-03-01"
WINDOW_US = 7 * 86_400 * 1_000_000
N_STEPS = 5
UNITS = {"user": "user_id", "session": "session_id"}
COLUMNS = ("session_id", "user_id", "ts", "session_seq", "event", "role", "is_fallback", "csat")


# --- data -----------------------------------------------------------------------------------------------------------


def paths(events: int) -> dict[str, Path]:
    folder = HERE / "data"
    return {
        "raw": folder / f"funnel-events-{events}.parquet",
        "duckdb": folder / f"funnel-{events}.duckdb",
        "parquet": folder / f"funnel-events-{events}-seq.parquet",
    }


LOAD_SQL = """
CREATE OR REPLACE TABLE chat_events AS
SELECT
    *,
    row_number() OVER (
        PARTITION BY session_id
        ORDER BY ts, CASE role WHEN 'system' THEN 0 WHEN 'user' THEN 1 WHEN 'bot' THEN 2 WHEN 'agent' THEN 3 ELSE 4 END,
                 hash(event, text)
    ) AS session_seq
FROM read_parquet($raw)
"""


def prepare(events: int) -> dict[str, Path]:
    """The cached files for this size, made in child processes on the first call (keeping this process small)."""
    files = paths(events)
    files["raw"].parent.mkdir(exist_ok=True)
    if not files["raw"].is_file():
        print(f"generating {files['raw'].name} ...", flush=True)
        code = (
            "import sys; from insights.datasets import generate_chat_events as g; "
            f"g(sys.argv[1], int(sys.argv[2]), seed={SEED}, file_format='parquet', end='{END}')"
        )
        partial = files["raw"].with_name(files["raw"].name + ".partial")
        subprocess.run([sys.executable, "-c", code, str(partial), str(events)], check=True, cwd=ROOT)
        partial.rename(files["raw"])
    if not files["duckdb"].is_file() or not files["parquet"].is_file():
        print(f"loading {files['duckdb'].name} and writing {files['parquet'].name} ...", flush=True)
        code = (
            "import sys, duckdb; from bench.funnel import LOAD_SQL; con = duckdb.connect(sys.argv[2]); "
            "con.execute('SET enable_progress_bar = false'); con.execute(LOAD_SQL, {'raw': sys.argv[1]}); "
            'con.execute("COPY chat_events TO \'" + sys.argv[3] + "\' (FORMAT parquet)"); con.close()'
        )
        for stale in (files["duckdb"], files["parquet"]):
            stale.unlink(missing_ok=True)
        subprocess.run(
            [sys.executable, "-c", code, str(files["raw"]), str(files["duckdb"]), str(files["parquet"])],
            check=True,
            cwd=ROOT,
        )
    return files


# --- the methods ----------------------------------------------------------------------------------------------------

#: the five steps as SQL conditions over a chat_events row (NULL counts as false)
STEP_SQL = (
    "event = 'session_start'",
    "role = 'user'",
    "role = 'bot' AND NOT is_fallback",
    "event = 'lead_captured'",
    "event = 'csat' AND csat >= 4",
)


def _mask_sql() -> str:
    return " + ".join(f"CASE WHEN {c} THEN {1 << k} ELSE 0 END" for k, c in enumerate(STEP_SQL))


def hand_written_sql(unit: str) -> str:
    """Nested window functions: level k is the latest step-1 time of an attempt that reached step k so far."""
    frame = "PARTITION BY unit_id ORDER BY t, seq, mask ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
    levels = [
        f"l2 AS (SELECT *, CASE WHEN mask & 2 <> 0 AND t - p <= {WINDOW_US} THEN p END AS c2 "
        f"FROM (SELECT *, max(CASE WHEN mask & 1 <> 0 THEN t END) OVER ({frame}) AS p FROM marked))"
    ]
    for k in range(3, N_STEPS + 1):
        levels.append(
            f"l{k} AS (SELECT * EXCLUDE (p), CASE WHEN mask & {1 << (k - 1)} <> 0 AND t - p <= {WINDOW_US} THEN p END "
            f"AS c{k} FROM (SELECT *, max(c{k - 1}) OVER ({frame}) AS p FROM l{k - 1}))"
        )
    furthest = " ".join(f"WHEN count(c{k}) > 0 THEN {k}" for k in range(N_STEPS, 1, -1))
    # rows that match no step cannot change an ordered funnel: they are dropped before the first window
    return f"""
WITH marked AS (
    SELECT * FROM (
        SELECT {UNITS[unit]} AS unit_id, epoch_us(ts) AS t, session_seq AS seq, {_mask_sql()} AS mask
        FROM chat_events
    ) WHERE mask <> 0
),
{", ".join(levels)},
per_unit AS (
    SELECT unit_id, CASE {furthest} WHEN bool_or(mask & 1 <> 0) THEN 1 ELSE 0 END AS furthest
    FROM l{N_STEPS} GROUP BY unit_id
)
SELECT furthest, count(*) FROM per_unit GROUP BY furthest
"""


def list_reduce_sql(unit: str) -> str:
    """insights' algorithm by hand: one sorted list per unit, walked once by list_reduce (counts only)."""
    fields = ["'l1': CASE WHEN x & 1 <> 0 THEN x >> 64 ELSE a.l1 END"]
    for k in range(2, N_STEPS + 1):
        ok = f"x & {1 << (k - 1)} <> 0 AND (x >> 64) - a.l{k - 1} <= {WINDOW_US}"
        fields.append(f"'l{k}': CASE WHEN {ok} THEN a.l{k - 1} ELSE a.l{k} END")
    initial = ", ".join(f"'l{k}': NULL::HUGEINT" for k in range(1, N_STEPS + 1))
    furthest = " ".join(f"WHEN s.l{k} IS NOT NULL THEN {k}" for k in range(N_STEPS, 0, -1))
    return f"""
WITH marked AS (
    SELECT {UNITS[unit]} AS unit_id, epoch_us(ts) AS t, session_seq AS seq, {_mask_sql()} AS mask
    FROM chat_events
),
per_unit AS (
    SELECT list_reduce(
        list_sort(list(((t::HUGEINT + 2305843009213693952) << 64) + (seq::HUGEINT << 24) + mask)),
        lambda a, x: {{{", ".join(fields)}}},
        {{{initial}}}
    ) AS s
    FROM marked WHERE mask <> 0 GROUP BY unit_id
)
SELECT CASE {furthest} ELSE 0 END AS furthest, count(*) FROM per_unit GROUP BY ALL
"""


def _counts_from_levels(levels: dict[int, int]) -> list[int]:
    return [sum(n for level, n in levels.items() if level >= k) for k in range(1, N_STEPS + 1)]


def _duckdb(path: str) -> duckdb.DuckDBPyConnection:
    import duckdb

    con = duckdb.connect(path, read_only=True)
    con.execute("SET enable_progress_bar = false")
    return con


def run_hand_written(files: dict[str, str], unit: str) -> list[int]:
    con = _duckdb(files["duckdb"])
    rows = con.execute(hand_written_sql(unit)).fetchall()
    return _counts_from_levels({int(level): int(n) for level, n in rows})


def run_list_reduce(files: dict[str, str], unit: str) -> list[int]:
    con = _duckdb(files["duckdb"])
    rows = con.execute(list_reduce_sql(unit)).fetchall()
    return _counts_from_levels({int(level): int(n) for level, n in rows})


def insights_funnel(unit: str) -> Any:
    from insights.funnels import Funnel, Step

    return Funnel(
        [
            "session_start",
            Step(where="role = 'user'", name="user_message"),
            Step(where="role = 'bot' AND NOT is_fallback", name="understood"),
            "lead_captured",
            Step("csat", where="csat >= 4", name="happy"),
        ],
        unit=unit,
        window="7 days",
        mode="ordered",
    )


def run_insights(files: dict[str, str], unit: str) -> list[int]:
    con = _duckdb(files["duckdb"])
    result = insights_funnel(unit).compute(con, events="chat_events")
    return [step.n_units for step in result.steps]


def run_pandas(files: dict[str, str], unit: str) -> list[int]:
    import numpy as np
    import pandas as pd

    key = UNITS[unit]
    frame = pd.read_parquet(
        files["parquet"], columns=[key, "ts", "session_seq", "event", "role", "is_fallback", "csat"]
    )
    t = (frame["ts"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)
    steps = [
        frame["event"].eq("session_start"),
        frame["role"].eq("user"),
        frame["role"].eq("bot") & frame["is_fallback"].eq(False),
        frame["event"].eq("lead_captured"),
        frame["event"].eq("csat") & frame["csat"].ge(4),
    ]
    mask = sum(step.fillna(False).astype("int64") * (1 << k) for k, step in enumerate(steps))
    data = pd.DataFrame({"unit": frame[key], "t": t, "seq": frame["session_seq"], "mask": mask})
    data = data[data["mask"] != 0].sort_values(["unit", "t", "seq", "mask"], ignore_index=True)
    bits = data["mask"].to_numpy()
    times = data["t"].to_numpy().astype("float64")  # exact: microseconds of this century are below 2**53
    reached = np.where(bits & 1, times, np.nan)
    grouped_units = data["unit"]
    furthest = pd.Series(np.where(bits & 1, 1, 0), index=data.index).groupby(grouped_units).max()
    for k in range(2, N_STEPS + 1):
        previous = pd.Series(reached).groupby(grouped_units).cummax()
        previous = previous.groupby(grouped_units).ffill().groupby(grouped_units).shift(1).to_numpy()
        ok = ((bits >> (k - 1)) & 1).astype(bool) & (times - previous <= WINDOW_US)
        reached = np.where(ok, previous, np.nan)
        got = pd.Series(ok).groupby(grouped_units).any()
        furthest = furthest.where(~got, k)
    return [int((furthest >= k).sum()) for k in range(1, N_STEPS + 1)]


def run_polars(files: dict[str, str], unit: str) -> list[int]:
    import polars as pl

    key = UNITS[unit]
    steps = [
        pl.col("event") == "session_start",
        pl.col("role") == "user",
        (pl.col("role") == "bot") & ~pl.col("is_fallback"),
        pl.col("event") == "lead_captured",
        (pl.col("event") == "csat") & (pl.col("csat") >= 4),
    ]
    mask = pl.sum_horizontal([step.fill_null(False).cast(pl.Int64) * (1 << k) for k, step in enumerate(steps)])
    frame = (
        pl.scan_parquet(files["parquet"])
        .select(
            pl.col(key).alias("unit"),
            pl.col("ts").dt.epoch("us").alias("t"),
            pl.col("session_seq").alias("seq"),
            mask.alias("mask"),
        )
        .filter(pl.col("mask") != 0)
        .sort(["unit", "t", "seq", "mask"])
        .with_columns(pl.when(pl.col("mask") & 1 != 0).then(pl.col("t")).alias("c1"))
    )
    for k in range(2, N_STEPS + 1):
        previous = pl.col(f"c{k - 1}").cum_max().forward_fill().shift(1).over("unit")
        ok = (pl.col("mask") & (1 << (k - 1)) != 0) & (pl.col("t") - previous <= WINDOW_US)
        frame = frame.with_columns(pl.when(ok).then(previous).alias(f"c{k}"))
    furthest = (
        frame.group_by("unit")
        .agg(
            pl.max_horizontal(
                *(pl.when(pl.col(f"c{k}").is_not_null().any()).then(k).otherwise(0) for k in range(1, N_STEPS + 1))
            ).alias("furthest")
        )
        .collect()
    )
    return [int((furthest["furthest"] >= k).sum()) for k in range(1, N_STEPS + 1)]


@dataclass(frozen=True)
class Method:
    label: str
    run: Callable[[dict[str, str], str], list[int]]
    #: imported before the clock starts: the in-process time excludes imports, the whole-process time includes them
    imports: tuple[str, ...]


METHODS = {
    "hand-written": Method("hand-written DuckDB window functions", run_hand_written, ("duckdb",)),
    "list-reduce": Method(
        "hand-written DuckDB list_reduce (insights' algorithm, counts only)", run_list_reduce, ("duckdb",)
    ),
    "insights": Method(
        "insights Funnel.compute",
        run_insights,
        (
            "duckdb",
            "insights.funnels.funnel",
            "insights.funnels.query",
            "insights.funnels.result",
            "sqlglot",
            "sqlglot.dialects.duckdb",
        ),
    ),
    "pandas": Method("pandas", run_pandas, ("numpy", "pandas", "pyarrow.parquet")),
    "polars": Method("polars (lazy)", run_polars, ("polars",)),
}


def child(method: str, raw: str, database: str, parquet: str, unit: str, report: str) -> None:
    """The body of one measured process: import, then time one funnel."""
    spec = METHODS[method]
    files = {"raw": raw, "duckdb": database, "parquet": parquet}
    run_in_child(report, spec.imports, lambda: spec.run(files, unit))


# --- the harness ----------------------------------------------------------------------------------------------------


@dataclass
class Run:
    method: str
    events: int
    seconds: float  # in-process: opening the data to the step counts, imports excluded
    process_seconds: float  # the whole fresh process, interpreter start and imports included
    startup_seconds: float
    peak_rss_mb: float
    counts: list[int]


def run_once(method: str, files: dict[str, Path], events: int, unit: str) -> Run:
    args = [method, str(files["raw"]), str(files["duckdb"]), str(files["parquet"]), unit]
    m = measure("bench.funnel", args, method)
    return Run(
        method,
        events,
        seconds=m.seconds,
        process_seconds=m.process_seconds,
        startup_seconds=m.startup_seconds,
        peak_rss_mb=m.peak_rss_mb,
        counts=m.result,
    )


def check_agreement(runs: list[Run]) -> list[int]:
    """Every run of every method must give the hand-written query's step counts."""
    reference = next(r.counts for r in runs if r.method == "hand-written")
    for run in runs:
        if run.counts != reference:
            raise AssertionError(f"{run.method} disagrees with the hand-written query: {run.counts} vs {reference}")
    return reference


def table(runs: list[Run], methods: list[str]) -> str:
    lines = [
        "| method | in-process s | vs hand-written | whole process s | vs hand-written | peak memory MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    base = statistics.median(r.seconds for r in runs if r.method == "hand-written")
    base_process = statistics.median(r.process_seconds for r in runs if r.method == "hand-written")
    for method in methods:
        mine = [r for r in runs if r.method == method]
        seconds = statistics.median(r.seconds for r in mine)
        process = statistics.median(r.process_seconds for r in mine)
        peak = max(r.peak_rss_mb for r in mine)
        lines.append(
            f"| {METHODS[method].label} | {seconds:.2f} | {seconds / base:.2f}x | {process:.2f} | "
            f"{process / base_process:.2f}x | {peak:,.0f} |"
        )
    return "\n".join(lines)


def profile(files: dict[str, Path], unit: str) -> None:
    """EXPLAIN ANALYZE of insights' statement and of the hand-written one (operator times, in this process)."""
    import dataclasses

    con = _duckdb(str(files["duckdb"]))
    funnel = insights_funnel(unit)
    _, query = funnel._prepare(con, "chat_events", None, None, "profile")
    statement = dataclasses.replace(query, period="day").summary().sql("duckdb")
    con.execute("CREATE TEMP VIEW funnel_events AS SELECT * FROM chat_events")
    for label, sql in (("insights", statement), ("hand-written", hand_written_sql(unit))):
        plan = con.execute("EXPLAIN ANALYZE " + sql).fetchall()
        print(f"\n--- {label} ---\n{plan[0][1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--unit", choices=sorted(UNITS), default="user")
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--profile", action="store_true", help="print EXPLAIN ANALYZE of both DuckDB statements")
    args = parser.parse_args(argv)
    methods = ["hand-written", *[m for m in args.methods if m != "hand-written"]]

    files = prepare(args.events)
    print(f"{args.events:,} events, {args.unit} funnel, {args.repeat} runs per method", flush=True)
    runs: list[Run] = []
    for repeat in range(args.repeat):
        order = methods[repeat % len(methods) :] + methods[: repeat % len(methods)]  # rotate: no method always first
        for method in order:
            run = run_once(method, files, args.events, args.unit)
            print(
                f"  {method:<13} {run.seconds:7.2f} s in process {run.process_seconds:7.2f} s whole "
                f"{run.peak_rss_mb:7.0f} MB  {run.counts}",
                flush=True,
            )
            runs.append(run)
    counts = check_agreement(runs)
    main_table = table(runs, methods)
    print()
    print(
        f"{args.events:,} chat events, 5-step ordered funnel per {args.unit}, 7-day window; {args.repeat} runs each, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(main_table)
    print(f"\nunits per step (every method): {counts}")

    save_results(
        "funnel",
        {
            "events": args.events,
            "unit": args.unit,
            "seed": SEED,
            "end": END,
            "repeat": args.repeat,
            "runs": [asdict(r) for r in runs],
            "counts": counts,
            "table": main_table,
        },
    )
    if args.profile:
        profile(files, args.unit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
