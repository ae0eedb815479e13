"""From a features relation to model columns: terms, their levels and reference levels, and aliasing.

A term is one input of the count model. A categorical term (account, content type, hour of day ...) gives one
column per level except its reference, so each coefficient reads as a rate ratio against the reference level.
A flag (is_paid, has_cta ...) gives one column, true against false. A number (text length, hashtags) gives one
column per `scale` units. Missing categorical values form their own level, "(none)".

The design matrix is never built: one-hot columns are kept as level codes, and the products the fit needs
(X'WX, X'v, X beta) are sums by level (`numpy.bincount`), so a million posts cost a few arrays of a million.

Columns that the data cannot tell apart from earlier ones (for example model "(none)", which is exactly the
human-written posts already measured by origin) are dropped and reported, never silently estimated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

NONE_LEVEL = "(none)"
#: the level that holds a term's rare levels together (fewer posts than the model's `min_posts`)
RARE_LEVEL = "(rare)"

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
    if level in (NONE_LEVEL, RARE_LEVEL):
        return str(level)
    if term == "local_hour":
        return f"{int(level):02d}:00"
    if term == "local_weekday":
        return WEEKDAY_NAMES[int(level)]
    if term == "hour_of_week":
        return f"{WEEKDAY_NAMES[int(level) // 24]} {int(level) % 24:02d}:00"
    return str(level)


@dataclass(frozen=True)
class Categorical:
    """A categorical column as level codes (int32) and the levels they index (strings)."""

    codes: npt.NDArray[np.int32]
    levels: tuple[str, ...]


Data = Mapping[str, Any]  # term -> Categorical, or a float array for a flag or a number


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
    rare: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def learn(cls, data: Data, terms: Sequence[str], reference: Mapping[str, str], min_posts: int = 1) -> Encoding:
        """Levels (most common first, the reference first of all) of every categorical term.

        Levels with fewer than `min_posts` posts share one level, "(rare)": a level of one post would
        fit that post exactly, and its robust standard error would be zero.
        """
        levels: dict[str, tuple[str, ...]] = {}
        rare: dict[str, frozenset[str]] = {}
        columns: list[Column] = []
        for term in terms:
            if term in CATEGORICAL:
                column: Categorical = data[term]
                counts = np.bincount(column.codes, minlength=len(column.levels))
                few = {column.levels[i] for i in range(len(column.levels)) if 0 < counts[i] < min_posts}
                few.discard(NONE_LEVEL)
                total = dict(zip(column.levels, counts.tolist(), strict=True))
                if few:
                    rare[term] = frozenset(few)
                    total = {k: v for k, v in total.items() if k not in few}
                    total[RARE_LEVEL] = int(
                        sum(counts[i] for i in range(len(column.levels)) if column.levels[i] in few)
                    )
                names = sorted((k for k, v in total.items() if v > 0), key=lambda k: (-total[k], k))
                wanted = reference.get(term)
                if wanted is None or wanted not in names:
                    # "(rare)" is never the reference, nor is "(none)" when there are real levels: for model and
                    # prompt it is the human-written posts, which origin already measures, so its column is aliased
                    wanted = next((name for name in names if name not in (NONE_LEVEL, RARE_LEVEL)), names[0])
                names.remove(wanted)
                names.insert(0, wanted)
                if NONE_LEVEL in names[1:]:
                    names.remove(NONE_LEVEL)
                    names.insert(1, NONE_LEVEL)
                levels[term] = tuple(names)
                columns += [Column(term, name, f"{term}={name}") for name in names[1:]]
            else:
                columns.append(Column(term, None, term))
        return cls(tuple(terms), MappingProxyType(levels), tuple(columns), (), MappingProxyType(rare))

    def reference(self, term: str) -> str | None:
        """The reference level of a categorical term."""
        names = self.levels.get(term)
        return names[0] if names else None

    def level_index(self, term: str, column: Categorical) -> npt.NDArray[np.int32]:
        """Each row's index into this encoding's levels of `term` (unseen levels read as the reference, 0)."""
        index = {name: i for i, name in enumerate(self.levels[term])}
        rare = self.rare.get(term, frozenset())
        lookup = np.array(
            [index[RARE_LEVEL] if level in rare else index.get(level, 0) for level in column.levels] or [0],
            dtype=np.int32,
        )
        return lookup[column.codes]

    def design(self, data: Data, n: int) -> Design:
        """The design (intercept first, then the kept columns) over `data`, held as codes and numbers."""
        position = {(c.term, c.level): j + 1 for j, c in enumerate(self.columns)}
        categorical = []
        numeric_columns = [0]
        numbers = [np.ones(n)]
        for term in self.terms:
            if term in self.levels:
                names = self.levels[term]
                where = np.array([position.get((term, name), -1) for name in names], dtype=np.int64)
                categorical.append((self.level_index(term, data[term]), where))
            elif (term, None) in position:
                scale = NUMERIC[term][0] if term in NUMERIC else 1.0
                numeric_columns.append(position[(term, None)])
                numbers.append(np.asarray(data[term], dtype=np.float64) / scale)
        return Design(
            p=len(self.columns) + 1,
            categorical=tuple(categorical),
            numeric_columns=np.array(numeric_columns, dtype=np.int64),
            numbers=np.asfortranarray(np.column_stack(numbers)),
        )

    def without_aliased(self, gram: npt.NDArray[np.float64], tolerance: float = 1e-9) -> Encoding:
        """Drop each column that is (nearly) a linear combination of the columns before it.

        Gram-Schmidt on the cross-product matrix in column order, growing one Cholesky factor of the kept
        columns' correlations (one triangular solve per column), so the earlier, more interpretable terms keep
        their columns and a later duplicate is the one reported.
        """
        from scipy.linalg import solve_triangular

        p = gram.shape[0]
        scale = np.sqrt(np.clip(np.diag(gram), 1e-300, None))
        corr = gram / np.outer(scale, scale)
        kept: list[int] = [0]
        factor = np.ones((1, 1))
        for j in range(1, p):
            if gram[j, j] <= 0:
                continue
            c = solve_triangular(factor, corr[kept, j], lower=True)
            residual = 1.0 - float(c @ c)
            if residual > tolerance:
                k = len(kept)
                grown = np.zeros((k + 1, k + 1))
                grown[:k, :k] = factor
                grown[k, :k] = c
                grown[k, k] = np.sqrt(residual)
                factor = grown
                kept.append(j)
        columns = tuple(self.columns[j - 1] for j in kept[1:])
        kept_set = set(kept)
        aliased = tuple(c for j, c in enumerate(self.columns, start=1) if j not in kept_set)
        return Encoding(self.terms, self.levels, columns, self.aliased + aliased, self.rare)


@dataclass(frozen=True)
class Design:
    """X without X: per categorical term each row's level and each level's column (-1: none), plus numbers.

    The products a regression needs are sums over rows grouped by level, so each is one `bincount`
    per term (or pair of terms) instead of a dense n x p matrix.
    """

    p: int
    categorical: tuple[tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]], ...]
    numeric_columns: npt.NDArray[np.int64]
    numbers: npt.NDArray[np.float64]

    def cross(self, weight: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """X' diag(weight) X."""
        out = np.zeros((self.p, self.p))
        num = self.numeric_columns
        out[np.ix_(num, num)] = (self.numbers * weight[:, None]).T @ self.numbers
        for a, (rows_a, cols_a) in enumerate(self.categorical):
            size_a = len(cols_a)
            keep_a = cols_a >= 0
            ca = cols_a[keep_a]
            sums = np.bincount(rows_a, weights=weight, minlength=size_a)[keep_a]
            out[ca, ca] = sums
            weighted = self.numbers * weight[:, None]
            by_level = np.stack(
                [np.bincount(rows_a, weights=weighted[:, k], minlength=size_a)[keep_a] for k in range(len(num))]
            )
            out[np.ix_(num, ca)] = by_level
            out[np.ix_(ca, num)] = by_level.T
            for rows_b, cols_b in self.categorical[a + 1 :]:
                size_b = len(cols_b)
                keep_b = cols_b >= 0
                joint = np.bincount(
                    rows_a.astype(np.int64) * size_b + rows_b, weights=weight, minlength=size_a * size_b
                ).reshape(size_a, size_b)[np.ix_(keep_a, keep_b)]
                out[np.ix_(ca, cols_b[keep_b])] = joint
                out[np.ix_(cols_b[keep_b], ca)] = joint.T
        return out

    def transpose_times(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """X' values."""
        out = np.zeros(self.p)
        out[self.numeric_columns] = self.numbers.T @ values
        for rows, cols in self.categorical:
            keep = cols >= 0
            out[cols[keep]] = np.bincount(rows, weights=values, minlength=len(cols))[keep]
        return out

    def times(self, beta: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """X beta."""
        out = self.numbers @ beta[self.numeric_columns]
        for rows, cols in self.categorical:
            per_level = np.where(cols >= 0, beta[np.maximum(cols, 0)], 0.0)
            out += per_level[rows]
        return out
