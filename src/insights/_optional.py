"""Optional dependencies, imported on first use with an install hint when missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from insights.errors import ConfigurationError


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``; if it is missing, say which extra of insights provides it.

    >>> require("json", "reports").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigurationError(
            f"This needs the optional package {module.split('.')[0]!r}, which is not installed; "
            f"install it with: pip install 'insights[{extra}]'."
        ) from None
