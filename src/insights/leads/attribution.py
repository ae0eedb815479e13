"""Attribution of conversions (leads, qualified leads, won deals) or won revenue to channels, every model side by
side with bootstrap intervals.

Rule-based models (first touch, last touch, linear, time decay, position based) and Shapley spread each converting
journey's value over its touches; the Markov model shares the total by the channels' removal effects in the
absorbing chain fitted to all journeys, converting or not. Intervals come from resampling journeys with
replacement (a multinomial draw of the distinct journeys' counts), seeded. See docs/attribution.md.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from insights.errors import invalid_parameter
from insights.leads._checks import check_positive
from insights.leads.models import (
    MODELS,
    RULE_MODELS,
    Design,
    Floats,
    Ints,
    Transitions,
    markov_removal_effects,
    touch_weights,
)
from insights.leads.paths import Journeys
from insights.params import check_count, check_instance, check_open_unit
from insights.results import TableResult, format_percent

__all__ = ["MAX_MARKOV_CHANNELS", "Attribution", "ChannelCredit", "attribute"]

#: above this many channels the Markov model is skipped (a note says so): each resample inverts a dense matrix of
#: that size, so 200 resamples of 500 channels already take several seconds
MAX_MARKOV_CHANNELS = 500

MODEL_LABELS = {
    "first_touch": "first touch",
    "last_touch": "last touch",
    "linear": "linear",
    "time_decay": "time decay",
    "position_based": "position based",
    "markov": "Markov",
    "shapley": "Shapley",
}


@dataclass(frozen=True)
class ChannelCredit:
    """What one model credits to one channel: ``credit`` (conversions, or revenue), its ``share`` of the total, and
    their bootstrap intervals (NaN without resamples). ``removal_effect``: the Markov model's removal effect (the
    share of conversions lost without the channel), None for the other models."""

    channel: str
    model: str
    credit: float
    share: float
    credit_low: float
    credit_high: float
    share_low: float
    share_high: float
    removal_effect: float | None = None

    def row(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "model": self.model,
            "credit": self.credit,
            "share": self.share,
            "credit_low": self.credit_low,
            "credit_high": self.credit_high,
            "share_low": self.share_low,
            "share_high": self.share_high,
            "removal_effect": self.removal_effect,
        }


@dataclass(frozen=True)
class Attribution(TableResult):
    """Every model's credit per channel (one :class:`ChannelCredit` per channel and model), from one set of journeys.

    ``credit(channel, model)`` returns one record; ``shares(model)`` a channel -> share dict; ``plot()`` the shares
    of every model side by side with their intervals.
    """

    credits: tuple[ChannelCredit, ...]
    models: tuple[str, ...]
    channels: tuple[str, ...]
    touch: str | None
    conversion: str
    value: str
    n_conversions: int
    total_value: float
    n_unattributed: int
    unattributed_value: float
    bootstrap: int
    ci_level: float
    seed: int
    half_life_days: float
    position_weights: tuple[float, float, float]
    notes: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        what = {"lead": "leads", "qualified": "qualified leads", "won": "won deals"}[self.conversion]
        what = "won revenue" if self.value == "revenue" else what
        return f"Attribution of {what}" + (f" by {self.touch}" if self.touch else "")

    def credit(self, channel: str, model: str) -> ChannelCredit:
        """The record of ``channel`` under ``model``."""
        for c in self.credits:
            if c.channel == channel and c.model == model:
                return c
        raise KeyError(
            f"No credit for channel {channel!r} under model {model!r}; channels: {', '.join(self.channels)}; "
            f"models: {', '.join(self.models)}"
        )

    def shares(self, model: str) -> dict[str, float]:
        """Channel -> share of the total under ``model``."""
        return {c.channel: c.share for c in self.credits if c.model == model}

    def rows(self) -> list[dict[str, Any]]:
        return [c.row() for c in self.credits]

    def summary_lines(self) -> list[str]:
        journeys = f"{self.n_conversions:,} converting journeys"
        if self.value == "revenue":
            lines = [
                f"{self.total_value:,.0f} of won revenue from {journeys}, shared over {len(self.channels):,} channels."
            ]
        else:
            lines = [
                f"{self.n_conversions:,} conversions from {journeys}, shared over {len(self.channels):,} channels."
            ]
        if self.bootstrap:
            lines.append(
                f"Intervals: {format_percent(self.ci_level, 0)} percentile intervals from {self.bootstrap:,} "
                f"resamples of the journeys (seed {self.seed})."
            )
        if self.n_unattributed:
            worth = f" (worth {self.unattributed_value:,.0f})" if self.value == "revenue" else ""
            lines.append(
                f"{self.n_unattributed:,} conversions{worth} had no touch in the lookback window and are left out."
            )
        return lines + list(self.notes)

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        headers = ["channel", *(f"{MODEL_LABELS[m]} share" for m in self.models)]
        by_key = {(c.channel, c.model): c for c in self.credits}
        cells = []
        for channel in self.channels:
            row = [channel]
            for model in self.models:
                c = by_key.get((channel, model))
                if c is None:
                    row.append("")
                elif math.isfinite(c.share_low):
                    row.append(f"{format_percent(c.share)} ({_pct(c.share_low)}-{_pct(c.share_high)})")
                else:
                    row.append(format_percent(c.share))
            cells.append(row)
        return headers, cells

    def plot(self) -> Any:
        """Each channel's share under every model, with its interval (plotly grouped bars)."""
        from insights._optional import require

        go_ = require("plotly.graph_objects", "reports")
        fig = go_.Figure()
        for model in self.models:
            shown = [c for c in self.credits if c.model == model]
            fig.add_trace(
                go_.Bar(
                    x=[html.escape(c.channel) for c in shown],
                    y=[c.share * 100 for c in shown],
                    name=MODEL_LABELS[model],
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": [_gap(c.share_high, c.share) for c in shown],
                        "arrayminus": [_gap(c.share, c.share_low) for c in shown],
                    },
                )
            )
        fig.update_layout(
            title=html.escape(self.title),
            yaxis_title="share of the total (%)",
            barmode="group",
            margin={"l": 20, "r": 20, "t": 50, "b": 40},
        )
        return fig


