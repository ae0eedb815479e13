"""Funnels over the chat event log: ordered steps, a unit, a conversion window from step 1, computed in the engine.

:class:`Funnel` holds a definition (steps, unit, window, mode, exclusions); ``Funnel.compute`` runs it as one grouped
query and returns a :class:`FunnelResult` (steps with Wilson intervals, time to convert, entry periods, breakdowns,
plotly charts); ``Funnel.units`` gives one row per unit to join to experiment assignments. See docs/funnels.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insights._lazy import lazy_exports

#: module -> the public names it holds; imported on first use, so ``import insights.funnels`` stays light
_MODULES: dict[str, tuple[str, ...]] = {
    "insights.intervals": ("wilson_interval",),
    "funnel": ("Funnel",),
    "result": ("FunnelBreakdown", "FunnelGroup", "FunnelOverTime", "FunnelPeriod", "FunnelResult", "FunnelStep"),
    "steps": ("Step",),
}

if TYPE_CHECKING:
    from insights.funnels.funnel import Funnel
    from insights.funnels.result import (
        FunnelBreakdown,
        FunnelGroup,
        FunnelOverTime,
        FunnelPeriod,
        FunnelResult,
        FunnelStep,
    )
    from insights.funnels.steps import Step
    from insights.intervals import wilson_interval

__all__ = [
    "Funnel",
    "FunnelBreakdown",
    "FunnelGroup",
    "FunnelOverTime",
    "FunnelPeriod",
    "FunnelResult",
    "FunnelStep",
    "Step",
    "wilson_interval",
]


__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
