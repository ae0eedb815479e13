"""`generate_chat_events`: a chat_events file of any size, for benchmarks, in bounded memory.

Sessions follow the same funnel as the demo's (`FunnelTruth`), without posts, leads or the
experiment; they are planned and turned into rows one chunk at a time, so memory depends on
`chunk_rows`, not on `n_events`.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
from numpy.random import PCG64, Generator, SeedSequence

from insights.contract import CHAT_EVENTS
from insights.datasets import vocabulary as vocab
from insights.datasets.events import TextPools, materialize
from insights.datasets.params import check_bool, check_choice, check_end, check_int, check_path
from insights.datasets.sessions import BulkWorld, contact_pool, ids, plan_bulk_sessions
from insights.datasets.timeline import Period
from insights.datasets.truth import ExperimentTruth, FunnelTruth
from insights.datasets.writers import FILE_FORMATS, LogWriter
from insights.errors import invalid_parameter


def events_per_session(funnel: FunnelTruth) -> float:
    """Expected rows per session: start, greeting and end, plus what an engaged session adds."""
    engaged = 2 * funnel.mean_questions
    engaged += 3 * funnel.recognised_rate * funnel.capture_rate
    fallback_share = 1 - funnel.recognised_rate
    handoff = fallback_share * funnel.handoff_rate_fallback + (1 - fallback_share) * funnel.handoff_rate_understood
    engaged += 2.5 * handoff + funnel.csat_response_rate
    return 3 + funnel.message_rate * engaged


def generate_chat_events(
    path: str | os.PathLike[str],
    n_events: int,
    *,
    seed: int = 7,
    file_format: str = "csv",
    compress: bool = False,
    chunk_rows: int = 1_000_000,
    end: date | str | None = None,
) -> Path:
    """Write exactly `n_events` chat event rows to `path` and return it.

    Rows are made and written about `chunk_rows` at a time (the last session may be cut short).
    The same seed and end give the same bytes.

    >>> generate_chat_events("chat.csv", 10_000_000)  # doctest: +SKIP
    PosixPath('chat.csv')
    """
    fn = "generate_chat_events"
    target = check_path("path", fn, path)
    n_events = check_int("n_events", fn, n_events, 1)
    seed = check_int("seed", fn, seed, 0)
    file_format = check_choice("file_format", fn, file_format, FILE_FORMATS)
    compress = check_bool("compress", fn, compress)
    if compress and file_format == "parquet":
        raise invalid_parameter("compress", fn, "must be False for Parquet files (Parquet compresses itself)", compress)
    chunk_rows = check_int("chunk_rows", fn, chunk_rows, 1_000)
    period = Period.ending(check_end(fn, end))

    world_rng, plan_rng, event_rng = (Generator(PCG64(s)) for s in SeedSequence(seed).spawn(3))
    funnel = FunnelTruth()
    n_posts = max(100, n_events // 5_000)
    platforms = np.array(list(vocab.PLATFORM_PREFIX))[world_rng.integers(0, 4, size=n_posts)]
    prefixes = np.array([vocab.PLATFORM_PREFIX[p] for p in platforms])
    numbers = np.char.zfill(np.arange(1, n_posts + 1).astype(str), 6)
    world = BulkWorld(
        period=period,
        funnel=funnel,
        n_users=max(1, n_events // 12),
        post_ids=pa.array(np.char.add(np.char.add(prefixes, "-"), numbers)),
        link_ids=ids("lnk-", np.arange(1, n_posts + 1), 6),
        platforms=pa.array(platforms),
        contacts=pa.array(contact_pool(world_rng)),
        bot_version=ExperimentTruth.control_bot_version,
    )
    pools = TextPools.build(world_rng)
    sessions_per_chunk = max(1, int(chunk_rows / events_per_session(funnel)))
    remaining, first = n_events, 1
    with LogWriter(target, CHAT_EVENTS, file_format, compress) as writer:
        while remaining > 0:
            plan = plan_bulk_sessions(plan_rng, world, first, sessions_per_chunk)
            rows = materialize(plan, pools, event_rng).rows
            if rows.num_rows > remaining:
                rows = rows.slice(0, remaining)
            writer.write(rows.finish(file_format))
            remaining -= rows.num_rows
            first += sessions_per_chunk
    return target
