"""Experiment analysis: definitions over the warehouse, readouts of any unit-level table, and the statistics beneath.

Three doors, from the highest:

- :func:`analyze_experiment` reads a definition (YAML under experiments/, or an :class:`Experiment` built in Python)
  and computes its readout in the warehouse;
- :func:`analyze` gives the same readout for any table with one row per unit (a DuckDB relation or table, a
  Parquet/CSV path, a pandas or polars frame);
- the functions on summary statistics (:class:`SampleStats`, :func:`welch_test`, ...) serve data already aggregated.

See docs/experiments.md.
"""

from insights.experiments.analysis import ReadoutOptions, analyze
from insights.experiments.bayes import BayesNormalResult, bayes_from_effect, bayes_normal, beta_binomial_prob_better
from insights.experiments.definition import (
    Experiment,
    ExperimentDefinitionError,
    Measure,
    MetricDefinition,
    analyze_experiment,
    experiment_units,
    load_experiment,
    load_experiments,
)
from insights.experiments.metrics import Mean, Proportion, Quantile, Ratio
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
from insights.experiments.quantiles import QuantileStats, quantile_ranks, quantile_test
from insights.experiments.ratio import ratio_test
from insights.experiments.readout import MetricResult, Readout, SegmentResult, SequentialLook
from insights.experiments.segments import InteractionResult, interaction_test
from insights.experiments.sequential import MsprtResult, msprt, msprt_from_effect
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
from insights.experiments.summaries import MomentStats

__all__ = [
    "CORRECTION_METHODS",
    "BayesNormalResult",
    "CovarianceStats",
    "EffectResult",
    "Experiment",
    "ExperimentDefinitionError",
    "InteractionResult",
    "MdeResult",
    "Mean",
    "MeanMetric",
    "Measure",
    "MetricDefinition",
    "MetricResult",
    "MomentStats",
    "MsprtResult",
    "PowerResult",
    "Proportion",
    "ProportionMetric",
    "Quantile",
    "QuantileStats",
    "Ratio",
    "RatioMetric",
    "Readout",
    "ReadoutOptions",
    "SampleSizeResult",
    "SampleStats",
    "SegmentResult",
    "SequentialLook",
    "SrmResult",
    "adjust_pvalues",
    "analyze",
    "analyze_experiment",
    "bayes_from_effect",
    "bayes_normal",
    "beta_binomial_prob_better",
    "cuped",
    "experiment_units",
    "interaction_test",
    "load_experiment",
    "load_experiments",
    "minimum_detectable_effect",
    "msprt",
    "msprt_from_effect",
    "power",
    "proportion_z_test",
    "quantile_ranks",
    "quantile_test",
    "ratio_test",
    "sample_size",
    "srm_test",
    "welch_test",
]
