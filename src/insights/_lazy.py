"""Lazy package namespaces: a package lists which submodule holds each public name, and a name's submodule is
imported the first time the name is used, so `import insights.<package>` stays light (no scipy, pandas, plotly or
scikit-learn until a function that needs them is called)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any


def lazy_exports(
    package: str, modules: Mapping[str, tuple[str, ...]], namespace: MutableMapping[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level `__getattr__` and `__dir__` of `package`, whose `modules` maps submodule (or the dotted
    name of a shared module) -> public names.

    A name is looked up once and then kept in the package's `namespace`; this also puts a function back where
    importing a submodule of the same name (`warehouse.build`) bound the module over it.
    """
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name in where:
            module = where[name]  # a submodule, or a dotted name for a shared module re-exported here
            value = getattr(importlib.import_module(module if "." in module else f"{package}.{module}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return list(namespace.get("__all__", where))

    return __getattr__, __dir__
