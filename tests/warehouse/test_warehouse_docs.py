"""docs/warehouse.md must stay true to the models: the checks table and every model's columns."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from insights.warehouse import build, list_models
from insights.warehouse.models import checks_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"


def test_checks_table_is_generated_from_the_headers() -> None:
    text = DOC.read_text()
    block = text.split("<!-- generated checks: begin -->\n", 1)[1].split("<!-- generated checks: end -->", 1)[0]
    assert block == checks_markdown(), "regenerate with insights.warehouse.models.checks_markdown()"


def documented_columns(model: str) -> set[str]:
    text = DOC.read_text()
    section = text.split(f"\n### {model}\n", 1)[1]
    section = re.split(r"\n##+ ", section, maxsplit=1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)}


def test_every_column_is_documented(con: duckdb.DuckDBPyConnection) -> None:
    build(con)
    for model in list_models():
        columns = {row[0] for row in con.execute(f"DESCRIBE {model.name}").fetchall()}
        assert documented_columns(model.name) == columns, model.name
