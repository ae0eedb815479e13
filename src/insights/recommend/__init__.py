"""Recommendations: what to post per segment, Thompson-sampling allocation across content variants, and off-policy
evaluation of a policy.

- :func:`recommend` gives each segment (account) the content type, slot and prompt with the best expected outcome
  (engagement or leads), shrunk toward its platform and the pool (empirical Bayes);

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
    "segments": (
        "BLOCK_HOURS",
        "CHOICES",
        "DEFAULT_CHOICES",
        "OUTCOMES",
        "OptionEstimate",
        "PooledEffect",
        "Recommendations",
        "SegmentRecommendation",
        "lead_outcomes",
        "recommend",
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
    from insights.recommend.segments import (
        BLOCK_HOURS,
        CHOICES,
        DEFAULT_CHOICES,
        OUTCOMES,
        OptionEstimate,
        PooledEffect,
        Recommendations,
        SegmentRecommendation,
        lead_outcomes,
        recommend,
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
    "BLOCK_HOURS",
    "CHOICES",
    "DEFAULT_CHOICES",
    "ESTIMATORS",
    "OUTCOMES",
    "POLICY_NOTES",
    "Allocation",
    "AllocationNotFoundError",
    "ArmAllocation",
    "Choices",
    "OptionEstimate",
    "PolicyEstimate",
    "PolicyEvaluation",
    "PolicyNote",
    "PooledEffect",
    "Recommendations",
    "SegmentRecommendation",
    "evaluate_policy",
    "lead_outcomes",
    "read_allocation",
    "recommend",
    "thompson_allocation",
]


__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
