"""reports/index.html: every report run, newest period first, read from the runs' manifests.

The page is one file with its own CSS and no script; its links are relative paths, so it works opened from
the file system and served by any static web server. It is rewritten (atomically) after every run.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from insights.reports.html import escape

INDEX_NAME = "index.html"
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class IndexEntry:
    """One finished run as the index shows it."""

    name: str
    period: str
    title: str
    headline: str
    created_at: str
    html: str  # relative to the reports folder, with forward slashes
    notebook: str
    group: str = ""  # the folder between the report's name and the period, if any (an experiment's id)


def read_entries(reports_root: Path) -> list[IndexEntry]:
    """The finished runs under `reports_root`, newest period first: <name>/<period>/manifest.json, and
    <name>/<group>/<period>/manifest.json for reports filed by group (experiment readouts, by experiment id).

    Folders starting with '.' or '_' (runs in progress, failed runs) are not runs. A manifest that cannot be
    read is skipped rather than taking the whole index down.
    """
    entries: list[IndexEntry] = []
    manifests = [*reports_root.glob(f"*/*/{MANIFEST_NAME}"), *reports_root.glob(f"*/*/*/{MANIFEST_NAME}")]
    for manifest in sorted(manifests):
        run_dir = manifest.parent
        parts = run_dir.relative_to(reports_root).parts
        if any(part.startswith((".", "_")) for part in parts):
            continue
        try:
            data: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if len(parts) == 3 and not data.get("group"):
            continue  # a folder inside some run, not a run filed by group
        files = data.get("files") or {}
        rel = run_dir.relative_to(reports_root).as_posix()
        entries.append(
            IndexEntry(
                name=str(data.get("name") or parts[0]),
                period=str(data.get("period") or run_dir.name),
                title=str(data.get("title") or parts[0]),
                headline=str(data.get("headline") or ""),
                created_at=str(data.get("created_at") or ""),
                html=f"{rel}/{files.get('html', 'report.html')}",
                notebook=f"{rel}/{files.get('notebook', 'report.ipynb')}",
                group=str(data.get("group") or ""),
            )
        )
    entries.sort(key=lambda e: (_period_end(e), e.created_at, e.name), reverse=True)
    return entries


_STAMP = re.compile(r"^\d{8}T\d{6}Z$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _period_end(entry: IndexEntry) -> str:
    """When the period a run covers ends, as UTC ISO text: an ISO week ends on the next Monday, a day
    (YYYY-MM-DD, an experiment readout's label) at the next midnight, a run labelled with its time at that time;
    other labels fall back to when the run was written. So a week written late (a backfill, a --force) still sits
    below the weeks after it."""
    from insights.reports.weeks import IsoWeek

    try:
        return IsoWeek.parse(entry.period).end.strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        pass
    if _DAY.match(entry.period):
        from datetime import date, timedelta

        try:
            return (date.fromisoformat(entry.period) + timedelta(days=1)).isoformat() + "T00:00:00Z"
        except ValueError:
            pass
    if _STAMP.match(entry.period):
        p = entry.period
        return f"{p[0:4]}-{p[4:6]}-{p[6:8]}T{p[9:11]}:{p[11:13]}:{p[13:15]}Z"
    return entry.created_at


def render_index(entries: list[IndexEntry]) -> str:
    """The index page's HTML (all text escaped, links relative and percent-encoded)."""
    rows = []
    for e in entries:
        when = e.created_at.replace("T", " ")[:16] + (" UTC" if e.created_at else "")
        rows.append(
            "<tr>"
            f'<td class="period"><a href="{escape(quote(e.html))}">{escape(e.period)}</a></td>'
            f"<td>{escape(e.title)}</td>"
            f"<td>{escape(e.headline) or '<span class=muted>no headline</span>'}</td>"
            f'<td class="when">{escape(when)}</td>'
            f'<td class="nb"><a href="{escape(quote(e.notebook))}">notebook</a></td>'
            "</tr>"
        )
    if rows:
        body = (
            "<table><thead><tr><th>Period</th><th>Report</th><th>Headline</th><th>Written</th>"
            "<th>Executed notebook</th></tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"
        )
    else:
        body = "<p>No reports yet. Run <code>insights report weekly</code> to write the first one.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Reports</title>
<style>
body {{ margin: 0; background: #f5f7fa; color: #1f2933;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }}
main {{ max-width: 1040px; margin: 0 auto; padding: 24px 20px 48px; }}
h1 {{ font-size: 1.8rem; margin: 0.2em 0 0.2em; }}
p.lead {{ color: #52606d; margin-top: 0; }}
table {{ border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #d9e2ec; }}
th, td {{ text-align: left; vertical-align: top; padding: 8px 12px; border-bottom: 1px solid #d9e2ec; }}
th {{ background: #f0f4f8; font-size: 0.9rem; }}
td.period {{ white-space: nowrap; font-weight: 600; }}
td.when, td.nb {{ white-space: nowrap; color: #52606d; font-size: 0.9rem; }}
a {{ color: #2f6fde; }}
.muted {{ color: #9aa5b1; }}
</style>
</head>
<body>
<main>
<h1>Reports</h1>
<p class="lead">Every report written here, newest first. Open a period to read its report.</p>
{body}
</main>
</body>
</html>
"""


def update_index(reports_root: Path = Path("reports")) -> Path:
    """Rewrite `reports_root/index.html` from the manifests of every finished run; return its path."""
    reports_root.mkdir(parents=True, exist_ok=True)
    page = render_index(read_entries(reports_root))
    target = reports_root / INDEX_NAME
    write_atomic(target, page)
    return target


def write_atomic(target: Path, text: str) -> None:
    """Write a text file so that a reader sees the old or the new content, never a part."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
