"""Pipeline specs: the shipped one validates; every broken one fails with one sentence naming the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from insights.cli import main
from insights.errors import ConfigurationError, InsightsError, InvalidParameterError
from insights.pipelines.periods import PERIOD_KINDS
from insights.pipelines.spec import PipelineSpecError, find_spec, load_spec, load_specs

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_weekly_spec_validates_against_the_shipped_notebook():
    specs = load_specs(ROOT / "pipelines", notebooks_dir=ROOT / "notebooks")
    weekly = {s.name: s for s in specs}["weekly"]
    assert (weekly.notebook, weekly.period, weekly.timezone) == ("weekly", "previous_iso_week", "UTC")
    assert weekly.schedule == "0 6 * * 1"
    week = PERIOD_KINDS["previous_iso_week"].parse("2026-W10")
    assert weekly.parameters_for(week, db="/abs/insights.duckdb") == {"week": "2026-W10", "db": "/abs/insights.duckdb"}
    assert str(weekly.output_for(week)) == "weekly/2026-W10/report.html"


def test_the_spec_output_is_where_the_report_runner_writes():
    from insights.reports import runner

    weekly = load_spec(ROOT / "pipelines" / "weekly.yaml", notebooks_dir=ROOT / "notebooks")
    assert weekly.output == f"weekly/{{week}}/{runner.HTML_NAME}"


def test_a_valid_spec_fills_defaults(project):
    spec = load_spec(project.spec(description=None, timezone=None, catch_up=None), notebooks_dir=project.notebooks)
    assert (spec.description, spec.timezone, spec.catch_up) == ("", "UTC", 8)


BAD_SPECS = [
    # (changes to the valid weekly spec, the key the message must name, words the message must contain)
    ({"scheduel": "0 6 * * 1"}, "scheduel", "did you mean 'schedule'"),
    ({"schedule": None}, "schedule", "missing"),
    ({"schedule": "0 25 * * *"}, "schedule", "the hour field '25' is out of range"),
    ({"schedule": "0 6 * * 1 2026"}, "schedule", "it has 6 fields"),
    ({"schedule": "@reboot"}, "schedule", "not a known alias"),
    ({"schedule": "0 0 30 2 *"}, "schedule", "never fires"),
    ({"schedule": 6}, "schedule", "must be a string"),
    ({"period": "previous_week"}, "period", "previous_iso_week, previous_day, previous_month"),
    ({"notebook": "wekly"}, "notebook", "(there: weekly)"),
    ({"notebook": "../weekly"}, "notebook", "without .ipynb"),
    ({"timezone": "Mars/Olympus"}, "timezone", "IANA time zone"),
    ({"name": "other"}, "name", "must equal the file name"),
    ({"parameters": {"week": "{wek}"}}, "parameters.week", "not {wek}"),
    ({"parameters": {"week": "{week:>10}"}}, "parameters.week", "plain placeholders"),
    ({"parameters": {"weeks": "{week}"}}, "parameters.weeks", "declared in"),
    ({"parameters": {"week": ["{week}"]}}, "parameters.week", "quote templates"),
    ({"parameters": ["week"]}, "parameters", "mapping"),
    ({"output": "weekly/report.html"}, "output", "'weekly/{week}/report.html'"),
    ({"output": "weekly/{day}/report.html"}, "output", "not {day}"),
    ({"catch_up": 0}, "catch_up", "from 1 to 366"),
    ({"catch_up": "eight"}, "catch_up", "whole number"),
    ({"catch_up": True}, "catch_up", "whole number"),
    ({"period": "previous_day", "parameters": {"day": "{day}"}}, "output", "not {week}"),
]


@pytest.mark.parametrize(("changes", "key", "words"), BAD_SPECS, ids=[f"{c}" for c, _, _ in BAD_SPECS])
def test_a_bad_spec_fails_with_one_sentence_naming_the_file_and_the_key(project, changes, key, words):
    path = project.spec(**changes)
    with pytest.raises(PipelineSpecError) as caught:
        load_spec(path, notebooks_dir=project.notebooks)
    message = str(caught.value)
    assert str(path) in message
    assert f"'{key}'" in message
    assert words in message
    assert "\n" not in message and message.endswith((".", "?"))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name: weekly\nschedule: * * * * *\n", "not valid YAML at line 2"),
        ("- name: weekly\n", "must hold a YAML mapping"),
        ("", "must hold a YAML mapping"),
        (
            'name: weekly\nnotebook: weekly\nparameters:\n  week: {week}\nschedule: "0 6 * * 1"\n'
            "period: previous_iso_week\noutput: weekly/{week}/report.html\n",
            "quote templates",
        ),
    ],
)
def test_a_spec_that_is_not_a_yaml_mapping_or_has_an_unquoted_template_says_how_to_fix_it(project, text, words):
    path = project.raw_spec(text)
    with pytest.raises(PipelineSpecError, match=None) as caught:
        load_spec(path, notebooks_dir=project.notebooks)
    assert str(path) in str(caught.value)
    assert words in str(caught.value)


def test_spec_errors_are_configuration_errors_and_value_errors():
    assert issubclass(PipelineSpecError, ConfigurationError)
    assert issubclass(PipelineSpecError, ValueError)
    assert issubclass(PipelineSpecError, InsightsError)


def test_a_folder_with_one_bad_spec_fails_as_a_whole_and_the_cli_exits_2(project, capsys):
    project.spec("weekly")
    bad = project.spec("daily", schedule="0 6 * *")
    with pytest.raises(PipelineSpecError):
        load_specs(project.pipelines, notebooks_dir=project.notebooks)
    code = main(["pipeline", "list", *project.cli_args()])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("insights: error: ") and str(bad) in err and "'schedule'" in err


def test_two_files_for_one_name_are_refused(project):
    project.spec("weekly")
    (project.pipelines / "weekly.yml").write_text((project.pipelines / "weekly.yaml").read_text())
    with pytest.raises(PipelineSpecError, match=r"both weekly\.yaml and weekly\.yml"):
        load_specs(project.pipelines, notebooks_dir=project.notebooks)


def test_a_missing_pipelines_folder_says_where_to_run(tmp_path):
    with pytest.raises(PipelineSpecError, match="run from the project checkout or pass --pipelines DIR"):
        load_specs(tmp_path / "nowhere")


def test_an_unknown_pipeline_name_lists_the_known_ones(project):
    project.spec("weekly")
    with pytest.raises(InvalidParameterError, match=r"pipelines/ \(weekly\)\. Got 'wekly' instead\."):
        find_spec("wekly", project.pipelines, notebooks_dir=project.notebooks)


def test_templating_keeps_non_string_parameters_and_escaped_braces(project):
    project.spec(parameters={"week": "{week} ({start} to {end}) {{literal}}", "top_n": 3, "db": None})
    spec = load_spec(project.pipelines / "weekly.yaml", notebooks_dir=project.notebooks)
    week = PERIOD_KINDS["previous_iso_week"].parse("2026-W01")
    assert spec.parameters_for(week) == {
        "week": "2026-W01 (2025-12-29 to 2026-01-04) {literal}",
        "top_n": 3,
        "db": None,
    }


@pytest.mark.parametrize(
    ("kind", "label", "start", "end"),
    [
        ("previous_iso_week", "2026-W01", "2025-12-29", "2026-01-04"),
        ("previous_iso_week", "2026-W53", "2026-12-28", "2027-01-03"),
        ("previous_day", "2026-02-28", "2026-02-28", "2026-02-28"),
        ("previous_month", "2028-02", "2028-02-01", "2028-02-29"),
        ("previous_month", "2026-12", "2026-12-01", "2026-12-31"),
    ],
)
def test_period_labels_parse_to_their_days(kind, label, start, end):
    period = PERIOD_KINDS[kind].parse(label)
    assert (period.label, period.start.isoformat(), period.end.isoformat()) == (label, start, end)


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("previous_iso_week", "2025-W53"),  # 2025 has 52 ISO weeks
        ("previous_iso_week", "2026-10"),
        ("previous_day", "2026-02-30"),
        ("previous_month", "2026-13"),
    ],
)
def test_a_bad_period_label_names_the_parameter_and_an_example(kind, label):
    with pytest.raises(
        InvalidParameterError,
        match=rf"The 'period' parameter of parse must be an? .* label such as .*\. Got '{label}' instead\.",
    ):
        PERIOD_KINDS[kind].parse(label)
