"""Seeded demo data: the five input logs of a fictional brand, with planted, documented ground truth.

`generate_demo` writes posts, post metrics, chat events, leads and the assignments of two
experiments for 13 weeks and returns the files with a `GroundTruth` of every planted effect
(docs/demo-data.md lists them with their sizes). `generate_chat_events` writes a chat_events file
of any size for benchmarks.

>>> from insights.datasets import generate_demo
>>> logs = generate_demo("data/demo", seed=7)  # doctest: +SKIP
>>> logs.files["chat_events"]  # doctest: +SKIP
[PosixPath('data/demo/chat_events.csv')]
"""

from insights.datasets.bulk import generate_chat_events
from insights.datasets.demo import DemoLogs, generate_demo
from insights.datasets.truth import (
    Account,
    BrokenSplitTruth,
    EngagementTruth,
    ExperimentTruth,
    FunnelTruth,
    GroundTruth,
    LeadTruth,
    MalformedRow,
    PiiTruth,
    PostingSlot,
    PromptTruth,
)

__all__ = [
    "Account",
    "BrokenSplitTruth",
    "DemoLogs",
    "EngagementTruth",
    "ExperimentTruth",
    "FunnelTruth",
    "GroundTruth",
    "LeadTruth",
    "MalformedRow",
    "PiiTruth",
    "PostingSlot",
    "PromptTruth",
    "generate_chat_events",
    "generate_demo",
]
