"""Engagement models: rates with explicit denominators, exposure-aware count models, best times, AI vs human.

- :func:`post_features` builds one row per post in the engine (engagement, exposure, local time, text features);
- :func:`engagement_rates` gives the ratio of sums and the mean of ratios per group, labelled, with intervals;
- :class:`EngagementModel` fits a negative binomial regression with exposure and reads its coefficients as rate
  ratios with intervals;
- :class:`EngagementPredictor` predicts a draft's engagement (gradient-boosted trees) and :func:`time_ordered_cv`
  scores it on later posts against a naive baseline;
- :func:`compare_origins` compares AI-drafted with human-written posts like for like (Mantel-Haenszel);
- :func:`best_times` finds each account's best hours of the week, shrunk toward its platform, and
  :func:`posting_time_experiment` turns a recommended window into a randomized test.

See docs/engagement.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insights._lazy import lazy_exports

#: module -> the public names it holds; imported on first use, so ``import insights.engagement`` stays light
_MODULES: dict[str, tuple[str, ...]] = {
    "compare": ("DEFAULT_STRATA", "STRATA", "OriginComparison", "OriginRatio", "compare_origins"),
    "features": ("CTA_PHRASES", "EngagementDefinition", "TEXT_FEATURES", "post_features"),
    "model": ("DEFAULT_TERMS", "EngagementModel", "RateRatio", "RateRatios", "TermTest", "TermTests"),
    "predict": (
        "BASELINES",
        "DEFAULT_FEATURES",
        "EngagementPredictor",
        "FoldScore",
        "ForecastEvaluation",
        "ForecastScores",
        "PredictorNotFittedError",
        "time_ordered_cv",
    ),
    "rates": ("EngagementRates", "RateRow", "engagement_rates"),
    "shrinkage": ("shrink",),
    "timing": (
        "TIMING_TERMS",
        "BestTimes",
        "PostingAssignments",
        "PostingTimeExperiment",
        "Recommendation",
        "SlotEstimate",
        "TimeSlots",
        "TwoLevelFit",
        "WindowEstimate",
        "assign_posting_times",
        "best_times",
        "posting_time_experiment",
    ),
}

if TYPE_CHECKING:
    from insights.engagement.compare import DEFAULT_STRATA, STRATA, OriginComparison, OriginRatio, compare_origins
    from insights.engagement.features import CTA_PHRASES, TEXT_FEATURES, EngagementDefinition, post_features
    from insights.engagement.model import (
        DEFAULT_TERMS,
        EngagementModel,
        RateRatio,
        RateRatios,
        TermTest,
        TermTests,
    )
    from insights.engagement.predict import (
        BASELINES,
        DEFAULT_FEATURES,
        EngagementPredictor,
        FoldScore,
        ForecastEvaluation,
        ForecastScores,
        PredictorNotFittedError,
        time_ordered_cv,
    )
    from insights.engagement.rates import EngagementRates, RateRow, engagement_rates
    from insights.engagement.shrinkage import shrink
    from insights.engagement.timing import (
        TIMING_TERMS,
        BestTimes,
        PostingAssignments,
        PostingTimeExperiment,
        Recommendation,
        SlotEstimate,
        TimeSlots,
        TwoLevelFit,
        WindowEstimate,
        assign_posting_times,
        best_times,
        posting_time_experiment,
    )

__all__ = [
    "BASELINES",
    "CTA_PHRASES",
    "DEFAULT_FEATURES",
    "DEFAULT_STRATA",
    "DEFAULT_TERMS",
    "STRATA",
    "TEXT_FEATURES",
    "TIMING_TERMS",
    "BestTimes",
    "EngagementDefinition",
    "EngagementModel",
    "EngagementPredictor",
    "EngagementRates",
    "FoldScore",
    "ForecastEvaluation",
    "ForecastScores",
    "OriginComparison",
    "OriginRatio",
    "PostingAssignments",
    "PostingTimeExperiment",
    "PredictorNotFittedError",
    "RateRatio",
    "RateRatios",
    "RateRow",
    "Recommendation",
    "SlotEstimate",
    "TermTest",
    "TermTests",
    "TimeSlots",
    "TwoLevelFit",
    "WindowEstimate",
    "assign_posting_times",
    "best_times",
    "compare_origins",
    "engagement_rates",
    "post_features",
    "posting_time_experiment",
    "shrink",
    "time_ordered_cv",
]


__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
