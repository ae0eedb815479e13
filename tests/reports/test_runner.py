"""The report runner: notebooks run by papermill on a real kernel, HTML export, manifests, atomic writes,
skipping and forcing, failures kept under reports/_failed/, the CLI, and the notebooks in git.

Kernel starts cost seconds, so the tests that run a notebook are few and marked slow; the weekly report of
the demo warehouse is written once per session (tests/reports/report_site.py) and read by many tests.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from tests.reports.report_site import (
    EXPERIMENT_ID,
    NOTEBOOKS,
    ROOT,
    XSS_TEXT,
    WeeklySite,
    weekly_site,
    write_notebook,
)

from insights.cli import main
from insights.errors import InsightsError, InvalidParameterError
from insights.reports.catalog import (
    NotebookTemplateError,
    ReportNotFoundError,
    find_report,
    list_notebooks,
    read_notebook,
)
from insights.reports.cli import parse_value
from insights.reports.html import escape, export_html, external_references, marketer_view
from insights.reports.runner import ReportFailedError, run_report

# -- small notebooks ---------------------------------------------------------------------------------------

HELLO = [
    ("markdown", "# Hello report\n\nAn analyst's note, left out of the HTML.", ["remove-cell"]),
    ("code", "n = 3  # how many bars\nsummary_path = None  # set by the runner", ["parameters"]),
    ("code", "from types import SimpleNamespace\nfrom insights.reports import render\nrender.setup()", []),
    (
        "code",
        "import plotly.graph_objects as go\n"
        "import warnings\n"
        "warnings.warn('a warning for the analyst, not the marketer')\n"
        "render.show_header('Hello <b>world</b>', 'Bars: ' + str(n))\n"
        "go.Figure(go.Bar(x=list(range(n)), y=list(range(n)))).show()\n"
        "go.Figure(go.Scatter(x=[1, 2], y=[3, 4])).show()",
        [],
    ),
    (
        "code",
        "render.save_summary(SimpleNamespace(title='Hello', headline=f'{n} bars', row_counts={'bars': n}, "
        "query_seconds=0.25, sections=[]), summary_path)",
        [],
    ),
]

BOOM = [
    ("code", "fail = False", ["parameters"]),
    ("code", "x = 1", []),
    ("code", "if fail:\n    raise ValueError('the data ran out')\nprint('fine')", []),
]


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    write_notebook(folder / "hello.ipynb", HELLO)
    write_notebook(folder / "boom.ipynb", BOOM)
    write_notebook(folder / "scratch.ipynb", [("code", "1 + 1", [])])
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> WeeklySite:
    return weekly_site(tmp_path_factory)


def _tmp_leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*") if ".tmp-" in p.name or ".old-" in p.name]


class _Page(HTMLParser):
    """Text, script tags and elements of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.classes: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.classes += (dict(attrs).get("class") or "").split()
        if tag == "script":
            self.scripts.append(dict(attrs))
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if not self._in_script:
            self.text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


# -- catalog and parameters --------------------------------------------------------------------------------


def test_the_catalog_reads_each_report_notebooks_parameters_with_defaults_and_help(notebooks):
    found = {nb.name: nb for nb in list_notebooks(notebooks)}

    assert sorted(found) == ["boom", "hello", "scratch"]
    hello = found["hello"]
    assert hello.title == "Hello report"
    assert [(p.name, p.default, p.help) for p in hello.user_parameters] == [("n", "3", "how many bars")]
    assert hello.parameter_names == ("n", "summary_path")
    assert not found["scratch"].is_report


def test_a_notebook_with_two_parameters_cells_is_refused(tmp_path):
    path = write_notebook(
        tmp_path / "two.ipynb", [("code", "a = 1", ["parameters"]), ("code", "b = 2", ["parameters"])]
    )

    with pytest.raises(NotebookTemplateError, match="2 cells tagged 'parameters'"):
        read_notebook(path)


def test_an_unknown_report_names_the_reports_that_exist(notebooks):
    with pytest.raises(ReportNotFoundError, match=r"the reports in .* are: boom, hello\."):
        find_report("weakly", notebooks)


