"""Mapping rules `pattern`, `format` lists and `timezone`: what they load, and how a wrong rule is refused."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights import ingest
from insights.errors import MappingError
from insights.ingestion.mapping import parse_mapping, rule_sql


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()


def posts_mapping(tmp_path: Path, **columns: str) -> Path:
    """A posts mapping: id, platform and time from the test file's columns, plus the given rules."""
    rules = {"post_id": "id", "platform": "{value: x}", "published_at": "when", **columns}
    path = tmp_path / "m.yaml"
    path.write_text("kind: posts\ncolumns:\n" + "".join(f"  {k}: {v}\n" for k, v in rules.items()))
    return path


# --- pattern -----------------------------------------------------------------------------------------


def test_pattern_keeps_the_capture_group_or_the_whole_match(db, tmp_path, write_csv):
    path = write_csv(
        [
            ("id", "when", "page", "tag"),
            ("111_9", "2026-03-01T10:00:00Z", "111_9", "order #A-17 paid"),
            ("222_8", "2026-03-01T10:00:00Z", "222_8", "no code here"),
            ("x_7", "2026-03-01T10:00:00Z", "x_7", ""),
        ]
    )
    mapping = posts_mapping(
        tmp_path,
        account_id='{from: page, pattern: "^([0-9]+)_"}',
        campaign='{from: tag, pattern: "[A-Z]-[0-9]+"}',
    )
    report = ingest("posts", [path], db=db, mapping=mapping)
    assert (report.rows_loaded, report.rows_rejected) == (3, 0)
    assert report.empty_cells == {"account_id": 1, "campaign": 2}  # no match is a missing value, like an empty cell
    got = query(db, "SELECT post_id, account_id, campaign FROM raw.posts ORDER BY post_id")
    assert got == [("111_9", "111", "A-17"), ("222_8", "222", None), ("x_7", None, None)]
    # The id column also flows whole into post_id: one source column may feed several contract columns.


def test_pattern_without_a_match_rejects_a_row_whose_column_is_required(db, tmp_path, write_csv):
    path = write_csv([("id", "when"), ("post-1", "2026-03-01T10:00:00Z"), ("2", "2026-03-01T10:00:00Z")])
    mapping = posts_mapping(tmp_path, post_id='{from: id, pattern: "^post-([0-9]+)$"}')
    report = ingest("posts", [path], db=db, mapping=mapping)
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    assert report.reject_reasons == {"missing required value in post_id": 1}
    assert query(db, "SELECT post_id FROM raw.posts") == [("1",)]
    assert query(db, "SELECT line FROM meta.rejects") == [(3,)]


def test_pattern_then_values_then_format(db, tmp_path, write_csv):
    path = write_csv([("id", "when", "kind"), ("1", "posted 03/01/2026 10:30 by ann", "type=Pic")])
    mapping = posts_mapping(
        tmp_path,
        published_at='{from: when, pattern: "[0-9/]+ [0-9:]+", format: "%m/%d/%Y %H:%M"}',
        content_type='{from: kind, pattern: "type=(.*)", values: {Pic: image}}',
    )
    ingest("posts", [path], db=db, mapping=mapping)
    got = query(db, "SELECT content_type, strftime(published_at, '%Y-%m-%d %H:%M') FROM raw.posts")
    assert got == [("image", "2026-03-01 10:30")]


# --- several formats -------------------------------------------------------------------------------


def test_formats_are_tried_in_order(db, tmp_path, write_csv):
    path = write_csv([("id", "when"), ("a", "4/22/2018 6:00"), ("b", "4/11/18 04:53"), ("c", "22.4.2018")])
    mapping = posts_mapping(tmp_path, published_at='{from: when, format: ["%m/%d/%y %H:%M", "%m/%d/%Y %H:%M"]}')
    report = ingest("posts", [path], db=db, mapping=mapping)
    assert report.reject_reasons == {"missing required value in published_at": 1}  # "22.4.2018" fits neither
    got = query(db, "SELECT post_id, strftime(published_at, '%Y-%m-%d %H:%M') FROM raw.posts ORDER BY 1")
    assert got == [("a", "2018-04-22 06:00"), ("b", "2018-04-11 04:53")]


def test_format_order_matters_when_one_layout_reads_the_other(db, tmp_path, write_csv):
    # The trap docs/mappings.md warns about: %Y reads the "18" of "4/11/18" as the year 18.
    path = write_csv([("id", "when"), ("b", "4/11/18 04:53")])
    mapping = posts_mapping(tmp_path, published_at='{from: when, format: ["%m/%d/%Y %H:%M", "%m/%d/%y %H:%M"]}')
    ingest("posts", [path], db=db, mapping=mapping)
    assert query(db, "SELECT year(published_at) FROM raw.posts") == [(18,)]


# --- timezone ----------------------------------------------------------------------------------------


