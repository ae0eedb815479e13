"""One sentence shape for every wrong call of every public function: "The 'x' parameter of f must ... Got ... instead."

Every public callable of the analysis packages is listed here with one wrong call; a new public function without an
entry fails `test_every_public_callable_has_a_wrong_call`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import insights
import insights.datasets
import insights.experiments as ex
from insights.errors import InvalidParameterError

SHAPE = re.compile(r"The '[\w\[\].]+' parameter of [\w.]+ (must|is) .+\. Got .+ instead\.", re.DOTALL)

S = ex.SampleStats(100, 1.0, 1.0)
C = ex.CovarianceStats(100, 1.0, 1.0, 1.0, 1.0, 0.5)
M = ex.MomentStats.from_values(("x", "y"), np.arange(20.0).reshape(10, 2))
Q = ex.QuantileStats.from_values(np.arange(100.0), 0.5)
EFFECT = ex.welch_test(S, ex.SampleStats(100, 1.2, 1.0))

#: results are built by the functions that return them, not by callers; definitions fail as ExperimentDefinitionError
NOT_CALLED_BY_USERS = {
    "BayesNormalResult",
    "EffectResult",
    "ExperimentDefinitionError",
    "ExperimentNotFoundError",
    "InteractionResult",
    "MdeResult",
    "MetricResult",
    "MsprtResult",
    "PowerResult",
    "Readout",
    "SampleSizeResult",
    "SegmentResult",
    "SequentialLook",
    "SrmResult",
    "Experiment",
    "Measure",
    "MetricDefinition",
}

WRONG_CALLS: dict[str, Callable[[], object]] = {
    # records
    "SampleStats": lambda: ex.SampleStats(-1, 0.0, 1.0),
    "CovarianceStats": lambda: ex.CovarianceStats(10, 0.0, 0.0, -1.0, 1.0, 0.0),
    "MomentStats": lambda: ex.MomentStats(10, ("x", "x"), np.zeros(2), np.zeros((2, 2))),
    "QuantileStats": lambda: ex.QuantileStats(10, 1.5, 1.0, 0.0, 2.0),
    "ProportionMetric": lambda: ex.ProportionMetric(1.5),
    "MeanMetric": lambda: ex.MeanMetric(-1.0),
    "RatioMetric": lambda: ex.RatioMetric(0.0),
    "Proportion": lambda: ex.Proportion(""),
    "Mean": lambda: ex.Mean("revenue", winsorize=2.0),
    "Ratio": lambda: ex.Ratio("a", "b", covariate_numerator="c"),
    "Quantile": lambda: ex.Quantile("latency", q=0.0),
    "ReadoutOptions": lambda: ex.ReadoutOptions(family="everything"),  # type: ignore[arg-type]
    # functions
    "adjust_pvalues": lambda: ex.adjust_pvalues([0.1, 1.5]),
    "analyze": lambda: ex.analyze(42, [ex.Mean("x")]),
    "analyze_experiment": lambda: ex.analyze_experiment(None, "exp-x"),  # type: ignore[arg-type]
    "bayes_from_effect": lambda: ex.bayes_from_effect(0.1, 0.1, prior_var=-1.0),
    "bayes_normal": lambda: ex.bayes_normal(S, S, ci_level=95.0),
    "beta_binomial_prob_better": lambda: ex.beta_binomial_prob_better(5, 3, 1, 10),
    "cuped": lambda: ex.cuped(C, C, alpha=0.0),
    "definition_path": lambda: ex.definition_path("exp x/../y"),
    "known_ids": lambda: ex.known_ids(None),  # type: ignore[arg-type]
    "find_experiment": lambda: ex.find_experiment("exp-x", folder=3.5),  # type: ignore[arg-type]
    "experiment_units": lambda: ex.experiment_units(None, "exp-x"),  # type: ignore[arg-type]
    "interaction_test": lambda: ex.interaction_test([EFFECT, "segment"]),  # type: ignore[list-item]
    "load_experiment": lambda: ex.load_experiment(42),  # type: ignore[arg-type]
    "load_experiments": lambda: ex.load_experiments(None),  # type: ignore[arg-type]
    "minimum_detectable_effect": lambda: ex.minimum_detectable_effect(ex.ProportionMetric(0.1), 0),
    "msprt": lambda: ex.msprt(S, S, tau2=-1.0),
    "msprt_from_effect": lambda: ex.msprt_from_effect(0.1, 0.1, tau2=0.01, alpha=2.0),
    "power": lambda: ex.power(ex.ProportionMetric(0.1), 0.01, 100, alpha=1.0),
    "proportion_z_test": lambda: ex.proportion_z_test(S, S, pooled="yes"),  # type: ignore[arg-type]
    "quantile_ranks": lambda: ex.quantile_ranks(0, 0.5),
    "quantile_test": lambda: ex.quantile_test(Q, Q, alternative="both"),  # type: ignore[arg-type]
    "ratio_test": lambda: ex.ratio_test(M, M, numerator="x", denominator="z"),
    "sample_size": lambda: ex.sample_size(ex.ProportionMetric(0.1), 0.01, power=1.5),
    "srm_test": lambda: ex.srm_test([10]),
    "welch_test": lambda: ex.welch_test(S, S, relative_ci="ratio"),  # type: ignore[arg-type]
    # the rest of the public surface
    "insights.ingest": lambda: insights.ingest("tweets", []),
    "insights.datasets.generate_demo": lambda: insights.datasets.generate_demo(Path("out"), n_posts=1),
    "insights.datasets.generate_chat_events": lambda: insights.datasets.generate_chat_events(Path("x.csv"), -5),
}


def assert_one_sentence(call: Callable[[], object]) -> None:
    """The call raises InvalidParameterError with the one sentence shape (shared by the packages' error tests)."""
    with pytest.raises(InvalidParameterError) as caught:
        call()
    message = str(caught.value)
    assert SHAPE.fullmatch(message), message
    assert "\n" not in message


def missing_wrong_calls(package: ModuleType, wrong_calls: Iterable[str], not_called: Iterable[str]) -> list[str]:
    """The package's public callables, less those users do not call, that have no wrong call yet."""
    shadowed = [name for name in package.__all__ if isinstance(getattr(package, name), ModuleType)]
    assert not shadowed, f"submodules shadow public names: {shadowed}"
    public = {name for name in package.__all__ if callable(getattr(package, name))} - set(not_called)
    return sorted(public - set(wrong_calls))


def test_every_public_callable_has_a_wrong_call() -> None:
    import insights.experiments.analysis  # noqa: F401  (loads every submodule: none may shadow a public name)

    missing = missing_wrong_calls(ex, WRONG_CALLS, NOT_CALLED_BY_USERS)
    assert not missing, f"add a wrong call for {missing}"


@pytest.mark.parametrize("name", sorted(WRONG_CALLS))
def test_a_wrong_call_reads_as_one_sentence(name: str) -> None:
    assert_one_sentence(WRONG_CALLS[name])
