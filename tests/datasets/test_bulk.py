"""`generate_chat_events`: exact row counts, the contract, reproducibility and bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from insights.contract import CHAT_EVENTS, Kind
from insights.datasets import generate_chat_events

Check = Callable[[Path, Kind], tuple[int, list[tuple[int, str]]]]


def test_writes_exactly_n_events_that_pass_the_contract(tmp_path: Path, contract_check: Check) -> None:
    path = generate_chat_events(tmp_path / "chat.csv", 23_456, chunk_rows=5_000, end="2026-03-01")
    assert path == tmp_path / "chat.csv"
    n, rejects = contract_check(path, CHAT_EVENTS)
    assert (n, rejects) == (23_456, [])


def test_same_seed_gives_the_same_bytes_and_chunking_does_not_matter_for_validity(tmp_path: Path) -> None:
    a = generate_chat_events(tmp_path / "a.csv.gz", 12_000, compress=True, chunk_rows=4_000, end="2026-03-01")
    b = generate_chat_events(tmp_path / "b.csv.gz", 12_000, compress=True, chunk_rows=4_000, end="2026-03-01")
    c = generate_chat_events(tmp_path / "c.csv.gz", 12_000, seed=8, compress=True, chunk_rows=4_000, end="2026-03-01")
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_parquet(tmp_path: Path) -> None:
    path = generate_chat_events(tmp_path / "chat.parquet", 30_000, file_format="parquet", chunk_rows=10_000)
    table = pq.read_table(path)
    assert table.num_rows == 30_000
    assert table.column_names == list(CHAT_EVENTS.column_names)
    assert set(table.column("role").unique().to_pylist()) == {"system", "bot", "user", "agent"}


_MEASURE = """
import json, resource, sys
import psutil
from insights.datasets import generate_chat_events
baseline = psutil.Process().memory_info().rss
generate_chat_events(sys.argv[1], int(sys.argv[2]), chunk_rows=100_000)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"baseline": baseline, "peak": peak}))
"""


def _peak_growth(path: Path, n_events: int) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(n_events)], check=True, capture_output=True, text=True
    )
    measured = json.loads(out.stdout)
    return int(measured["peak"] - measured["baseline"])


@pytest.mark.slow
def test_memory_is_bounded_by_the_chunk_not_the_file(tmp_path: Path) -> None:
    small = _peak_growth(tmp_path / "small.csv", 200_000)
    large = _peak_growth(tmp_path / "large.csv", 2_000_000)
    assert large < 1.5 * small + 30 * 2**20, (small, large)  # 10x the rows, about the same memory
