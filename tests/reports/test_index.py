"""reports/index.html: every finished run, newest first, escaped, with relative links that resolve."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from insights.reports.html import external_references
from insights.reports.index import read_entries, update_index


def _run(
    root: Path, name: str, period: str, created_at: str, headline: str = "", group: str = "", **extra: object
) -> Path:
    run_dir = root / name / group / period if group else root / name / period
    run_dir.mkdir(parents=True)
    (run_dir / "report.html").write_text("<html></html>")
    (run_dir / "report.ipynb").write_text("{}")
    manifest = {
        "name": name,
        "period": period,
        "title": f"{name.title()} report {period}",
        "headline": headline,
        "created_at": created_at,
        "files": {"html": "report.html", "notebook": "report.ipynb"},
        **({"group": group} if group else {}),
        **extra,
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    return run_dir


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]
        if tag == "script":
            self.scripts += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Links:
    parser = _Links()
    parser.feed(page)
    return parser


def test_index_lists_every_run_newest_first_with_period_and_headline(tmp_path):
    _run(tmp_path, "weekly", "2026-W44", "2026-11-02T06:00:00Z", "Week 44 headline")
    _run(tmp_path, "weekly", "2026-W46", "2026-11-16T06:00:00Z", "Week 46 headline")
    _run(tmp_path, "weekly", "2026-W45", "2026-11-09T06:00:00Z", "Week 45 headline")
    _run(tmp_path, "campaign", "spring", "2026-11-10T09:30:00Z", "Spring campaign")

    path = update_index(tmp_path)

    assert path == tmp_path / "index.html"
    page = path.read_text()
    order = re.findall(r'<td class="period"><a [^>]*>([^<]*)</a>', page)
    assert order == ["2026-W46", "spring", "2026-W45", "2026-W44"]
    for headline in ("Week 44 headline", "Week 45 headline", "Week 46 headline", "Spring campaign"):
        assert headline in page


def test_index_links_are_relative_and_resolve_to_existing_files(tmp_path):
    _run(tmp_path, "weekly", "2026-W46", "2026-11-16T06:00:00Z", "h")
    _run(tmp_path, "odd name", "a b", "2026-11-16T07:00:00Z", "h")  # spaces must be percent-encoded

    page = update_index(tmp_path).read_text()

    hrefs = _parse(page).hrefs
    assert len(hrefs) == 4  # report and notebook of each run
    for href in hrefs:
        assert not href.startswith(("/", "file:", "http:", "https:")), href
        assert " " not in href
        assert (tmp_path / unquote(href)).is_file(), href


def test_index_is_self_contained_and_escapes_what_it_shows(tmp_path):
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    _run(tmp_path, "weekly", "2026-W46", "2026-11-16T06:00:00Z", evil)

    page = update_index(tmp_path).read_text()

    assert external_references(page) == []
    parsed = _parse(page)
    assert parsed.scripts == 0
    assert evil in "".join(parsed.text)  # shown as text
    assert "<img src=x" not in page


def test_index_leaves_out_failed_runs_runs_in_progress_and_unreadable_manifests(tmp_path):
    _run(tmp_path, "weekly", "2026-W46", "2026-11-16T06:00:00Z", "the only real run")
    (tmp_path / "_failed").mkdir()
    (tmp_path / "_failed" / "weekly-2026-W47-20261123T060000Z.ipynb").write_text("{}")
    _run(tmp_path, "weekly", ".2026-W47.tmp-1-abc", "2026-11-23T06:00:00Z", "half written")
    broken = _run(tmp_path, "weekly", "2026-W45", "2026-11-09T06:00:00Z", "broken")
    (broken / "manifest.json").write_text("{not json")

    entries = read_entries(tmp_path)

    assert [(e.period, e.headline) for e in entries] == [("2026-W46", "the only real run")]


def test_a_week_written_late_still_sits_below_the_weeks_after_it(tmp_path):
    _run(tmp_path, "weekly", "2026-W46", "2026-11-16T06:00:00Z")
    _run(tmp_path, "weekly", "2026-W44", "2026-11-20T09:00:00Z")  # backfilled after W46
    _run(tmp_path, "adhoc", "20261118T120000Z", "2026-11-18T12:00:00Z")

    assert [e.period for e in read_entries(tmp_path)] == ["20261118T120000Z", "2026-W46", "2026-W44"]


def test_reports_filed_by_group_are_listed_by_their_day_with_links_that_resolve(tmp_path):
    _run(tmp_path, "weekly", "2026-W46", "2026-11-16T06:00:00Z", "week")
    _run(tmp_path, "experiment", "2026-11-20", "2026-11-22T06:00:00Z", "readout b", group="exp-b")
    _run(tmp_path, "experiment", "2026-11-14", "2026-11-22T07:00:00Z", "readout a", group="exp-a")
    _run(tmp_path, "experiment", ".2026-11-21.tmp-1-abc", "2026-11-22T08:00:00Z", "half", group="exp-a")
    stray = tmp_path / "weekly" / "2026-W46" / "extra"  # a folder inside a run is not a run
    stray.mkdir()
    (stray / "manifest.json").write_text(json.dumps({"name": "weekly", "period": "x"}))

    entries = read_entries(tmp_path)
    page = update_index(tmp_path).read_text()

    assert [(e.group, e.period) for e in entries] == [
        ("exp-b", "2026-11-20"),
        ("", "2026-W46"),
        ("exp-a", "2026-11-14"),
    ]
    assert entries[0].html == "experiment/exp-b/2026-11-20/report.html"
    for href in _parse(page).hrefs:
        assert (tmp_path / unquote(href)).is_file(), href


def test_an_empty_reports_folder_gets_an_index_that_says_how_to_write_a_report(tmp_path):
    page = update_index(tmp_path / "reports").read_text()

    assert "insights report weekly" in page


def test_the_index_is_replaced_atomically_and_leaves_no_temporary_file(tmp_path):
    _run(tmp_path, "weekly", "2026-W46", "2026-11-16T06:00:00Z", "first")
    update_index(tmp_path)
    _run(tmp_path, "weekly", "2026-W47", "2026-11-23T06:00:00Z", "second")

    update_index(tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["index.html"]
    assert "second" in (tmp_path / "index.html").read_text()
