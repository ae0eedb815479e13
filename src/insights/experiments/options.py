"""The options of a readout: every choice that changes its numbers, with a documented default.

A module of its own, without the statistics stack, so definitions can be read and validated cheaply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from insights.errors import invalid_parameter
from insights.experiments.corrections import CORRECTION_METHODS
from insights.params import check_bool, check_choice, check_open_unit

__all__ = ["FAMILIES", "ROLES", "ReadoutOptions"]

ROLES = ("primary", "secondary", "guardrail")
FAMILIES = ("all", "metric", "variant")
Role = Literal["primary", "secondary", "guardrail"]


@dataclass(frozen=True)
class ReadoutOptions:
    """Every choice that changes a readout's numbers, with its default.

    - ``alpha`` 0.05: significance level; intervals are at 1 - alpha.
    - ``alternative`` "two-sided" (or "greater", "less": treatment minus control).
    - ``relative_ci`` "delta": the relative effect's interval by the delta method, or "log" (on the log of the ratio).
    - ``correction`` "holm" (or "hochberg", "bonferroni", "sidak", "bh", "by", "none") over ``family`` "all" (every
      metric and variant of the readout), "metric" (the variants of one metric) or "variant" (the metrics of one
      variant). Guardrails are judged on their raw p-values, so a correction never hides a harm.
    - ``cuped`` True: metrics with a pre-period covariate use CUPED; False ignores the covariates.
    - ``srm_threshold`` 0.001: a sample ratio mismatch is flagged below this p-value.
    - ``sequential_tau`` 0.1: the mSPRT mixing standard deviation as a share of the control mean (the size of
      effect the always-valid band is tuned to detect).
    - ``max_segment_values`` 20: segments beyond the largest 20 values of a column are pooled as "(other)".
    """

    alpha: float = 0.05
    alternative: Literal["two-sided", "greater", "less"] = "two-sided"
    relative_ci: Literal["delta", "log"] = "delta"
    correction: str = "holm"
    family: Literal["all", "metric", "variant"] = "all"
    cuped: bool = True
    srm_threshold: float = 0.001
    sequential_tau: float = 0.1
    max_segment_values: int = 20

    def __post_init__(self) -> None:
        fn = "ReadoutOptions"
        check_open_unit("alpha", fn, self.alpha)
        check_choice("alternative", fn, self.alternative, ("two-sided", "greater", "less"))
        check_choice("relative_ci", fn, self.relative_ci, ("delta", "log"))
        check_choice("correction", fn, self.correction, (*CORRECTION_METHODS, "none"))
        check_choice("family", fn, self.family, FAMILIES)
        check_bool("cuped", fn, self.cuped)
        check_open_unit("srm_threshold", fn, self.srm_threshold)
        if isinstance(self.sequential_tau, bool) or not (
            isinstance(self.sequential_tau, int | float) and 0 < self.sequential_tau < math.inf
        ):
            raise invalid_parameter("sequential_tau", fn, "must be a positive number", self.sequential_tau)
        if isinstance(self.max_segment_values, bool) or not (
            isinstance(self.max_segment_values, int) and self.max_segment_values >= 2
        ):
            raise invalid_parameter("max_segment_values", fn, "must be an integer >= 2", self.max_segment_values)
