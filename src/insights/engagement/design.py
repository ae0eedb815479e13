"""From a features relation to model columns: terms, their levels and reference levels, and aliasing.

A term is one input of the count model. A categorical term (account, content type, hour of day ...) gives one
column per level except its reference, so each coefficient reads as a rate ratio against the reference level.
A flag (is_paid, has_cta ...) gives one column, true against false. A number (text length, hashtags) gives one
column per `scale` units. Missing categorical values form their own level, "(none)".

Columns that the data cannot tell apart from earlier ones (for example model "(none)", which is exactly the
human-written posts already measured by origin) are dropped and reported, never silently estimated.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

NONE_LEVEL = "(none)"

CATEGORICAL = (
    "account",
    "platform",
    "content_type",
    "origin",
    "model",
    "prompt_id",
    "prompt_version",
    "campaign",
    "local_hour",
    "local_weekday",
    "hour_of_week",
)
FLAGS = ("is_paid", "has_emoji", "is_question", "has_cta", "has_link")
#: numeric terms and the unit a rate ratio is given per
NUMERIC: Mapping[str, tuple[float, str]] = MappingProxyType(
    {"text_length": (100.0, "per 100 characters"), "n_hashtags": (1.0, "per hashtag")}
)
TERMS = CATEGORICAL + FLAGS + tuple(NUMERIC)

#: reference levels people expect to read ratios against; other terms use their most common level
DEFAULT_REFERENCE: Mapping[str, str] = MappingProxyType({"content_type": "text", "origin": "human"})

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def level_label(term: str, level: Any) -> str:
    """How a level reads: hours as '14:00', weekdays as 'Wed', hour of week as 'Wed 14:00'."""
    if level is None:
        return NONE_LEVEL
    if term == "local_hour":
        return f"{int(level):02d}:00"
    if term == "local_weekday":
        return WEEKDAY_NAMES[int(level)]
    if term == "hour_of_week":
        return f"{WEEKDAY_NAMES[int(level) // 24]} {int(level) % 24:02d}:00"
    return str(level)


@dataclass(frozen=True)
class Column:
    """One model column: its term, the level it stands for (None for a number or a flag) and its label."""

    term: str
    level: str | None
    label: str


@dataclass(frozen=True)
class Encoding:
    """How each term becomes columns: the levels seen at fit time (reference first) and the kept columns."""

    terms: tuple[str, ...]
    levels: Mapping[str, tuple[str, ...]]
    columns: tuple[Column, ...]
    aliased: tuple[Column, ...]

    @classmethod
    def learn(
        cls, data: Mapping[str, npt.NDArray[Any]], terms: Sequence[str], reference: Mapping[str, str]
    ) -> Encoding:
        """Levels (most common first, the reference first of all) of every categorical term."""
        levels: dict[str, tuple[str, ...]] = {}
        columns: list[Column] = []
        for term in terms:
            if term in CATEGORICAL:
                values, counts = np.unique(data[term], return_counts=True)
                order = sorted(range(len(values)), key=lambda i: (-counts[i], str(values[i])))
                names = [str(values[i]) for i in order]
                wanted = reference.get(term)
                if wanted is None or wanted not in names:
                    # "(none)" is never the reference when there are real levels: for model and prompt it is
                    # the human-written posts, which origin already measures, so its column is dropped as aliased
                    wanted = next((name for name in names if name != NONE_LEVEL), names[0])
                names.remove(wanted)
                names.insert(0, wanted)
                if NONE_LEVEL in names[1:]:
                    names.remove(NONE_LEVEL)
                    names.insert(1, NONE_LEVEL)
                levels[term] = tuple(names)
                columns += [Column(term, name, f"{term}={name}") for name in names[1:]]
            else:
                columns.append(Column(term, None, term))
        return cls(tuple(terms), MappingProxyType(levels), tuple(columns), ())

    def reference(self, term: str) -> str | None:
        """The reference level of a categorical term."""
        names = self.levels.get(term)
        return names[0] if names else None

    def codes(self, data: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[np.int64]]:
        """Per categorical term, each row's level index (unseen levels read as the reference, index 0)."""
        out = {}
        for term, names in self.levels.items():
            index = {name: i for i, name in enumerate(names)}
            values = data[term]
            uniques, inverse = np.unique(values, return_inverse=True)
            mapped = np.array([index.get(str(u), 0) for u in uniques], dtype=np.int64)
            out[term] = mapped[inverse.reshape(-1)]
        return out

    def blocks(
        self, data: Mapping[str, npt.NDArray[Any]], n: int, size: int = 65_536
    ) -> Iterator[tuple[slice, npt.NDArray[np.float64]]]:
        """The design matrix (intercept first, then the kept columns) in row blocks, never whole."""
        codes = self.codes(data)
        position = {(c.term, c.level): j + 1 for j, c in enumerate(self.columns)}
        p = len(self.columns) + 1
        for start in range(0, n, size):
            rows = slice(start, min(start + size, n))
            m = rows.stop - rows.start
            x = np.zeros((m, p))
            x[:, 0] = 1.0
            for term in self.terms:
                if term in self.levels:
                    names = self.levels[term]
                    lookup = np.array([position.get((term, name), -1) for name in names], dtype=np.int64)
                    where = lookup[codes[term][rows]]
                    hit = where > 0
                    x[np.flatnonzero(hit), where[hit]] = 1.0
                elif (term, None) in position:
                    scale = NUMERIC[term][0] if term in NUMERIC else 1.0
                    x[:, position[(term, None)]] = np.asarray(data[term][rows], dtype=np.float64) / scale
            yield rows, x

    def without_aliased(self, gram: npt.NDArray[np.float64], tolerance: float = 1e-9) -> Encoding:
        """Drop each column that is (nearly) a linear combination of the columns before it.

        Sequential Gram-Schmidt on the cross-product matrix in column order, so the earlier, more
        interpretable terms keep their columns and a later duplicate is the one reported.
        """
        p = gram.shape[0]
        kept: list[int] = [0]
        for j in range(1, p):
            trial = [*kept, j]
            sub = gram[np.ix_(trial, trial)]
            scale = np.sqrt(np.clip(np.diag(sub), 1e-300, None))
            corr = sub / np.outer(scale, scale)
            try:
                chol = np.linalg.cholesky(corr)
            except np.linalg.LinAlgError:
                continue
            if gram[j, j] > 0 and chol[-1, -1] ** 2 > tolerance:
                kept.append(j)
        columns = tuple(self.columns[j - 1] for j in kept[1:])
        aliased = tuple(c for j, c in enumerate(self.columns, start=1) if j not in kept)
        return Encoding(self.terms, self.levels, columns, self.aliased + aliased)