def _pct(value: float) -> str:
    return f"{value * 100:.1f}"


def _gap(a: float, b: float) -> float:
    return (a - b) * 100 if math.isfinite(a) and math.isfinite(b) else 0.0


def attribute(
    journeys: Journeys,
    models: Sequence[str] = MODELS,
    *,
    half_life_days: float = 7.0,
    position_weights: Sequence[float] = (0.4, 0.2, 0.4),
    bootstrap: int = 200,
    ci_level: float = 0.95,
    seed: int = 0,
) -> Attribution:
    """Credit the conversions (or revenue) of ``journeys`` to their channels under each of ``models``.

    ``models``: any of first_touch, last_touch, linear, time_decay (``half_life_days``), position_based
    (``position_weights``: first, middle, last, summing to 1), markov (first order, removal effects solved exactly)
    and shapley (exact; value of a coalition = value of the converting journeys whose channels all lie in it).
    ``bootstrap`` resamples of the journeys (0: none) give ``ci_level`` percentile intervals; ``seed`` fixes them.

    >>> j = Journeys.from_paths([["email", "search"], ["search"], ["email"]], [True, True, False])
    >>> a = attribute(j, ["first_touch", "markov"], bootstrap=0)
    >>> a.credit("email", "first_touch").credit, round(a.credit("email", "markov").credit, 3)
    (1.0, 0.667)
    """
    function = "attribute"
    check_instance("journeys", function, journeys, Journeys)
    chosen = _check_models(function, models)
    half_life = check_positive("half_life_days", function, half_life_days)
    weights3 = _check_position_weights(function, position_weights)
    bootstrap = check_count("bootstrap", function, bootstrap)
    ci_level = check_open_unit("ci_level", function, ci_level)
    seed = check_count("seed", function, seed)

    design = journeys.design()
    k = design.n_channels
    notes: list[str] = []
    if "markov" in chosen and k > MAX_MARKOV_CHANNELS:
        chosen = tuple(m for m in chosen if m != "markov")
        notes.append(
            f"The Markov model is left out: {k:,} channels is more than {MAX_MARKOV_CHANNELS}; choose a coarser touch."
        )
    if journeys.n_conversions == 0:
        notes.append("No journey converts: every credit is zero.")

    estimator = _Estimator(design, chosen, half_life, weights3)
    point, removal = estimator(design.n_journeys)
    intervals: dict[str, tuple[Floats, Floats, Floats, Floats]] = {}
    if bootstrap and design.n_journeys.sum() > 0:
        intervals = _intervals(estimator, chosen, bootstrap, ci_level, seed)

    records = []
    for model in chosen:
        total = float(point[model].sum())
        for i, channel in enumerate(design.channels):
            credit = float(point[model][i])
            bounds = intervals.get(model)
            records.append(
                ChannelCredit(
                    channel=channel,
                    model=model,
                    credit=credit,
                    share=credit / total if total > 0 else 0.0,
                    credit_low=float(bounds[0][i]) if bounds else math.nan,
                    credit_high=float(bounds[1][i]) if bounds else math.nan,
                    share_low=float(bounds[2][i]) if bounds else math.nan,
                    share_high=float(bounds[3][i]) if bounds else math.nan,
                    removal_effect=float(removal[i]) if model == "markov" else None,
                )
            )
    return Attribution(
        credits=tuple(records),
        models=chosen,
        channels=design.channels,
        touch=journeys.touch,
        conversion=journeys.conversion,
        value=journeys.value,
        n_conversions=journeys.n_conversions,
        total_value=journeys.total_value,
        n_unattributed=journeys.n_unattributed,
        unattributed_value=journeys.unattributed_value,
        bootstrap=bootstrap,
        ci_level=ci_level,
        seed=seed,
        half_life_days=half_life,
        position_weights=weights3,
        notes=tuple(notes),
    )


