"""The readout page of one experiment as a library: `experiment_report(con, experiment_id)` computes the readout in
the warehouse and returns an ExperimentReport, its parts in reading order. The experiment notebook only calls it and
shows it; `insights experiment analyze` prints the same Readout.

Reading order, plain language first: the title and the hypothesis, the verdict, the checks (the sample ratio first,
then the guardrails, then the units left out), the table of every metric and the forest plot, the cumulative effect
of each primary metric with its always-valid band, the segment breakdowns with their interaction tests, notes and
what each metric means, and last every option and method behind the numbers. Everything written by a user (titles,
hypotheses, variant, metric and segment names, segment values) is HTML-escaped, in the page and in the charts.

>>> from insights.warehouse import connect
>>> con = connect(read_only=True)  # doctest: +SKIP
>>> report = experiment_report(con, "exp-bot-prompt-v2")  # doctest: +SKIP
>>> report.headline  # doctest: +SKIP
'Treatment raised lead_captured by 36% (95% CI +19% to +52%); sample ratio OK; guardrails OK.'

Importing this module is cheap: the statistics and the charts load when a readout is computed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from insights.errors import InsightsError, invalid_parameter
from insights.reports.experiment_catalog import EXPERIMENTS_DIR, definition_path
from insights.reports.html import escape
from insights.warehouse.connection import first_row

if TYPE_CHECKING:
    import duckdb

    from insights.experiments.definition import Experiment
    from insights.experiments.readout import MetricResult, Readout, SegmentResult
    from insights.reports.sections import Chart

__all__ = [
    "AssignmentSpan",
    "ExperimentReport",
    "NoUnitsError",
    "ReadoutPart",
    "assignment_span",
    "compute_readout",
    "experiment_report",
    "parse_as_of",
    "show_experiment",
]

#: The parts of a readout page, in reading order.
PART_KEYS = ("summary", "results", "cumulative", "segments", "notes", "methods")


class NoUnitsError(InsightsError, LookupError):
    """The warehouse holds no assigned unit of the experiment (in its window), so there is nothing to read out."""


# -- the data behind a readout ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentSpan:
    """The units a readout counts: how many, and when the first and the last were assigned."""

    n_units: int
    first_assigned_at: dt.datetime | None
    last_assigned_at: dt.datetime | None


def parse_as_of(value: object, function: str = "experiment_report") -> dt.datetime | None:
    """When a readout stops reading data: a day ('YYYY-MM-DD' or a date) means the end of that UTC day, a datetime
    is taken as it is (naive ones as UTC), None means all the data.

    >>> parse_as_of("2026-11-15").isoformat()
    '2026-11-16T00:00:00+00:00'
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise invalid_parameter(
                "as_of", function, "must be a day written YYYY-MM-DD (the readout reads data up to its end, UTC)", value
            ) from None
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC) + dt.timedelta(days=1)
    raise invalid_parameter("as_of", function, "must be a day written YYYY-MM-DD, a date, a datetime or None", value)


def observed_until(experiment: Experiment, as_of: dt.datetime | None) -> dt.datetime | None:
    """The end of what a readout reads: the experiment's end or `as_of`, whichever comes first."""
    ends = [t for t in (experiment.end, as_of) if t is not None]
    return min(ends) if ends else None


_SPAN_SQL = """
SELECT count(*), min(assigned_at), max(assigned_at)
FROM (
    SELECT unit_id, min(assigned_at) AS assigned_at
    FROM staging.assignments
    WHERE experiment_id = $experiment_id
      AND ($start IS NULL OR assigned_at >= CAST($start AS TIMESTAMPTZ))
      AND ($until IS NULL OR assigned_at < CAST($until AS TIMESTAMPTZ))
    GROUP BY unit_id
    HAVING count(DISTINCT variant) = 1
)
"""


