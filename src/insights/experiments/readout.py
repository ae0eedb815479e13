"""The readout of an experiment: typed records, a plain-language verdict, tables and charts.

A notebook, the command line and the HTML report render the same :class:`Readout`. It prints as a table, converts to
pandas, polars or markdown (pandas and polars are imported on first use), shows as HTML in Jupyter, and draws a forest
plot of the effects and the cumulative effect with the always-valid band (plotly, from the ``reports`` extra).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from insights.experiments.frequentist import EffectResult
from insights.experiments.segments import InteractionResult
from insights.experiments.sequential import MsprtResult
from insights.experiments.srm import SrmResult
from insights.results import add_interval_band, format_percent, html_rows, markdown_rows, text_table

if TYPE_CHECKING:
    from insights.experiments.analysis import ReadoutOptions

__all__ = ["MetricResult", "Readout", "SegmentResult", "SequentialLook"]


@dataclass(frozen=True)
class MetricResult:
    """One metric in one treatment arm against control.

    ``p_adjusted`` is the p-value after the readout's multiple-testing correction (the raw one for guardrails and
    when no correction is asked); ``chance_to_win`` is the posterior probability that the treatment is better
    (in the metric's good direction), exact beta-binomial for a plain proportion, normal model otherwise;
    ``expected_loss`` is what shipping the treatment costs in the metric's units if it is in fact worse.
    """

    metric: str
    kind: str
    role: str
    variant: str
    control: str
    n_control: int
    n_treatment: int
    higher_is_better: bool
    effect: EffectResult
    p_adjusted: float
    chance_to_win: float
    expected_loss: float
    alpha: float
    correction: str = "none"

    @property
    def is_significant(self) -> bool:
        return self.p_adjusted < self.alpha

    @property
    def is_improvement(self) -> bool:
        """Significant and in the metric's good direction."""
        return self.is_significant and (self.effect.effect > 0) == self.higher_is_better

    @property
    def is_harm(self) -> bool:
        """Significant and in the metric's bad direction."""
        return self.is_significant and self.effect.effect != 0 and (self.effect.effect > 0) != self.higher_is_better

    def with_adjusted(self, p_adjusted: float, method: str, family: str) -> MetricResult:
        return replace(self, p_adjusted=p_adjusted, correction=f"{method} over {family}")

    def row(self) -> dict[str, Any]:
        """The flat row of the readout table."""
        e = self.effect
        return {
            "metric": self.metric,
            "role": self.role,
            "variant": self.variant,
            "n_control": self.n_control,
            "n_treatment": self.n_treatment,
            "control_mean": e.control_mean,
            "treatment_mean": e.treatment_mean,
            "effect": e.effect,
            "ci_low": e.ci_low,
            "ci_high": e.ci_high,
            "relative": e.relative,
            "relative_ci_low": e.relative_ci_low,
            "relative_ci_high": e.relative_ci_high,
            "p_value": e.p_value,
            "p_adjusted": self.p_adjusted,
            "is_significant": self.is_significant,
            "chance_to_win": self.chance_to_win,
            "expected_loss": self.expected_loss,
            "variance_reduction": e.variance_reduction,
            "method": e.method,
            "correction": self.correction,
            "note": e.note,
        }


@dataclass(frozen=True)
class SegmentResult:
    """One metric in one arm broken down by the values of one segment column, with the interaction test."""

    segment: str
    metric: str
    role: str
    variant: str
    values: tuple[str, ...]
    effects: tuple[EffectResult, ...]
    n_control: tuple[int, ...]
    n_treatment: tuple[int, ...]
    interaction: InteractionResult

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "segment": self.segment,
                "value": value,
                "metric": self.metric,
                "variant": self.variant,
                "n_control": n_c,
                "n_treatment": n_t,
                "effect": e.effect,
                "ci_low": e.ci_low,
                "ci_high": e.ci_high,
                "relative": e.relative,
                "p_value": e.p_value,
                "interaction_p_value": self.interaction.p_value,
                "note": e.note,
            }
            for value, e, n_c, n_t in zip(self.values, self.effects, self.n_control, self.n_treatment, strict=True)
        ]