def test_a_notebook_without_parameters_cell_is_not_a_report(notebooks):
    with pytest.raises(NotebookTemplateError, match="no cell tagged 'parameters'"):
        run_report("scratch", {}, notebooks_dir=notebooks)


def test_a_parameter_the_notebook_does_not_declare_is_refused_before_anything_runs(notebooks, tmp_path):
    with pytest.raises(InvalidParameterError) as info:
        run_report("hello", {"bars": 4}, notebooks_dir=notebooks, reports_root=tmp_path / "reports")

    assert str(info.value) == (
        f"The 'parameters' parameter of run_report must name parameters declared in {notebooks / 'hello.ipynb'} "
        "(n). Got 'bars' instead."
    )
    assert not (tmp_path / "reports").exists()


def test_the_runners_own_summary_parameter_cannot_be_set_by_a_caller(notebooks, tmp_path):
    with pytest.raises(InvalidParameterError, match="summary_path"):
        run_report("hello", {"summary_path": "/etc/x"}, notebooks_dir=notebooks, reports_root=tmp_path)


def test_the_runners_own_reports_folder_parameter_cannot_be_set_by_a_caller(tmp_path):
    with pytest.raises(InvalidParameterError, match="reports_dir"):
        run_report("weekly", {"reports_dir": "/etc"}, notebooks_dir=NOTEBOOKS, reports_root=tmp_path)


@pytest.mark.parametrize("group", ["../up", "a/b", "", ".hidden"])
def test_a_group_that_is_not_a_safe_folder_name_is_refused(notebooks, tmp_path, group):
    with pytest.raises(InvalidParameterError, match="'group' parameter of run_report"):
        run_report("hello", {}, notebooks_dir=notebooks, reports_root=tmp_path, period="p1", group=group)
    assert not (tmp_path / "hello").exists()


@pytest.mark.parametrize("period", ["../up", "a/b", "", ".hidden", "x" * 65])
def test_a_period_that_is_not_a_safe_folder_name_is_refused(notebooks, tmp_path, period):
    with pytest.raises(InvalidParameterError, match="'period' parameter of run_report"):
        run_report("hello", {}, notebooks_dir=notebooks, reports_root=tmp_path, period=period)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("-0.5", -0.5),
        ("True", True),
        ("None", None),
        ("2026-W09", "2026-W09"),
        ("'7'", "7"),
        ("a b", "a b"),
    ],
)
def test_cli_parameter_values_are_read_like_papermill_reads_them(text, value):
    assert parse_value(text) == value


# -- HTML export without a kernel --------------------------------------------------------------------------


def _executed(cells: list[dict[str, object]], **metadata: object) -> object:
    import nbformat

    nb = nbformat.v4.new_notebook(metadata=metadata)
    for spec in cells:
        if spec["type"] == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(spec["source"], metadata=spec.get("metadata", {})))
        else:
            cell = nbformat.v4.new_code_cell(spec["source"], metadata=spec.get("metadata", {}))
            cell.outputs = [nbformat.from_dict(o) for o in spec.get("outputs", [])]
            cell.execution_count = 1
            nb.cells.append(cell)
    return nb


def test_the_exported_page_has_no_code_prompts_parameters_or_stderr_and_loads_nothing(tmp_path):
    nb = _executed(
        [
            {"type": "markdown", "source": "# Title\n\nInline math $x^2$ and\n\n```mermaid\ngraph TD; A-->B\n```"},
            {"type": "code", "source": "week = None", "metadata": {"tags": ["parameters"]}},
            {"type": "code", "source": 'week = "2026-W46"', "metadata": {"tags": ["injected-parameters"]}},
            {"type": "markdown", "source": "analyst note", "metadata": {"tags": ["remove-cell"]}},
            {
                "type": "code",
                "source": "secret_code_line()",
                "outputs": [
                    {"output_type": "stream", "name": "stderr", "text": "UserWarning: noisy\n"},
                    {"output_type": "display_data", "data": {"text/html": "<p>visible output</p>"}, "metadata": {}},
                ],
            },
            {"type": "code", "source": "no_output_here = 1"},
        ],
        widgets={"application/vnd.jupyter.widget-state+json": {"state": {}}},
    )

    page = export_html(nb, title="T <x>", footer="written by <tests>")

    assert external_references(page) == []
    assert not any(s.get("src") for s in _parse(page).scripts)
    for hidden in ("secret_code_line", "week =", "2026-W46", "analyst note", "UserWarning", "no_output_here"):
        assert hidden not in page, hidden
    assert "<p>visible output</p>" in page
    assert "In&nbsp;[" not in page and "Out[" not in page
    assert "jp-InputArea-editor" not in page and "cm-editor" not in page
    assert "<title>T &lt;x&gt;</title>" in page
    assert "written by &lt;tests&gt;" in page


