"""The attribution math, in numpy: per-touch weights of the rule-based models, Shapley values and the Markov removal
effects of an absorbing chain, computed on grouped journeys (each distinct journey once, with a count).

Everything here works on a :class:`Design`: the journeys flattened to one entry per touch, so a model is a vector
of per-touch weights and its credits are one ``bincount``; a bootstrap resample only changes the journeys' counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["MODELS", "RULE_MODELS", "Design", "Transitions", "markov_removal_effects", "touch_weights"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: the models that give each converting journey's value to its touches by a fixed rule (Shapley included: with the
#: documented value function it is one, see `touch_weights`)
RULE_MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "shapley")
MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "markov", "shapley")


@dataclass(frozen=True)
class Design:
    """Journeys as flat arrays: per distinct journey (row) its count, outcome and value; per touch its row,
    position, channel (an index into ``channels``) and age in days."""

    channels: tuple[str, ...]
    n_journeys: Ints
    is_converted: npt.NDArray[np.bool_]
    value: Floats
    length: Ints
    touch_row: Ints
    touch_position: Ints
    touch_channel: Ints
    touch_age: Floats

    @classmethod
    def build(
        cls,
        channels: Sequence[str],
        paths: Sequence[Sequence[str]],
        ages: Sequence[Sequence[float]],
        is_converted: Sequence[bool],
        values: Sequence[float],
        n_journeys: Sequence[int],
    ) -> Design:
        index = {c: i for i, c in enumerate(channels)}
        length = np.array([len(p) for p in paths], dtype=np.int64)
        rows = np.repeat(np.arange(len(paths), dtype=np.int64), length)
        starts = np.cumsum(length) - length
        position = np.arange(int(length.sum()), dtype=np.int64) - np.repeat(starts, length)
        channel = np.array([index[c] for p in paths for c in p], dtype=np.int64)
        age = np.array([a for row in ages for a in row], dtype=np.float64)
        return cls(
            channels=tuple(channels),
            n_journeys=np.asarray(n_journeys, dtype=np.int64),
            is_converted=np.asarray(is_converted, dtype=bool),
            value=np.asarray(values, dtype=np.float64),
            length=length,
            touch_row=rows,
            touch_position=position,
            touch_channel=channel,
            touch_age=age,
        )

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    def credits(self, weights: Floats, counts: Ints | None = None) -> Floats:
        """Per channel, the value of the converting journeys spread by per-touch ``weights`` (each row's sum 1).

        ``counts`` replaces the journeys' counts (a bootstrap resample).
        """
        n = self.n_journeys if counts is None else counts
        row_value = n * self.value * self.is_converted
        spread = np.bincount(self.touch_channel, weights=weights * row_value[self.touch_row], minlength=self.n_channels)
        return spread.astype(np.float64)


def touch_weights(
    design: Design, model: str, *, half_life_days: float = 7.0, position_weights: Sequence[float] = (0.4, 0.2, 0.4)
) -> Floats:
    """Each touch's share of its journey's value under a rule-based model (the shares of a journey sum to 1).

    - first_touch / last_touch: all to the first / last touch;
    - linear: equal shares;
    - time_decay: proportional to 2 ** (-age / half_life_days), age in days before the conversion;
    - position_based: ``position_weights`` (first, middle, last): the first and last touches get their weights,
      the touches between share the middle one; a journey of two touches splits first:last in proportion, a
      journey of one touch gives it everything;
    - shapley: equal shares among the distinct channels of the journey (a channel met twice splits its share
      between its touches). This is the exact Shapley value of the game v(S) = value of the converting journeys
      whose channels all lie in S: v is a sum of unanimity games u_T(S) = [T subset of S], one per journey with
      T its channel set, and the Shapley value of u_T gives 1/|T| to each member of T.
    """
    pos, length = design.touch_position, design.length[design.touch_row]
    if model == "first_touch":
        return np.asarray(pos == 0, dtype=np.float64)
    if model == "last_touch":
        return np.asarray(pos == length - 1, dtype=np.float64)
    if model == "linear":
        return (1.0 / length).astype(np.float64)
    if model == "time_decay":
        raw = np.exp2(-design.touch_age / half_life_days)
        totals = np.bincount(design.touch_row, weights=raw, minlength=len(design.length)).astype(np.float64)
        return (raw / totals[design.touch_row]).astype(np.float64)
    if model == "position_based":
        first, middle, last = (float(w) for w in position_weights)
        ends = first + last
        two_first = first / ends if ends > 0 else 0.5
        middle_share = np.where(length > 2, middle / np.maximum(length - 2, 1), 0.0)
        many = np.where(pos == 0, first, np.where(pos == length - 1, last, middle_share))
        two = np.where(pos == 0, two_first, 1.0 - two_first)
        return np.asarray(np.where(length == 1, 1.0, np.where(length == 2, two, many)), dtype=np.float64)
    if model == "shapley":
        key = design.touch_row * design.n_channels + design.touch_channel
        distinct, inverse, multiplicity = np.unique(key, return_inverse=True, return_counts=True)
        n_distinct = np.bincount(distinct // design.n_channels, minlength=len(design.length))
        return np.asarray(1.0 / (n_distinct[design.touch_row] * multiplicity[inverse]), dtype=np.float64)
    raise ValueError(f"not a rule-based model: {model}")


@dataclass(frozen=True)
class Transitions:
    """Every journey's transitions in the chain start -> channels -> conversion | null, as flat arrays."""

    n_states: int
    row: Ints
    index: Ints  # from_state * n_states + to_state

    @classmethod
    def build(cls, design: Design) -> Transitions:
        k = design.n_channels
        start, conversion, null = 0, k + 1, k + 2
        n_states = k + 3
        state = design.touch_channel + 1
        is_first = design.touch_position == 0
        is_last = design.touch_position == design.length[design.touch_row] - 1
        # into each touch: from the start or from the previous touch of the same journey
        previous = np.where(is_first, start, np.roll(state, 1))
        end = np.where(design.is_converted, conversion, null)
        rows = np.concatenate([design.touch_row, design.touch_row[is_last]])
        from_state = np.concatenate([previous, state[is_last]])
        to_state = np.concatenate([state, end[design.touch_row[is_last]]])
        return cls(n_states=n_states, row=rows, index=from_state * n_states + to_state)

    def counts(self, n_journeys: Ints) -> Floats:
        """The transition count matrix when each distinct journey occurs ``n_journeys`` times."""
        flat = np.bincount(self.index, weights=n_journeys[self.row].astype(np.float64), minlength=self.n_states**2)
        return flat.astype(np.float64).reshape(self.n_states, self.n_states)


def markov_removal_effects(counts: Floats) -> tuple[float, Floats]:
    """Conversion probability from the start and each channel's removal effect, exactly, from transition counts.

    States: 0 start, 1..k channels, k+1 conversion, k+2 null (the last two absorbing). With Q the transition
    probabilities among start and channels and G = (I - Q)^-1 (expected visits), the probability of converting from
    each state is f = G r (r: one-step probability into conversion) and the probability of ever reaching channel c
    from the start is G[0, c] / G[c, c]. Removing c sends every journey that reaches it to null; by the strong Markov
    property at the first visit to c, the conversion probability falls by P(reach c) f[c], so the removal effect is
    G[0, c] / G[c, c] * f[c] / f[0]. One inverse gives every channel's effect. Self-loops (a channel repeated) change
    no absorption probability, so repeated touches neither help nor hurt a channel.
    """
    n_states = counts.shape[0]
    k = n_states - 3
    transient = counts[: k + 1, :]
    out = transient.sum(axis=1)
    probs = np.divide(transient, out[:, None], out=np.zeros_like(transient), where=out[:, None] > 0)
    q = probs[:, : k + 1]
    r = probs[:, k + 1]
    g = np.linalg.inv(np.eye(k + 1) - q)
    f = g @ r
    p_start = float(f[0])
    if p_start <= 0:
        return 0.0, np.zeros(k)
    reach = g[0, 1:] / np.diag(g)[1:]
    effects = np.clip(reach * f[1:] / p_start, 0.0, 1.0)
    return p_start, effects