def assignment_span(
    con: duckdb.DuckDBPyConnection, experiment: Experiment, *, as_of: dt.datetime | None = None
) -> AssignmentSpan:
    """The units the readout of `experiment` would count (as `experiment_units` selects them: assigned in the
    experiment's window and before `as_of`, exposed to one variant only), in one small query."""
    import duckdb

    until = observed_until(experiment, as_of)
    params = {"experiment_id": experiment.id, "start": experiment.start, "until": until}
    try:
        row = first_row(con.execute(_SPAN_SQL, params))
    except duckdb.CatalogException:
        raise NoUnitsError(
            "The warehouse has no staging.assignments table; load an assignment log with "
            "'insights ingest assignments FILE' (or run 'insights warehouse build')."
        ) from None
    if row is None:
        return AssignmentSpan(0, None, None)
    return AssignmentSpan(int(row[0]), row[1], row[2])


def compute_readout(
    con: duckdb.DuckDBPyConnection,
    experiment: Experiment,
    *,
    as_of: dt.datetime | None = None,
    breakdowns: bool = True,
    span: AssignmentSpan | None = None,
) -> tuple[Readout, AssignmentSpan, float]:
    """The readout of `experiment` as of `as_of`, the units behind it and the seconds it took.

    `breakdowns=False` leaves out the segment breakdowns and the cumulative effect by day: the verdict, the table and
    the sample ratio check are the same, in a fraction of the time (the weekly report's line). No unit at all raises
    NoUnitsError; a sample ratio mismatch does not warn here, since every readout states it first. `span`, when the
    caller has already asked for it (`assignment_span`), saves that query.
    """
    from insights.errors import SampleRatioMismatchWarning
    from insights.experiments.definition import analyze_experiment

    started = time.perf_counter()
    span = span if span is not None else assignment_span(con, experiment, as_of=as_of)
    if span.n_units == 0:
        window = f" before {as_of:%Y-%m-%d %H:%M} UTC" if as_of is not None else ""
        raise NoUnitsError(
            f"The experiment {experiment.id!r} has no assigned units in the warehouse{window}; load its assignment "
            "log with 'insights ingest assignments FILE', or check its start and end."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SampleRatioMismatchWarning)
        readout = analyze_experiment(con, experiment, as_of=as_of, breakdowns=breakdowns)
    return readout, span, time.perf_counter() - started


def load_definition(experiment: object, experiments_dir: str | os.PathLike[str] = EXPERIMENTS_DIR) -> Experiment:
    """An Experiment as given, or the definition of an id read from `experiments_dir` (validated by the engine)."""
    from insights.experiments.definition import Experiment, load_experiment

    if isinstance(experiment, Experiment):
        return experiment
    return load_experiment(definition_path(experiment, experiments_dir))  # type: ignore[arg-type]  # it checks the id


# -- formatting -------------------------------------------------------------------------------------------------


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def pct(x: float | None, digits: int = 1) -> str:
    """A relative change as a signed percentage: 0.355 -> '+35.5%'; 'n/a' when it cannot be computed."""
    return f"{x * 100:+.{digits}f}%" if x is not None and _finite(x) else "n/a"


def num(x: float | None) -> str:
    """A measured value with 4 significant digits and thousands separators."""
    if x is None or not _finite(x):
        return "n/a"
    return f"{x:,.4g}"