def test_marketer_view_keeps_the_executed_notebook_untouched():
    nb = _executed([{"type": "code", "source": "week = 1", "metadata": {"tags": ["parameters"]}}])

    marketer_view(nb)

    assert len(nb.cells) == 1


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>',
        "<script type='text/javascript' src=//cdn.example/x.js></script>",
        '<link rel="stylesheet" href="https://fonts.example/css">',
        "<style>@import 'https://fonts.example/a.css';</style>",
        "<style>body { background: url(https://img.example/a.png) }</style>",
        "<script type=\"module\">import mermaid from 'https://cdn.jsdelivr.net/npm/mermaid.esm.min.mjs';</script>",
    ],
)
def test_external_references_finds_every_kind_of_outside_load(snippet):
    assert external_references(f"<html><head>{snippet}</head></html>")


# -- running notebooks -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_run_report_writes_html_executed_notebook_and_manifest_then_skips_then_forces(notebooks, tmp_path):
    reports = tmp_path / "reports"

    run = run_report("hello", {"n": 4}, notebooks_dir=notebooks, reports_root=reports, period="first")

    assert not run.skipped
    assert run.html_path == reports / "hello" / "first" / "report.html"
    assert run.notebook_path.is_file() and run.manifest_path.is_file()
    assert run.headline == "4 bars"
    page = run.html_path.read_text()
    assert external_references(page) == []
    assert page.count("plotly.js v") == 1  # embedded with the first chart only
    assert page.count("Plotly.newPlot(") == 2
    assert "Hello &lt;b&gt;world&lt;/b&gt;" in page
    assert "a warning for the analyst" not in page
    assert "render.setup()" not in page and "summary_path" not in page
    manifest = json.loads(run.manifest_path.read_text())
    assert manifest["name"] == "hello" and manifest["period"] == "first"
    assert manifest["parameters"] == {"n": 4}
    assert manifest["row_counts"] == {"bars": 4}
    assert manifest["headline"] == "4 bars"
    assert manifest["insights_version"]
    assert manifest["warehouse"] is None  # this notebook takes no db parameter
    assert set(manifest["durations"]) == {"query", "execute", "export", "total"}
    assert manifest["durations"]["query"] == 0.25
    assert manifest["durations"]["total"] >= manifest["durations"]["execute"] > 0
    executed = json.loads(run.notebook_path.read_text())
    injected = [c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "n = 4" in "".join(injected[0]["source"])
    assert run.index_path == reports / "index.html"
    assert "hello/first/report.html" in run.index_path.read_text()

    again = run_report("hello", {"n": 5}, notebooks_dir=notebooks, reports_root=reports, period="first")

    assert again.skipped
    assert again.html_path == run.html_path
    assert json.loads(run.manifest_path.read_text())["parameters"] == {"n": 4}
    assert "already written" in str(again)

    forced = run_report("hello", {"n": 5}, notebooks_dir=notebooks, reports_root=reports, period="first", force=True)

    assert not forced.skipped
    assert json.loads(forced.manifest_path.read_text())["parameters"] == {"n": 5}
    assert sorted(p.name for p in (reports / "hello").iterdir()) == ["first"]
    assert _tmp_leftovers(reports) == []


@pytest.mark.slow
def test_a_failing_notebook_keeps_its_partial_copy_names_cell_and_error_and_leaves_the_last_report(
    notebooks, tmp_path, capsys
):
    reports = tmp_path / "reports"
    good = run_report("boom", {"fail": False}, notebooks_dir=notebooks, reports_root=reports, period="w1")
    before = good.html_path.read_bytes()
    argv = ["report", "run", "boom", "-p", "fail", "True", "--period", "w1", "--force"]
    argv += ["--notebooks", str(notebooks), "--reports", str(reports)]

    code = main(argv)

    assert code == 2
    err = capsys.readouterr().err.strip()
    failed = sorted((reports / "_failed").glob("boom-w1-*.ipynb"))
    assert len(failed) == 1
    assert err == (
        "insights: error: The boom notebook failed in cell 3 (`if fail:`) with ValueError: the data ran out; "
        f"the partly executed notebook is {failed[0]}."
    )
    kept = json.loads(failed[0].read_text())
    outputs = [o for c in kept["cells"] for o in c.get("outputs", [])]
    assert any(o.get("ename") == "ValueError" for o in outputs)
    assert good.html_path.read_bytes() == before  # the finished run of the period is untouched
    assert _tmp_leftovers(reports) == []
    index = (reports / "index.html").read_text()
    assert "boom/w1/report.html" in index and "_failed" not in index


@pytest.mark.slow
def test_report_failed_error_is_an_insights_error_that_carries_the_kept_copy(notebooks, tmp_path):
    with pytest.raises(ReportFailedError) as info:
        run_report("boom", {"fail": True}, notebooks_dir=notebooks, reports_root=tmp_path, period="w2")

    assert isinstance(info.value, InsightsError) and isinstance(info.value, RuntimeError)
    assert info.value.failed_notebook is not None and info.value.failed_notebook.is_file()
    assert not (tmp_path / "boom" / "w2").exists()


# -- the weekly report of the demo warehouse --------------------------------------------------------------


@pytest.mark.slow
def test_weekly_writes_the_report_of_the_week_with_a_full_manifest(site):
    run = site.run
    week = str(site.week)

    assert run.html_path == site.reports / "weekly" / week / "report.html"
    assert run.period == week and not run.skipped
    manifest = json.loads(run.manifest_path.read_text())
    assert manifest["parameters"] == {"week": week, "db": str(site.db.resolve())}
    assert manifest["headline"] == site.report.headline
    assert manifest["title"] == site.report.title
    assert manifest["row_counts"] == site.report.row_counts and manifest["row_counts"]
    assert manifest["charts"] == len(site.report.charts)
    warehouse = manifest["warehouse"]
    assert warehouse["path"] == str(site.db.resolve())
    assert warehouse["loads"] == 5 and warehouse["size_bytes"] == site.db.stat().st_size
    assert re.fullmatch(r"[0-9a-f]{16}", warehouse["fingerprint"])
    durations = manifest["durations"]
    assert 0 < durations["query"] < durations["execute"] < durations["total"]
    assert durations["export"] > 0
    assert manifest["git"] is None or re.fullmatch(r"[0-9a-f]{40}", manifest["git"]["commit"])
    assert manifest["created_at"].endswith("Z")


@pytest.mark.slow
def test_the_weekly_page_is_offline_plain_language_first_and_shows_no_code(site):
    page = site.run.html_path.read_text()
    parsed = _parse(page)
    text = " ".join(" ".join(parsed.text).split())

    assert external_references(page) == []
    assert [s for s in parsed.scripts if s.get("src")] == []
    assert page.count("plotly.js v") == 1
    assert page.count("Plotly.newPlot(") == len(site.report.charts)
    for code in ("weekly_report(", "render.", "import insights", "summary_path", "IsoWeek", "con.close"):
        assert code not in text, code
    assert "jp-InputArea-editor" not in parsed.classes and "jp-InputPrompt" not in parsed.classes
    assert site.report.headline in text
    # sections in reading order, each summary before its first chart's takeaway
    positions = [text.index(s.title) for s in site.report.sections]
    assert positions == sorted(positions)
    for section in site.report.sections:
        summary = " ".join(section.summary.split())
        assert summary in text
        for chart in section.charts:
            assert text.index(summary) < text.index(" ".join(chart.takeaway.split()))


@pytest.mark.slow
def test_user_written_text_is_escaped_in_the_weekly_page(site):
    page = site.run.html_path.read_text()

    assert XSS_TEXT in " ".join(_parse(page).text)
    assert XSS_TEXT not in page  # never raw
    assert "<img src=x" not in page
    assert "<script>alert(1)" not in page


@pytest.mark.slow
def test_a_finished_week_is_skipped_and_the_cli_says_where_it_is(site, capsys):
    before = site.run.manifest_path.read_text()
    argv = ["report", "weekly", "--week", str(site.week), "--db", str(site.db), "--reports", str(site.reports)]

    code = main([*argv, "--notebooks", str(NOTEBOOKS)])

    assert code == 0
    out = capsys.readouterr().out
    assert "already written" in out and "--force" in out
    assert str(site.run.html_path) in out
    assert site.run.manifest_path.read_text() == before


def test_weekly_refuses_a_week_that_is_not_an_iso_week(tmp_path):
    from insights.reports.runner import weekly

    with pytest.raises(InvalidParameterError, match="'week' parameter"):
        weekly("2026-W60", db=tmp_path / "x.duckdb", reports_root=tmp_path)


def test_weekly_says_how_to_create_a_missing_warehouse(tmp_path, capsys):
    code = main(["report", "weekly", "--db", str(tmp_path / "none.duckdb"), "--reports", str(tmp_path)])

    assert code == 2
    assert "run 'insights demo'" in capsys.readouterr().err


@pytest.mark.slow
def test_the_getting_started_notebook_runs_against_the_warehouse(site, tmp_path, monkeypatch):
    import papermill

    monkeypatch.setenv("INSIGHTS_DB", str(site.db))
    monkeypatch.chdir(tmp_path)

    papermill.execute_notebook(
        str(NOTEBOOKS / "getting_started.ipynb"), str(tmp_path / "out.ipynb"), progress_bar=False, kernel_name="python3"
    )

    executed = json.loads((tmp_path / "out.ipynb").read_text())
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []
    printed = "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", []))
    assert site.report.headline in printed