def test_rule_timezone_wins_over_the_load_timezone(db, tmp_path, write_csv):
    path = write_csv(
        [("id", "a", "b", "c"), ("1", "2018-04-22 06:00", "2018-04-22 06:00", "2018-04-22 06:00")],
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "kind: posts\ncolumns:\n  post_id: id\n  platform: {value: x}\n"
        "  published_at: {from: a, format: '%Y-%m-%d %H:%M', timezone: Asia/Bangkok}\n"
        "  observed_at: {from: b, format: '%Y-%m-%d %H:%M', timezone: 'UTC-05:00'}\n"
    )
    ingest("posts", [path], db=db, mapping=mapping, timezone="Europe/Paris")
    got = query(db, "SELECT published_at, observed_at, extra FROM raw.posts")
    # Bangkok is UTC+7 (no daylight saving since 1920); the fixed offset is 5 hours behind UTC.
    assert got == [
        (
            dt.datetime(2018, 4, 21, 23, 0, tzinfo=dt.UTC),
            dt.datetime(2018, 4, 22, 11, 0, tzinfo=dt.UTC),
            '{"c":"2018-04-22 06:00"}',
        )
    ]


def test_an_iana_timezone_follows_daylight_saving(db, tmp_path, write_csv):
    path = write_csv([("id", "when"), ("winter", "2026-01-15 12:00"), ("summer", "2026-07-15 12:00")])
    mapping = posts_mapping(tmp_path, published_at="{from: when, format: '%Y-%m-%d %H:%M', timezone: Europe/Paris}")
    ingest("posts", [path], db=db, mapping=mapping)
    got = dict(query(db, "SELECT post_id, published_at FROM raw.posts"))
    for post_id, instant in got.items():
        local = dt.datetime.fromisoformat(f"2026-{'01' if post_id == 'winter' else '07'}-15 12:00")
        assert instant == local.replace(tzinfo=ZoneInfo("Europe/Paris")).astimezone(dt.UTC), post_id


@pytest.fixture(scope="module")
def engine() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        yield con


@settings(max_examples=60, deadline=None)
@given(
    local=st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2099, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    hours=st.integers(-14, 14),
    minutes=st.sampled_from([0, 15, 30, 45]),
)
def test_fixed_offset_is_plain_arithmetic(engine, local, hours, minutes):
    if abs(hours) == 14:
        minutes = 0
    sign = "-" if hours < 0 else "+"
    zone = f"UTC{sign}{abs(hours):02d}:{minutes:02d}"
    rule = parse_mapping(
        {"columns": {"published_at": {"from": "t", "format": "%Y-%m-%d %H:%M", "timezone": zone}}}
    ).rules[0]
    sql = rule_sql(rule, {"t": "$1"}, "test")
    row = engine.execute(f"SELECT {sql}", [local.strftime("%Y-%m-%d %H:%M")]).fetchone()
    assert row is not None
    offset = dt.timedelta(hours=abs(hours), minutes=minutes) * (-1 if hours < 0 else 1)
    assert row[0] == local.replace(tzinfo=dt.timezone(offset)).astimezone(dt.UTC)


# --- mistakes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"from": "t", "pattern": "([0-9]+"}, "'pattern' of column 'account_id' is not a valid regular expression"),
        ({"from": "t", "pattern": "(?=x)y"}, "uses look-around or a back-reference, which RE2 does not support"),
        ({"from": "t", "pattern": r"(a)\1"}, "uses look-around or a back-reference"),
        ({"from": "t", "pattern": "(a)_(b)"}, "has 2 capture groups; use at most one"),
        ({"from": "t", "pattern": ""}, "'pattern' of column 'account_id' must be a regular expression"),
        ({"value": "x", "pattern": "a"}, "column 'account_id': pattern only apply to a source column"),
        ({"derive": "row_number", "values": {"a": "b"}}, "column 'account_id': values only apply to a source column"),
        ({"from": "t", "format": []}, "'format' of column 'account_id' must be strptime codes, or a list of them"),
        ({"from": "t", "format": ["%Y", 3]}, "must be strptime codes, or a list of them to try in order"),
        ({"from": "t", "timezone": "UTC"}, "column 'account_id': timezone needs format"),
        ({"from": "t", "format": "%Y", "timezone": "Mars/Olympus"}, "must be an IANA time zone such as Asia/Bangkok"),
        ({"from": "t", "format": "%Y", "timezone": "UTC+7"}, "or a fixed offset such as UTC-05:00, not 'UTC\\+7'"),
        ({"from": "t", "format": "%Y", "timezone": "UTC+15:00"}, "not 'UTC\\+15:00'"),
        ({"from": "t", "format": "%Y", "timezone": "../etc/passwd"}, "must be an IANA time zone"),
        ({"from": "t", "format": "%Y", "timezone": 7}, "not 7"),
    ],
)
def test_wrong_rules_are_refused_when_the_mapping_is_read(rule, message):
    with pytest.raises(MappingError, match=message):
        parse_mapping({"kind": "posts", "columns": {"account_id": rule}}, where="m.yaml")


def test_a_good_rule_is_parsed_as_written():
    rule = parse_mapping(
        {
            "columns": {
                "published_at": {"from": "t", "format": ["%m/%d/%y", "%m/%d/%Y"], "timezone": "Asia/Bangkok"},
                "account_id": {"from": "t", "pattern": "^([0-9]+)_"},
            }
        }
    ).rules
    assert (rule[0].format, rule[0].timezone, rule[0].pattern) == (("%m/%d/%y", "%m/%d/%Y"), "Asia/Bangkok", None)
    assert (rule[1].format, rule[1].pattern, rule[1].sources) == (None, "^([0-9]+)_", ("t",))
    assert re.compile(str(rule[1].pattern)).groups == 1
