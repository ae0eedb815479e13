"""The one place the health metrics are defined: what the footer prints, what the report computes, what the SQL does."""

from __future__ import annotations

import re

import pytest
import sqlglot

from insights.chatbot import BREAKDOWNS, HEALTH_DEFINITIONS, HealthDefinition, HealthDefinitions, definitions_footer
from insights.chatbot import _queries as queries
from insights.errors import InvalidParameterError


def test_the_footer_has_one_plain_line_per_metric() -> None:
    lines = definitions_footer().splitlines()
    assert lines[0] == "Metric definitions (version 1): numerator / denominator; unit; window."
    assert len(lines) == 1 + len(HEALTH_DEFINITIONS.metrics)
    for line, d in zip(lines[1:], HEALTH_DEFINITIONS.metrics, strict=True):
        assert line.startswith(d.label + ": ") and " / " in line and line.endswith(".")
        assert "{" not in line  # every parameter was filled in


def test_the_footer_shows_the_parameters_it_was_given() -> None:
    text = definitions_footer(qualify_days=30, low_confidence=0.3, price_in_per_1k=0.01, currency="EUR")
    assert "within 30 days" in text and "below 0.3" in text and "at 0.01 EUR" in text
    assert definitions_footer(metrics=["handoff_rate"]).count("\n") == 1


def test_the_report_computes_exactly_the_defined_metrics(small_con) -> None:
    from insights.chatbot import chatbot_health

    report = chatbot_health(small_con, start="2026-02-02", end="2026-02-09")
    assert tuple(m.metric for m in report.metrics) == HEALTH_DEFINITIONS.names
    assert report.definitions_version == HEALTH_DEFINITIONS.version
    assert {m.kind for m in report.metrics} <= {"count", "rate", "ratio", "mean", "quantile", "cost"}


def test_names_follow_the_shared_vocabulary() -> None:
    for name in HEALTH_DEFINITIONS.names:
        assert re.fullmatch(r"n_\w+|\w+_rate|\w+_(mean|ms|per_conversation|per_qualified_lead)|mean_\w+", name), name


def test_a_custom_set_of_definitions_is_checked() -> None:
    extra = HealthDefinition("repeat_rate", "Repeat rate", "rate", "users back", "users", "share", "the period")
    custom = HealthDefinitions("team-2", (*HEALTH_DEFINITIONS.metrics, extra))
    assert definitions_footer(custom, metrics=("repeat_rate",)).splitlines() == [
        "Metric definitions (version team-2): numerator / denominator; unit; window.",
        "Repeat rate: users back / users; share; the period.",
    ]
    with pytest.raises(InvalidParameterError, match="must name each metric once"):
        HealthDefinitions("3", (extra, extra))


def test_every_breakdown_is_mapped_in_the_sql() -> None:
    for name in BREAKDOWNS:
        assert f"WHEN '{name}' THEN" in queries.SESSIONS_SQL


@pytest.mark.parametrize("name", sorted(n for n in dir(queries) if n.endswith("_SQL")))
def test_the_sql_is_portable(name: str) -> None:
    """Every statement parses as DuckDB SQL and transpiles to Spark SQL (the engine seam of DESIGN.md)."""
    sql = getattr(queries, name)
    assert len(sqlglot.parse(sql, read="duckdb")) == 1
    assert sqlglot.transpile(sql, read="duckdb", write="spark")


def test_the_docs_show_the_current_definitions() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "chatbot.md").read_text(encoding="utf-8")
    block = text.split("<!-- generated definitions: begin -->\n", 1)[1].split("<!-- generated definitions: end -->")[0]
    assert block.strip() == "```\n" + definitions_footer() + "\n```", "paste definitions_footer() into docs/chatbot.md"