# -- the experiment readout page of the demo warehouse ------------------------------------------------------


@pytest.mark.slow
def test_the_readout_page_lands_under_its_experiment_and_day_with_a_manifest_and_an_index_line(site):
    run, readout = site.readout_run, site.readout
    day = site.week.days[-1].isoformat()

    assert run.html_path == site.reports / "experiment" / EXPERIMENT_ID / day / "report.html"
    assert (run.name, run.group, run.period, run.skipped) == ("experiment", EXPERIMENT_ID, day, False)
    manifest = json.loads(run.manifest_path.read_text())
    assert (manifest["name"], manifest["group"], manifest["period"]) == ("experiment", EXPERIMENT_ID, day)
    assert manifest["parameters"] == {
        "experiment_id": EXPERIMENT_ID,
        "db": str(site.db.resolve()),
        "as_of": day,
        "experiments_dir": str(site.experiments.resolve()),
    }
    assert manifest["headline"] == readout.headline and manifest["title"] == readout.title
    assert manifest["charts"] == len(readout.charts) >= 2
    assert manifest["row_counts"] == readout.row_counts
    assert 0 < manifest["durations"]["query"] < manifest["durations"]["execute"]
    index = (site.reports / "index.html").read_text()
    assert f'href="experiment/{EXPERIMENT_ID}/{day}/report.html"' in index
    assert escape(readout.headline) in index


