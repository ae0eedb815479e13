"""Reports: what the marketers read. `weekly_report(con, week)` writes up one ISO week of the warehouse.

Importing this package is cheap: pandas and plotly load only when a report is built.

>>> from insights.reports import IsoWeek
>>> IsoWeek.parse("2026-W46").start.isoformat()
'2026-11-09T00:00:00+00:00'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from insights.reports.weeks import IsoWeek

if TYPE_CHECKING:
    from insights.reports.sections import Chart, Section
    from insights.reports.weekly import WeeklyReport, weekly_report

__all__ = ["Chart", "IsoWeek", "Section", "WeeklyReport", "weekly_report"]

_LAZY = {
    "Chart": "insights.reports.sections",
    "Section": "insights.reports.sections",
    "WeeklyReport": "insights.reports.weekly",
    "weekly_report": "insights.reports.weekly",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'insights.reports' has no attribute {name!r}")
