"""Recommendations: Thompson-sampling allocation across content variants, and off-policy evaluation of a policy.

- :func:`thompson_allocation` turns each arm's posterior (mean and log-scale standard error) into how often to post
  it; the :class:`Allocation` writes itself to ``recommend.allocations`` and draws planned posts with their
  propensities; :func:`read_allocation` reads a run back;
- :func:`evaluate_policy` estimates what a policy would have earned on logged decisions (IPS, self-normalised IPS,
  doubly robust, with effective sample size) before anyone follows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insights._lazy import lazy_exports

#: module -> the public names it holds; imported on first use, so ``import insights.recommend`` stays light
_MODULES: dict[str, tuple[str, ...]] = {
    "thompson": (
        "ALLOCATIONS_TABLE",
        "Allocation",
        "AllocationNotFoundError",
        "ArmAllocation",
        "Choices",
        "read_allocation",
        "thompson_allocation",
    ),
    "ope": ("ESTIMATORS", "POLICY_NOTES", "PolicyEstimate", "PolicyEvaluation", "PolicyNote", "evaluate_policy"),
}

if TYPE_CHECKING:
    from insights.recommend.ope import (
        ESTIMATORS,
        POLICY_NOTES,
        PolicyEstimate,
        PolicyEvaluation,
        PolicyNote,
        evaluate_policy,
    )
    from insights.recommend.thompson import (
        ALLOCATIONS_TABLE,
        Allocation,
        AllocationNotFoundError,
        ArmAllocation,
        Choices,
        read_allocation,
        thompson_allocation,
    )

__all__ = [
    "ALLOCATIONS_TABLE",
    "ESTIMATORS",
    "POLICY_NOTES",
    "Allocation",
    "AllocationNotFoundError",
    "ArmAllocation",
    "Choices",
    "PolicyEstimate",
    "PolicyEvaluation",
    "PolicyNote",
    "evaluate_policy",
    "read_allocation",
    "thompson_allocation",
]


__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
