"""The weekly report and the index in a real browser: Debian's Chromium, headless, with networking off.

This runs in CI (.ci/run installs chromium). Without /usr/bin/chromium the tests fail, they do not skip:
a report nobody has seen drawn is not tested.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from tests.reports.report_site import XSS_TEXT, WeeklySite, weekly_site

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> WeeklySite:
    return weekly_site(tmp_path_factory)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(apt-get install chromium; .ci/run installs it).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """An offline page: every request that is not file:// is aborted and recorded, with console errors,
    uncaught exceptions and dialogs (alert, confirm, prompt)."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", self._dialog)

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def open(self, path: Path) -> Any:
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        return self.page


@pytest.fixture
def visit(browser: Any) -> Iterator[Visit]:
    v = Visit(browser)
    yield v
    v.context.close()


DRAWN_CHARTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).filter(
    (el) => el.querySelector('svg.main-svg') && el._fullData && el._fullData.length > 0
        && el.getBoundingClientRect().height > 100
).length"""


def test_every_chart_of_the_weekly_report_draws_offline_without_console_errors(site, visit, tmp_path):
    expected = len(site.report.charts)
    assert expected > 0

    page = visit.open(site.run.html_path)
    page.wait_for_function(f"() => ({DRAWN_CHARTS})() >= {expected}", timeout=20_000)
    page.wait_for_timeout(300)  # let late errors surface

    assert page.evaluate(DRAWN_CHARTS) == expected
    assert page.locator(".js-plotly-plot .main-svg").count() >= expected
    assert visit.errors == []
    assert visit.blocked == []
    assert page.title() == site.report.title
    page.screenshot(path=str(tmp_path / "weekly-report.png"), full_page=True)


def test_the_xss_post_shows_as_text_and_nothing_executes(site, visit):
    page = visit.open(site.run.html_path)
    page.wait_for_timeout(500)

    posts = page.locator("section#posts")
    assert XSS_TEXT in posts.inner_text()
    assert page.get_by_text(XSS_TEXT, exact=True).first.is_visible()
    assert page.locator('img[src="x"]').count() == 0
    assert visit.dialogs == []
    assert visit.errors == []


def test_the_marketer_sees_no_code_and_no_parameters(site, visit):
    page = visit.open(site.run.html_path)

    text = page.locator("body").inner_text()
    assert page.locator(".jp-InputArea-editor, .jp-InputPrompt, .jp-OutputPrompt").count() == 0
    for code in ("summary_path", "weekly_report(", "render.show", "import insights", str(site.db)):
        assert code not in text, code
    assert site.report.headline in text


def test_every_chart_of_the_experiment_readout_draws_offline_without_console_errors(site, visit, tmp_path):
    expected = len(site.readout.charts)
    assert expected >= 2  # the forest plot and a cumulative effect per primary metric

    page = visit.open(site.readout_run.html_path)
    page.wait_for_function(f"() => ({DRAWN_CHARTS})() >= {expected}", timeout=20_000)
    page.wait_for_timeout(300)  # let late errors surface

    assert page.evaluate(DRAWN_CHARTS) == expected
    assert visit.errors == [] and visit.blocked == [] and visit.dialogs == []
    assert page.title() == site.readout.title
    body = page.locator("body").inner_text()
    assert site.readout.headline in body
    assert page.locator("#summary .insights-checks li").first.inner_text().startswith("Sample ratio")
    assert XSS_TEXT in page.locator("h1").inner_text()  # the definition's title, shown as text
    assert page.locator('img[src="x"]').count() == 0
    page.screenshot(path=str(tmp_path / "experiment-readout.png"), full_page=True)


def test_every_chart_of_the_chatbot_report_draws_offline_without_console_errors(site, visit, tmp_path):
    expected = len([c for s in site.chatbot.sections for c in s.charts])
    assert expected >= 6  # funnel, by day, by channel, health, fallbacks, lead funnel (attribution when leads qualify)

    page = visit.open(site.chatbot_run.html_path)
    page.wait_for_function(f"() => ({DRAWN_CHARTS})() >= {expected}", timeout=20_000)
    page.wait_for_timeout(300)

    assert page.evaluate(DRAWN_CHARTS) == expected
    assert visit.errors == [] and visit.blocked == [] and visit.dialogs == []
    body = page.locator("body").inner_text()
    assert site.chatbot.headline in body
    for section in site.chatbot.sections:
        assert section.title in body
    assert "Metric definitions (version" in body  # the health metrics' definitions under their table
    assert "import insights" not in body and "breakdown = " not in body  # no code, no parameters
    page.screenshot(path=str(tmp_path / "chatbot-report.png"), full_page=True)


def test_every_chart_of_the_plan_report_draws_offline_and_the_index_links_it(site, visit, tmp_path):
    expected = len([c for s in site.plan.sections for c in s.charts])
    assert expected >= 5  # what, when, mix, evidence, AI vs human

    page = visit.open(site.plan_run.html_path)
    page.wait_for_function(f"() => ({DRAWN_CHARTS})() >= {expected}", timeout=20_000)
    page.wait_for_timeout(300)

    assert page.evaluate(DRAWN_CHARTS) == expected
    assert visit.errors == [] and visit.blocked == [] and visit.dialogs == []
    body = page.locator("body").inner_text()
    assert site.plan.headline in body
    for section in site.plan.sections:
        assert section.title in body
    assert f"Recorded in the warehouse as run {site.plan.allocation_run}" in body
    assert "import insights" not in body and "allocation_run = " not in body  # no code, no parameters
    page.screenshot(path=str(tmp_path / "plan-report.png"), full_page=True)

    index = visit.open(site.reports / "index.html")
    link = index.locator(f'a[href="plan/{site.plan.week}/report.html"]')
    assert link.count() == 1
    link.click()
    index.wait_for_load_state("load")
    assert index.title() == site.plan.title


def test_the_weekly_experiments_section_opens_the_readout_page(site, visit):
    page = visit.open(site.run.html_path)

    link = page.locator("section#experiments a", has_text="readout")
    assert link.count() == 1
    link.click()
    page.wait_for_load_state("load")

    assert page.title() == site.readout.title
    assert visit.errors == [] and visit.blocked == [] and visit.dialogs == []


def test_the_index_opens_offline_and_its_links_resolve(site, visit):
    index = site.reports / "index.html"

    page = visit.open(index)

    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    assert hrefs, "the index links to no report"
    for href in hrefs:
        url = urlparse(href)
        assert url.scheme == "file", href
        assert Path(unquote(url.path)).is_file(), href
    report_link = page.locator(f'a[href$="weekly/{site.week}/report.html"]')
    assert report_link.count() == 1
    assert site.report.headline in page.locator("body").inner_text()

    report_link.click()
    page.wait_for_load_state("load")

    assert page.title() == site.report.title
    assert visit.errors == [] and visit.blocked == [] and visit.dialogs == []
