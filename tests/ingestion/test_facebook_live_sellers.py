"""The shipped Facebook Live sellers sample, loaded through its bundled mapping into a real warehouse.

Expected values come from two places: the dataset's published figures (SOURCE.md: type counts, date
range, reference means over the 7,050 rows), and an independent reading of the same file with the
csv module and datetime below, which never goes through the loader or the engine.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from insights import ingest
from insights.ingestion.report import LoadReport
from insights.warehouse import connect
from insights.warehouse.build import build

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "facebook_live_sellers" / "Live.csv"
MAPPED = ("status_id", "status_type", "status_published", "num_reactions", "num_comments", "num_shares")
COUNTERS = ("num_likes", "num_loves", "num_wows", "num_hahas", "num_sads", "num_angrys")
TYPES = {"photo": "image", "video": "video", "status": "text", "link": "link"}
OBSERVED_AT = dt.datetime(2018, 6, 14, tzinfo=dt.UTC)


def file_rows() -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def file_time(text: str) -> dt.datetime:
    """Independent reading of status_published: month first, in UTC-05:00, as a UTC instant."""
    layout = "%m/%d/%Y %H:%M" if len(text.split(" ")[0].split("/")[2]) == 4 else "%m/%d/%y %H:%M"
    return dt.datetime.strptime(text, layout).replace(tzinfo=dt.timezone(dt.timedelta(hours=-5))).astimezone(dt.UTC)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LoadReport]]:
    db = tmp_path_factory.mktemp("live_sellers") / "insights.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("INSIGHTS_DB", raising=False)
        mp.delenv("INSIGHTS_KEY_FILE", raising=False)
        report = ingest("posts", [SAMPLE], db=db, mapping="facebook_live_sellers")
        with connect(db) as con:
            build(con)
        yield db, report


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()


def test_the_file_is_the_documented_copy():
    rows = file_rows()
    assert len(rows) == 7050
    assert list(rows[0]) == [*MAPPED, *COUNTERS]
    # SOURCE.md: photo 4,288 / video 2,334 / status 365 / link 63 rows.
    assert Counter(r["status_type"] for r in rows) == {"photo": 4288, "video": 2334, "status": 365, "link": 63}


def test_every_row_loads_or_is_a_repeat_of_a_post_already_in_the_file(loaded):
    _, report = loaded
    assert (report.rows_read, report.rows_loaded, report.rows_rejected, report.rows_duplicate) == (7050, 6997, 0, 53)
    assert report.reject_reasons == {}
    assert report.empty_cells == {}
    (file,) = report.files
    assert file.extra_columns == COUNTERS  # every other column is used by the mapping


def test_the_53_duplicates_are_rows_whose_status_id_came_earlier():
    rows = file_rows()
    first: dict[str, dict[str, str]] = {}
    repeats = []
    for row in rows:
        if row["status_id"] in first:
            repeats.append((first[row["status_id"]], row))
        else:
            first[row["status_id"]] = row
    assert len(repeats) == 53 and len(first) == 6997
    identical = [b for a, b in repeats if a == b]
    assert len(identical) == 51
    assert {r["status_id"].split("_")[0] for r in identical} == {"819700534875473"}  # one page, listed twice
    differing = {b["status_id"]: {k for k in a if a[k] != b[k]} for a, b in repeats if a != b}
    assert differing == {
        "246675545449582_326883450762124": {"status_published"},
        "246675545449582_429583263825475": {"status_published"},
    }
    # Rows identical apart from their id (54 in the UCI file, whose ids are renumbered): 51 are the repeats above,
    # 3 are pairs of distinct posts, which load as two posts each.
    without_id = Counter(tuple(v for k, v in r.items() if k != "status_id") for r in rows)
    assert sum(n - 1 for n in without_id.values()) == 54


def test_account_id_is_the_page_part_of_the_status_id(loaded):
    db, _ = loaded
    got = dict(query(db, "SELECT account_id, count(*) FROM marts.posts GROUP BY account_id"))
    expected = Counter(sid.split("_")[0] for sid in {r["status_id"] for r in file_rows()})
    assert got == expected
    assert len(got) == 9  # the paper says 10 sellers; the ids name 9 pages
    assert query(db, "SELECT count(*) FROM raw.posts WHERE account_id <> split_part(post_id, '_', 1)") == [(0,)]


def test_content_types_match_the_published_counts(loaded):
    db, _ = loaded
    got = dict(query(db, "SELECT content_type, count(*) FROM marts.posts GROUP BY content_type"))
    assert got == {"image": 4242, "video": 2333, "text": 359, "link": 63}
    # With the 53 repeated rows (46 photos, 1 video, 6 statuses) the counts are SOURCE.md's.
    seen: set[str] = set()
    repeated: Counter[str] = Counter()
    for row in file_rows():
        if row["status_id"] in seen:
            repeated[TYPES[row["status_type"]]] += 1
        seen.add(row["status_id"])
    assert dict(Counter(got) + repeated) == {"image": 4288, "video": 2334, "text": 365, "link": 63}


def test_published_at_reads_both_layouts_as_utc_minus_5(loaded):
    db, _ = loaded
    got = dict(query(db, "SELECT post_id, published_at FROM raw.posts"))
    expected: dict[str, set[dt.datetime]] = {}
    for row in file_rows():
        expected.setdefault(row["status_id"], set()).add(file_time(row["status_published"]))
    assert got.keys() == expected.keys()
    assert all(got[k] in expected[k] for k in got)
    # SOURCE.md: 2012-07-15 02:51 ... 2018-06-13 01:12 as written in the file, that is UTC-05:00.
    assert min(got.values()) == dt.datetime(2012, 7, 15, 7, 51, tzinfo=dt.UTC)
    assert max(got.values()) == dt.datetime(2018, 6, 13, 6, 12, tzinfo=dt.UTC)
    # One row of each layout, by hand: "4/22/2018 6:00" (line 2) and "4/11/18 04:53" (line 11).
    assert got["246675545449582_1649696485147474"] == dt.datetime(2018, 4, 22, 11, 0, tzinfo=dt.UTC)
    assert got["246675545449582_1638788379571618"] == dt.datetime(2018, 4, 11, 9, 53, tzinfo=dt.UTC)


def test_the_chosen_zone_puts_the_quiet_hours_at_night_in_bangkok(loaded):
    db, _ = loaded
    ((night, total),) = query(
        db,
        "SELECT count(*) FILTER (WHERE hour(timezone('Asia/Bangkok', published_at)) BETWEEN 2 AND 6), count(*) "
        "FROM marts.posts",
    )
    assert total == 6997 and night / total < 0.01  # 40 posts between 02:00 and 06:59 local time


def test_reference_means_are_reproduced_from_marts_posts(loaded):
    db, _ = loaded
    rows_per_post = Counter(r["status_id"] for r in file_rows())
    posts = query(db, "SELECT post_id, likes, comments FROM marts.posts")
    assert len(posts) == len(rows_per_post) == 6997
    n = sum(rows_per_post.values())
    likes = sum(int(str(lk)) * rows_per_post[str(pid)] for pid, lk, _ in posts) / n
    comments = sum(int(str(c)) * rows_per_post[str(pid)] for pid, _, c in posts) / n
    # SOURCE.md reference means over the 7,050 rows, each repeated row counted again like in the file.
    assert likes == pytest.approx(230.117163, abs=5e-7)
    assert comments == pytest.approx(224.356028, abs=5e-7)
    # Over the 6,997 distinct posts (a repeated row's counters equal its first copy's):
    ((mean_likes, mean_comments, total_likes),) = query(
        db, "SELECT avg(likes), avg(comments), sum(likes) FROM marts.posts"
    )
    seen: dict[str, int] = {}
    for row in file_rows():
        seen.setdefault(row["status_id"], int(row["num_reactions"]))
    assert total_likes == sum(seen.values()) == 1573989
    assert mean_likes == pytest.approx(224.951979, abs=5e-7)
    assert mean_comments == pytest.approx(225.613977, abs=5e-7)


def test_counters_are_read_once_at_the_chosen_time_and_the_rest_kept_in_extra(loaded):
    db, _ = loaded
    assert query(db, "SELECT DISTINCT observed_at FROM raw.posts") == [(OBSERVED_AT,)]
    not_7d = query(db, "SELECT count(*) FILTER (WHERE NOT is_7d_observed), min(age_days) FROM marts.posts")[0]
    week_before = OBSERVED_AT - dt.timedelta(days=7)
    published = {r["status_id"]: file_time(r["status_published"]) for r in file_rows()}
    assert not_7d[0] == sum(1 for t in published.values() if t > week_before)
    assert 0 < float(str(not_7d[1])) < 1  # the newest post is 17 h 48 min old
    (extra,) = query(db, "SELECT extra FROM raw.posts WHERE post_id = '246675545449582_1649696485147474'")[0]
    # Line 2 of the file: ...,529,512,262,432,92,3,1,1,0
    assert json.loads(str(extra)) == dict(zip(COUNTERS, ["432", "92", "3", "1", "1", "0"], strict=True))
    row = query(db, "SELECT likes, comments, shares FROM raw.posts WHERE post_id = '246675545449582_1649696485147474'")
    assert row == [(529, 512, 262)]


def test_num_reactions_is_the_like_count_before_reactions_existed(loaded):
    # The mapping's reason for likes <- num_reactions: on posts before the reactions launch (2016-02-24)
    # the two counts are equal; later, the six named reactions add up to num_reactions except on 9 posts.
    db, _ = loaded
    six = " + ".join(f"CAST(extra ->> '{c}' AS BIGINT)" for c in COUNTERS)
    got = query(
        db,
        "SELECT count(*) FILTER (WHERE published_at < TIMESTAMPTZ '2016-02-24 00:00:00+00'), "
        "count(*) FILTER (WHERE published_at < TIMESTAMPTZ '2016-02-24 00:00:00+00' "
        "AND likes <> CAST(extra ->> 'num_likes' AS BIGINT)), "
        f"count(*) FILTER (WHERE likes > {six}), count(*) FILTER (WHERE likes < {six}) FROM raw.posts",
    )
    assert got == [(1717, 0, 9, 0)]


def test_loading_the_sample_again_adds_nothing(loaded, tmp_path):
    db, _ = loaded
    before = query(db, "SELECT count(*), sum(likes) FROM raw.posts")
    again = ingest("posts", [SAMPLE], db=db, mapping="facebook_live_sellers")
    assert (again.rows_read, again.rows_loaded, again.rows_duplicate) == (7050, 0, 7050)
    # The same rows under another file name (new bytes: one more line end) are recognised by their keys.
    copy = tmp_path / "Live-copy.csv"
    copy.write_bytes(SAMPLE.read_bytes() + b"\r\n")
    again = ingest("posts", [copy], db=db, mapping="facebook_live_sellers")
    assert (again.rows_read, again.rows_loaded, again.rows_rejected, again.rows_duplicate) == (7050, 0, 0, 7050)
    assert query(db, "SELECT count(*), sum(likes) FROM raw.posts") == before