def p_text(p: float | None) -> str:
    """A p-value for reading: '<0.001' below a thousandth, else three decimals."""
    if p is None or not _finite(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def share(x: float | None) -> str:
    """A probability as a whole percentage, never a false certainty: '>99%', '<1%'."""
    if x is None or not _finite(x):
        return "n/a"
    if x > 0.99:
        return ">99%"
    if x < 0.01:
        return "<1%"
    return f"{x:.0%}"


def day_text(value: dt.datetime | dt.date | None) -> str:
    """'21 Sep 2026'."""
    if value is None:
        return "n/a"
    return f"{value.day} {value:%b %Y}"


def change_and_ci(effect: Any) -> tuple[str, str]:
    """An EffectResult's change and interval: relative when it has one, else absolute."""
    if _finite(effect.relative):
        return pct(effect.relative), f"{pct(effect.relative_ci_low)} to {pct(effect.relative_ci_high)}"
    return num(effect.effect), f"{num(effect.ci_low)} to {num(effect.ci_high)}"


def reading(result: MetricResult) -> str:
    """What a row means in words: better, worse, no clear change, or not enough data."""
    if not _finite(result.effect.p_value):
        return "not enough data"
    if result.is_improvement:
        return "better"
    if result.is_harm:
        return "worse"
    return "no clear change"


# -- the page -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadoutPart:
    """One part of the readout page: a title, plain-language sentences, then its blocks in order (escaped HTML
    markup and charts)."""

    key: str
    title: str
    summary: str
    blocks: tuple[Any, ...] = field(default=(), repr=False)  # str (escaped HTML) or Chart

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(b for b in self.blocks if not isinstance(b, str))

    def to_html(self) -> str:
        """The part as a section of the page; charts go through the report's plotly embedding."""
        from insights.reports import render

        parts = [
            f'<section class="insights-section" id="{escape(self.key)}">',
            f"<h2>{escape(self.title)}</h2>",
        ]
        if self.summary:
            parts.append(f'<p class="insights-summary">{escape(self.summary)}</p>')
        for block in self.blocks:
            parts.append(block if isinstance(block, str) else render.chart_html(block.figure, block.takeaway))
        parts.append("</section>")
        return "\n".join(parts)


@dataclass(frozen=True)
class ExperimentReport:
    """The readout page of one experiment: the Readout itself and the page's parts (see PART_KEYS)."""

    experiment: Experiment = field(repr=False)
    readout: Readout = field(repr=False)
    as_of: dt.datetime | None
    span: AssignmentSpan
    parts: tuple[ReadoutPart, ...] = field(repr=False)
    query_seconds: float = field(default=0.0, compare=False)

    @property
    def name(self) -> str:
        return self.experiment.title or self.experiment.id

    @property
    def title(self) -> str:
        return f"Experiment readout: {self.name}"

    @property
    def headline(self) -> str:
        """The verdict: one sentence per treatment arm, a sample ratio mismatch first."""
        return self.readout.verdict

    @property
    def kicker(self) -> str:
        read = f"data up to {day_text(self.as_of - dt.timedelta(microseconds=1))}" if self.as_of else "all data"
        return f"Experiment readout · {self.experiment.id} · {read}"

    @property
    def sections(self) -> tuple[ReadoutPart, ...]:
        """The parts, under the name the report runner's summary reads."""
        return self.parts

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(c for p in self.parts for c in p.charts)

    @property
    def row_counts(self) -> dict[str, int]:
        counts = {"units": sum(self.readout.n_units.values())}
        counts.update({f"units.{arm}": n for arm, n in self.readout.n_units.items()})
        return counts

    def part(self, key: str) -> ReadoutPart:
        """The part with this key (see PART_KEYS)."""
        for p in self.parts:
            if p.key == key:
                return p
        raise invalid_parameter("key", "ExperimentReport.part", f"must be one of {', '.join(PART_KEYS)}", key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (no figures): the verdict, the checks, every metric's row and the segment rows."""
        return readout_dict(self.readout, self.span, self.as_of)

    def to_markdown(self) -> str:
        return self.readout.to_markdown()

    def to_html(self) -> str:
        from insights.reports import render

        return render.header_html(self.name, "", self.kicker) + "\n".join(p.to_html() for p in self.parts)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return str(self.readout)


def readout_dict(readout: Readout, span: AssignmentSpan, as_of: dt.datetime | None) -> dict[str, Any]:
    """A readout as JSON-ready values (NaN as null): what `insights experiment analyze --json` prints."""
    data: dict[str, Any] = _json_ready(
        {
            "experiment_id": readout.experiment_id,
            "title": readout.title,
            "hypothesis": readout.hypothesis,
            "verdict": readout.verdict,
            "sample_ratio": readout.srm_sentence,
            "is_sample_ratio_mismatch": readout.srm.is_mismatch,
            "control": readout.control,
            "variants": list(readout.variants),
            "n_units": dict(readout.n_units),
            "first_assigned_at": span.first_assigned_at,
            "last_assigned_at": span.last_assigned_at,
            "as_of": as_of,
            "options": dataclasses.asdict(readout.options),
            "rows": readout.rows(),
            "segments": readout.segment_rows(),
            "notes": list(readout.notes),
        }
    )
    return data


def _json_ready(value: Any) -> Any:  # a JSON value, whatever it is
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str):
        return _json_ready(value.item())
    return value


def experiment_report(
    con: duckdb.DuckDBPyConnection,
    experiment: Experiment | str,
    *,
    as_of: dt.date | dt.datetime | str | None = None,
    experiments_dir: str | os.PathLike[str] = EXPERIMENTS_DIR,
) -> ExperimentReport:
    """Compute the readout of `experiment` (an Experiment, or an id defined in `experiments_dir`) and write it up.

    `as_of` ('YYYY-MM-DD', a date or a datetime) reads only the data before the end of that day; None reads all
    of it. The connection may be read-only; nothing is written, opened or closed.
    """
    definition = load_definition(experiment, experiments_dir)
    until = parse_as_of(as_of)
    readout, span, seconds = compute_readout(con, definition, as_of=until)
    parts = (
        summary_part(definition, readout, span, until),
        results_part(readout),
        cumulative_part(readout),
        segments_part(readout),
        notes_part(definition, readout),
        methods_part(readout, until),
    )
    return ExperimentReport(
        experiment=definition, readout=readout, as_of=until, span=span, parts=parts, query_seconds=seconds
    )


def show_experiment(report: ExperimentReport) -> None:
    """Display a readout page in a notebook: the header, then each part as one output."""
    from insights.reports import render

    render.setup()
    render.show_header(report.name, "", report.kicker)
    for part in report.parts:
        render.show_markup(part.to_html())


# -- the parts ----------------------------------------------------------------------------------------------------


def _window(span: AssignmentSpan, as_of: dt.datetime | None) -> str:
    first, last = span.first_assigned_at, span.last_assigned_at
    if first is None or last is None:
        return "No unit was assigned in the readout's window."
    days = max(1, math.ceil((last - first).total_seconds() / 86_400))
    read = f"data up to the end of {day_text(as_of - dt.timedelta(microseconds=1))}" if as_of else "all the data"
    return (
        f"Units assigned from {day_text(first)} to {day_text(last)} ({days} days, {span.n_units:,} units); "
        f"the readout reads {read}."
    )


def summary_part(
    experiment: Experiment, readout: Readout, span: AssignmentSpan, as_of: dt.datetime | None
) -> ReadoutPart:
    """The hypothesis, the verdict and the checks: the sample ratio first, then guardrails, then units left out."""
    blocks = []
    if readout.hypothesis:
        blocks.append(f'<p class="insights-hypothesis"><strong>Hypothesis.</strong> {escape(readout.hypothesis)}</p>')
    alert = " insights-alert" if readout.srm.is_mismatch else ""
    blocks.append(f'<p class="insights-verdict{alert}"><strong>Verdict.</strong> {escape(readout.verdict)}</p>')
    checks = [(readout.srm.is_mismatch, _sentence(readout.srm_sentence))]
    treatments = readout.variants[1:]
    for variant in treatments:
        guard = readout.guardrail_sentence(variant) or "no guardrail metric is defined"
        text = guard if len(treatments) == 1 else f"{variant}: {guard}"
        checks.append((guard.startswith("guardrail alert"), _sentence(text)))
    checks += [(False, note) for note in readout.notes]
    checks.append((False, _window(span, as_of)))
    items = "".join(
        f'<li class="{"insights-check-alert" if bad else "insights-check"}">{escape(text)}</li>' for bad, text in checks
    )
    blocks.append(f'<h3>Checks</h3><ul class="insights-checks">{items}</ul>')
    arms = " and ".join(f"{arm} ({n:,} units)" for arm, n in readout.n_units.items())
    summary = f"{experiment.title or experiment.id}: {arms}, randomised by {experiment.unit}."
    return ReadoutPart("summary", "What the experiment found", summary, tuple(blocks))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


_RESULT_HEADERS = (
    "Metric",
    "Role",
    "Variant",
    "Reading",
    "Control",
    "Treatment",
    "Change",
    "CI",
    "p",
    "p adjusted",
    "Chance to win",
    "Units (control / treatment)",
    "Note",
)
_NUMERIC = frozenset({"Control", "Treatment", "Change", "p", "p adjusted", "Chance to win", "Interaction p"})


def _is_numeric(header: str) -> bool:
    return header in _NUMERIC or header.endswith("CI") or header.startswith("Units")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], classes: Sequence[str] = ()) -> str:
    """An escaped HTML table in the reports' markup; numbers right-aligned (and kept on one line)."""
    numeric = [_is_numeric(h) for h in headers]
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if n else f"<th>{escape(h)}</th>"
        for h, n in zip(headers, numeric, strict=True)
    )
    body = []
    for i, row in enumerate(rows):
        css = f' class="{escape(classes[i])}"' if i < len(classes) and classes[i] else ""
        cells = "".join(
            f'<td class="num">{escape(v)}</td>' if n else f"<td>{escape(v)}</td>"
            for n, v in zip(numeric, row, strict=True)
        )
        body.append(f"<tr{css}>{cells}</tr>")
    return (
        f'<div class="insights-table"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
    )


