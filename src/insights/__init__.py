"""insights: analytics and experimentation for AI-drafted social posts and lead-generation chatbots.

>>> import insights
>>> report = insights.ingest("chat", ["chat.csv"])  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from insights.ingestion import LoadReport, ingest
    from insights.warehouse import connect

__all__ = ["LoadReport", "__version__", "connect", "ingest"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import insights` stays cheap for the command line.
    if name in ("ingest", "LoadReport"):
        module = importlib.import_module("insights.ingestion")
        return getattr(module, name)
    if name == "connect":
        from insights.warehouse import connect

        return connect
    raise AttributeError(f"module 'insights' has no attribute {name!r}")
