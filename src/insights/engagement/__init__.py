"""Engagement models: rates with explicit denominators, exposure-aware count models, best times, AI vs human.

- :func:`post_features` builds one row per post in the engine (engagement, exposure, local time, text features);
- :func:`engagement_rates` gives the ratio of sums and the mean of ratios per group, labelled, with intervals;
- :class:`EngagementModel` fits a negative binomial regression with exposure and reads its coefficients as rate
  ratios with intervals;
- :class:`EngagementPredictor` predicts a draft's engagement (gradient-boosted trees) and :func:`time_ordered_cv`
  scores it on later posts against a naive baseline.

See docs/engagement.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insights._lazy import lazy_exports

#: module -> the public names it holds; imported on first use, so ``import insights.engagement`` stays light
_MODULES: dict[str, tuple[str, ...]] = {
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
}

if TYPE_CHECKING:
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

__all__ = [
    "BASELINES",
    "CTA_PHRASES",
    "DEFAULT_FEATURES",
    "DEFAULT_TERMS",
    "TEXT_FEATURES",
    "EngagementDefinition",
    "EngagementModel",
    "EngagementPredictor",
    "EngagementRates",
    "FoldScore",
    "ForecastEvaluation",
    "ForecastScores",
    "PredictorNotFittedError",
    "RateRatio",
    "RateRatios",
    "RateRow",
    "TermTest",
    "TermTests",
    "engagement_rates",
    "post_features",
    "shrink",
    "time_ordered_cv",
]


__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