def results_part(readout: Readout) -> ReadoutPart:
    """Every metric in every arm: the table, then the forest plot of the relative changes."""
    from insights.reports.sections import Chart

    level = round((1 - readout.options.alpha) * 100)
    headers = [h if h != "CI" else f"{level}% CI" for h in _RESULT_HEADERS]
    rows, classes = [], []
    for r in readout.results:
        change, ci = change_and_ci(r.effect)
        rows.append(
            [
                r.metric,
                r.role,
                r.variant,
                reading(r),
                num(r.effect.control_mean),
                num(r.effect.treatment_mean),
                change,
                ci,
                p_text(r.effect.p_value),
                p_text(r.p_adjusted),
                share(r.chance_to_win),
                f"{r.n_control:,} / {r.n_treatment:,}",
                r.effect.note or "",
            ]
        )
        classes.append("insights-better" if r.is_improvement else "insights-worse" if r.is_harm else "")
    options = readout.options
    correction = (
        "no correction for multiple comparisons"
        if options.correction == "none"
        else f"p adjusted by {options.correction} over {_FAMILY.get(options.family, options.family)}; guardrails "
        "keep their raw p-value, so a correction never hides a harm"
    )
    summary = (
        f"Each metric in each treatment arm against {readout.control}: the means, the relative change with its "
        f"{level}% confidence interval, and whether the change is clear at the {options.alpha:g} level ({correction}). "
        "Chance to win is the posterior probability that the arm is better than control."
    )
    blocks: list[Any] = [_table(headers, rows, classes)]
    if any(_finite(r.effect.relative) for r in readout.results):
        from insights.reports import charts

        figure = charts.restyle(readout.plot_forest())
        # at least the height the page gives every chart, so a short forest leaves no blank band under it
        figure.update_layout(height=max(figure.layout.height or 0, 360))
        blocks.append(Chart(figure=figure, takeaway=forest_takeaway(readout)))
    return ReadoutPart("results", "Every metric", summary, tuple(blocks))


