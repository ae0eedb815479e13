"""The demo's second experiment, `exp-welcome-message`: a session-level A/A test with broken logging.

Every chat session that starts in the experiment's window is randomised between the old and a new
welcome message. The message changes nothing in the conversation, so the chat events are the same
whichever variant a session drew. But a share of the treatment exposures is never logged, so the
assignments hold fewer treatment sessions than the planned split: a sample ratio mismatch for the
checks to find. Everything here draws from its own random stream, so the rest of the demo data is
the same with or without this experiment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from insights.datasets.timeline import draw_offsets, to_ms
from insights.datasets.truth import BrokenSplitTruth


@dataclass(frozen=True)
class SplitAssignments:
    """The logged assignments: which sessions (indexes into the session plan, in time order), their
    variant, the UTC offset code of each row, and the truth with this data set's counts."""

    session: npt.NDArray[np.int64]
    is_treatment: npt.NDArray[np.bool_]
    offsets: npt.NDArray[np.int8]
    truth: BrokenSplitTruth


def plan_broken_split(
    rng: np.random.Generator, start_ms: npt.NDArray[np.int64], truth: BrokenSplitTruth
) -> SplitAssignments:
    """Randomise the sessions that start in [truth.start, truth.end), then lose treatment rows.

    `start_ms` holds each planned session's start; a session is assigned when it starts.
    """
    window = np.flatnonzero((start_ms >= to_ms(truth.start)) & (start_ms < to_ms(truth.end)))
    n = len(window)
    is_treatment = rng.random(n) < truth.assignment_prob
    is_lost = is_treatment & (rng.random(n) < truth.lost_share)
    logged = ~is_lost
    n_planned_treatment = int(is_treatment.sum())
    n_treatment = int((is_treatment & logged).sum())
    n_control = n - n_planned_treatment
    statistic, p_value = _chi_square((n_control, n_treatment), truth.planned_weights)
    truth = replace(
        truth,
        n_planned_control=n_control,
        n_planned_treatment=n_planned_treatment,
        n_lost=int(is_lost.sum()),
        n_control=n_control,
        n_treatment=n_treatment,
        srm_statistic=statistic,
        srm_p_value=p_value,
    )
    n_logged = n_control + n_treatment
    return SplitAssignments(window[logged], is_treatment[logged], draw_offsets(rng, n_logged), truth)


def _chi_square(observed: tuple[int, int], weights: tuple[float, float]) -> tuple[float, float]:
    """Chi-square goodness of fit of two counts (1 df): the statistic and its p-value.

    With one degree of freedom P(chi2 > x) = erfc(sqrt(x / 2)), so no scipy is needed.

    >>> _chi_square((50, 50), (0.5, 0.5))
    (0.0, 1.0)
    """
    total = sum(observed)
    if total == 0:
        return 0.0, 1.0
    weight_sum = sum(weights)
    expected = [w / weight_sum * total for w in weights]
    statistic = float(sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True)))
    return statistic, math.erfc(math.sqrt(statistic / 2.0))
