"""`generate_demo`: the five logs of a fictional brand's 13 weeks, with documented ground truth."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
from numpy.random import PCG64, Generator, SeedSequence

from insights.contract import ASSIGNMENTS, KINDS
from insights.datasets.attribution import expected_attribution
from insights.datasets.broken_split import SplitAssignments, plan_broken_split
from insights.datasets.chats import DemoChats, plan_demo_sessions
from insights.datasets.events import TextPools, materialize
from insights.datasets.leads import LeadSources, combine, generate_leads, other_sources
from insights.datasets.malformed import Defect, FreshKeys, plan_defects, write_with_bad
from insights.datasets.params import check_bool, check_choice, check_end, check_int, check_path
from insights.datasets.posts import generate_posts
from insights.datasets.timeline import Period, draw_offsets
from insights.datasets.truth import (
    BrokenSplitTruth,
    EngagementTruth,
    ExperimentTruth,
    FunnelTruth,
    GroundTruth,
    LeadTruth,
    MalformedRow,
    PiiTruth,
    PromptTruth,
)
from insights.datasets.writers import FILE_FORMATS, LogWriter, RawTable, file_name
from insights.errors import invalid_parameter

#: Sessions turned into event rows at a time.
CHUNK_SESSIONS = 5_000


@dataclass(frozen=True)
class DemoLogs:
    """What `generate_demo` wrote: files per kind, good and bad row counts, and the planted truth."""

    out_dir: Path
    file_format: str
    files: dict[str, list[Path]]
    rows: dict[str, int]
    malformed: dict[str, int]
    truth: GroundTruth = field(repr=False)

    def __str__(self) -> str:
        last_day = self.truth.end - timedelta(days=1)
        period = f"{self.truth.start:%Y-%m-%d} to {last_day:%Y-%m-%d}"
        lines = [f"Demo logs in {self.out_dir} ({self.file_format}), {period}:"]
        for kind, paths in self.files.items():
            bad = f" + {self.malformed[kind]} malformed" if self.malformed[kind] else ""
            lines.append(f"  {kind:<13} {self.rows[kind]:>9,} rows{bad}  {', '.join(p.name for p in paths)}")
        return "\n".join(lines)


class _Streams:
    """Independent random streams per part, so e.g. planting bad rows never changes good ones.

    A new part gets a new name at the end: SeedSequence.spawn hands the first names the same
    streams whatever comes after them, so the older parts stay byte-identical.
    """

    def __init__(self, seed: int) -> None:
        names = ("posts", "sessions", "texts", "events", "leads", "assignments", "malformed", "broken_split")
        self._rng = {n: Generator(PCG64(s)) for n, s in zip(names, SeedSequence(seed).spawn(len(names)), strict=True)}

    def __getitem__(self, name: str) -> Generator:
        return self._rng[name]


def generate_demo(
    out_dir: str | os.PathLike[str],
    *,
    seed: int = 7,
    n_posts: int = 2000,
    n_sessions: int = 20000,
    end: date | str | None = None,
    file_format: str = "csv",
    compress: bool = False,
    malformed: int = 0,
) -> DemoLogs:
    """Write the five logs of a demo brand to `out_dir` and return their files and ground truth.

    The data covers the 13 weeks that end with `end` (default: last Sunday). The same seed and end
    give byte-identical files. `malformed` bad rows are spread over the files; each has exactly one
    defect a loader must reject. See docs/demo-data.md for every planted effect.

    >>> logs = generate_demo("demo-data", n_posts=200, n_sessions=2000, end="2026-03-01")  # doctest: +SKIP
    >>> round(logs.truth.experiment.capture_ratio, 2)  # doctest: +SKIP
    1.25
    """
    fn = "generate_demo"
    root = check_path("out_dir", fn, out_dir)
    seed = check_int("seed", fn, seed, 0)
    n_posts = check_int("n_posts", fn, n_posts, 10)
    n_sessions = check_int("n_sessions", fn, n_sessions, 100)
    end_date = check_end(fn, end)
    file_format = check_choice("file_format", fn, file_format, FILE_FORMATS)
    compress = check_bool("compress", fn, compress)
    if compress and file_format == "parquet":
        raise invalid_parameter("compress", fn, "must be False for Parquet files (Parquet compresses itself)", compress)
    malformed = check_int("malformed", fn, malformed, 0)

    streams = _Streams(seed)
    period = Period.ending(end_date)
    engagement, prompt, funnel, lead_truth = EngagementTruth(), PromptTruth(), FunnelTruth(), LeadTruth()
    experiment = ExperimentTruth(
        start=period.at(ExperimentTruth.start_day),
        end=period.end,
        pre_period_start=period.at(ExperimentTruth.start_day - ExperimentTruth.pre_period_days),
    )
    posts = generate_posts(streams["posts"], period, n_posts, engagement, prompt)
    chats = plan_demo_sessions(streams["sessions"], period, posts, n_sessions, funnel, experiment)
    split_truth = BrokenSplitTruth(start=period.at(BrokenSplitTruth.start_day), end=period.end)
    split = plan_broken_split(streams["broken_split"], chats.plan.start_ms, split_truth)
    defects = plan_defects(malformed, file_format)
    fresh = FreshKeys({"posts": n_posts, "chat_events": n_sessions, "leads": 0, "assignments": chats.n_users})
    bad_rng = streams["malformed"]
    files = {name: [root / file_name(kind, file_format, compress)] for name, kind in KINDS.items()}
    planted: list[MalformedRow] = []
    rows: dict[str, int] = {}

    pools = TextPools.build(streams["texts"])
    with LogWriter(files["chat_events"][0], KINDS["chat_events"], file_format, compress) as writer:
        chat = _write_chat_events(writer, chats, pools, streams, defects["chat_events"], fresh)
    planted += chat.planted
    rows["chat_events"] = chat.rows

    lead_rng = streams["leads"]
    chat_leads = _chat_leads(lead_rng, chats, chat.capture_ms, posts.is_prompt_post, lead_truth, prompt)
    leads = combine(chat_leads, other_sources(lead_rng, period, lead_truth, n_sessions, chats.n_users + 1))
    fresh.last["leads"] = len(leads.source)
    tables = {
        "posts": posts.posts,
        "post_metrics": posts.metrics,
        "leads": generate_leads(lead_rng, period, leads, lead_truth),
        "assignments": _assignments(streams["assignments"], chats, split),
    }
    for name, raw in tables.items():
        bad = [(int(bad_rng.integers(0, raw.num_rows + 1)), d) for d in defects[name]]
        with LogWriter(files[name][0], raw.kind, file_format, compress) as writer:
            planted += write_with_bad(writer, raw, bad, fresh, file_format)
        rows[name] = raw.num_rows

    n_leads = {s: leads.source.count(s) for s in ("chatbot", "form", "event")}
    truth = GroundTruth(
        seed=seed,
        start=period.start,
        end=period.end,
        engagement=engagement,
        prompt=replace(prompt, n_posts=int(posts.is_prompt_post.sum())),
        funnel=chats.funnel,
        experiment=chats.experiment,
        broken_split=split.truth,
        leads=replace(lead_truth, n_leads=n_leads),
        pii=_pii(pools, chat.used_pii, leads),
        malformed=tuple(sorted(planted, key=lambda m: (list(KINDS).index(m.kind), m.row))),
        attribution=expected_attribution(chats, posts, period, chats.funnel, lead_truth, prompt),
    )
    return DemoLogs(
        out_dir=root,
        file_format=file_format,
        files=files,
        rows={name: rows[name] for name in KINDS},
        malformed={name: len(defects[name]) for name in KINDS},
        truth=truth,
    )


@dataclass(frozen=True)
class _ChatWritten:
    """What writing the chat events yields for the leads and the truth."""

    rows: int
    capture_ms: npt.NDArray[np.int64]
    used_pii: frozenset[int]
    planted: list[MalformedRow]


def _write_chat_events(
    writer: LogWriter, chats: DemoChats, pools: TextPools, streams: _Streams, defects: list[Defect], fresh: FreshKeys
) -> _ChatWritten:
    """Turn the planned sessions into rows chunk by chunk, each bad row into a random chunk."""
    n_sessions = chats.plan.n
    n_chunks = -(-n_sessions // CHUNK_SESSIONS)
    bad_rng = streams["malformed"]
    by_chunk: list[list[Defect]] = [[] for _ in range(n_chunks)]
    for d in defects:
        by_chunk[int(bad_rng.integers(0, n_chunks))].append(d)
    capture_ms = np.full(n_sessions, -1, dtype=np.int64)
    used_pii: frozenset[int] = frozenset()
    planted: list[MalformedRow] = []
    for c in range(n_chunks):
        a, b = c * CHUNK_SESSIONS, min(n_sessions, (c + 1) * CHUNK_SESSIONS)
        chunk = materialize(chats.plan.slice(a, b), pools, streams["events"])
        capture_ms[a:b] = chunk.capture_ms
        used_pii |= chunk.used_pii
        bad = [(int(bad_rng.integers(0, chunk.rows.num_rows + 1)), d) for d in by_chunk[c]]
        planted += write_with_bad(writer, chunk.rows, bad, fresh, writer.file_format)
    return _ChatWritten(writer.rows_written - len(defects), capture_ms, used_pii, planted)


def _chat_leads(
    rng: Generator,
    chats: DemoChats,
    capture_ms: npt.NDArray[np.int64],
    prompt_post: npt.NDArray[np.bool_],
    truth: LeadTruth,
    prompt: PromptTruth,
) -> LeadSources:
    """One lead per session with a lead_captured event; the CRM records it 5 s to 2 min later."""
    sessions = np.flatnonzero(capture_ms >= 0)
    post = chats.post[sessions]
    from_prompt = (post >= 0) & prompt_post[np.maximum(post, 0)]
    picked = sessions.tolist()
    return LeadSources(
        source=["chatbot"] * len(picked),
        created_ms=capture_ms[sessions] + rng.integers(5_000, 120_000, size=len(picked)),
        qualify_prob=truth.qualify_rate["chatbot"] * np.where(from_prompt, prompt.qualify_ratio, 1.0),
        user_id=chats.plan.user_id.take(sessions).to_pylist(),
        session_id=chats.plan.session_id.take(sessions).to_pylist(),
        email=[chats.email[i] for i in picked],
        phone=[chats.phone[i] for i in picked],
        campaign=[chats.campaign[i] for i in picked],
    )


def _assignments(rng: Generator, chats: DemoChats, split: SplitAssignments) -> RawTable:
    """The users of exp-bot-prompt-v2, then the logged sessions of exp-welcome-message (each in time order)."""
    exp, welcome = chats.experiment, split.truth
    n, m = len(chats.assigned_user), len(split.session)
    return RawTable.from_columns(
        ASSIGNMENTS,
        {
            "experiment_id": [exp.experiment_id] * n + [welcome.experiment_id] * m,
            "unit_id": [f"u{u + 1:07d}" for u in chats.assigned_user.tolist()]
            + chats.plan.session_id.take(split.session).to_pylist(),
            "variant": [exp.treatment if t else exp.control for t in chats.assigned_treatment.tolist()]
            + [welcome.treatment if t else welcome.control for t in split.is_treatment.tolist()],
            "assigned_at": np.concatenate([chats.assigned_ms, chats.plan.start_ms[split.session]]),
            "assignment_prob": np.concatenate([np.full(n, exp.assignment_prob), np.full(m, welcome.assignment_prob)]),
            "unit_type": [exp.unit_type] * n + [welcome.unit_type] * m,
        },
        np.concatenate([draw_offsets(rng, n), split.offsets]),
        unit="ms",
    )


def _pii(pools: TextPools, used: frozenset[int], leads: LeadSources) -> PiiTruth:
    found: dict[str, set[str]] = {"email": set(), "phone": set(), "card": set()}
    for i in used:
        kind, value = pools.pii[i]
        found[kind].add(value)
    found["email"].update(e for e in leads.email if e)
    found["phone"].update(p for p in leads.phone if p)
    return PiiTruth(
        emails=tuple(sorted(found["email"])),
        phones=tuple(sorted(found["phone"])),
        cards=tuple(sorted(found["card"])),
    )
