"""Timing one piece of work in a fresh Python process, as a user's script would run it.

The parent starts `python -c "from <module> import child; child(..., report)"`; the child imports what the method
needs, times the work alone and writes a JSON record to `report` (a file, as engines may print progress bars to
stdout). Both sides read `time.perf_counter`, which is CLOCK_MONOTONIC and shared between processes, so the whole
process splits into start-up (interpreter and imports), the work and the exit.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Measured:
    seconds: float  # the work alone, imports excluded
    process_seconds: float  # the whole fresh process, interpreter start and imports included
    startup_seconds: float  # of which interpreter start and imports
    exit_seconds: float  # of which writing the record and shutting down (freeing memory, closing engines)
    peak_rss_mb: float
    result: Any  # what the work returned (JSON)


def run_in_child(report: str, imports: Iterable[str], work: Callable[[], Any]) -> None:
    """The child's side: import, time `work()`, write the record to `report`."""
    for module in imports:
        importlib.import_module(module)
    started = time.perf_counter()
    result = work()
    done = time.perf_counter()
    # VmHWM belongs to the process image, so unlike ru_maxrss it does not inherit the parent's size across exec
    with open("/proc/self/status") as status:
        peak_kb = int(next(line.split()[1] for line in status if line.startswith("VmHWM")))
    Path(report).write_text(json.dumps({"started": started, "done": done, "peak_kb": peak_kb, "result": result}))


def measure(module: str, args: Sequence[str], label: str) -> Measured:
    """The parent's side: run `module.child(*args, report)` in a fresh interpreter and read its record."""
    code = f"import sys; from {module} import child; child(*sys.argv[1:])"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code, *args, str(report)], capture_output=True, text=True, check=False, cwd=ROOT
        )
        ended = time.perf_counter()
        if done.returncode != 0:
            sys.exit(f"{label} failed:\n{done.stderr}")
        out = json.loads(report.read_text())
    return Measured(
        seconds=out["done"] - out["started"],
        process_seconds=ended - started,
        startup_seconds=out["started"] - started,
        exit_seconds=ended - out["done"],
        peak_rss_mb=out["peak_kb"] / 1024,
        result=out["result"],
    )


def save_results(name: str, record: Mapping[str, Any]) -> Path:
    """Write a benchmark's record, with the machine's core count and Python version, to
    bench/results/<name>-<UTC time>.json; print and return the path."""
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    out = results / f"{name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps({**record, "cpus": os.cpu_count(), "python": platform.python_version()}, indent=2))
    print(f"results: {out.relative_to(ROOT)}")
    return out
