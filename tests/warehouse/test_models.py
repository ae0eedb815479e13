"""Model headers: parsing, validation and build order."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from insights.warehouse import Check, Model, ModelDefinitionError, list_models
from insights.warehouse.models import parse_model

SHIPPED_ORDER = [
    "staging.assignments",
    "staging.chat_events",
    "staging.leads",
    "staging.post_metrics",
    "staging.posts",
    "marts.chat_sessions",
    "marts.leads",
    "marts.posts",
    "marts.lineage",
]


def write_model(root: Path, name: str, header: str, sql: str = "SELECT 1 AS x") -> None:
    schema, table = name.split(".")
    (root / schema).mkdir(parents=True, exist_ok=True)
    (root / schema / f"{table}.sql").write_text(header + "\n" + sql + "\n")


def test_shipped_models_in_build_order() -> None:
    assert [m.name for m in list_models()] == SHIPPED_ORDER


def test_every_shipped_model_states_grain_and_checks() -> None:
    for model in list_models():
        assert model.grain.startswith("one row per"), model.name
        assert model.rules, model.name
        assert any(c.name == "unique" for c in model.checks), model.name
        assert any(c.name == "not_null" for c in model.checks), model.name


@pytest.mark.parametrize("model", list_models(), ids=lambda m: m.name)
def test_declared_inputs_are_the_tables_the_sql_reads(model: Model) -> None:
    tree = sqlglot.parse_one(model.body, read="duckdb")
    read = {f"{t.db}.{t.name}" for t in tree.find_all(exp.Table) if t.db}
    assert read == set(model.inputs)


def test_header_is_parsed() -> None:
    model = parse_model(
        "-- model: marts.x\n"
        "-- grain: one row per x\n"
        "-- inputs: staging.a,\n"
        "--   staging.b\n"
        "-- rules:\n"
        "--   first line\n"
        "--   second line\n"
        "-- checks:\n"
        "--   x_id: unique, not_null\n"
        "--   kind: accepted_values('a', b, \"c, d\") warn\n"
        "--   a_id: relationships(staging.a.a_id)\n"
        "--   (x_id, kind): unique\n"
        "SELECT 1 AS x_id;\n",
        "marts/x.sql",
    )
    assert model.name == "marts.x"
    assert model.inputs == ("staging.a", "staging.b")
    assert model.rules == "first line second line"
    assert model.checks == (
        Check(("x_id",), "unique"),
        Check(("x_id",), "not_null"),
        Check(("kind",), "accepted_values", ("a", "b", "c, d"), "warn"),
        Check(("a_id",), "relationships", ("staging.a.a_id",)),
        Check(("x_id", "kind"), "unique"),
    )
    assert model.key == "x_id"
    assert model.body == "-- model: marts.x\n" + model.sql.split("\n", 1)[1].rstrip().rstrip(";")
    assert str(model.checks[2]) == "kind: accepted_values(a, b, c, d) warn"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("-- model: marts.x\n-- inputs: raw.posts", "lacks the header field(s) grain"),
        ("-- model: x\n-- grain: g\n-- inputs: raw.posts", "must be schema.table"),
        ("-- model: marts.y\n-- grain: g\n-- inputs: raw.posts", "must declare 'model: marts.x'"),
        ("-- model: marts.x\n-- grain: g\n-- inputs: posts", "must be schema.table names"),
        ("-- model: marts.x\n-- grain: g\n-- inputs: raw.posts\n-- check:", "unknown field 'check'"),
        ("-- model: marts.x\n-- grain: g\n-- inputs: raw.posts\n-- checks:\n--   x: uniq", "is not one of"),
        ("-- model: marts.x\n-- grain: g\n-- inputs: raw.posts\n-- checks:\n--   x unique", "must look like"),
        (
            "-- model: marts.x\n-- grain: g\n-- inputs: raw.posts\n-- checks:\n--   (a, b): not_null",
            "takes one",
        ),
        (
            "-- model: marts.x\n-- grain: g\n-- inputs: raw.posts\n-- checks:\n--   x: accepted_values()",
            "at least",
        ),
        (
            "-- model: marts.x\n-- grain: g\n-- inputs: raw.posts\n-- checks:\n--   x: relationships(a.b)",
            "schema.table.column",
        ),
        (
            "-- model: marts.x\n-- grain: g\n-- inputs: raw.posts\n-- checks:\n--   x: unique(x)",
            "no arguments",
        ),
        (
            "-- model: marts.x\n-- grain: g\n-- inputs: raw.posts\n-- checks:\n--   x y: unique",
            "must name a column",
        ),
    ],
)
def test_invalid_headers_are_refused(tmp_path: Path, header: str, message: str) -> None:
    write_model(tmp_path, "marts.x", header)
    with pytest.raises(ModelDefinitionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list_models(tmp_path)


def test_relationships_target_must_exist(tmp_path: Path) -> None:
    header = "-- model: marts.x\n-- grain: g\n-- inputs: raw.posts\n-- checks:\n--   x: relationships(marts.no.x)"
    write_model(tmp_path, "marts.x", header)
    with pytest.raises(ModelDefinitionError, match=r"points at marts\.no,"):
        list_models(tmp_path)


def test_cycle_is_refused(tmp_path: Path) -> None:
    write_model(tmp_path, "marts.a", "-- model: marts.a\n-- grain: g\n-- inputs: marts.b")
    write_model(tmp_path, "marts.b", "-- model: marts.b\n-- grain: g\n-- inputs: marts.a")
    with pytest.raises(ModelDefinitionError, match=r"marts\.a, marts\.b read each other in a cycle"):
        list_models(tmp_path)


def test_order_follows_inputs_not_names(tmp_path: Path) -> None:
    write_model(tmp_path, "a.last", "-- model: a.last\n-- grain: g\n-- inputs: b.middle")
    write_model(tmp_path, "b.middle", "-- model: b.middle\n-- grain: g\n-- inputs: c.first")
    write_model(tmp_path, "c.first", "-- model: c.first\n-- grain: g\n-- inputs: raw.posts")
    assert [m.name for m in list_models(str(tmp_path))] == ["c.first", "b.middle", "a.last"]


def test_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelDefinitionError, match="does not exist"):
        list_models(tmp_path / "nope")


@pytest.mark.parametrize("model", list_models(), ids=lambda m: m.name)
def test_every_model_transpiles_to_spark(model: Model) -> None:
    # portability guard: sqlglot must be able to rewrite every construct we use
    sqlglot.transpile(model.body, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
