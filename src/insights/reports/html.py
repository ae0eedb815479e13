"""Executed notebook -> one self-contained HTML page for people who never open Python.

The page shows cell outputs only: no code, no prompts, no parameter cells, no warnings on stderr. It loads
nothing from the network: nbconvert's stock templates add require.js, MathJax and mermaid from CDNs and
JupyterLab's 250 KB of CSS; this template leaves all of them out and brings a small stylesheet of its own.
Charts bring their own plotly.js, embedded once by `insights.reports.render`.
"""

from __future__ import annotations

import copy
import html
import re
from typing import Any

#: Cells with one of these tags are left out of the page (they still run and stay in the executed notebook).
HIDDEN_CELL_TAGS = frozenset({"parameters", "injected-parameters", "remove-cell"})

_TEMPLATE_NAME = "insights_report.html.j2"

# Extends nbconvert's JupyterLab page and empties every block that loads something from elsewhere.
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block notebook_css -%}
<style type="text/css">
{{ resources.insights_css }}
</style>
{%- endblock notebook_css -%}
{% block body_footer %}
{%- if resources.insights_footer %}
<footer class="insights-footer">{{ resources.insights_footer | escape }}</footer>
{%- endif %}
</main>
</body>
{% endblock body_footer %}
"""

#: The page's only stylesheet: readable type, one column, tables and charts that fit a laptop screen.
REPORT_CSS = """
:root { --ink: #1f2933; --muted: #52606d; --line: #d9e2ec; --accent: #2f6fde; --up: #18794e; --down: #c2410c; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #f5f7fa; color: var(--ink);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 20px 48px; }
h1, h2, h3 { line-height: 1.25; color: var(--ink); }
h1 { font-size: 1.9rem; margin: 0.2em 0 0.3em; }
h2 { font-size: 1.35rem; margin: 0 0 0.4em; }
h3 { font-size: 1.05rem; margin: 1.2em 0 0.3em; }
p { margin: 0.4em 0 0.8em; }
a { color: var(--accent); }
a.anchor-link { display: none; }
pre { white-space: pre-wrap; font-size: 0.85rem; }
.jp-Cell { margin: 0; }
.jp-OutputArea-output { overflow-x: auto; }
.jp-RenderedMarkdown { margin: 0 0 12px; }
.insights-report-header { margin: 8px 0 20px; }
.insights-report-header .insights-kicker { color: var(--muted); font-size: 0.9rem; text-transform: uppercase;
  letter-spacing: 0.06em; margin: 0; }
.insights-headline { font-size: 1.2rem; margin: 0.3em 0 0; }
.insights-section { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 20px 20px; margin: 0 0 20px; }
.insights-summary { font-size: 1.05rem; white-space: pre-line; }
.insights-chart { margin: 16px 0 8px; }
.insights-chart .insights-plot { width: 100%; min-height: 360px; }
.insights-takeaway { color: var(--muted); margin: 4px 0 0; font-size: 0.95rem; }
.insights-takeaway::before { content: "Takeaway: "; font-weight: 600; color: var(--ink); }
.insights-table { overflow-x: auto; margin-top: 14px; }
.insights-table table { border-collapse: collapse; width: 100%; font-size: 0.8rem; }
.insights-table th, .insights-table td { border-bottom: 1px solid var(--line); padding: 5px 6px;
  text-align: left; vertical-align: top; }
.insights-table th { background: #f0f4f8; font-weight: 600; }
/* Prose columns (a post's text) get room to be read rather than a sliver beside the numbers. */
.insights-table col.insights-long-text { width: 16em; }
.insights-table td { overflow-wrap: break-word; }
.insights-table td.num, .insights-table th.num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.insights-note { color: var(--muted); font-size: 0.85rem; }
/* Experiment readouts: the verdict stands out; a failed check and a harmed metric are marked. */
.insights-verdict { font-size: 1.1rem; }
.insights-alert { border-left: 4px solid var(--down); background: #fff4ed; padding: 8px 12px; }
.insights-checks li.insights-check-alert { color: var(--down); font-weight: 600; }
.insights-table tr.insights-better td:first-child { border-left: 4px solid var(--up); }
.insights-table tr.insights-worse td:first-child { border-left: 4px solid var(--down); }
.insights-footer { color: var(--muted); font-size: 0.8rem; margin-top: 32px; border-top: 1px solid var(--line);
  padding-top: 12px; }
@media print { body { background: #fff; } .insights-section { break-inside: avoid; border: 0; padding: 0; } }
"""

_SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
_LINK_HREF = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
_CSS_URL = re.compile(r"(?:url\(\s*[\"']?|@import\s+[\"'])((?:https?:)?//[^\"')\s]+)", re.IGNORECASE)
_ESM_IMPORT = re.compile(r"\bimport\s[^;]*?from\s+[\"']((?:https?:)?//[^\"']+)", re.IGNORECASE)


def external_references(page: str) -> list[str]:
    """Everything a page would fetch from elsewhere: script sources, linked stylesheets, CSS and module URLs.

    A self-contained report returns an empty list. `data:` URLs and in-page anchors are not external.

    >>> external_references('<script src="https://cdn.example/require.js"></script><a href="#x">x</a>')
    ['https://cdn.example/require.js']
    """
    found = [m.group(1) for m in _SCRIPT_SRC.finditer(page)]
    found += [m.group(1) for m in _LINK_HREF.finditer(page)]
    found += [m.group(1) for m in _CSS_URL.finditer(page)]
    found += [m.group(1) for m in _ESM_IMPORT.finditer(page)]
    return [url for url in found if not url.startswith("data:")]


def marketer_view(nb: Any) -> Any:
    """A copy of an executed notebook with only what a reader should see.

    Drops cells tagged parameters, injected-parameters or remove-cell, stderr streams (warnings and logs
    belong in the executed notebook, not in the report), papermill's error banners, and code cells left
    with no output.
    """
    view = copy.deepcopy(nb)
    kept = []
    for cell in view.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_CELL_TAGS:
            continue
        if cell.cell_type == "code":
            cell.outputs = [
                out for out in cell.get("outputs", []) if not (out.output_type == "stream" and out.name == "stderr")
            ]
            if not cell.outputs:
                continue
        kept.append(cell)
    view.cells = kept
    return view


def export_html(nb: Any, *, title: str, footer: str = "") -> str:
    """The report page of an executed notebook (a `nbformat.NotebookNode`): outputs only, offline.

    `title` becomes the page title and `footer` a line of small print at the bottom; both are escaped.
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter_class: Any = HTMLExporter  # untyped constructor
    exporter = exporter_class(
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        # Anchor links point at headings inside the page only, but a reader has no use for them.
        exclude_anchor_links=True,
    )
    resources = {"metadata": {"name": title}, "insights_css": REPORT_CSS, "insights_footer": footer}
    view = marketer_view(nb)
    # nbconvert parses and re-serializes the whole page; the 4.8 MB plotly.js bundle costs seconds there and
    # needs no change, so it travels as a short placeholder and is put back afterwards.
    view, bundles = _park_scripts(view)
    body: str = exporter.from_notebook_node(view, resources=resources)[0]
    for token, script in bundles.items():
        body = body.replace(token, script, 1)
    return body


_PARK_OVER = 100_000


def _park_scripts(nb: Any) -> tuple[Any, dict[str, str]]:
    """Swap every inline script over 100 KB in the outputs for a unique comment token."""
    bundles: dict[str, str] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            page = data.get("text/html")
            if page is None:
                continue
            text = "".join(page) if isinstance(page, list) else str(page)
            if len(text) <= _PARK_OVER:
                continue
            pieces: list[str] = []
            pos = 0
            while (start := text.find("<script", pos)) >= 0:
                end = text.find("</script>", start)
                if end < 0:
                    break
                end += len("</script>")
                pieces.append(text[pos:start])
                if end - start > _PARK_OVER:
                    token = f"<!-- insights-script-{len(bundles)} -->"
                    bundles[token] = text[start:end]
                    pieces.append(token)
                else:
                    pieces.append(text[start:end])
                pos = end
            pieces.append(text[pos:])
            data["text/html"] = "".join(pieces)
    return nb, bundles


def escape(text: object) -> str:
    """HTML-escape any value as text (quotes included), for attributes and element content alike."""
    return html.escape("" if text is None else str(text), quote=True)