class _Estimator:
    """Every chosen model's credits for given counts of the distinct journeys (the data, or a resample)."""

    def __init__(self, design: Design, models: tuple[str, ...], half_life: float, position: tuple[float, ...]) -> None:
        self.design = design
        self.weights = {
            m: touch_weights(design, m, half_life_days=half_life, position_weights=position)
            for m in models
            if m in RULE_MODELS
        }
        self.transitions = Transitions.build(design) if "markov" in models else None

    def __call__(self, counts: Ints) -> tuple[dict[str, Floats], Floats]:
        """Credits per model, and the Markov removal effects (zeros without the Markov model)."""
        design = self.design
        credits = {m: design.credits(w, counts) for m, w in self.weights.items()}
        effects = np.zeros(design.n_channels)
        if self.transitions is not None:
            _, effects = markov_removal_effects(self.transitions.counts(counts))
            total = float(np.sum(counts * design.value * design.is_converted))
            credits["markov"] = effects / effects.sum() * total if effects.sum() > 0 else np.zeros(design.n_channels)
        return credits, effects


def _intervals(
    estimator: _Estimator, models: tuple[str, ...], bootstrap: int, ci_level: float, seed: int
) -> dict[str, tuple[Floats, Floats, Floats, Floats]]:
    """Percentile intervals of each model's credits and shares over ``bootstrap`` resamples of the journeys: each
    resample draws as many journeys as there are, with replacement (a multinomial draw of the distinct ones)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    n = estimator.design.n_journeys
    total = int(n.sum())
    draws = {m: np.empty((bootstrap, estimator.design.n_channels)) for m in models}
    for b in range(bootstrap):
        credits, _ = estimator(rng.multinomial(total, n / total).astype(np.int64))
        for m in models:
            draws[m][b] = credits[m]
    tail = (1 - ci_level) / 2 * 100
    out = {}
    for m in models:
        credit = draws.pop(m)
        sums = credit.sum(axis=1, keepdims=True)
        # a resample without conversions shares nothing, as the point estimate does
        share = np.divide(credit, sums, out=np.zeros_like(credit), where=sums > 0)
        credit_low, credit_high = np.percentile(credit, [tail, 100 - tail], axis=0)
        share_low, share_high = np.percentile(share, [tail, 100 - tail], axis=0)
        out[m] = (credit_low, credit_high, share_low, share_high)
    return out


def _check_models(function: str, models: object) -> tuple[str, ...]:
    rule = "must be a non-empty sequence of distinct models from " + ", ".join(MODELS)
    if isinstance(models, str) or not isinstance(models, Sequence) or not models:
        raise invalid_parameter("models", function, rule, models)
    chosen = tuple(models)
    if any(m not in MODELS for m in chosen) or len(set(chosen)) != len(chosen):
        raise invalid_parameter("models", function, rule, models)
    return chosen


def _check_position_weights(function: str, weights: object) -> tuple[float, float, float]:
    rule = "must be three numbers >= 0 (first, middle, last) that sum to 1"
    if isinstance(weights, str) or not isinstance(weights, Sequence) or len(weights) != 3:
        raise invalid_parameter("position_weights", function, rule, weights)
    values = tuple(weights)
    if any(isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w < 0 for w in values):
        raise invalid_parameter("position_weights", function, rule, weights)
    if not math.isclose(sum(values), 1.0, abs_tol=1e-9):
        raise invalid_parameter("position_weights", function, rule, weights)
    first, middle, last = (float(w) for w in values)
    return first, middle, last
