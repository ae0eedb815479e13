"""The warehouse: one DuckDB file with schemas meta, raw, staging and marts.

Only this package opens connections. `connect` turns DuckDB's lock errors into one clear sentence.
`build` rebuilds the staging and marts models from the .sql files shipped in warehouse/sql, and
`run_checks` runs the column checks their headers declare.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from insights.warehouse.build import BuildReport, ModelBuild, ModelBuildError, build
    from insights.warehouse.checks import CheckReport, CheckResult, check_query, run_checks
    from insights.warehouse.connection import connect, create_raw_tables, raw_table_ddl
    from insights.warehouse.models import Check, Model, ModelDefinitionError, list_models

#: loaded on first use: a connection alone (a report, a readout) needs neither the builder nor the checks
_WHERE = {
    **dict.fromkeys(("BuildReport", "ModelBuild", "ModelBuildError", "build"), "build"),
    **dict.fromkeys(("CheckReport", "CheckResult", "check_query", "run_checks"), "checks"),
    **dict.fromkeys(("connect", "create_raw_tables", "raw_table_ddl"), "connection"),
    **dict.fromkeys(("Check", "Model", "ModelDefinitionError", "list_models"), "models"),
}

__all__ = [
    "BuildReport",
    "Check",
    "CheckReport",
    "CheckResult",
    "Model",
    "ModelBuild",
    "ModelBuildError",
    "ModelDefinitionError",
    "build",
    "check_query",
    "connect",
    "create_raw_tables",
    "list_models",
    "raw_table_ddl",
    "run_checks",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"insights.warehouse.{_WHERE[name]}"), name)
        # importing the submodule `build` binds the module to this package's `build`: put the function back
        globals()[name] = value
        return value
    raise AttributeError(f"module 'insights.warehouse' has no attribute {name!r}")