_FAMILY = {"all": "every metric and arm", "metric": "the arms of each metric", "variant": "the metrics of each arm"}


def forest_takeaway(readout: Readout) -> str:
    """Which metrics moved, for better or worse, and how many did not."""
    better = [r for r in readout.results if r.is_improvement]
    worse = [r for r in readout.results if r.is_harm]
    flat = len(readout.results) - len(better) - len(worse)

    def moved(r: MetricResult) -> str:
        change, ci = change_and_ci(r.effect)
        return f"{r.metric} ({r.variant}) {change} ({ci})"

    sentences = []
    if better:
        sentences.append("Better: " + "; ".join(moved(r) for r in better) + ".")
    if worse:
        sentences.append("Worse: " + "; ".join(moved(r) for r in worse) + ".")
    if flat:
        results = "result" if flat == 1 else "results"
        rest = f"the other {flat} {results}" if better or worse else f"any of the {flat} {results}"
        sentences.append(f"No clear change in {rest}.")
    return " ".join(sentences)


def cumulative_part(readout: Readout) -> ReadoutPart:
    """The cumulative effect of each primary metric by assignment day, with the always-valid (mSPRT) band."""
    from insights.reports import charts
    from insights.reports.sections import Chart

    level = round((1 - readout.options.alpha) * 100)
    summary = (
        f"The effect on each primary metric as units were assigned, day by day, with the fixed-horizon {level}% "
        "interval (dotted, valid once, at the planned end) and the always-valid band (shaded: a mixture sequential "
        "test, valid however often the readout is looked at). A band that leaves zero means a clear effect even "
        "with peeking."
    )
    blocks: list[Any] = []
    primary = [r for r in readout.results if r.role == "primary"]
    for result in primary:
        looks = [x for x in readout.sequential if x.metric == result.metric and x.variant == result.variant]
        if not looks:
            why = "order statistics do not add up day by day" if result.kind == "quantile" else "too little data"
            blocks.append(
                f'<p class="insights-note">No cumulative chart for {escape(result.metric)} in '
                f"{escape(result.variant)}: {why}.</p>"
            )
            continue
        figure = charts.restyle(readout.plot_cumulative(result.metric, result.variant))
        figure.update_yaxes(range=_readable_range(looks))
        blocks.append(Chart(figure=figure, takeaway=cumulative_takeaway(looks, result.kind)))
    if not primary:
        blocks.append('<p class="insights-note">The experiment has no primary metric.</p>')
    return ReadoutPart("cumulative", "Effect over time", summary, tuple(blocks))


