"""The warehouse: one DuckDB file with schemas meta, raw, staging and marts.

Only this package opens connections. `connect` turns DuckDB's lock errors into one clear sentence.
"""

from insights.warehouse.connection import connect, create_raw_tables, raw_table_ddl

__all__ = ["connect", "create_raw_tables", "raw_table_ddl"]