@dataclass(frozen=True)
class SequentialLook:
    """The cumulative result on one assignment day: the fixed-horizon test and the mSPRT carried to this look."""

    metric: str
    variant: str
    day: Any
    n_control: int
    n_treatment: int
    effect: EffectResult
    msprt: MsprtResult


def _pct(value: float, digits: int = 0) -> str:
    return format_percent(value, digits, signed=True)


def _p(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    return "<0.0001" if value < 0.0001 else f"{value:.2g}" if value < 0.01 else f"{value:.3f}"


def _num(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    return f"{value:,.4g}"


@dataclass(frozen=True)
class Readout:
    """The whole readout: sample ratio check first, then one result per metric and treatment arm.

    ``str(readout)`` and ``readout.to_markdown()`` give the verdict and the table; ``to_pandas()``/``to_polars()``
    the table as a frame; ``segment_table()`` the breakdowns; ``plot_forest()`` and ``plot_cumulative()`` the charts.
    """

    experiment_id: str | None
    title: str | None
    hypothesis: str | None
    control: str
    variants: tuple[str, ...]
    n_units: dict[str, int]
    srm: SrmResult
    results: tuple[MetricResult, ...]
    segments: tuple[SegmentResult, ...]
    sequential: tuple[SequentialLook, ...]
    options: ReadoutOptions
    notes: tuple[str, ...] = ()

    # --- what it says ---------------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.title or self.experiment_id or "The experiment"

    def result(self, metric: str, variant: str | None = None) -> MetricResult:
        """The result of ``metric`` (in ``variant``, default the first treatment arm)."""
        variant = variant or self.variants[1]
        for result in self.results:
            if result.metric == metric and result.variant == variant:
                return result
        known = sorted({r.metric for r in self.results})
        raise KeyError(f"No result for metric {metric!r} in variant {variant!r}; metrics: {', '.join(known)}")

    @property
    def srm_sentence(self) -> str:
        counts = ", ".join(f"{arm} {n:,}" for arm, n in self.n_units.items())
        if self.srm.is_mismatch:
            return (
                f"SAMPLE RATIO MISMATCH: units per arm ({counts}) do not match the planned split "
                f"(p = {self.srm.p_value:.2g}); fix the assignment or logging before trusting any effect below"
            )
        if self.srm.note:
            return f"sample ratio not checked ({self.srm.note})"
        return f"sample ratio OK ({counts}; p = {self.srm.p_value:.2g})"

    def _effect_sentence(self, result: MetricResult) -> str:
        e = result.effect
        level = round((1 - result.alpha) * 100)
        if e.note and not math.isfinite(e.p_value):
            return f"{result.variant}: not enough data to compare {result.metric} ({e.note})"
        rel_ok = math.isfinite(e.relative)
        size = _pct(abs(e.relative)).lstrip("+") if rel_ok else _num(abs(e.effect))
        ci = (
            f"{level}% CI {_pct(e.relative_ci_low)} to {_pct(e.relative_ci_high)}"
            if rel_ok
            else f"{level}% CI {_num(e.ci_low)} to {_num(e.ci_high)}"
        )
        if result.is_significant:
            verb = "raised" if e.effect > 0 else "lowered"
            judgement = "" if result.is_improvement else " (worse)"
            return f"{result.variant} {verb} {result.metric} by {size} ({ci}){judgement}"
        change = _pct(e.relative) if rel_ok else _num(e.effect)
        return f"{result.variant}: no clear change in {result.metric} ({change}, {ci})"

    def guardrail_sentence(self, variant: str) -> str | None:
        guardrails = [r for r in self.results if r.role == "guardrail" and r.variant == variant]
        if not guardrails:
            return None
        harmed = [r for r in guardrails if r.is_harm]
        if not harmed:
            return "guardrails OK"
        return "guardrail alert: " + "; ".join(self._effect_sentence(r).split(" ", 1)[1] for r in harmed)

    @property
    def verdict(self) -> str:
        """Plain language, one sentence per treatment arm; a sample ratio mismatch comes first and overrides."""
        sentences = []
        if self.srm.is_mismatch:
            sentences.append(self.srm_sentence[0].upper() + self.srm_sentence[1:] + ".")
        for variant in self.variants[1:]:
            primary = [r for r in self.results if r.role == "primary" and r.variant == variant]
            parts = [self._effect_sentence(r) for r in primary] or [f"{variant}: no primary metric"]
            if not self.srm.is_mismatch:
                parts.append("sample ratio OK" if not self.srm.note else f"sample ratio not checked ({self.srm.note})")
            guard = self.guardrail_sentence(variant)
            if guard:
                parts.append(guard)
            sentence = "; ".join(parts)
            sentences.append(sentence[0].upper() + sentence[1:] + ".")
        return " ".join(sentences)

    # --- tables -----------------------------------------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        return [r.row() for r in self.results]

    def segment_rows(self) -> list[dict[str, Any]]:
        return [row for s in self.segments for row in s.rows()]

    def to_pandas(self) -> Any:
        """The readout table as a pandas DataFrame (one row per metric and treatment arm)."""
        from insights._optional import require

        return require("pandas", "pandas").DataFrame(self.rows())

    def to_polars(self) -> Any:
        """The readout table as a polars DataFrame."""
        from insights._optional import require

        return require("polars", "polars").DataFrame(self.rows(), strict=False)

    def segment_table(self) -> Any:
        """The segment breakdowns as a pandas DataFrame, with each breakdown's interaction p-value."""
        from insights._optional import require

        return require("pandas", "pandas").DataFrame(self.segment_rows())

    def _display_rows(self) -> list[list[str]]:
        out = []
        for r in self.results:
            e = r.effect
            out.append(
                [
                    r.metric,
                    r.role,
                    r.variant,
                    _num(e.control_mean),
                    _num(e.treatment_mean),
                    _pct(e.relative, 1),
                    f"{_pct(e.relative_ci_low, 1)} to {_pct(e.relative_ci_high, 1)}",
                    _p(e.p_value),
                    _p(r.p_adjusted),
                    f"{r.chance_to_win:.0%}" if math.isfinite(r.chance_to_win) else "n/a",
                    e.note or "",
                ]
            )
        return out

    _HEADERS = (
        "metric",
        "role",
        "variant",
        "control",
        "treatment",
        "change",
        "CI",
        "p",
        "p adjusted",
        "chance to win",
        "note",
    )

    def to_markdown(self) -> str:
        """Verdict, sample ratio check and the table, as GitHub-flavoured markdown."""
        level = round((1 - self.options.alpha) * 100)
        lines = [f"**{self.name}**", "", self.verdict, "", f"Sample ratio: {self.srm_sentence}.", ""]
        lines.append(markdown_rows(self._HEADERS, self._display_rows()))
        lines += ["", f"Changes are relative to {self.control}; CIs at {level}%."]
        return "\n".join(lines)

    def __str__(self) -> str:
        table = text_table(self._HEADERS, self._display_rows())
        return f"{self.name}\n{self.verdict}\nSample ratio: {self.srm_sentence}.\n\n{table}"

    def _repr_html_(self) -> str:
        return (
            f"<div><p><strong>{html.escape(self.name)}</strong></p><p>{html.escape(self.verdict)}</p>"
            f"<p>Sample ratio: {html.escape(self.srm_sentence)}.</p>"
            f"{html_rows(self._HEADERS, self._display_rows())}</div>"
        )

    # --- charts -----------------------------------------------------------------------------------------------------

    def plot_forest(self) -> Any:
        """Relative effect of every metric and arm with its interval; a dashed line at no change."""
        from insights._optional import require

        go_ = require("plotly.graph_objects", "reports")
        level = round((1 - self.options.alpha) * 100)
        shown = [r for r in self.results if math.isfinite(r.effect.relative)]
        # plotly renders a subset of HTML in text: user-written names are escaped
        labels = [html.escape(f"{r.metric} ({r.variant}, {r.role})") for r in shown]
        x = [r.effect.relative * 100 for r in shown]
        low = [(r.effect.relative - r.effect.relative_ci_low) * 100 for r in shown]
        high = [(r.effect.relative_ci_high - r.effect.relative) * 100 for r in shown]
        colors = ["#1a9850" if r.is_improvement else "#d73027" if r.is_harm else "#636363" for r in shown]
        fig = go_.Figure(
            go_.Scatter(
                x=x,
                y=labels,
                mode="markers",
                marker={"color": colors, "size": 10},
                error_x={"type": "data", "symmetric": False, "array": high, "arrayminus": low},
                hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
            )
        )
        fig.add_vline(x=0, line_dash="dash", line_color="#999")
        fig.update_layout(
            title=html.escape(f"Change against {self.control} ({level}% CI)"),
            xaxis_title="relative change (%)",
            yaxis={"autorange": "reversed"},
            height=160 + 40 * len(shown),
            margin={"l": 20, "r": 20, "t": 50, "b": 40},
        )
        return fig

    def plot_cumulative(self, metric: str | None = None, variant: str | None = None) -> Any:
        """Cumulative absolute effect by assignment day, with the fixed-horizon CI and the always-valid band."""
        from insights._optional import require

        go_ = require("plotly.graph_objects", "reports")
        looks = [
            look
            for look in self.sequential
            if (metric is None or look.metric == metric) and (variant is None or look.variant == variant)
        ]
        if looks:
            first = looks[0]
            looks = [x for x in looks if x.metric == first.metric and x.variant == first.variant]
        days = [str(x.day) for x in looks]
        fig = go_.Figure()
        band_low = [x.msprt.cs_low if math.isfinite(x.msprt.cs_low) else None for x in looks]
        band_high = [x.msprt.cs_high if math.isfinite(x.msprt.cs_high) else None for x in looks]
        add_interval_band(fig, days, band_low, band_high, "always-valid band (mSPRT)")
        fig.add_trace(
            go_.Scatter(
                x=days,
                y=[x.effect.ci_low for x in looks],
                mode="lines",
                line={"dash": "dot"},
                name="fixed-horizon CI",
                line_color="#888",
            )
        )
        fig.add_trace(
            go_.Scatter(
                x=days,
                y=[x.effect.ci_high for x in looks],
                mode="lines",
                line={"dash": "dot"},
                showlegend=False,
                line_color="#888",
            )
        )
        fig.add_trace(
            go_.Scatter(
                x=days, y=[x.effect.effect for x in looks], mode="lines+markers", name="effect", line_color="#08519c"
            )
        )
        fig.add_hline(y=0, line_dash="dash", line_color="#999")
        settled = looks[len(looks) // 5 :]  # the first days' band is very wide: frame the axis on the later looks
        bounds = [v for x in settled for v in (x.effect.ci_low, x.effect.ci_high, 0.0) if math.isfinite(v)]
        if bounds:
            pad = 0.15 * (max(bounds) - min(bounds) or 1.0)
            fig.update_yaxes(range=[min(bounds) - pad, max(bounds) + pad])
        title = (
            html.escape(f"{looks[0].metric}: {looks[0].variant} minus {self.control}, by assignment day")
            if looks
            else "no cumulative look: the readout has no assignment days for this metric"
        )
        fig.update_layout(
            title=title,
            xaxis_title="units assigned up to",
            yaxis_title="cumulative effect",
            margin={"l": 20, "r": 20, "t": 50, "b": 40},
        )
        return fig
