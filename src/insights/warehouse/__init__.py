"""The warehouse: one DuckDB file with schemas meta, raw, staging and marts.

Only this package opens connections. `connect` turns DuckDB's lock errors into one clear sentence.
`build` rebuilds the staging and marts models from the .sql files shipped in warehouse/sql, and
`run_checks` runs the column checks their headers declare.
"""

from insights.warehouse.build import BuildReport, ModelBuild, ModelBuildError, build
from insights.warehouse.checks import CheckReport, CheckResult, check_query, run_checks
from insights.warehouse.connection import connect, create_raw_tables, raw_table_ddl
from insights.warehouse.models import Check, Model, ModelDefinitionError, list_models

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
