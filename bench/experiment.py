"""Experiment readout benchmark: insights' readout against a hand-written query and the tools users would pick.

    python -m bench.experiment [--units 10000000] [--repeat 3] [--scale 1000000 30000000] [--seed 7]
                               [--methods ...] [--profile]

Generates (once, cached under bench/data/) a unit-level Parquet file of --units units in 3 arms (A control, B, C)
with numpy in chunks of a million rows, so generation needs little memory. Each unit has `variant`, `converted`
(bool), `revenue` (95% zeros, lognormal otherwise), `n_sessions` (>= 1) and `n_messages` (chat sessions and messages),
`sessions` and `pre_sessions` (visits in and before the experiment, strongly correlated) and `assigned_at`; B and C
carry small planted effects. Every method computes the same five metrics for B and C against A:

- converted: a proportion (two-proportion z test, pooled SE for the test, unpooled SE for the interval);
- revenue: a mean (Welch t);
- revenue_w: revenue winsorized at its pooled 99th percentile over all units (quantile_cont, linear interpolation);
- messages_per_session: the ratio mean(n_messages) / mean(n_sessions) by the delta method (normal);
- sessions_cuped: mean sessions with CUPED on pre_sessions (theta from the pooled within-arm covariance, Welch t).

The methods, each run --repeat times in its own fresh process, in rotating order:

- hand-written: one DuckDB statement of the sufficient statistics (count, avg, var_samp, covar_samp per arm, the
  winsorization cap from quantile_cont in a CTE) plus the numpy/scipy math of this file: the practical limit;
- insights: `analyze(path, metrics, control="A")`, the default readout (no segments, no assigned_at); also
  `insights + by day` with `assigned_at="assigned_at"` (adds the day to the grouping and the cumulative chart);
- tea-tasting through its Ibis DuckDB backend (`ibis.duckdb.connect().read_parquet`; the cap is fetched first and
  added with `mutate`), its fastest path for a big file, and through a polars LazyFrame (`pl.scan_parquet`, the cap
  inside the lazy query; tea-tasting reads it through narwhals). tea-tasting has no winsorized mean, hence the capped
  column; its CUPED theta comes from the covariance of both arms pooled (not within arms), so that one metric's
  effect differs slightly. The Ibis path needs pyarrow-hotfix (the ibis-framework[duckdb] extra); without it the
  method is skipped with a message;
- pandas + scipy: `pd.read_parquet` of the needed columns, groupby aggregates, the math of this file;
- polars + scipy: a lazy `pl.scan_parquet` query with the cap inside it, the math of this file.

Each process reports its in-process time (from reading the file to the results; its imports done beforehand and
excluded) and its peak resident set; the parent times the whole process (interpreter start and imports included).
Our readout's effects and interval bounds must equal the hand-written query's to 1e-9 relative (asserted), as must
pandas' and polars'; tea-tasting's effects must, except for CUPED. --scale runs the hand-written query and our
readout on other sizes, to show whether memory grows with the number of units. The machine is noisy: the tables
show medians, and ratios to the hand-written query measured in the same run. Results are also written to bench/results/experiment-<time>.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.processes import measure, run_in_child, save_results

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

ARMS = ("A", "B", "C")
CONTROL = "A"
COLUMNS = ("variant", "converted", "revenue", "n_sessions", "n_messages", "sessions", "pre_sessions")
WINSORIZE = 0.99
ALPHA = 0.05
RELATIVE_TOLERANCE = 1e-9
#: planted relative effects of B and C on the conversion rate, revenue, messages per session and sessions
LIFTS = {
    "A": (0.0, 0.0, 0.0, 0.0),
    "B": (0.04, 0.02, 0.01, 0.005),
    "C": (0.0, -0.01, 0.0, 0.002),
}

#: effects of one method: "metric|variant" -> [effect, ci_low, ci_high, p_value]
Effects = dict[str, list[float]]


# --- data -----------------------------------------------------------------------------------------------------------


def data_path(units: int, seed: int) -> Path:
    return HERE / "data" / f"experiment-{units}-seed{seed}.parquet"


def generate(path: Path, units: int, seed: int, chunk: int = 1_000_000) -> Path:
    """Write the unit-level table in chunks of ``chunk`` rows (one Parquet row group each); memory stays bounded."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    start = np.datetime64("2026-10-05T00:00:00", "us")
    days = 28
    schema = pa.schema(
        [
            ("variant", pa.string()),
            ("converted", pa.bool_()),
            ("revenue", pa.float64()),
            ("n_sessions", pa.int32()),
            ("n_messages", pa.int32()),
            ("sessions", pa.int32()),
            ("pre_sessions", pa.int32()),
            ("assigned_at", pa.timestamp("us", tz="UTC")),
        ]
    )
    lifts = np.array([LIFTS[arm] for arm in ARMS])
    partial = path.with_name(path.name + ".partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(partial, schema) as writer:
        for index, first in enumerate(range(0, units, chunk)):
            n = min(chunk, units - first)
            rng = np.random.default_rng([seed, index])
            arm = rng.integers(0, len(ARMS), n)
            lift = lifts[arm]
            activity = rng.gamma(2.0, 2.0, n)  # a user's visit rate: drives both periods, so CUPED has a covariate
            pre_sessions = rng.poisson(activity)
            sessions = rng.poisson(activity * (1 + lift[:, 3]))
            rate = np.minimum(0.02 + 0.0075 * activity, 0.5) * (1 + lift[:, 0])
            converted = rng.random(n) < rate
            revenue = np.where(converted, rng.lognormal(3.5, 1.0, n) * (1 + lift[:, 1]), 0.0)
            n_sessions = 1 + rng.poisson(0.5 + 0.2 * activity)
            n_messages = rng.poisson(n_sessions * 3.0 * (1 + lift[:, 2]))
            assigned_at = start + rng.integers(0, days * 86_400_000_000, n).astype("timedelta64[us]")
            table = pa.table(
                [
                    pa.array(ARMS).take(pa.array(arm)),
                    pa.array(converted),
                    pa.array(revenue),
                    pa.array(n_sessions.astype(np.int32)),
                    pa.array(n_messages.astype(np.int32)),
                    pa.array(sessions.astype(np.int32)),
                    pa.array(pre_sessions.astype(np.int32)),
                    pa.array(assigned_at, pa.timestamp("us", tz="UTC")),
                ],
                schema=schema,
            )
            writer.write_table(table, row_group_size=chunk)
    partial.rename(path)
    return path


def ensure_data(units: int, seed: int) -> Path:
    """The cached file for this size and seed, generated in a child process on the first call."""
    path = data_path(units, seed)
    if not path.is_file():
        print(f"generating {path.name} ...", flush=True)
        started = time.perf_counter()
        code = "import sys, pathlib; from bench.experiment import generate; generate(pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))"
        subprocess.run([sys.executable, "-c", code, str(path), str(units), str(seed)], check=True, cwd=ROOT)
        print(f"  {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - started:.0f} s", flush=True)
    return path


# --- the small math shared by the hand-written query, pandas and polars ---------------------------------------------


@dataclass
class ArmStats:
    """One arm's sufficient statistics: count, means, sample variances and covariances (ddof=1)."""

    n: int
    mean: dict[str, float]
    var: dict[str, float]
    cov: dict[tuple[str, str], float] = field(default_factory=dict)


# The distributions come from scipy.special (what scipy.stats.norm and .t call), whose import costs about half of
# scipy.stats': insights imports only scipy.special too, so the whole-process comparison is between equals.


def _normal(effect: float, se: float, se_test: float | None = None) -> list[float]:
    """Effect, normal interval and two-sided p-value (``se_test``, when given, for the test only)."""
    from scipy import special

    z = float(special.ndtri(1 - ALPHA / 2))
    p_value = float(2 * special.ndtr(-abs(effect / (se if se_test is None else se_test))))
    return [effect, effect - z * se, effect + z * se, p_value]


def _welch(n_c: int, m_c: float, v_c: float, n_t: int, m_t: float, v_t: float) -> list[float]:
    """Effect, interval and p-value of Welch's t test (Welch-Satterthwaite degrees of freedom)."""
    from scipy import special

    vm_c, vm_t = v_c / n_c, v_t / n_t
    se = math.sqrt(vm_c + vm_t)
    df = (vm_c + vm_t) ** 2 / (vm_c**2 / (n_c - 1) + vm_t**2 / (n_t - 1))
    effect = m_t - m_c
    q = float(special.stdtrit(df, 1 - ALPHA / 2))
    return [effect, effect - q * se, effect + q * se, float(2 * special.stdtr(df, -abs(effect / se)))]


def _ratio(arm: ArmStats, x: str, y: str) -> tuple[float, float]:
    """mean(x) / mean(y) and the variance of that estimate by the delta method: per unit, var((x - R y) / mean_y)."""
    r = arm.mean[x] / arm.mean[y]
    unit_var = (arm.var[x] - 2 * r * arm.cov[x, y] + r * r * arm.var[y]) / arm.mean[y] ** 2
    return r, unit_var / arm.n


def _cuped(c: ArmStats, t: ArmStats, x: str, y: str) -> list[float]:
    """Welch on x adjusted by y; theta from the pooled within-arm covariance, centred on the pair's pooled mean."""
    theta = (c.cov[x, y] * (c.n - 1) + t.cov[x, y] * (t.n - 1)) / (c.var[y] * (c.n - 1) + t.var[y] * (t.n - 1))
    mean_y = (c.mean[y] * c.n + t.mean[y] * t.n) / (c.n + t.n)
    adjusted = [
        (
            arm.mean[x] - theta * (arm.mean[y] - mean_y),
            max(arm.var[x] - 2 * theta * arm.cov[x, y] + theta**2 * arm.var[y], 0.0),
        )
        for arm in (c, t)
    ]
    (m_c, v_c), (m_t, v_t) = adjusted
    return _welch(c.n, m_c, v_c, t.n, m_t, v_t)


def effects_from_stats(arms: Mapping[str, ArmStats]) -> Effects:
    """Effect, interval and p-value of every metric and treatment against the control, as insights defines them."""
    out: Effects = {}
    c = arms[CONTROL]
    for name in sorted(arms):
        if name == CONTROL:
            continue
        t = arms[name]
        # proportion: z with the pooled SE for the test, the unpooled (Wald) SE for the interval
        p_c, p_t = c.mean["converted"], t.mean["converted"]
        pooled = (p_c * c.n + p_t * t.n) / (c.n + t.n)
        out[f"converted|{name}"] = _normal(
            p_t - p_c,
            math.sqrt(p_c * (1 - p_c) / c.n + p_t * (1 - p_t) / t.n),
            se_test=math.sqrt(pooled * (1 - pooled) * (1 / c.n + 1 / t.n)),
        )
        for metric in ("revenue", "revenue_w"):
            out[f"{metric}|{name}"] = _welch(c.n, c.mean[metric], c.var[metric], t.n, t.mean[metric], t.var[metric])
        (r_c, vm_c), (r_t, vm_t) = _ratio(c, "n_messages", "n_sessions"), _ratio(t, "n_messages", "n_sessions")
        out[f"messages_per_session|{name}"] = _normal(r_t - r_c, math.sqrt(vm_c + vm_t))
        out[f"sessions_cuped|{name}"] = _cuped(c, t, "sessions", "pre_sessions")
    return out


# --- the methods ----------------------------------------------------------------------------------------------------

HAND_WRITTEN_SQL = """
WITH cap AS (SELECT quantile_cont(revenue, 0.99) AS revenue_cap FROM read_parquet($path))
SELECT
    variant,
    count(*) AS n,
    avg(converted::DOUBLE) AS converted,
    avg(revenue) AS revenue,
    var_samp(revenue) AS revenue_var,
    avg(least(revenue, revenue_cap)) AS revenue_w,
    var_samp(least(revenue, revenue_cap)) AS revenue_w_var,
    avg(n_messages) AS n_messages,
    avg(n_sessions) AS n_sessions,
    var_samp(n_messages) AS n_messages_var,
    var_samp(n_sessions) AS n_sessions_var,
    covar_samp(n_messages, n_sessions) AS messages_sessions_cov,
    avg(sessions) AS sessions,
    avg(pre_sessions) AS pre_sessions,
    var_samp(sessions) AS sessions_var,
    var_samp(pre_sessions) AS pre_sessions_var,
    covar_samp(sessions, pre_sessions) AS sessions_pre_cov
FROM read_parquet($path), cap
GROUP BY variant
"""
MEANS = ("converted", "revenue", "revenue_w", "n_messages", "n_sessions", "sessions", "pre_sessions")
VARIANCES = ("revenue", "revenue_w", "n_messages", "n_sessions", "sessions", "pre_sessions")


def _arm(row: Mapping[str, Any]) -> ArmStats:
    """An arm's record from a row named like the hand-written query's."""
    return ArmStats(
        int(row["n"]),
        {c: float(row[c]) for c in MEANS},
        {c: float(row[f"{c}_var"]) for c in VARIANCES},
        {
            ("n_messages", "n_sessions"): float(row["messages_sessions_cov"]),
            ("sessions", "pre_sessions"): float(row["sessions_pre_cov"]),
        },
    )


def run_hand_written(path: str) -> Effects:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # as insights' own engine does
    cursor = con.execute(HAND_WRITTEN_SQL, {"path": path})
    names = [d[0] for d in cursor.description or []]
    arms = {row[0]: _arm(dict(zip(names, row, strict=True))) for row in cursor.fetchall()}
    return effects_from_stats(arms)


def insights_metrics() -> dict[str, list[Any]]:
    from insights.experiments.metrics import Mean, Proportion, Ratio

    return {
        "primary": [Proportion("converted")],
        "secondary": [
            Mean("revenue"),
            Mean("revenue", name="revenue_w", winsorize=WINSORIZE),
            Ratio("n_messages", "n_sessions", name="messages_per_session"),
            Mean("sessions", name="sessions_cuped", covariate="pre_sessions"),
        ],
    }


def _readout_effects(readout: Any) -> Effects:
    return {
        f"{r.metric}|{r.variant}": [r.effect.effect, r.effect.ci_low, r.effect.ci_high, r.effect.p_value]
        for r in readout.results
    }


def run_insights(path: str) -> Effects:
    from insights.experiments.analysis import ReadoutOptions, analyze

    readout = analyze(path, insights_metrics(), variant="variant", control=CONTROL, options=ReadoutOptions())
    return _readout_effects(readout)


def run_insights_by_day(path: str) -> Effects:
    from insights.experiments.analysis import ReadoutOptions, analyze

    readout = analyze(
        path,
        insights_metrics(),
        variant="variant",
        control=CONTROL,
        assigned_at="assigned_at",
        options=ReadoutOptions(),
    )
    return _readout_effects(readout)


def _tea_experiment() -> Any:
    import tea_tasting as tt

    # z for the proportion and the ratio, Welch t for the means, as insights does
    return tt.Experiment(
        converted=tt.Mean("converted", use_t=False),
        revenue=tt.Mean("revenue"),
        revenue_w=tt.Mean("revenue_w"),
        messages_per_session=tt.RatioOfMeans("n_messages", "n_sessions", use_t=False),
        sessions_cuped=tt.Mean("sessions", "pre_sessions"),
    )


def _tea_effects(results: Any) -> Effects:
    out: Effects = {}
    for (_, treatment), result in results.items():
        for metric, r in result.items():
            out[f"{metric}|{treatment}"] = [
                float(r.effect_size),
                float(r.effect_size_ci_lower),
                float(r.effect_size_ci_upper),
                float(r.pvalue),
            ]
    return out


def run_tea_ibis(path: str) -> Effects:
    import ibis

    con = ibis.duckdb.connect()
    table = con.read_parquet(path)
    cap = float(table.revenue.quantile(WINSORIZE).to_pyarrow().as_py())
    table = table.mutate(revenue_w=table.revenue.clip(upper=cap))
    return _tea_effects(_tea_experiment().analyze(table, control=CONTROL, all_variants=True))


def run_tea_polars(path: str) -> Effects:
    import polars as pl

    revenue = pl.col("revenue")
    frame = pl.scan_parquet(path).with_columns(
        revenue_w=revenue.clip(upper_bound=revenue.quantile(WINSORIZE, interpolation="linear")),
        converted=pl.col("converted").cast(pl.Float64),
    )
    return _tea_effects(_tea_experiment().analyze(frame, control=CONTROL, all_variants=True))


def run_pandas(path: str) -> Effects:
    import pandas as pd

    frame = pd.read_parquet(path, columns=list(COLUMNS))
    frame["converted"] = frame["converted"].astype("float64")
    frame["revenue_w"] = frame["revenue"].clip(upper=frame["revenue"].quantile(WINSORIZE))
    grouped = frame.groupby("variant", sort=True, observed=True)
    n, means, variances = grouped.size(), grouped.mean(), grouped.var(ddof=1)
    cov_messages = grouped[["n_messages", "n_sessions"]].cov()
    cov_sessions = grouped[["sessions", "pre_sessions"]].cov()
    arms = {}
    for arm in n.index:
        row = {"n": n[arm], **means.loc[arm]}
        row |= {f"{c}_var": variances.loc[arm, c] for c in VARIANCES}
        row["messages_sessions_cov"] = cov_messages.loc[(arm, "n_messages"), "n_sessions"]
        row["sessions_pre_cov"] = cov_sessions.loc[(arm, "sessions"), "pre_sessions"]
        arms[str(arm)] = _arm(row)
    return effects_from_stats(arms)


def run_polars(path: str) -> Effects:
    import polars as pl

    revenue = pl.col("revenue")
    stats = (
        pl.scan_parquet(path)
        .select(
            *COLUMNS,
            revenue_w=revenue.clip(upper_bound=revenue.quantile(WINSORIZE, interpolation="linear")),
        )
        .with_columns(pl.col("converted").cast(pl.Float64))
        .group_by("variant")
        .agg(
            pl.len().alias("n"),
            *(pl.col(c).mean().alias(c) for c in MEANS),
            *(pl.col(c).var(ddof=1).alias(f"{c}_var") for c in VARIANCES),
            pl.cov("n_messages", "n_sessions", ddof=1).alias("messages_sessions_cov"),
            pl.cov("sessions", "pre_sessions", ddof=1).alias("sessions_pre_cov"),
        )
        .collect()
    )
    return effects_from_stats({row["variant"]: _arm(row) for row in stats.iter_rows(named=True)})


@dataclass(frozen=True)
class Method:
    label: str
    run: Callable[[str], Effects]
    #: imported before the clock starts: the in-process time excludes imports, the whole-process time includes them
    imports: tuple[str, ...]
    #: metrics whose effect may differ from the hand-written query's (a documented difference of definition)
    differs: tuple[str, ...] = ()


_SCIPY = ("numpy", "scipy.special")
METHODS = {
    "hand-written": Method("hand-written DuckDB SQL + numpy", run_hand_written, ("duckdb", *_SCIPY)),
    "insights": Method(
        "insights readout",
        run_insights,
        ("insights.experiments.analysis", "insights.warehouse.connection", "sqlglot", "sqlglot.dialects.duckdb"),
    ),
    "insights-by-day": Method(
        "insights readout + assigned_at (by day)",
        run_insights_by_day,
        ("insights.experiments.analysis", "insights.warehouse.connection", "sqlglot", "sqlglot.dialects.duckdb"),
    ),
    "tea-tasting-ibis": Method(
        "tea-tasting (Ibis DuckDB backend)",
        run_tea_ibis,
        ("tea_tasting", "ibis", "ibis.backends.duckdb", *_SCIPY),
        differs=("sessions_cuped",),
    ),
    "tea-tasting-polars": Method(
        "tea-tasting (polars LazyFrame)",
        run_tea_polars,
        ("tea_tasting", "polars", *_SCIPY),
        differs=("sessions_cuped",),
    ),
    "pandas": Method("pandas + scipy", run_pandas, ("pandas", "pyarrow.parquet", *_SCIPY)),
    "polars": Method("polars + scipy", run_polars, ("polars", *_SCIPY)),
}


def child(method: str, path: str, report: str) -> None:
    """The body of one measured process: import, then time one readout."""
    spec = METHODS[method]
    run_in_child(report, spec.imports, lambda: spec.run(path))


# --- the harness ----------------------------------------------------------------------------------------------------


@dataclass
class Run:
    method: str
    units: int
    seconds: float  # in-process: reading the file to results, imports excluded
    process_seconds: float  # the whole fresh process, interpreter start and imports included
    startup_seconds: float  # of which interpreter start and imports
    exit_seconds: float  # of which writing the report and shutting down (freeing memory, closing engines)
    peak_rss_mb: float
    effects: Effects


def run_once(method: str, path: Path, units: int) -> Run:
    m = measure("bench.experiment", [method, str(path)], f"{method} on {path.name}")
    return Run(
        method,
        units,
        seconds=m.seconds,
        process_seconds=m.process_seconds,
        startup_seconds=m.startup_seconds,
        exit_seconds=m.exit_seconds,
        peak_rss_mb=m.peak_rss_mb,
        effects=m.result,
    )


def relative_difference(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def check_agreement(runs: list[Run]) -> dict[str, float]:
    """Largest relative difference of each method's effects and interval bounds from the hand-written query's.

    Asserts 1e-9 for every method on every metric, except the metrics a method defines differently.
    """
    reference = next(r.effects for r in runs if r.method == "hand-written")
    worst: dict[str, float] = {}
    for run in runs:
        if run.method == "hand-written":
            continue
        differs = METHODS[run.method].differs
        for key, expected in reference.items():
            got = run.effects[key]
            # effect and interval bounds; tea-tasting's intervals use other variance estimators, so only its effects
            fields = 1 if run.method.startswith("tea-tasting") else 3
            diff = max(relative_difference(a, b) for a, b in zip(got[:fields], expected[:fields], strict=True))
            metric = key.split("|")[0]
            label = f"{run.method} {metric}" if metric in differs else run.method
            worst[label] = max(worst.get(label, 0.0), diff)
            if metric not in differs and diff > RELATIVE_TOLERANCE:
                raise AssertionError(
                    f"{run.method} disagrees with the hand-written query on {key}: {got} vs {expected}"
                )
    return worst


def table(runs: list[Run], units: int, methods: list[str]) -> str:
    lines = [
        "| method | in-process s | vs hand-written | whole process s | vs hand-written | of which start + imports s "
        "| peak memory MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    mine = [r for r in runs if r.units == units]
    base = [r for r in mine if r.method == "hand-written"]
    base_in = statistics.median(r.seconds for r in base)
    base_process = statistics.median(r.process_seconds for r in base)
    for method in methods:
        these = [r for r in mine if r.method == method]
        if not these:
            continue
        seconds = statistics.median(r.seconds for r in these)
        process = statistics.median(r.process_seconds for r in these)
        startup = statistics.median(r.startup_seconds for r in these)
        peak = statistics.median(r.peak_rss_mb for r in these)
        lines.append(
            f"| {METHODS[method].label} | {seconds:.2f} | {seconds / base_in:.2f}x | {process:.2f} | "
            f"{process / base_process:.2f}x | {startup:.2f} | {peak:,.0f} |"
        )
    return "\n".join(lines)


def scale_table(runs: list[Run]) -> str:
    lines = [
        "| units | method | in-process s | whole process s | peak memory MB |",
        "|---:|---|---:|---:|---:|",
    ]
    for units in sorted({r.units for r in runs}):
        for method in ("hand-written", "insights"):
            these = [r for r in runs if r.method == method and r.units == units]
            if not these:
                continue
            lines.append(
                f"| {units:,} | {METHODS[method].label} | {statistics.median(r.seconds for r in these):.2f} | "
                f"{statistics.median(r.process_seconds for r in these):.2f} | "
                f"{statistics.median(r.peak_rss_mb for r in these):,.0f} |"
            )
    return "\n".join(lines)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _profiled(sql: str, folder: Path, name: str) -> dict[str, Any]:
    """Run ``sql`` twice on a fresh engine; DuckDB's own profile of the second run (time, CPU, peak buffer memory)."""
    import duckdb

    out = folder / f"{name}.json"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(sql).fetchall()
    con.execute("SET enable_profiling = 'json'")
    con.execute(f"SET profiling_output = {_literal(str(out))}")
    con.execute(sql).fetchall()
    con.close()
    info: dict[str, Any] = json.loads(out.read_text())
    return info


def profile(path: Path) -> None:
    """Where our readout's time goes: its grouped statement against the hand-written one, and the Python around it.

    The readout runs on a connection with DuckDB's profiling on, which records the statement it sent (the file is
    a bound parameter, put back in here); both statements then run alone on fresh engines, profiled the same way.
    """
    import duckdb

    from insights.experiments.analysis import analyze

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        con.execute("SET enable_profiling = 'json'")
        con.execute(f"SET profiling_output = {_literal(str(folder / 'readout.json'))}")
        started = time.perf_counter()
        analyze(str(path), insights_metrics(), variant="variant", control=CONTROL, con=con)
        total = time.perf_counter() - started
        con.close()
        readout = json.loads((folder / "readout.json").read_text())["query"]
        ours = readout["sql"].replace("?", _literal(str(path)), 1)
        hand = HAND_WRITTEN_SQL.replace("$path", _literal(str(path)))
        print(
            f"\ninsights readout: {total:.2f} s in all; its grouped statement {readout['total_time']:.2f} s "
            f"(CPU {readout['cpu_time']:.2f} s), the rest (connection, schema, SQL building, statistics) "
            f"{total - readout['total_time']:.2f} s"
        )
        print(f"\nour grouped statement:\n{ours}\n")
        for name, sql in (("ours", ours), ("hand-written", hand)):
            info = _profiled(sql, folder, name.replace(" ", "_"))
            print(
                f"{name}: {info['query']['total_time']:.2f} s, CPU {info['query']['cpu_time']:.2f} s, "
                f"peak buffer memory {info['system']['peak_buffer_memory'] / 1e6:,.0f} MB",
                flush=True,
            )
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        for name, sql in (("ours", ours), ("hand-written", hand)):
            plan = con.execute("EXPLAIN ANALYZE " + sql).fetchall()
            print(f"\nEXPLAIN ANALYZE, {name}:\n{plan[0][1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--scale",
        type=int,
        nargs="*",
        default=[1_000_000, 30_000_000],
        help="other sizes to run the hand-written query and our readout on",
    )
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--profile", action="store_true", help="then show where our readout's time goes")
    args = parser.parse_args(argv)
    methods = ["hand-written", *[m for m in args.methods if m != "hand-written"]]
    if "tea-tasting-ibis" in methods and importlib.util.find_spec("pyarrow_hotfix") is None:
        # Ibis imports it to return any result; it comes with the ibis-framework[duckdb] extra, not with tea-tasting
        print(
            "skipping tea-tasting-ibis: Ibis's DuckDB backend needs pyarrow-hotfix, which is not installed", flush=True
        )
        methods.remove("tea-tasting-ibis")
    path = ensure_data(args.units, args.seed)
    scale_paths = {units: ensure_data(units, args.seed) for units in args.scale if units != args.units}
    print(f"{path.name}: {path.stat().st_size / 1e6:.0f} MB", flush=True)

    runs: list[Run] = []
    for i in range(args.repeat):
        # Rotate the order so no method always runs right after another's heavy process.
        order = methods[i % len(methods) :] + methods[: i % len(methods)]
        for method in order:
            run = run_once(method, path, args.units)
            print(
                f"  {method:<19} {run.seconds:6.2f} s in process {run.process_seconds:6.2f} s whole "
                f"{run.peak_rss_mb:7.0f} MB",
                flush=True,
            )
            runs.append(run)
        for units, scale_path in scale_paths.items():
            for method in ("hand-written", "insights"):
                run = run_once(method, scale_path, units)
                print(
                    f"  {method:<19} {run.seconds:6.2f} s in process {run.process_seconds:6.2f} s whole "
                    f"{run.peak_rss_mb:7.0f} MB  ({units:,} units)",
                    flush=True,
                )
                runs.append(run)
    agreement = check_agreement([r for r in runs if r.units == args.units])

    main_table = table(runs, args.units, methods)
    sizes = scale_table(runs)
    print()
    print(
        f"{args.units:,} units, 3 arms, 5 metrics; {args.repeat} runs each, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(main_table)
    print()
    print("by number of units")
    print(sizes)
    print()
    print("largest relative difference from the hand-written query (effects and interval bounds; tea-tasting: effects)")
    for label, diff in agreement.items():
        print(f"  {label}: {diff:.1e}")

    save_results(
        "experiment",
        {
            "units": args.units,
            "seed": args.seed,
            "repeat": args.repeat,
            "runs": [asdict(r) for r in runs],
            "agreement": agreement,
            "table": main_table,
            "scale_table": sizes,
        },
    )
    if args.profile:
        profile(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