def absolute(x: float, kind: str) -> str:
    """An absolute effect: percentage points for a proportion, else the metric's own unit."""
    if kind == "proportion" and _finite(x):
        return f"{x * 100:+.1f} pt"
    return num(x) if not _finite(x) or x < 0 else "+" + num(x)


def _readable_range(looks: Sequence[Any]) -> list[float] | None:
    """A y range that shows the effect and its band once a fifth of the units are in: the first days' bands are
    so wide that, drawn in full, they flatten everything after them."""
    final = looks[-1].n_control + looks[-1].n_treatment
    later = [x for x in looks if x.n_control + x.n_treatment >= 0.2 * final] or list(looks)
    values = [0.0]
    for look in later:
        values += [
            v
            for v in (
                look.effect.effect,
                look.effect.ci_low,
                look.effect.ci_high,
                look.msprt.cs_low,
                look.msprt.cs_high,
            )
            if _finite(v)
        ]
    low, high = min(values), max(values)
    if not high > low:
        return None
    pad = 0.1 * (high - low)
    return [low - pad, high + pad]


def cumulative_takeaway(looks: Sequence[Any], kind: str = "mean") -> str:
    """When the always-valid band left zero, or that it has not (`kind`: the metric's kind, for the units)."""
    last = looks[-1]
    name = f"{last.metric} ({last.variant})"
    band = f"{absolute(last.msprt.cs_low, kind)} to {absolute(last.msprt.cs_high, kind)}"
    effect = absolute(last.effect.effect, kind)
    since = None
    for look in looks:
        excludes = look.msprt.cs_low > 0 or look.msprt.cs_high < 0
        if excludes and since is None:
            since = look
        elif not excludes:
            since = None
    if since is not None:
        return (
            f"The always-valid band of {name} left zero on {_day(since.day)} ({since.n_control + since.n_treatment:,} "
            f"units) and has stayed clear of it since: the effect is {effect} (band {band})."
        )
    return (
        f"The always-valid band of {name} still includes zero ({band}; effect {effect}): no effect is clear yet "
        "once peeking is accounted for."
    )


def _day(value: Any) -> str:
    return day_text(value) if isinstance(value, dt.date) else str(value)


