"""Column mappings, and the bundled mapping for the UCI Facebook metrics export."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from insights import ingest
from insights.errors import MappingError
from insights.ingestion.mapping import load_mapping, parse_mapping

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "facebook_metrics" / "dataset_Facebook.csv"


@pytest.fixture
def uci(db):
    report = ingest("posts", [SAMPLE], db=db, mapping="uci_facebook_metrics")
    return db, report


def test_uci_export_loads_every_post_and_reports_its_six_empty_cells(uci):
    _, report = uci
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (500, 500, 0)
    # The dataset's own description says "Missing Attribute Values: None"; the file has 6 empty cells.
    assert report.empty_cells == {"likes": 1, "paid": 1, "shares": 4}


def test_uci_empty_cells_stay_null_not_zero(uci):
    db, _ = uci
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute(
            "SELECT count(*) FILTER (WHERE likes IS NULL), count(*) FILTER (WHERE shares IS NULL), "
            "count(*) FILTER (WHERE paid IS NULL), count(*) FILTER (WHERE likes = 0) FROM raw.posts"
        ).fetchone()
    assert got == (1, 4, 1, 5)  # 5 posts really have 0 likes in the file; the empty one is not among them


def test_uci_ids_dates_and_values(uci):
    db, _ = uci
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        first = con.execute(
            "SELECT post_id, content_type, paid, followers, reach, impressions, comments, likes, shares, "
            "strftime(published_at, '%Y-%m-%d %H:%M %a'), extra FROM raw.posts WHERE post_id = 'uci-fb-1'"
        ).fetchone()
        rows = con.execute(
            "SELECT post_id, published_at, isodow(published_at), month(published_at), hour(published_at) "
            "FROM raw.posts ORDER BY CAST(substr(post_id, 8) AS INTEGER)"
        ).fetchall()
    # First data row of the file: 139441;Photo;2;12;4;3;0;2752;5091;178;109;159;3078;1640;119;4;79;17;100
    assert first[:9] == ("uci-fb-1", "image", False, 139441, 2752, 5091, 4, 79, 17)
    assert first[9].startswith("2014-12-") and first[9].endswith("03:00 Wed")
    assert json.loads(first[10])["Total Interactions"] == "100"
    file_rows = [line.split(";") for line in SAMPLE.read_text().splitlines()[1:]]
    for (post_id, _, isodow, month, hour), cells in zip(rows, file_rows, strict=True):
        assert month == int(cells[3]), post_id
        assert isodow == (int(cells[4]) + 5) % 7 + 1, post_id  # 1 = Sunday in the export
        assert hour == int(cells[5]), post_id
    days = [r[1].date() for r in rows]
    assert days == sorted(days, reverse=True)  # the file runs newest first (hours within a day do not)
    assert days[-1] == dt.date(2014, 1, 1)


def test_mapping_errors_name_the_file_and_the_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: posts\ncolumns:\n  post_id: {from: a, value: b}\n")
    with pytest.raises(MappingError, match=r"bad.yaml: column 'post_id' needs exactly one of from, value or derive"):
        load_mapping(bad)
    with pytest.raises(MappingError, match="'likez' is not a column of posts logs"):
        parse_mapping({"kind": "posts", "columns": {"likez": "like"}})
    with pytest.raises(MappingError, match="no such mapping file"):
        load_mapping(tmp_path / "missing.yaml")
    bad.write_text("columns: [unclosed\n")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(bad)


def test_mapping_for_another_kind_is_refused(db, tmp_path):
    with pytest.raises(MappingError, match="this mapping is for posts logs, not chat"):
        ingest("chat", [SAMPLE], db=db, mapping="uci_facebook_metrics")


def test_mapping_that_reads_a_missing_source_column(db, tmp_path, write_csv):
    path = write_csv([("id", "when", "net"), ("1", "2026-03-01T10:00:00Z", "fb")])
    mapping = tmp_path / "m.yaml"
    mapping.write_text("kind: posts\ncolumns:\n  post_id: id\n  published_at: whenever\n  platform: net\n")
    with pytest.raises(MappingError, match="reads source column 'whenever', which the file does not have"):
        ingest("posts", [path], db=db, mapping=mapping)


def test_mapping_with_values_format_and_constants(db, tmp_path, write_csv):
    path = write_csv([("ID", "Date", "Kind"), ("a", "01/03/2026 10:30", "Vid"), ("b", "02/03/2026 11:00", "Pic")])
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "kind: posts\ncolumns:\n  post_id: ID\n  platform: {value: linkedin}\n"
        "  published_at: {from: Date, format: '%d/%m/%Y %H:%M'}\n"
        "  content_type: {from: Kind, values: {Vid: video, Pic: image}}\n"
    )
    report = ingest("posts", [path], db=db, mapping=mapping, timezone="Europe/Paris")
    assert report.rows_loaded == 2
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        got = con.execute(
            "SELECT post_id, platform, content_type, strftime(published_at, '%Y-%m-%d %H:%M') FROM raw.posts ORDER BY 1"
        ).fetchall()
    assert got == [
        ("a", "linkedin", "video", "2026-03-01 09:30"),
        ("b", "linkedin", "image", "2026-03-02 10:00"),
    ]
