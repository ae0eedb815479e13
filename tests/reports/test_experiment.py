"""The experiment readout page as a library (no kernel): reading order, the engine's verdict, the sample ratio
check first, escaping, options and methods, and the light readout the weekly report uses.

One small demo warehouse per module (300 posts, 2,000 chat sessions: about 4 s); definitions are copies of
experiments/exp-bot-prompt-v2.yaml in temporary folders, changed where a test needs it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from tests.reports.report_site import EXPERIMENT_ID, ROOT, XSS_TEXT, write_xss_definition

from insights.errors import InvalidParameterError
from insights.experiments import ReadoutOptions, analyze_experiment, load_experiment
from insights.reports.experiment import (
    PART_KEYS,
    ExperimentReport,
    NoUnitsError,
    compute_readout,
    experiment_report,
    parse_as_of,
)
from insights.reports.experiment_catalog import (
    ExperimentNotFoundError,
    definition_path,
    list_definitions,
)
from insights.warehouse import connect

XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from insights.demo import run_demo

    folder = tmp_path_factory.mktemp("experiment")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("INSIGHTS_DB", raising=False)
        mp.delenv("INSIGHTS_KEY_FILE", raising=False)
        summary = run_demo(db=folder / "demo.duckdb", out_dir=folder / "logs", n_posts=300, n_sessions=2000)
    return Path(summary.db)


@pytest.fixture(scope="module")
def con(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(warehouse, read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def report(con: duckdb.DuckDBPyConnection) -> ExperimentReport:
    return experiment_report(con, EXPERIMENT_ID, experiments_dir=ROOT / "experiments")


def definition(folder: Path, **changes: Any) -> Path:
    """experiments/exp-bot-prompt-v2.yaml copied into `folder` with top-level `changes`; returns the folder."""
    data = yaml.safe_load((ROOT / "experiments" / f"{EXPERIMENT_ID}.yaml").read_text())
    data.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{data['id']}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


# -- the page ---------------------------------------------------------------------------------------------------


def test_parts_come_in_reading_order_plain_language_first(report: ExperimentReport) -> None:
    assert tuple(p.key for p in report.parts) == PART_KEYS
    page = report.to_html()
    hypothesis = page.index("Hypothesis.")
    verdict = page.index("Verdict.")
    checks = page.index("<h3>Checks</h3>")
    sample_ratio = page.index("Sample ratio OK", checks)
    guardrails = page.index("uardrail", sample_ratio)
    table = page.index('<section class="insights-section" id="results"')
    assert hypothesis < verdict < checks < sample_ratio < guardrails < table
    positions = [page.index(f'id="{key}"') for key in PART_KEYS]
    assert positions == sorted(positions)


def assert_same_rows(rows: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Equal rows, floats to 1e-9 relative."""
    for row, want in zip(rows, expected, strict=True):
        for key, value in want.items():
            if isinstance(value, float):
                assert row[key] == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), key
            else:
                assert row[key] == value, key


def test_the_verdict_and_the_table_are_the_engines(con: duckdb.DuckDBPyConnection, report: ExperimentReport) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        readout = analyze_experiment(con, load_experiment(ROOT / "experiments" / f"{EXPERIMENT_ID}.yaml"))

    assert report.headline == readout.verdict
    # DuckDB's threads add the sums of doubles in any order, so two runs may differ in the last bits
    assert_same_rows(report.readout.rows(), readout.rows())
    assert report.title == f"Experiment readout: {readout.title}"
    assert report.row_counts["units"] == sum(readout.n_units.values()) == report.span.n_units
    results = report.part("results").blocks[0]
    for row in readout.rows():
        assert f"<td>{row['metric']}</td>" in results


def test_the_light_readout_gives_the_same_results_as_the_full_one(con: duckdb.DuckDBPyConnection) -> None:
    experiment = load_experiment(ROOT / "experiments" / f"{EXPERIMENT_ID}.yaml")
    as_of = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)

    full, span_full, _ = compute_readout(con, experiment, as_of=as_of)
    light, span_light, _ = compute_readout(con, experiment, as_of=as_of, breakdowns=False)

    assert light.verdict == full.verdict
    # The same sums, added in another order (by day, then over days): equal to the last bits.
    assert_same_rows(light.rows(), full.rows())
    assert light.n_units == full.n_units and span_light == span_full
    assert light.segments == () and light.sequential == ()
    assert full.segments and full.sequential