def segments_part(readout: Readout) -> ReadoutPart:
    """Each segment column: one sentence on the interaction tests, then the effect in every value."""
    if not readout.segments:
        return ReadoutPart(
            "segments",
            "Segments",
            "No segments are defined for this experiment (add segments: to its definition to break every metric "
            "down by a column such as the channel).",
        )
    alpha = readout.options.alpha
    blocks: list[Any] = []
    columns = list(dict.fromkeys(s.segment for s in readout.segments))
    for column in columns:
        results = [s for s in readout.segments if s.segment == column]
        blocks.append(f"<h3>By {escape(column)}</h3>")
        blocks.append(f'<p class="insights-summary">{escape(segment_sentence(column, results, alpha))}</p>')
        rows = []
        for s in results:
            for value, effect, n_c, n_t in zip(s.values, s.effects, s.n_control, s.n_treatment, strict=True):
                change, ci = change_and_ci(effect)
                rows.append(
                    [
                        s.metric,
                        s.variant,
                        value,
                        f"{n_c:,} / {n_t:,}",
                        change,
                        ci,
                        p_text(effect.p_value),
                        p_text(s.interaction.p_value),
                        effect.note or "",
                    ]
                )
        headers = ["Metric", "Variant", column, "Units (control / treatment)", "Change", "CI", "p", "Interaction p"]
        blocks.append(_table([*headers, "Note"], rows))
    summary = (
        "Every metric broken down by each segment, with a test of whether the effect differs between the segment's "
        "values (the treatment x segment interaction). These tests are not corrected for multiple comparisons: "
        f"with many of them, one below {alpha:g} can happen by chance."
    )
    return ReadoutPart("segments", "Segments", summary, tuple(blocks))


def segment_sentence(column: str, results: Sequence[SegmentResult], alpha: float) -> str:
    """Which effects differ by `column` more than chance would explain."""
    tested = [s for s in results if _finite(s.interaction.p_value)]
    if not tested:
        return f"No interaction by {column} could be tested (too few units in its values)."
    differing = [s for s in tested if s.interaction.p_value < alpha]
    if differing:
        named = "; ".join(
            f"{s.metric} in {s.variant} (interaction p = {p_text(s.interaction.p_value)})" for s in differing
        )
        return f"The effect differs by {column} for {named}."
    lowest = min(tested, key=lambda s: s.interaction.p_value)
    return (
        f"No effect differs by {column} more than chance would explain (lowest interaction p = "
        f"{p_text(lowest.interaction.p_value)}, {lowest.metric})."
    )


def notes_part(experiment: Experiment, readout: Readout) -> ReadoutPart:
    """The readout's notes, the results that carry a note code, and what each metric means."""
    notes = list(readout.notes)
    notes += [f"{r.metric} ({r.variant}): {r.effect.note}." for r in readout.results if r.effect.note]
    blocks = []
    if notes:
        blocks.append('<ul class="insights-notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    definitions = "".join(
        f"<li><strong>{escape(m.name)}</strong> ({escape(m.role)}, {escape(m.type)})"
        + (f": {escape(m.description)}" if m.description else "")
        + "</li>"
        for m in experiment.metrics
    )
    blocks.append(f'<h3>What each metric means</h3><ul class="insights-definitions">{definitions}</ul>')
    summary = "Nothing to note." if not notes else f"{len(notes)} {'note' if len(notes) == 1 else 'notes'} below."
    return ReadoutPart("notes", "Notes", summary, tuple(blocks))


def methods_part(readout: Readout, as_of: dt.datetime | None) -> ReadoutPart:
    """Every option that changes a number, with its value, and the method behind each result."""
    options = ", ".join(f"{f.name} = {getattr(readout.options, f.name)}" for f in dataclasses.fields(readout.options))
    methods = {f"{r.metric}": r.effect.method for r in readout.results}
    items = [f"<li><strong>sample ratio</strong>: {escape(readout.srm.method)}</li>"]
    items += [f"<li><strong>{escape(metric)}</strong>: {escape(method)}</li>" for metric, method in methods.items()]
    corrections = sorted({r.correction for r in readout.results if r.correction != "none"})
    if corrections:
        items.append(f"<li><strong>multiple comparisons</strong>: {escape('; '.join(corrections))}</li>")
    blocks = (
        f'<p class="insights-options"><strong>Options.</strong> {escape(options)}.</p>',
        f'<ul class="insights-methods">{"".join(items)}</ul>',
    )
    read = f"data before {as_of:%Y-%m-%d %H:%M} UTC" if as_of else "all the data in the warehouse"
    summary = (
        f"The readout read {read}. Every option can be set under options: in the experiment's definition; the "
        "defaults are in docs/experiments.md."
    )
    return ReadoutPart("methods", "How this was computed", summary, blocks)
