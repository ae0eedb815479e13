"""Leads: the lead stage funnel, and attribution of leads and won revenue to the posts that started the journeys.

- :func:`lead_funnel` reads marts.leads (and marts.lineage for breakdowns by the post behind a lead): stage
  conversion with Wilson intervals, time in stage, leads still open or lost, young leads kept out of the steps they
  cannot have taken yet;
- :func:`journeys` builds, in one query over marts.lineage, each user's chat sessions before a lead (or before
  nothing) as paths of touches labelled by their post's platform, content type, origin, prompt, post or campaign;
- :func:`attribute` credits the conversions or revenue of those journeys to channels under first touch, last touch,
  linear, time decay, position based, Markov (removal effects, exact) and Shapley (exact), with bootstrap intervals.

See docs/attribution.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insights._lazy import lazy_exports

#: module -> the public names it holds; imported on first use, so ``import insights.leads`` stays light
_MODULES: dict[str, tuple[str, ...]] = {
    "attribution": ("MAX_MARKOV_CHANNELS", "Attribution", "ChannelCredit", "attribute"),
    "funnel": ("STAGES", "LeadFunnel", "StageRow", "lead_funnel"),
    "paths": ("CONVERSIONS", "VALUES", "Journeys", "journeys"),
    "labels": ("LEAD_DIMENSIONS", "POST_DIMENSIONS"),
    "models": ("MODELS",),
}

if TYPE_CHECKING:
    from insights.leads.attribution import MAX_MARKOV_CHANNELS, Attribution, ChannelCredit, attribute
    from insights.leads.funnel import STAGES, LeadFunnel, StageRow, lead_funnel
    from insights.leads.labels import LEAD_DIMENSIONS, POST_DIMENSIONS
    from insights.leads.models import MODELS
    from insights.leads.paths import CONVERSIONS, VALUES, Journeys, journeys

__all__ = [
    "CONVERSIONS",
    "LEAD_DIMENSIONS",
    "MAX_MARKOV_CHANNELS",
    "MODELS",
    "POST_DIMENSIONS",
    "STAGES",
    "VALUES",
    "Attribution",
    "ChannelCredit",
    "Journeys",
    "LeadFunnel",
    "StageRow",
    "attribute",
    "journeys",
    "lead_funnel",
]


__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