def test_a_sample_ratio_mismatch_comes_first_is_marked_and_does_not_warn(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    folder = definition(tmp_path, variants={"control": 0.9, "treatment": 0.1})  # the data is split 50/50

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the page states the mismatch; a warning on stderr would be noise
        report = experiment_report(con, EXPERIMENT_ID, experiments_dir=folder)

    assert report.readout.srm.is_mismatch
    assert report.headline.startswith("SAMPLE RATIO MISMATCH")
    summary = "\n".join(b for b in report.part("summary").blocks if isinstance(b, str))
    assert 'class="insights-verdict insights-alert"' in summary
    first_check = summary.split('<ul class="insights-checks">', 1)[1].split("</li>", 1)[0]
    assert 'class="insights-check-alert"' in first_check and "SAMPLE RATIO MISMATCH" in first_check


def test_user_written_text_is_escaped_in_the_page_and_in_the_charts(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    folder = write_xss_definition(tmp_path)

    report = experiment_report(con, EXPERIMENT_ID, experiments_dir=folder)
    page = report.to_html()

    assert XSS_TEXT not in page
    assert "<img src=x" not in page and "<script>alert" not in page
    assert page.count(XSS_ESCAPED) >= 3  # title, hypothesis, the metric's description
    for chart in report.charts:
        layout = chart.figure.to_plotly_json()["layout"]
        assert "<script" not in str(layout) and "<img" not in str(layout)


def test_every_chart_has_a_takeaway_and_each_primary_metric_its_cumulative_chart(report: ExperimentReport) -> None:
    primary = [r for r in report.readout.results if r.role == "primary" and r.kind != "quantile"]

    assert len(report.part("results").charts) == 1
    assert len(report.part("cumulative").charts) == len(primary) >= 1
    for chart in report.charts:
        assert chart.takeaway and chart.figure.layout.title.text
    cumulative = report.part("cumulative").charts[0].figure
    assert any(trace.name == "always-valid band (mSPRT)" for trace in cumulative.data)


def test_segments_show_each_value_with_the_interaction_p_value(report: ExperimentReport) -> None:
    segments = report.part("segments")
    table = "".join(b for b in segments.blocks if isinstance(b, str))

    assert "<h3>By channel</h3>" in table and "Interaction p" in table
    for s in report.readout.segments:
        for value in s.values:
            assert f"<td>{value}</td>" in table


def test_an_experiment_without_segments_says_so_in_one_sentence(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    report = experiment_report(con, EXPERIMENT_ID, experiments_dir=definition(tmp_path, segments={}))

    segments = report.part("segments")
    assert segments.blocks == () and segments.summary.startswith("No segments are defined")


def test_the_footer_names_every_option_and_every_method(report: ExperimentReport) -> None:
    methods = "".join(b for b in report.part("methods").blocks if isinstance(b, str))

    for option in dataclasses.fields(ReadoutOptions):
        assert f"{option.name} = {getattr(report.readout.options, option.name)}" in methods
    for result in report.readout.results:
        assert result.effect.method.replace("<", "&lt;") in methods
    assert report.readout.srm.method.replace("<", "&lt;") in methods


def test_as_of_reads_the_data_up_to_the_end_of_that_day(con: duckdb.DuckDBPyConnection) -> None:
    report = experiment_report(con, EXPERIMENT_ID, as_of="2026-10-15", experiments_dir=ROOT / "experiments")

    assert report.as_of == dt.datetime(2026, 10, 16, tzinfo=dt.UTC)
    assert report.span.last_assigned_at is not None and report.span.last_assigned_at < report.as_of
    assert "data up to 15 Oct 2026" in report.kicker
    last_look = report.readout.sequential[-1].day
    assert str(last_look) <= "2026-10-15"


def test_json_has_the_verdict_and_rows_without_nan(report: ExperimentReport) -> None:
    import json

    data = report.to_dict()
    text = json.dumps(data, allow_nan=False)

    assert data["verdict"] == report.headline and data["experiment_id"] == EXPERIMENT_ID
    assert len(data["rows"]) == len(report.readout.results) and "NaN" not in text


# -- bad input ------------------------------------------------------------------------------------------------


def test_no_assigned_units_is_one_sentence(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    before = definition(tmp_path / "a")
    with pytest.raises(NoUnitsError, match=r"^The experiment 'exp-bot-prompt-v2' has no assigned units .* before"):
        experiment_report(con, EXPERIMENT_ID, as_of="2020-01-01", experiments_dir=before)

    nobody = definition(tmp_path / "b", id="exp-nobody")
    with pytest.raises(NoUnitsError, match="'exp-nobody' has no assigned units in the warehouse;"):
        experiment_report(con, "exp-nobody", experiments_dir=nobody)


def test_an_unknown_id_lists_the_known_ones(tmp_path: Path) -> None:
    folder = definition(tmp_path)
    with pytest.raises(ExperimentNotFoundError) as info:
        definition_path("exp-bot-prompt-v3", folder)
    assert str(info.value) == (
        f"There is no experiment 'exp-bot-prompt-v3' in {folder}/; the experiments defined there are: "
        "exp-bot-prompt-v2."
    )
    with pytest.raises(ExperimentNotFoundError, match="holds no definitions"):
        definition_path("exp-x", tmp_path / "empty")


@pytest.mark.parametrize("bad", ["../exp-bot-prompt-v2", "", "a/b", None, 3])
def test_an_id_that_is_not_an_id_is_refused(bad: object) -> None:
    with pytest.raises(InvalidParameterError, match="'experiment_id' parameter of definition_path"):
        definition_path(bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("2026-11-15", dt.datetime(2026, 11, 16, tzinfo=dt.UTC)),
        (dt.date(2026, 11, 15), dt.datetime(2026, 11, 16, tzinfo=dt.UTC)),
        (dt.datetime(2026, 11, 15, 12), dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC)),
    ],
)
def test_parse_as_of(value: object, expected: dt.datetime | None) -> None:
    assert parse_as_of(value) == expected


@pytest.mark.parametrize("bad", ["15/11/2026", "2026-13-01", 20261115])
def test_a_bad_as_of_is_one_sentence(bad: object) -> None:
    with pytest.raises(InvalidParameterError, match=r"^The 'as_of' parameter of experiment_report must be"):
        parse_as_of(bad)


# -- the list ----------------------------------------------------------------------------------------------------


def test_the_list_reads_status_from_start_and_end_and_flags_unreadable_files(tmp_path: Path) -> None:
    definition(tmp_path, id="exp-planned", start="2999-01-01")
    definition(tmp_path, id="exp-finished", start="2020-01-01", end="2020-02-01")
    definition(tmp_path, id="exp-running", start="2020-01-01", variants=["a", "b", "c"], control="a")
    (tmp_path / "exp-broken.yaml").write_text("id: exp-broken\nmetrics: [\n")
    (tmp_path / "exp-renamed.yaml").write_text("id: exp-other\n")

    entries = {e.id: e for e in list_definitions(tmp_path)}

    assert sorted(entries) == ["exp-broken", "exp-finished", "exp-planned", "exp-renamed", "exp-running"]
    assert {i: e.status() for i, e in entries.items()} == {
        "exp-broken": "invalid",
        "exp-finished": "finished",
        "exp-planned": "planned",
        "exp-renamed": "invalid",
        "exp-running": "running",
    }
    assert entries["exp-broken"].problem == "is not valid YAML at line 3; check indentation and quoting"
    assert entries["exp-renamed"].problem == "id 'exp-other' must equal the file name ('exp-renamed')"
    running = entries["exp-running"]
    assert running.variants == ("a", "b", "c") and running.weights is None
    assert running.primary_metrics == ("lead_captured",) and running.unit == "user"
