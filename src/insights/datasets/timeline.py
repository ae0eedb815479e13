"""The period the demo data covers, and timestamps written as ISO-8601 text with mixed UTC offsets.

Inside the generator every time is an int64 count of milliseconds since the epoch, in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

MS_PER_SECOND = 1_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
#: The demo data covers 13 complete weeks.
PERIOD_DAYS = 91

#: UTC offsets a row's timestamps may be written in (suffix, minutes), and how often.
OFFSETS: tuple[tuple[str, int], ...] = (
    ("Z", 0),
    ("+00:00", 0),
    ("+02:00", 120),
    ("-05:00", -300),
    ("+05:30", 330),
    ("-08:00", -480),
)
OFFSET_PROBS = (0.82, 0.04, 0.05, 0.05, 0.02, 0.02)

Ints = npt.NDArray[np.int64]


def default_end(today: date | None = None) -> date:
    """The last Sunday before `today`: the end of the last complete ISO week.

    >>> default_end(date(2026, 3, 4))  # a Wednesday
    datetime.date(2026, 3, 1)
    >>> default_end(date(2026, 3, 1))  # a Sunday: its week is not complete yet
    datetime.date(2026, 2, 22)
    """
    today = today or date.today()
    return today - timedelta(days=today.isoweekday())


@dataclass(frozen=True)
class Period:
    """The half-open UTC interval [start, end) the data covers: the 13 weeks up to the end date."""

    start: datetime
    end: datetime

    @classmethod
    def ending(cls, end_date: date) -> Period:
        """The 91 days that end with `end_date` (inclusive)."""
        end = datetime(end_date.year, end_date.month, end_date.day, tzinfo=UTC) + timedelta(days=1)
        return cls(start=end - timedelta(days=PERIOD_DAYS), end=end)

    @property
    def start_ms(self) -> int:
        return to_ms(self.start)

    @property
    def end_ms(self) -> int:
        return to_ms(self.end)

    def at(self, days: float) -> datetime:
        """The instant `days` after the start."""
        return self.start + timedelta(days=days)


def to_ms(ts: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    return round(ts.timestamp() * MS_PER_SECOND)


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of a millisecond count."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(ms))


def draw_offsets(rng: np.random.Generator, n: int) -> npt.NDArray[np.int8]:
    """Codes into OFFSETS, mostly 'Z'."""
    return rng.choice(len(OFFSETS), size=n, p=OFFSET_PROBS).astype(np.int8)


def iso_strings(
    ms: Ints, offsets: npt.NDArray[np.int8], unit: str, mask: npt.NDArray[np.bool_] | None = None
) -> pa.Array:
    """ISO-8601 text of UTC instants, each written in the local time of its row's offset.

    `unit` is 's' or 'ms' (the precision written). Masked entries become nulls.

    >>> iso_strings(np.array([0]), np.array([2], dtype=np.int8), "s").to_pylist()
    ['1970-01-01T02:00:00+02:00']
    """
    minutes = np.array([m for _, m in OFFSETS], dtype=np.int64)[offsets]
    local = ms + minutes * 60_000
    if unit == "s":
        values = pa.array((local // MS_PER_SECOND).astype("datetime64[s]"))
    else:
        values = pa.array(local.astype("datetime64[ms]"))
    text = pc.replace_substring(values.cast(pa.string()), " ", "T", max_replacements=1)
    suffix = pc.take(pa.array([s for s, _ in OFFSETS]), pa.array(offsets.astype(np.int32)))
    joined = pc.binary_join_element_wise(text, suffix, "")
    if mask is not None and mask.any():
        joined = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), joined)
    return joined


def utc_timestamps(ms: Ints, unit: str, mask: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """Arrow UTC timestamps (for Parquet) of millisecond counts; masked entries become nulls."""
    if unit == "s":
        arr = pa.array(ms // MS_PER_SECOND, mask=mask, type=pa.int64()).cast(pa.timestamp("s", tz="UTC"))
    else:
        arr = pa.array(ms, mask=mask, type=pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    return arr
