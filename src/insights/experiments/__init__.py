"""Experiment analysis: definitions over the warehouse, readouts of any unit-level table, and the statistics beneath.

Three doors, from the highest:

- :func:`analyze_experiment` reads a definition (YAML under experiments/, or an :class:`Experiment` built in Python)
  and computes its readout in the warehouse;
- :func:`analyze` gives the same readout for any table with one row per unit (a DuckDB relation or table, a
  Parquet/CSV path, a pandas or polars frame);
- the functions on summary statistics (:class:`SampleStats`, :func:`welch_test`, ...) serve data already aggregated.

See docs/experiments.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insights._lazy import lazy_exports

#: module -> the public names it holds; imported on first use, so ``import insights.experiments`` and the
#: definitions stay light (the statistics load scipy)
_MODULES: dict[str, tuple[str, ...]] = {
    "analysis": ("analyze",),
    "bayes": ("BayesNormalResult", "bayes_from_effect", "bayes_normal", "beta_binomial_prob_better"),
    "definition": (
        "Experiment",
        "ExperimentDefinitionError",
        "ExperimentNotFoundError",
        "Measure",
        "MetricDefinition",
        "analyze_experiment",
        "definition_path",
        "experiment_units",
        "find_experiment",
        "known_ids",
        "load_experiment",
        "load_experiments",
    ),
    "metrics": ("Mean", "Proportion", "Quantile", "Ratio"),
    "options": ("ReadoutOptions",),
    "sizing": (
        "MdeResult",
        "MeanMetric",
        "PowerResult",
        "ProportionMetric",
        "RatioMetric",
        "SampleSizeResult",
        "minimum_detectable_effect",
        "power",
        "sample_size",
    ),
    "quantiles": ("QuantileStats", "quantile_ranks", "quantile_test"),
    "ratio": ("ratio_test",),
    "readout": ("MetricResult", "Readout", "SegmentResult", "SequentialLook"),
    "segments": ("InteractionResult", "interaction_test"),
    "sequential": ("MsprtResult", "msprt", "msprt_from_effect"),
    "corrections": ("CORRECTION_METHODS", "adjust_pvalues"),
    "frequentist": ("EffectResult", "cuped", "proportion_z_test", "welch_test"),
    "srm": ("SrmResult", "srm_test"),
    "summaries": ("CovarianceStats", "MomentStats", "SampleStats"),
}

if TYPE_CHECKING:
    from insights.experiments.analysis import analyze
    from insights.experiments.bayes import BayesNormalResult, bayes_from_effect, bayes_normal, beta_binomial_prob_better
    from insights.experiments.corrections import CORRECTION_METHODS, adjust_pvalues
    from insights.experiments.definition import (
        Experiment,
        ExperimentDefinitionError,
        ExperimentNotFoundError,
        Measure,
        MetricDefinition,
        analyze_experiment,
        definition_path,
        experiment_units,
        find_experiment,
        known_ids,
        load_experiment,
        load_experiments,
    )
    from insights.experiments.frequentist import EffectResult, cuped, proportion_z_test, welch_test
    from insights.experiments.metrics import Mean, Proportion, Quantile, Ratio
    from insights.experiments.options import ReadoutOptions
    from insights.experiments.quantiles import QuantileStats, quantile_ranks, quantile_test
    from insights.experiments.ratio import ratio_test
    from insights.experiments.readout import MetricResult, Readout, SegmentResult, SequentialLook
    from insights.experiments.segments import InteractionResult, interaction_test
    from insights.experiments.sequential import MsprtResult, msprt, msprt_from_effect
    from insights.experiments.sizing import (
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
    from insights.experiments.srm import SrmResult, srm_test
    from insights.experiments.summaries import CovarianceStats, MomentStats, SampleStats

__all__ = [
    "CORRECTION_METHODS",
    "BayesNormalResult",
    "CovarianceStats",
    "EffectResult",
    "Experiment",
    "ExperimentDefinitionError",
    "ExperimentNotFoundError",
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
    "definition_path",
    "experiment_units",
    "find_experiment",
    "interaction_test",
    "known_ids",
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


__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