@pytest.mark.slow
def test_the_readout_page_is_offline_plain_language_first_escaped_and_shows_no_code(site):
    page = site.readout_run.html_path.read_text()
    text = " ".join(" ".join(_parse(page).text).split())
    readout = site.readout

    assert external_references(page) == []
    assert page.count("plotly.js v") == 1
    assert page.count("Plotly.newPlot(") == len(readout.charts)
    for code in ("experiment_report(", "show_experiment", "import insights", "summary_path", "con.close"):
        assert code not in text, code
    order = [
        "Hypothesis.",
        "Verdict. " + readout.headline,
        "Checks",
        readout.readout.srm_sentence[1:],
        "Every metric",
        readout.part("results").charts[0].takeaway,
        "Effect over time",
        "Segments",
        "Interaction p",
        "Notes",
        "How this was computed",
        "sequential_tau = ",
    ]
    positions = [text.index(" ".join(words.split())) for words in order]
    assert positions == sorted(positions)
    # the definition's title, hypothesis and a metric's description carry the XSS probe
    assert text.count(XSS_TEXT) >= 3
    assert XSS_TEXT not in page and "<img src=x" not in page and "<script>alert(1)" not in page


@pytest.mark.slow
def test_the_weekly_page_lists_the_experiments_and_links_the_readout(site):
    page = site.run.html_path.read_text()
    section = site.report.section("experiments")
    day = site.week.days[-1].isoformat()

    assert section.summary in " ".join(" ".join(_parse(page).text).split())
    assert f'href="../../experiment/{EXPERIMENT_ID}/{day}/report.html"' in page
    assert (site.run.html_path.parent / f"../../experiment/{EXPERIMENT_ID}/{day}/report.html").resolve().is_file()


