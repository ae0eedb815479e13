"""Chatbot health metrics and what the bot does not understand.

- :func:`chatbot_health` computes the metrics of :data:`HEALTH_DEFINITIONS` (containment, handoffs and their
  reasons, fallbacks, intents and confidence, abandonment, length, latency, leads and their quality, CSAT, LLM
  tokens and cost) for a period against the one before, in the warehouse, with intervals;
- :func:`fallback_clusters` groups the user messages the bot answered with a fallback into candidate missing intents,
  with their weekly trend; :func:`cluster_texts` groups any list of texts the same way;
- :func:`definitions_footer` prints the definitions as the footer reports show.

See docs/chatbot.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insights._lazy import lazy_exports

#: module -> the public names it holds; imported on first use, so ``import insights.chatbot`` stays light (the
#: statistics load scipy, the clustering scikit-learn)
_MODULES: dict[str, tuple[str, ...]] = {
    "definitions": (
        "DEFAULT_PRICE_IN_PER_1K",
        "DEFAULT_PRICE_OUT_PER_1K",
        "HEALTH_DEFINITIONS",
        "HealthDefinition",
        "HealthDefinitions",
        "definitions_footer",
    ),
    "health": ("BREAKDOWNS", "DEFAULT_HANDOFF_REQUEST_TERMS", "chatbot_health"),
    "report": (
        "NOTES",
        "HandoffReason",
        "HandoffReasonTable",
        "HealthMetric",
        "HealthReport",
        "IntentHealth",
        "IntentHealthTable",
    ),
    "clusters": (
        "FallbackCluster",
        "FallbackClusters",
        "TextCluster",
        "TextClusters",
        "cluster_texts",
        "fallback_clusters",
    ),
}

if TYPE_CHECKING:
    from insights.chatbot.clusters import (
        FallbackCluster,
        FallbackClusters,
        TextCluster,
        TextClusters,
        cluster_texts,
        fallback_clusters,
    )
    from insights.chatbot.definitions import (
        DEFAULT_PRICE_IN_PER_1K,
        DEFAULT_PRICE_OUT_PER_1K,
        HEALTH_DEFINITIONS,
        HealthDefinition,
        HealthDefinitions,
        definitions_footer,
    )
    from insights.chatbot.health import BREAKDOWNS, DEFAULT_HANDOFF_REQUEST_TERMS, chatbot_health
    from insights.chatbot.report import (
        NOTES,
        HandoffReason,
        HandoffReasonTable,
        HealthMetric,
        HealthReport,
        IntentHealth,
        IntentHealthTable,
    )

__all__ = [
    "BREAKDOWNS",
    "DEFAULT_HANDOFF_REQUEST_TERMS",
    "DEFAULT_PRICE_IN_PER_1K",
    "DEFAULT_PRICE_OUT_PER_1K",
    "HEALTH_DEFINITIONS",
    "NOTES",
    "FallbackCluster",
    "FallbackClusters",
    "HandoffReason",
    "HandoffReasonTable",
    "HealthDefinition",
    "HealthDefinitions",
    "HealthMetric",
    "HealthReport",
    "IntentHealth",
    "IntentHealthTable",
    "TextCluster",
    "TextClusters",
    "chatbot_health",
    "cluster_texts",
    "definitions_footer",
    "fallback_clusters",
]


__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
