"""Experiment analysis: addable sufficient statistics and the inference built on them.

The functions here work on summary statistics (count, mean, variance, covariance), so they serve data
already aggregated in the warehouse as well as numbers typed in by hand. See docs/experiments.md.
"""

from insights.experiments.bayes import BayesNormalResult, bayes_normal, beta_binomial_prob_better
from insights.experiments.power import (
    MdeResult,
    MeanMetric,
    PowerResult,
    ProportionMetric,
    RatioMetric,
    SampleSizeResult,
    minimum_detectable_effect,
    power,
    sample_size,
)
from insights.experiments.sequential import MsprtResult, msprt
from insights.experiments.stats import (
    CORRECTION_METHODS,
    CovarianceStats,
    EffectResult,
    SampleStats,
    SrmResult,
    adjust_pvalues,
    cuped,
    proportion_z_test,
    srm_test,
    welch_test,
)

__all__ = [
    "CORRECTION_METHODS",
    "BayesNormalResult",
    "CovarianceStats",
    "EffectResult",
    "MdeResult",
    "MeanMetric",
    "MsprtResult",
    "PowerResult",
    "ProportionMetric",
    "RatioMetric",
    "SampleSizeResult",
    "SampleStats",
    "SrmResult",
    "adjust_pvalues",
    "bayes_normal",
    "beta_binomial_prob_better",
    "cuped",
    "minimum_detectable_effect",
    "msprt",
    "power",
    "proportion_z_test",
    "sample_size",
    "srm_test",
    "welch_test",
]
