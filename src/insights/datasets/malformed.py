"""Planted bad rows: realistic defects a loader must reject, one defect per row.

Each bad row copies a neighbouring good row, gets a key no good row has (so it is never a
duplicate), then receives one defect: a missing required value, an unparsable timestamp, a value
outside the accepted set, a negative count, a value out of range, or (CSV only) too few fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from insights.contract import KINDS, Kind
from insights.datasets.timeline import MS_PER_HOUR
from insights.datasets.truth import MalformedRow
from insights.datasets.writers import LogWriter, RawTable

MISSING = "missing required value"
TIMESTAMP = "unparsable timestamp"
ACCEPTED = "value outside the accepted set"
NEGATIVE = "negative count"
BELOW_MINIMUM = "value below the minimum"
ABOVE_MAXIMUM = "value above the maximum"
TOO_FEW = "too few fields"
#: February has no 30th and days no 25th hour.
BAD_TIMESTAMP = "2026-02-30T25:00"


@dataclass(frozen=True)
class Defect:
    """What is wrong with a bad row; for TOO_FEW, `column` is the first field left out."""

    column: str
    reason: str
    value: object = None


DEFECTS: dict[str, tuple[Defect, ...]] = {
    "posts": (
        Defect("platform", MISSING),
        Defect("published_at", TIMESTAMP),
        Defect("content_type", ACCEPTED, "hologram"),
        Defect("likes", NEGATIVE, -4),
        Defect("content_type", TOO_FEW),
    ),
    "post_metrics": (
        Defect("post_id", MISSING),
        Defect("observed_at", TIMESTAMP),
        Defect("impressions", NEGATIVE, -120),
        Defect("clicks", NEGATIVE, -3),
        Defect("reach", TOO_FEW),
    ),
    "chat_events": (
        Defect("user_id", MISSING),
        Defect("ts", TIMESTAMP),
        Defect("role", ACCEPTED, "robot"),
        Defect("tokens_out", NEGATIVE, -12),
        Defect("text", TOO_FEW),
    ),
    "leads": (
        Defect("stage", MISSING),
        Defect("changed_at", TIMESTAMP),
        Defect("stage", ACCEPTED, "zombie"),
        Defect("value", BELOW_MINIMUM, -250.0),
        Defect("user_id", TOO_FEW),
    ),
    "assignments": (
        Defect("variant", MISSING),
        Defect("assigned_at", TIMESTAMP),
        Defect("unit_type", ACCEPTED, "planet"),
        Defect("assignment_prob", ABOVE_MAXIMUM, 1.5),
        Defect("variant", TOO_FEW),
    ),
}


def possible(defect: Defect, file_format: str) -> bool:
    """Parquet holds typed timestamps and whole rows; JSON lines have no field count."""
    if defect.reason == TOO_FEW:
        return file_format == "csv"
    return not (defect.reason == TIMESTAMP and file_format == "parquet")


def plan_defects(n: int, file_format: str) -> dict[str, list[Defect]]:
    """Spread `n` defects over the kinds in turn; each kind cycles through its defects, starting at
    a different one per kind so that even a few bad rows show different defects.

    >>> {k: len(v) for k, v in plan_defects(7, "csv").items()}
    {'posts': 2, 'post_metrics': 2, 'chat_events': 1, 'leads': 1, 'assignments': 1}
    """
    out: dict[str, list[Defect]] = {name: [] for name in KINDS}
    names = list(KINDS)
    for i in range(n):
        name = names[i % len(names)]
        options = [d for d in DEFECTS[name] if possible(d, file_format)]
        out[name].append(options[(len(out[name]) + i % len(names)) % len(options)])
    return out


class FreshKeys:
    """Hands out natural keys that no good row has, so no bad row duplicates a good one.

    `last` maps a kind to the highest id number its good rows use (posts, chat_events' sessions,
    leads, assignments' users; assignments of sessions take session numbers); post_metrics rows get
    a snapshot time between real snapshots.
    """

    def __init__(self, last: dict[str, int]) -> None:
        self.last = dict(last)
        self._shift = 0

    def _number(self, kind: str) -> int:
        self.last[kind] += 1
        return self.last[kind]

    def apply(self, kind: str, values: dict[str, object]) -> dict[str, object]:
        """A copy of a good row's raw values with a fresh key."""
        out = dict(values)
        if kind == "posts":
            prefix = str(values["post_id"]).split("-")[0]
            out["post_id"] = f"{prefix}-{self._number(kind):06d}"
        elif kind == "post_metrics":
            self._shift += 1
            out["observed_at"] = int(values["observed_at"]) + MS_PER_HOUR + 61_000 * self._shift  # type: ignore[call-overload]
        elif kind == "chat_events":
            out["session_id"] = f"s{self._number(kind):07d}"
        elif kind == "leads":
            out["lead_id"] = f"L{self._number(kind):06d}"
        elif values.get("unit_type") == "session":  # an assignment of a session: a session id no event has
            out["unit_id"] = f"s{self._number('chat_events'):07d}"
        else:
            out["unit_id"] = f"u{self._number(kind):07d}"
        return out


def bad_row(
    template: RawTable, defect: Defect, fresh: FreshKeys, file_format: str
) -> tuple[dict[str, object], int | None]:
    """The values of one bad row made from a one-row template, and how many CSV fields it keeps."""
    kind: Kind = template.kind
    values = fresh.apply(kind.name, template.table.to_pylist()[0])
    columns = {name: [value] for name, value in values.items()}
    finished: dict[str, object] = (
        RawTable.from_columns(kind, columns, template.offsets, template.unit).finish(file_format).to_pylist()[0]
    )
    if defect.reason == TOO_FEW:
        return finished, kind.column_names.index(defect.column)
    if defect.reason == MISSING:
        finished[defect.column] = None
    elif defect.reason == TIMESTAMP:
        finished[defect.column] = BAD_TIMESTAMP
    else:
        finished[defect.column] = defect.value
    return finished, None


def write_with_bad(
    writer: LogWriter, raw: RawTable, bad: list[tuple[int, Defect]], fresh: FreshKeys, file_format: str
) -> list[MalformedRow]:
    """Write `raw`'s rows, inserting a bad row before each given position; return what was planted."""
    planted = []
    done, n = 0, raw.num_rows
    for position, defect in sorted(bad, key=lambda b: b[0]):
        if position > done:
            writer.write(raw.slice(done, position).finish(file_format))
            done = position
        at = min(position, n - 1)
        values, n_fields = bad_row(raw.slice(at, at + 1), defect, fresh, file_format)
        row = writer.rows_written + 1
        writer.write_bad(values, n_fields)
        shown = None if defect.reason in (MISSING, TOO_FEW) else str(values[defect.column])
        planted.append(
            MalformedRow(kind=raw.kind.name, row=row, column=defect.column, reason=defect.reason, value=shown)
        )
    if done < n:
        writer.write(raw.slice(done, n).finish(file_format))
    return planted