@pytest.mark.slow
def test_a_written_readout_day_is_skipped_and_the_cli_still_prints_the_readout(site, capsys):
    before = site.readout_run.manifest_path.read_text()
    argv = ["experiment", "analyze", EXPERIMENT_ID, "--db", str(site.db), "--as-of", site.week.days[-1].isoformat()]
    argv += ["--experiments", str(site.experiments), "--reports", str(site.reports), "--notebooks", str(NOTEBOOKS)]

    code = main(argv)

    assert code == 0
    out = capsys.readouterr().out
    assert site.readout.headline in out and "| metric | role | variant |" in out
    assert "already written" in out and str(site.readout_run.html_path) in out
    assert site.readout_run.manifest_path.read_text() == before


def test_experiment_readout_checks_the_id_the_definition_and_the_warehouse_before_any_kernel(tmp_path):
    from insights.experiments import ExperimentDefinitionError
    from insights.reports.experiment_catalog import ExperimentNotFoundError
    from insights.reports.runner import experiment_readout

    db = tmp_path / "none.duckdb"
    with pytest.raises(ExperimentNotFoundError, match=r"the experiments defined there are: .*exp-bot-prompt-v2"):
        experiment_readout("exp-nope", db=db, reports_root=tmp_path / "r", experiments_dir=ROOT / "experiments")
    with pytest.raises(InsightsError, match=r"The warehouse .*none\.duckdb does not exist"):
        experiment_readout(EXPERIMENT_ID, db=db, reports_root=tmp_path / "r", experiments_dir=ROOT / "experiments")
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "exp-x.yaml").write_text("id: exp-x\nunit: user\n")
    db.write_bytes(b"")
    with pytest.raises(ExperimentDefinitionError, match=r"exp-x\.yaml: the key 'control' is missing"):
        experiment_readout("exp-x", db=db, reports_root=tmp_path / "r", experiments_dir=tmp_path / "defs")
    assert not (tmp_path / "r").exists()


# -- notebooks in git, CLI, Makefile -----------------------------------------------------------------------


def test_each_report_notebook_has_one_parameters_cell_and_only_calls_the_library():
    reports = [nb for nb in list_notebooks(NOTEBOOKS) if nb.is_report]

    assert [nb.name for nb in reports] == ["chatbot", "experiment", "plan", "weekly"]
    for nb in reports:
        cells = json.loads(nb.path.read_text())["cells"]
        tagged = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
        assert len(tagged) == 1
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert not re.search(r"^\s*(def|class) |SELECT |FROM ", code, re.M), "logic belongs in src/insights"
        assert all(c.get("outputs") in (None, []) and c.get("execution_count") is None for c in cells if "outputs" in c)


