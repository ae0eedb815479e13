"""Wrong arguments fail at the door with the one sentence shape of insights.errors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from insights.datasets import generate_chat_events, generate_demo
from insights.errors import InvalidParameterError


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_posts": 5}, "The 'n_posts' parameter of generate_demo must be an integer >= 10. Got 5 instead."),
        (
            {"n_sessions": 2.5},
            "The 'n_sessions' parameter of generate_demo must be an integer >= 100. Got 2.5 instead.",
        ),
        ({"seed": -1}, "The 'seed' parameter of generate_demo must be an integer >= 0. Got -1 instead."),
        ({"malformed": True}, "The 'malformed' parameter of generate_demo must be an integer >= 0. Got True instead."),
        (
            {"file_format": "xlsx"},
            "The 'file_format' parameter of generate_demo must be one of csv, jsonl, parquet. Got 'xlsx' instead.",
        ),
        ({"compress": "yes"}, "The 'compress' parameter of generate_demo must be True or False. Got 'yes' instead."),
        (
            {"file_format": "parquet", "compress": True},
            "The 'compress' parameter of generate_demo must be False for Parquet files (Parquet compresses itself)."
            " Got True instead.",
        ),
        (
            {"end": "last week"},
            "The 'end' parameter of generate_demo must be a date, an ISO date string such as '2026-03-01' or None."
            " Got 'last week' instead.",
        ),
    ],
)
def test_generate_demo_rejects_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        generate_demo(tmp_path, **kwargs)
    assert str(caught.value) == message
    assert not any(tmp_path.iterdir())  # nothing written


def test_generate_demo_rejects_a_datetime_end_and_a_non_path(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="'end' parameter of generate_demo must be a date"):
        generate_demo(tmp_path, end=datetime(2026, 3, 1))
    with pytest.raises(InvalidParameterError, match="'out_dir' parameter of generate_demo must be a path"):
        generate_demo(42)  # type: ignore[arg-type]


def test_generate_chat_events_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^The 'n_events' parameter of generate_chat_events must be an integer >= 1"):
        generate_chat_events(tmp_path / "x.csv", 0)
    with pytest.raises(ValueError, match=r"^The 'chunk_rows' parameter of generate_chat_events must be an integer"):
        generate_chat_events(tmp_path / "x.csv", 10, chunk_rows=10)
    with pytest.raises(ValueError, match=r"^The 'file_format' parameter of generate_chat_events must be one of"):
        generate_chat_events(tmp_path / "x.csv", 10, file_format="xml")
