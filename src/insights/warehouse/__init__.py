"""The warehouse: one DuckDB file with schemas meta, raw, staging and marts.

Only this package opens connections. `connect` turns DuckDB's lock errors into one clear sentence.
`build` rebuilds the staging and marts models from the .sql files shipped in warehouse/sql, and
`run_checks` runs the column checks their headers declare.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insights._lazy import lazy_exports

if TYPE_CHECKING:
    from insights.warehouse.build import BuildReport, ModelBuild, ModelBuildError, build
    from insights.warehouse.checks import CheckReport, CheckResult, check_query, run_checks
    from insights.warehouse.connection import connect, create_raw_tables, raw_table_ddl
    from insights.warehouse.models import Check, Model, ModelDefinitionError, list_models

#: loaded on first use: a connection alone (a report, a readout) needs neither the builder nor the checks
_MODULES: dict[str, tuple[str, ...]] = {
    "build": ("BuildReport", "ModelBuild", "ModelBuildError", "build"),
    "checks": ("CheckReport", "CheckResult", "check_query", "run_checks"),
    "connection": ("connect", "create_raw_tables", "raw_table_ddl"),
    "models": ("Check", "Model", "ModelDefinitionError", "list_models"),
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


__getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
