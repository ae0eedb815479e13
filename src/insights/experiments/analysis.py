"""A whole readout from a unit-level table: one grouped query, then the statistics of every metric and variant.

``analyze`` is the door for any table with one row per unit (a DuckDB relation or table, a Parquet/CSV path, a pandas
or polars frame); experiment definitions over the warehouse (:mod:`insights.experiments.definition`) build such a
table and call the same function. Every option that changes a number lives in :class:`ReadoutOptions` with a
documented default.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from insights.errors import SampleRatioMismatchWarning, invalid_parameter
from insights.experiments.bayes import bayes_from_effect, beta_binomial_prob_better
from insights.experiments.corrections import adjust_pvalues
from insights.experiments.frequentist import EffectResult, cuped, proportion_z_test, welch_test
from insights.experiments.metrics import Mean, Metric, Proportion, Quantile, Ratio
from insights.experiments.options import ROLES, ReadoutOptions
from insights.experiments.quantiles import QuantileStats, quantile_ranks, quantile_test
from insights.experiments.query import GroupedStats, GroupKey, UnitTable, grouped_stats, order_statistics
from insights.experiments.ratio import ratio_test
from insights.experiments.readout import MetricResult, Readout, SegmentResult, SequentialLook
from insights.experiments.segments import interaction_test
from insights.experiments.sequential import MsprtResult, msprt_from_effect
from insights.experiments.srm import srm_test
from insights.experiments.summaries import MomentStats

if TYPE_CHECKING:
    import duckdb

__all__ = ["ROLES", "ReadoutOptions", "analyze"]


def analyze(
    data: object,
    metrics: Sequence[Metric] | Mapping[str, Sequence[Metric]],
    *,
    variant: str = "variant",
    control: str | None = None,
    variants: Sequence[str] | None = None,
    weights: Sequence[float] | None = None,
    segments: Sequence[str] = (),
    assigned_at: str | None = None,
    options: ReadoutOptions | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    title: str | None = None,
    hypothesis: str | None = None,
    experiment_id: str | None = None,
    notes: Sequence[str] = (),
) -> Readout:
    """Analyse a unit-level table: one row per unit, a variant column and metric columns.

    ``metrics`` is a list of primary metrics, or a mapping of role ("primary", "secondary", "guardrail") to lists.
    ``control`` defaults to the variant named "control" (else the first in sorted order); ``variants`` fixes the order
    and the set of arms (a planned arm with no units still counts in the sample ratio check); ``weights`` is the
    planned split (equal by default), one share per entry of ``variants`` (without ``variants``: control first,
    then the other variants in sorted order). ``segments`` names columns to break every metric down by, with a
    treatment x segment interaction test; ``assigned_at`` (a timestamp or date column) adds the cumulative effect by
    day with the always-valid (mSPRT) band. ``data`` that is a table name needs ``con``.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"variant": ["A", "B"] * 50, "converted": [0, 1, 0, 0] * 25})
    >>> analyze(frame, [Proportion("converted")], control="A").results[0].effect.effect
    0.5
    """
    function = "analyze"
    options = options if options is not None else ReadoutOptions()
    if not isinstance(options, ReadoutOptions):
        raise invalid_parameter("options", function, "must be a ReadoutOptions", type(options).__name__)
    by_role = _metrics_by_role(metrics, function)
    all_metrics = [m for role in ROLES for m in by_role[role]]
    labels = [m.label for m in all_metrics]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise invalid_parameter("metrics", function, "must have distinct names (pass name=...)", duplicates)
    if isinstance(segments, str):
        segments = (segments,)
    table = UnitTable.from_data(data, con=con, function=function)

    grouped = grouped_stats(table, all_metrics, variant=variant, segments=segments, day=assigned_at, function=function)
    arms = _arms(grouped, variants, control, function)
    control_name, treatments = arms[0], arms[1:]
    if weights is not None and variants is not None:
        if len(weights) != len(variants):
            raise invalid_parameter("weights", function, f"must hold one share per variant ({len(variants)})", weights)
        share = dict(zip([str(v) for v in variants], weights, strict=True))
        weights = [share[arm] for arm in arms]  # in the order of the arms: control first
    srm = srm_test([grouped.units(arm) for arm in arms], weights, threshold=options.srm_threshold)
    if srm.is_mismatch:
        warnings.warn(
            f"Sample ratio mismatch in {experiment_id or 'the experiment'}: units per arm "
            f"{dict(zip(arms, srm.observed, strict=True))} do not match the planned split (p = {srm.p_value:.2g}); "
            "the effects below may be biased.",
            SampleRatioMismatchWarning,
            stacklevel=2,
        )

    quantile_stats = _quantile_stats(table, grouped, all_metrics, variant, arms, options.alpha, function)
    results: list[MetricResult] = []
    for role in ROLES:
        for metric in by_role[role]:
            for treatment in treatments:
                results.append(_metric_result(grouped, quantile_stats, metric, role, control_name, treatment, options))
    results = _corrected(results, options)
    segment_results = _segments(grouped, all_metrics, by_role, control_name, treatments, options)
    looks = _sequential(grouped, by_role["primary"], control_name, treatments, options) if assigned_at else ()
    return Readout(
        experiment_id=experiment_id,
        title=title,
        hypothesis=hypothesis,
        control=control_name,
        variants=tuple(arms),
        n_units={arm: grouped.units(arm) for arm in arms},
        srm=srm,
        results=tuple(results),
        segments=tuple(segment_results),
        sequential=tuple(looks),
        options=options,
        notes=tuple(notes),
    )


def _metrics_by_role(metrics: object, function: str) -> dict[str, list[Metric]]:
    kinds = (Proportion, Mean, Ratio, Quantile)
    if isinstance(metrics, Mapping):
        unknown = [role for role in metrics if role not in ROLES]
        if unknown:
            raise invalid_parameter("metrics", function, "must map roles " + ", ".join(ROLES) + " to metrics", unknown)
        by_role = {role: list(metrics.get(role, ())) for role in ROLES}
    elif isinstance(metrics, Sequence) and not isinstance(metrics, str):
        by_role = {"primary": list(metrics), "secondary": [], "guardrail": []}
    else:
        raise invalid_parameter("metrics", function, "must be a list of metrics or a mapping of role to list", metrics)
    for role, items in by_role.items():
        for item in items:
            if not isinstance(item, kinds):
                raise invalid_parameter(
                    "metrics", function, f"must hold Proportion, Mean, Ratio or Quantile specs ({role})", item
                )
    if not any(by_role.values()):
        raise invalid_parameter("metrics", function, "must name at least one metric", metrics)
    return by_role


def _arms(grouped: GroupedStats, variants: Sequence[str] | None, control: str | None, function: str) -> list[str]:
    seen = grouped.variants()
    if variants is not None:
        planned = [str(v) for v in variants]
        extra = [v for v in seen if v not in planned]
        if extra:
            raise invalid_parameter(
                "variants", function, f"must include every variant in the data (also {', '.join(extra)})", planned
            )
    else:
        planned = seen
    if control is None:
        control = "control" if "control" in planned else (planned[0] if planned else None)
    if control not in planned:
        raise invalid_parameter("control", function, "must be one of the variants " + ", ".join(planned), control)
    arms = [control, *[v for v in planned if v != control]]
    if len(arms) < 2:
        raise invalid_parameter(
            "data", function, "must hold units of at least two variants", "variants " + ", ".join(arms)
        )
    return arms


def _test(
    metric: Metric,
    control: MomentStats,
    treatment: MomentStats,
    options: ReadoutOptions,
) -> EffectResult:
    common: dict[str, Any] = {
        "alpha": options.alpha,
        "alternative": options.alternative,
        "relative_ci": options.relative_ci,
    }
    if isinstance(metric, Ratio):
        covariates = "covariate_numerator" in control.names and options.cuped
        return ratio_test(
            control,
            treatment,
            numerator="numerator",
            denominator="denominator",
            covariate_numerator="covariate_numerator" if covariates else None,
            covariate_denominator="covariate_denominator" if covariates else None,
            **common,
        )
    if "covariate" in control.names and options.cuped:
        return cuped(control.pair("value", "covariate"), treatment.pair("value", "covariate"), **common)
    if isinstance(metric, Proportion):
        return proportion_z_test(
            control.sample("value"),
            treatment.sample("value"),
            pooled=metric.pooled,
            continuity=metric.continuity,
            **common,
        )
    return welch_test(control.sample("value"), treatment.sample("value"), **common)


def _metric_result(
    grouped: GroupedStats,
    quantile_stats: dict[str, dict[str, QuantileStats]],
    metric: Metric,
    role: str,
    control: str,
    treatment: str,
    options: ReadoutOptions,
) -> MetricResult:
    c_stats = grouped.total(control, metric.label)
    t_stats = grouped.total(treatment, metric.label)
    if isinstance(metric, Quantile):
        by_arm = quantile_stats[metric.label]
        effect = quantile_test(
            by_arm[control], by_arm[treatment], alternative=options.alternative, relative_ci=options.relative_ci
        )
    else:
        effect = _test(metric, c_stats, t_stats, options)
    bayes = bayes_from_effect(effect.effect, effect.se, ci_level=1 - options.alpha)
    chance = bayes.chance_to_beat_control
    if isinstance(metric, Proportion) and effect.theta is None and c_stats.n and t_stats.n:
        # exact for a plain rate: P(p_treatment > p_control) under Beta(1, 1) priors
        chance = beta_binomial_prob_better(
            round(c_stats.mean[0] * c_stats.n), c_stats.n, round(t_stats.mean[0] * t_stats.n), t_stats.n
        )
    if not metric.higher_is_better and not math.isnan(chance):
        chance = 1 - chance
    loss = bayes.expected_loss_treatment if metric.higher_is_better else bayes.expected_loss_control
    return MetricResult(
        metric=metric.label,
        kind=metric.kind,
        role=role,
        variant=treatment,
        control=control,
        n_control=c_stats.n,
        n_treatment=t_stats.n,
        higher_is_better=metric.higher_is_better,
        effect=effect,
        p_adjusted=effect.p_value,
        chance_to_win=chance,
        expected_loss=loss,
        alpha=options.alpha,
    )


def _corrected(results: list[MetricResult], options: ReadoutOptions) -> list[MetricResult]:
    """Adjusted p-values within each family (guardrails keep their raw p-values)."""
    if options.correction == "none":
        return results
    families: dict[tuple[str, ...], list[int]] = {}
    for i, result in enumerate(results):
        if result.role == "guardrail" or math.isnan(result.effect.p_value):
            continue
        key = {"all": (), "metric": (result.metric,), "variant": (result.variant,)}[options.family]
        families.setdefault(key, []).append(i)
    out = list(results)
    for members in families.values():
        adjusted = adjust_pvalues(np.array([results[i].effect.p_value for i in members]), options.correction)  # type: ignore[arg-type]
        for i, p in zip(members, adjusted.tolist(), strict=True):
            out[i] = results[i].with_adjusted(float(p), options.correction, options.family)
    return out


def _quantile_stats(
    table: UnitTable,
    grouped: GroupedStats,
    metrics: Sequence[Metric],
    variant: str,
    arms: Sequence[str],
    alpha: float,
    function: str,
) -> dict[str, dict[str, QuantileStats]]:
    out: dict[str, dict[str, QuantileStats]] = {}
    for metric in metrics:
        if not isinstance(metric, Quantile):
            continue
        counts = {arm: grouped.total(arm, metric.label).n for arm in arms}
        ranks = {arm: quantile_ranks(n, metric.q, alpha) for arm, n in counts.items() if n > 0}
        # bounds the arm is too small for are rank 0 or n + 1: nothing to fetch, NaN in the record
        wanted: dict[str, Sequence[int]] = {
            arm: [r for r in triple if 1 <= r <= counts[arm]] for arm, triple in ranks.items()
        }
        values = order_statistics(table, metric, variant=variant, ranks=wanted, counts=counts, function=function)
        by_arm: dict[str, QuantileStats] = {}
        for arm in arms:
            if arm not in ranks:
                by_arm[arm] = QuantileStats(0, metric.q, math.nan, math.nan, math.nan, alpha)
                continue
            at = dict(zip(wanted[arm], values[arm], strict=True))
            estimate, low, high = (at.get(r, math.nan) for r in ranks[arm])
            by_arm[arm] = QuantileStats(counts[arm], metric.q, estimate, low, high, alpha)
        out[metric.label] = by_arm
    return out


def _segments(
    grouped: GroupedStats,
    metrics: Sequence[Metric],
    by_role: Mapping[str, Sequence[Metric]],
    control: str,
    treatments: Sequence[str],
    options: ReadoutOptions,
) -> list[SegmentResult]:
    out: list[SegmentResult] = []
    roles = {m.label: role for role, items in by_role.items() for m in items}
    for s, column in enumerate(grouped.segments):
        values = _top_values(grouped, s, options.max_segment_values)
        kept = set(values)

        def cell(key: GroupKey, s: int = s, kept: set[str] = kept) -> tuple[str, str]:
            value = _label(key[1][s])
            return key[0], value if value in kept else "(other)"

        cells = grouped.collapse(cell)
        for metric in metrics:
            if isinstance(metric, Quantile):
                continue  # order statistics do not add up across segments
            for treatment in treatments:
                effects: list[tuple[str, EffectResult, int, int]] = []
                for value in [*values, "(other)"]:
                    if (control, value) not in cells or (treatment, value) not in cells:
                        continue
                    c_stats = cells[(control, value)][metric.label]
                    t_stats = cells[(treatment, value)][metric.label]
                    effects.append((value, _test(metric, c_stats, t_stats, options), c_stats.n, t_stats.n))
                out.append(
                    SegmentResult(
                        segment=column,
                        metric=metric.label,
                        role=roles[metric.label],
                        variant=treatment,
                        values=tuple(v for v, _, _, _ in effects),
                        effects=tuple(e for _, e, _, _ in effects),
                        n_control=tuple(n for _, _, n, _ in effects),
                        n_treatment=tuple(n for _, _, _, n in effects),
                        interaction=interaction_test([e for _, e, _, _ in effects]),
                    )
                )
    return out


def _label(value: str | None) -> str:
    return "(missing)" if value is None else value


def _top_values(grouped: GroupedStats, s: int, cap: int) -> list[str]:
    sizes: dict[str, int] = {}
    for key, n in grouped.n_units.items():
        sizes[_label(key[1][s])] = sizes.get(_label(key[1][s]), 0) + n
    ranked = sorted(sizes, key=lambda v: (-sizes[v], v))
    return sorted(ranked[:cap]) if len(ranked) > cap else sorted(ranked)


def _sequential(
    grouped: GroupedStats,
    primary: Sequence[Metric],
    control: str,
    treatments: Sequence[str],
    options: ReadoutOptions,
) -> list[SequentialLook]:
    """Cumulative effect by assignment day with the mSPRT's always-valid confidence sequence."""
    out: list[SequentialLook] = []
    days = grouped.days()
    daily = grouped.collapse(lambda key: (key[0], key[2]))
    for metric in primary:
        if isinstance(metric, Quantile):
            continue
        # the mixing scale is tuned to the control mean: it fixes which effect sizes the band is most sensitive to
        total = grouped.total(control, metric.label)
        scale = abs(float(total.mean[0] / total.mean[1])) if isinstance(metric, Ratio) else abs(float(total.mean[0]))
        if not (math.isfinite(scale) and scale > 0):
            continue
        tau2 = (options.sequential_tau * scale) ** 2
        for treatment in treatments:
            empty = MomentStats.empty(grouped.names[metric.label])
            c_stats, t_stats = empty, empty
            previous: MsprtResult | None = None
            for day in days:
                c_stats = c_stats + daily.get((control, day), {}).get(metric.label, empty)
                t_stats = t_stats + daily.get((treatment, day), {}).get(metric.label, empty)
                effect = _test(metric, c_stats, t_stats, options)
                previous = msprt_from_effect(
                    effect.effect, effect.se, tau2=tau2, alpha=options.alpha, previous=previous
                )
                out.append(SequentialLook(metric.label, treatment, day, c_stats.n, t_stats.n, effect, previous))
    return out
