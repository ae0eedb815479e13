"""Planted bad rows: exactly N, each with one defect, each distinct from every good row."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from insights.contract import KINDS, Kind
from insights.datasets import generate_demo
from insights.datasets.malformed import TOO_FEW, FreshKeys

SMALL = {"n_posts": 60, "n_sessions": 800, "end": date(2026, 3, 1)}
Check = Callable[[Path, Kind], tuple[int, list[tuple[int, str]]]]


@pytest.mark.parametrize(
    ("file_format", "compress", "n_bad"),
    [("csv", False, 23), ("csv", True, 5), ("jsonl", False, 12), ("parquet", False, 9)],
)
def test_a_loader_rejects_exactly_the_planted_rows(
    tmp_path: Path, contract_check: Check, file_format: str, compress: bool, n_bad: int
) -> None:
    logs = generate_demo(tmp_path, seed=11, file_format=file_format, compress=compress, malformed=n_bad, **SMALL)  # type: ignore[arg-type]
    assert sum(logs.malformed.values()) == len(logs.truth.malformed) == n_bad
    assert max(logs.malformed.values()) - min(logs.malformed.values()) <= 1  # spread over the kinds
    for name, kind in KINDS.items():
        n, rejects = contract_check(logs.files[name][0], kind)
        planted = [m.row for m in logs.truth.malformed if m.kind == name]
        assert [row for row, _ in rejects] == planted, name
        assert n == logs.rows[name] + logs.malformed[name], name
    reasons = Counter(m.reason for m in logs.truth.malformed)
    assert len(reasons) >= (3 if file_format == "parquet" else 4)
    assert (TOO_FEW in reasons) == (file_format == "csv")


def test_bad_rows_are_distinct_from_good_rows(tmp_path: Path) -> None:
    logs = generate_demo(tmp_path, seed=11, malformed=25, **SMALL)  # type: ignore[arg-type]
    assert {m.reason for m in logs.truth.malformed} >= {
        "missing required value",
        "unparsable timestamp",
        "value outside the accepted set",
        "negative count",
        "too few fields",
    }
    for name, kind in KINDS.items():
        with logs.files[name][0].open(encoding="utf-8") as f:
            rows = list(csv.reader(f))[1:]
        bad_rows = {m.row for m in logs.truth.malformed if m.kind == name}
        good = [r for i, r in enumerate(rows, start=1) if i not in bad_rows]
        bad = [r for i, r in enumerate(rows, start=1) if i in bad_rows]
        assert len(bad) == 5
        good_set = {tuple(r) for r in good}
        width = len(kind.column_names)
        for row in bad:
            assert tuple(row) not in good_set
            assert not any(tuple(g[: len(row)]) == tuple(row) for g in good) or len(row) == width
        key_columns = [kind.column_names.index(k) for k in kind.key]
        good_keys = {tuple(r[i] for i in key_columns) for r in good}
        full_bad = [r for r in bad if len(r) == width]
        assert all(tuple(r[i] for i in key_columns) not in good_keys for r in full_bad), name


def test_a_bad_assignment_gets_a_fresh_id_of_its_unit_type() -> None:
    fresh = FreshKeys({"posts": 60, "chat_events": 800, "leads": 0, "assignments": 300})
    session: dict[str, object] = {"experiment_id": "exp-welcome-message", "unit_id": "s0000012", "unit_type": "session"}
    user: dict[str, object] = {"experiment_id": "exp-bot-prompt-v2", "unit_id": "u0000012", "unit_type": "user"}
    assert fresh.apply("chat_events", {"session_id": "s0000012"})["session_id"] == "s0000801"
    assert fresh.apply("assignments", session)["unit_id"] == "s0000802"  # no session has this id
    assert fresh.apply("assignments", user)["unit_id"] == "u0000301"
