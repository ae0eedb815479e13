"""Journeys: the touches (chat sessions, labelled by their post) that led to each lead, and those that led nowhere.

The engine builds them from marts.lineage in one query and returns each distinct journey once with its count;
:class:`Journeys` holds them for :func:`insights.leads.attribute`. ``Journeys.from_paths`` builds the same record
from paths you bring. The rules are in docs/attribution.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from insights.errors import invalid_parameter
from insights.leads._checks import OPEN_END, OPEN_START, check_connection, check_positive
from insights.leads._sql import fill, render, snippet
from insights.leads.labels import POST_DIMENSIONS, post_label
from insights.params import check_choice, check_open_period
from insights.results import TableResult, format_number
from insights.warehouse.connection import first_row

if TYPE_CHECKING:
    import duckdb

    from insights.leads.models import Design

__all__ = ["CONVERSIONS", "VALUES", "Journeys", "journeys"]

#: what counts as a conversion: any lead, a lead that reached mql or beyond, a won deal
CONVERSIONS = ("lead", "qualified", "won")
#: what a conversion is worth: one, or its won revenue (conversion "won" only)
VALUES = ("count", "revenue")

#: the paths a printed table shows (rows() and the frame conversions hold every distinct journey)
DISPLAY_PATHS = 25

_CONVERTED = {"lead": "TRUE", "qualified": "is_qualified", "won": "is_won"}
_VALUE = {
    "count": "CASE WHEN __is_converted__ THEN 1.0 ELSE 0.0 END",
    "revenue": "CASE WHEN __is_converted__ THEN coalesce(revenue, 0.0) ELSE 0.0 END",
}


@dataclass(frozen=True)
class Journeys(TableResult):
    """Distinct journeys with their counts: ``paths[i]`` (channel labels in time order, at least one) happened
    ``n_journeys[i]`` times, converting or not (``is_converted[i]``), each worth ``values[i]`` when converting;
    ``ages_days[i]`` gives each touch's whole days before the conversion (for time decay).

    ``channels`` lists every channel the attribution reports (those in the paths, and any declared more).
    ``n_unattributed`` conversions (worth ``unattributed_value``) had no touch in the lookback window: they cannot
    be attributed and are left out. Entries are kept sorted, so equal journeys in any order give the same record.
    """

    paths: tuple[tuple[str, ...], ...]
    ages_days: tuple[tuple[float, ...], ...]
    is_converted: tuple[bool, ...]
    values: tuple[float, ...]
    n_journeys: tuple[int, ...]
    channels: tuple[str, ...]
    touch: str | None = None
    conversion: str = "lead"
    value: str = "count"
    lookback_days: float | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    n_unattributed: int = 0
    unattributed_value: float = 0.0

    @classmethod
    def from_paths(
        cls,
        paths: Sequence[Sequence[str]],
        is_converted: Sequence[bool],
        *,
        n_journeys: Sequence[int] | None = None,
        values: Sequence[float] | None = None,
        ages_days: Sequence[Sequence[float]] | None = None,
        channels: Sequence[str] | None = None,
        value: str = "count",
    ) -> Journeys:
        """Journeys you bring: one entry per path (repeats are merged), converting or not.

        ``n_journeys``: how many times each happened (default 1); ``values``: what each converting journey is
        worth (default 1, which ``value="count"`` requires); ``ages_days``: per touch, days before the conversion
        (default 0); ``channels``: the channels to report, at least those in the paths.

        >>> j = Journeys.from_paths([["email", "search"], ["search"]], [True, False])
        >>> j.n_conversions, j.channels
        (1, ('email', 'search'))
        """
        function = "Journeys.from_paths"
        check_choice("value", function, value, VALUES)
        path_list = _check_paths(function, paths)
        n = len(path_list)
        converted = _check_sequence("is_converted", function, is_converted, n)
        if any(not isinstance(c, bool) for c in converted):
            raise invalid_parameter("is_converted", function, "must hold True or False per path", is_converted)
        counts = [1] * n if n_journeys is None else _check_sequence("n_journeys", function, n_journeys, n)
        if any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in counts):
            raise invalid_parameter("n_journeys", function, "must hold one integer >= 1 per path", n_journeys)
        worth = [1.0] * n if values is None else _check_sequence("values", function, values, n)
        if any(isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0 for v in worth):
            raise invalid_parameter("values", function, "must hold one finite number >= 0 per path", values)
        if value == "count" and any(v != 1 for v, c in zip(worth, converted, strict=True) if c):
            raise invalid_parameter(
                "values", function, "must be 1 for every converting path when value is 'count'", values
            )
        ages = [[0.0] * len(p) for p in path_list] if ages_days is None else _check_ages(function, ages_days, path_list)
        seen = sorted({c for p in path_list for c in p})
        if channels is None:
            declared = seen
        else:
            if isinstance(channels, str) or not all(isinstance(c, str) for c in channels):
                raise invalid_parameter("channels", function, "must be a sequence of channel names", channels)
            missing = sorted(set(seen) - set(channels))
            if missing:
                raise invalid_parameter(
                    "channels",
                    function,
                    "must list every channel in the paths (missing: " + ", ".join(missing) + ")",
                    channels,
                )
            declared = sorted(set(channels))
        return cls._grouped(
            path_list,
            ages,
            [bool(c) for c in converted],
            [float(v) if c else 0.0 for v, c in zip(worth, converted, strict=True)],
            [int(c) for c in counts],
            tuple(declared),
            value=value,
        )

    @classmethod
    def _grouped(
        cls,
        paths: list[tuple[str, ...]],
        ages: list[list[float]],
        converted: list[bool],
        values: list[float],
        counts: list[int],
        channels: tuple[str, ...],
        **fields: Any,
    ) -> Journeys:
        merged: dict[tuple[tuple[str, ...], tuple[float, ...], bool, float], int] = {}
        for path, age, conv, worth, n in zip(paths, ages, converted, values, counts, strict=True):
            key = (tuple(path), tuple(float(a) for a in age), conv, worth)
            merged[key] = merged.get(key, 0) + n
        keys = sorted(merged)
        return cls(
            paths=tuple(k[0] for k in keys),
            ages_days=tuple(k[1] for k in keys),
            is_converted=tuple(k[2] for k in keys),
            values=tuple(k[3] for k in keys),
            n_journeys=tuple(merged[k] for k in keys),
            channels=channels,
            **fields,
        )

    # --- what it holds ----------------------------------------------------------------------------------------------

    @property
    def n_total(self) -> int:
        """Journeys, converting or not."""
        return sum(self.n_journeys)

    @property
    def n_conversions(self) -> int:
        """Converting journeys (attributable conversions)."""
        return sum(n for n, c in zip(self.n_journeys, self.is_converted, strict=True) if c)

    @property
    def total_value(self) -> float:
        """What the converting journeys are worth together."""
        return math.fsum(n * v for n, v, c in zip(self.n_journeys, self.values, self.is_converted, strict=True) if c)

    def design(self) -> Design:
        """The journeys as flat numpy arrays for the attribution math."""
        from insights.leads.models import Design

        return Design.build(self.channels, self.paths, self.ages_days, self.is_converted, self.values, self.n_journeys)

    @property
    def title(self) -> str:
        return "Journeys" + (f" by {self.touch}" if self.touch else "")

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "path": " > ".join(path),
                "n_touches": len(path),
                "is_converted": conv,
                "value": worth,
                "n_journeys": n,
            }
            for path, conv, worth, n in zip(self.paths, self.is_converted, self.values, self.n_journeys, strict=True)
        ]

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        """The most frequent paths (ages and outcomes merged), at most DISPLAY_PATHS of them."""
        merged: dict[tuple[str, ...], list[float]] = {}
        for path, conv, worth, n in zip(self.paths, self.is_converted, self.values, self.n_journeys, strict=True):
            entry = merged.setdefault(path, [0.0, 0.0, 0.0])
            entry[0] += n
            entry[1] += n if conv else 0
            entry[2] += n * worth if conv else 0.0
        top = sorted(merged.items(), key=lambda kv: (-kv[1][0], kv[0]))
        headers = ["path", "journeys", "converting"] + (["value"] if self.value == "revenue" else [])
        cells = []
        for path, (n_path, n_conv, worth) in top[:DISPLAY_PATHS]:
            cells.append(
                [" > ".join(path), f"{int(n_path):,}", f"{int(n_conv):,}"]
                + ([_money(worth)] if self.value == "revenue" else [])
            )
        if len(top) > DISPLAY_PATHS:
            cells.append(
                [f"... {len(top) - DISPLAY_PATHS:,} more paths", "", ""] + ([""] if self.value == "revenue" else [])
            )
        return headers, cells

    def summary_lines(self) -> list[str]:
        what = {"lead": "leads", "qualified": "qualified leads", "won": "won deals"}[self.conversion]
        worth = f", worth {_money(self.total_value)}" if self.value == "revenue" else ""
        lines = [
            f"{self.n_total:,} journeys over {len(self.channels):,} channels, {self.n_conversions:,} ending in "
            f"{what}{worth}; {len(self.paths):,} distinct.",
        ]
        if self.lookback_days is not None:
            lines.append(
                f"A journey holds the user's sessions of the {format_number(self.lookback_days)} days before it ends."
            )
        if self.n_unattributed:
            lost = f" (worth {_money(self.unattributed_value)})" if self.value == "revenue" else ""
            lines.append(
                f"{self.n_unattributed:,} {what}{lost} had no session in the lookback window and are not attributed."
            )
        return lines


def journeys(
    con: duckdb.DuckDBPyConnection,
    *,
    start: dt.date | dt.datetime | str | None = None,
    end: dt.date | dt.datetime | str | None = None,
    touch: str = "platform",
    lookback_days: float = 30,
    conversion: str = "lead",
    value: str = "count",
) -> Journeys:
    """The journeys that end in [start, end), their touches labelled by the entry post's ``touch``, in one query.

    ``touch``: platform, content_type, origin, prompt ("prompt_id prompt_version"), post (post_id) or campaign;
    a session without a post is ``direct``. ``conversion``: lead, qualified (reached mql or beyond) or won;
    ``value``: count, or revenue (with conversion "won": the deal's won value).

    >>> j = journeys(con, touch="platform", conversion="qualified")  # doctest: +SKIP
    >>> attribute(j).credit("instagram", "markov").share  # doctest: +SKIP
    0.26
    """
    function = "journeys"
    con = check_connection(function, con)
    first, last = check_open_period(function, start, end)
    check_choice("touch", function, touch, POST_DIMENSIONS)
    lookback = check_positive("lookback_days", function, lookback_days)
    check_choice("conversion", function, conversion, CONVERSIONS)
    check_choice("value", function, value, VALUES)
    if value == "revenue" and conversion != "won":
        raise invalid_parameter(
            "value", function, "must be 'count' unless conversion is 'won' (only won deals carry revenue)", value
        )

    converted = snippet(_CONVERTED[conversion])
    worth = fill(snippet(_VALUE[value]), {"__is_converted__": converted})
    placeholders = {"__channel__": post_label(touch), "__is_converted__": converted, "__value__": worth}
    bounds = {"start": first or OPEN_START, "end": last or OPEN_END}
    fetched = con.execute(render("journeys", placeholders), {**bounds, "lookback_seconds": lookback * 86400}).fetchall()
    totals = first_row(con.execute(render("lead_totals", placeholders), bounds))

    paths = [tuple(str(c) for c in row[0]) for row in fetched]
    result = Journeys._grouped(
        paths,
        [[float(a) for a in row[1]] for row in fetched],
        [bool(row[2]) for row in fetched],
        [float(row[3]) for row in fetched],
        [int(row[4]) for row in fetched],
        tuple(sorted({c for p in paths for c in p})),
        touch=touch,
        conversion=conversion,
        value=value,
        lookback_days=lookback,
        start=first,
        end=last,
    )
    assert totals is not None  # an aggregate without GROUP BY returns one row
    n_total, value_total = int(totals[0]), float(totals[1])
    return _with_unattributed(result, n_total, value_total)


def _with_unattributed(result: Journeys, n_total: int, value_total: float) -> Journeys:
    return replace(
        result,
        n_unattributed=max(0, n_total - result.n_conversions),
        unattributed_value=max(0.0, value_total - result.total_value),
    )


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _check_sequence(name: str, function: str, values: object, n: int) -> list[Any]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or len(values) != n:
        raise invalid_parameter(name, function, f"must be a sequence of {n} entries, one per path", values)
    return list(values)


def _check_paths(function: str, paths: object) -> list[tuple[str, ...]]:
    rule = "must be a sequence of paths, each a non-empty sequence of channel names"
    if isinstance(paths, str | bytes) or not isinstance(paths, Sequence) or not paths:
        raise invalid_parameter("paths", function, rule, paths)
    out = []
    for p in paths:
        if isinstance(p, str | bytes) or not isinstance(p, Sequence) or not p or not all(isinstance(c, str) for c in p):
            raise invalid_parameter("paths", function, rule, p)
        out.append(tuple(p))
    return out


def _check_ages(function: str, ages: object, paths: list[tuple[str, ...]]) -> list[list[float]]:
    rule = "must hold, per path, one number of days >= 0 per touch"
    rows = _check_sequence("ages_days", function, ages, len(paths))
    out = []
    for row, path in zip(rows, paths, strict=True):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence) or len(row) != len(path):
            raise invalid_parameter("ages_days", function, rule, row)
        if any(isinstance(a, bool) or not isinstance(a, int | float) or not math.isfinite(a) or a < 0 for a in row):
            raise invalid_parameter("ages_days", function, rule, row)
        out.append([float(a) for a in row])
    return out