def test_the_getting_started_notebook_opens_read_only_and_closes_the_connection():
    source = (NOTEBOOKS / "getting_started.ipynb").read_text()

    assert "insights.connect(read_only=True)" in source
    assert "con.close()" in source
    assert "weekly_report(" in source and "insights.ingest(" in source


def test_report_list_shows_the_report_notebooks_and_their_parameters(capsys):
    assert main(["report", "list", "--notebooks", str(NOTEBOOKS)]) == 0

    out = capsys.readouterr().out
    assert "weekly" in out and "-p week None" in out and "-p db None" in out
    assert "experiment" in out and "-p experiment_id None" in out and "-p as_of None" in out
    assert "chatbot" in out and "-p breakdown None" in out
    assert "summary_path" not in out and "reports_dir" not in out  # the runner's own
    assert "getting_started" in out  # listed as a notebook that is not a report


def test_the_command_line_does_not_import_the_report_stack_to_show_help():
    probe = (
        "import sys, insights.cli; insights.cli.build_parser(); "
        "print(sorted(m for m in ('papermill', 'nbconvert', 'nbformat', 'pandas', 'plotly', 'duckdb') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


def test_make_run_writes_the_weekly_report_then_the_plan():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run: setup\n((?:\t.*\n)+)", makefile, re.M)

    assert recipe is not None
    lines = [line.strip() for line in recipe.group(1).splitlines()]
    assert lines[0].endswith("insights demo")
    assert lines[-2].endswith("insights report weekly --force")
    assert lines[-1].endswith("insights report plan --force")


def test_report_run_objects_print_and_serialize():
    from insights.reports.runner import ReportRun

    run = ReportRun(
        name="weekly",
        period="2026-W46",
        html_path=Path("reports/weekly/2026-W46/report.html"),
        notebook_path=Path("reports/weekly/2026-W46/report.ipynb"),
        manifest_path=Path("reports/weekly/2026-W46/manifest.json"),
        skipped=False,
        durations={"query": 0.5, "execute": 6.0, "export": 1.0, "total": 7.5},
        headline="42 leads",
        index_path=Path("reports/index.html"),
    )

    assert str(run).splitlines() == [
        "Wrote the weekly report for 2026-W46 in 7.5 s (queries 0.5 s, notebook 6.0 s, HTML 1.0 s).",
        "  42 leads",
        "Report: reports/weekly/2026-W46/report.html",
        "Index:  reports/index.html",
    ]
    assert json.loads(json.dumps(run.to_dict()))["durations"]["total"] == 7.5
    assert SimpleNamespace(**run.to_dict()).skipped is False


def test_the_chatbot_report_checks_its_days_breakdown_and_warehouse_before_any_kernel(tmp_path, capsys):
    from insights.reports.runner import chatbot

    db = tmp_path / "none.duckdb"
    with pytest.raises(InvalidParameterError, match=r"^The 'start' parameter of report chatbot must be a day"):
        chatbot("2026-13-01", "2026-03-02", db=db, reports_root=tmp_path / "r")
    with pytest.raises(InvalidParameterError, match=r"^The 'end' parameter of report chatbot must be after start"):
        chatbot("2026-03-02", "2026-03-02", db=db, reports_root=tmp_path / "r")
    with pytest.raises(
        InvalidParameterError, match=r"^The 'breakdown' parameter of report chatbot must be None or one"
    ):
        chatbot("2026-02-02", "2026-03-02", breakdown="intent", db=db, reports_root=tmp_path / "r")
    with pytest.raises(InsightsError, match=r"The warehouse .*none\.duckdb does not exist"):
        chatbot("2026-02-02", "2026-03-02", db=db, reports_root=tmp_path / "r")
    code = main(["report", "chatbot", "--end", "yesterday", "--db", str(db), "--reports", str(tmp_path / "r")])
    assert code != 0
    assert capsys.readouterr().err.strip().count("\n") == 0  # one sentence
    assert not (tmp_path / "r").exists()
