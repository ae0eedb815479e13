"""The rules of docs/funnels.md on small hand-written logs, each number worked out by hand beside it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from insights.funnels import Funnel, Step

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday
SECOND = dt.timedelta(seconds=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
MICRO = dt.timedelta(microseconds=1)


def log(rows: list[dict[str, Any]], *, seq: bool = True) -> duckdb.DuckDBPyRelation:
    """Rows with ``unit`` (the session; its user is ``user`` or the same id), ``at`` (offset from T0), ``event``, and
    optionally ``role``, ``seq`` (session_seq, in row order by default) and ``channel``."""
    counters: dict[str, int] = {}
    columns: dict[str, list[Any]] = {c: [] for c in ("session_id", "user_id", "ts", "event", "role", "channel")}
    seqs = []
    for row in rows:
        session = row["unit"]
        counters[session] = counters.get(session, 0) + 1
        columns["session_id"].append(session)
        columns["user_id"].append(row.get("user", session))
        columns["ts"].append(T0 + row["at"])
        columns["event"].append(row.get("event"))
        columns["role"].append(row.get("role", "system"))
        columns["channel"].append(row.get("channel", "web"))
        seqs.append(row.get("seq", counters[session]))
    table = {
        "session_id": pa.array(columns["session_id"], pa.string()),
        "user_id": pa.array(columns["user_id"], pa.string()),
        "ts": pa.array(columns["ts"], pa.timestamp("us", tz="UTC")),
        "event": pa.array(columns["event"], pa.string()),
        "role": pa.array(columns["role"], pa.string()),
        "channel": pa.array(columns["channel"], pa.string()),
    }
    if seq:
        table["session_seq"] = pa.array(seqs, pa.int64())
    return duckdb.connect().from_arrow(pa.table(table))


def furthest(funnel: Funnel, source: Any, **kwargs: Any) -> dict[str, int]:
    return {row[0]: row[3] for row in funnel.units(source, **kwargs).fetchall()}


def counts(funnel: Funnel, source: Any, **kwargs: Any) -> list[int]:
    return [s.n_units for s in funnel.compute(source, **kwargs).steps]


ABC = Funnel(["a", "b", "c"], window="1 day")


# --- ties --------------------------------------------------------------------------------------------------------------


def test_rows_at_the_same_instant_follow_session_seq() -> None:
    # b is logged before a within the same microsecond: session_seq says b came first, so a -> b did not happen
    rows = [
        {"unit": "s1", "at": 0 * SECOND, "event": "a", "seq": 2},
        {"unit": "s1", "at": 0 * SECOND, "event": "b", "seq": 1},
    ]
    assert furthest(ABC, log(rows)) == {"s1": 1}


def test_without_session_seq_a_tie_is_taken_in_step_order() -> None:
    # the same two rows in a table without session_seq: rows at one instant go in the order of the steps they match
    rows = [{"unit": "s1", "at": 0 * SECOND, "event": "b"}, {"unit": "s1", "at": 0 * SECOND, "event": "a"}]
    assert furthest(ABC, log(rows, seq=False)) == {"s1": 2}


def test_a_users_sessions_at_the_same_instant_interleave_by_session_seq() -> None:
    user = Funnel(["a", "b"], unit="user", window="1 day")
    # session x logs a as its 2nd row, session y logs b as its 1st row, at the same instant: b (seq 1) comes first
    rows = [
        {"unit": "x", "user": "u", "at": -SECOND, "event": None, "seq": 1},
        {"unit": "x", "user": "u", "at": 0 * SECOND, "event": "a", "seq": 2},
        {"unit": "y", "user": "u", "at": 0 * SECOND, "event": "b", "seq": 1},
    ]
    assert furthest(user, log(rows)) == {"u": 1}
    # with equal session_seq the steps decide: a (step 1) before b (step 2)
    rows[1]["seq"] = 1
    assert furthest(user, log(rows)) == {"u": 2}


def test_one_row_never_counts_as_two_consecutive_steps() -> None:
    both = Funnel([Step(where="event IN ('a', 'b')", name="a_or_b"), "b"], window="1 day")
    assert furthest(both, log([{"unit": "s1", "at": 0 * SECOND, "event": "b"}])) == {"s1": 1}
    rows = [{"unit": "s1", "at": 0 * SECOND, "event": "b"}, {"unit": "s1", "at": SECOND, "event": "b"}]
    assert furthest(both, log(rows)) == {"s1": 2}


def test_rows_without_a_unit_belong_to_no_unit() -> None:
    rows = [
        {"unit": "s1", "user": None, "at": 0 * SECOND, "event": "a"},
        {"unit": "s1", "user": "u1", "at": SECOND, "event": "b"},
    ]
    user = Funnel(["a", "b"], unit="user", window="1 day")
    assert furthest(user, log(rows)) == {"u1": 0}
    assert counts(user, log(rows)) == [0, 0]


# --- attempts and the window -----------------------------------------------------------------------------------------


def test_every_step_one_starts_an_attempt_with_its_own_window() -> None:
    funnel = Funnel(["a", "b", "c"], unit="user", window="2 days")
    rows = [
        # attempt 1 reaches b; attempt 2 (day 5) reaches c: the unit counts at step 3
        {"unit": "s1", "user": "u1", "at": 0 * DAY, "event": "a"},
        {"unit": "s1", "user": "u1", "at": 1 * DAY, "event": "b"},
        {"unit": "s2", "user": "u1", "at": 5 * DAY, "event": "a"},
        {"unit": "s2", "user": "u1", "at": 6 * DAY, "event": "b"},
        {"unit": "s2", "user": "u1", "at": 6 * DAY + HOUR, "event": "c"},
        # b is 4 days after the first a, but 1 day after the second: the second attempt converts
        {"unit": "s3", "user": "u2", "at": 0 * DAY, "event": "a"},
        {"unit": "s3", "user": "u2", "at": 3 * DAY, "event": "a"},
        {"unit": "s3", "user": "u2", "at": 4 * DAY, "event": "b"},
    ]
    assert furthest(funnel, log(rows)) == {"u1": 3, "u2": 2}
    result = funnel.compute(log(rows))
    # time to b: u1's first conversion is attempt 1 (1 day); u2's is from the latest a before b (1 day)
    assert result.steps[1].median_seconds == 86_400
    # time to c: u1 only, from attempt 2's a (day 5) to c (day 6 + 1 h)
    assert result.steps[2].median_seconds == 86_400 + 3_600


def test_the_window_counts_from_step_one_and_includes_its_last_instant() -> None:
    funnel = Funnel(["a", "b", "c"], window="1 hour")
    rows = [
        {"unit": "in", "at": 0 * SECOND, "event": "a"},
        {"unit": "in", "at": 30 * 60 * SECOND, "event": "b"},
        {"unit": "in", "at": HOUR, "event": "c"},  # exactly at the end of the window: in
        {"unit": "out", "at": 0 * SECOND, "event": "a"},
        {"unit": "out", "at": 30 * 60 * SECOND, "event": "b"},
        {"unit": "out", "at": HOUR + MICRO, "event": "c"},  # one microsecond later: out
    ]
    assert furthest(funnel, log(rows)) == {"in": 3, "out": 2}


def test_start_and_end_bound_the_entries_not_the_later_steps() -> None:
    end = T0 + DAY
    rows = [
        {"unit": "late", "at": DAY - HOUR, "event": "a"},  # enters before end ...
        {"unit": "late", "at": DAY + HOUR, "event": "b"},  # ... converts after it: counted
        {"unit": "after", "at": DAY, "event": "a"},  # enters at end (exclusive): not an entry
        {"unit": "after", "at": DAY + HOUR, "event": "b"},
        {"unit": "early", "at": -HOUR, "event": "a"},  # enters before start
        {"unit": "early", "at": HOUR, "event": "b"},
    ]
    assert furthest(ABC, log(rows), start=T0, end=end) == {"late": 2, "after": 0, "early": 0}
    assert counts(ABC, log(rows), start=T0, end=end) == [1, 1, 0]
    # dates are midnight UTC: from 2026-03-02 00:00 to 2026-03-03 00:00 only "early" (08:00) enters
    assert furthest(ABC, log(rows), start=T0.date(), end="2026-03-03") == {"late": 0, "after": 0, "early": 2}


# --- modes -----------------------------------------------------------------------------------------------------------


def test_strict_needs_each_step_to_be_the_very_next_event() -> None:
    rows = [
        {"unit": "s1", "at": 0 * SECOND, "event": "session_start"},
        {"unit": "s1", "at": SECOND, "event": "message", "role": "bot"},  # the greeting comes between
        {"unit": "s1", "at": 2 * SECOND, "event": "message", "role": "user"},
    ]
    steps = ["session_start", Step("message", where="role = 'user'", name="user_message")]
    assert furthest(Funnel(steps, window="1 hour", mode="ordered"), log(rows)) == {"s1": 2}
    assert furthest(Funnel(steps, window="1 hour", mode="strict"), log(rows)) == {"s1": 1}
    # where= decides which rows are events at all: without bot rows the user message is next
    strict = Funnel(steps, window="1 hour", mode="strict", where="role <> 'bot'")
    assert furthest(strict, log(rows)) == {"s1": 2}


def test_strict_restarts_at_a_later_step_one() -> None:
    rows = [{"unit": "s1", "at": i * SECOND, "event": e} for i, e in enumerate(["a", "x", "a", "b", "c"])]
    assert furthest(Funnel(["a", "b", "c"], window="1 hour", mode="strict"), log(rows)) == {"s1": 3}


def test_any_order_takes_the_later_steps_in_any_order_after_step_one() -> None:
    funnel = Funnel(["a", "b", "c"], window="1 hour", mode="any_order")
    rows = [
        {"unit": "s1", "at": 0 * SECOND, "event": "a"},
        {"unit": "s1", "at": 10 * SECOND, "event": "c"},
        {"unit": "s1", "at": 30 * SECOND, "event": "b"},
        {"unit": "s2", "at": 0 * SECOND, "event": "c"},  # before step 1: does not count
        {"unit": "s2", "at": 10 * SECOND, "event": "a"},
        {"unit": "s2", "at": 20 * SECOND, "event": "b"},
    ]
    assert furthest(funnel, log(rows)) == {"s1": 3, "s2": 2}
    assert furthest(Funnel(["a", "b", "c"], window="1 hour"), log(rows)) == {"s1": 2, "s2": 2}
    result = funnel.compute(log(rows))
    # s1 has both b and c 30 s after a (the later of the two); s1 and s2 reach b after 30 s and 10 s
    assert result.steps[2].median_seconds == 30
    assert result.steps[1].median_seconds == 20  # the median of 30 and 10


# --- exclusions ----------------------------------------------------------------------------------------------------------


def test_an_exclusion_in_the_window_of_any_attempt_removes_the_unit() -> None:
    funnel = Funnel(["a", "b"], window="1 day", exclude=["handoff"])
    rows = [
        {"unit": "inside", "at": 0 * SECOND, "event": "a"},
        {"unit": "inside", "at": HOUR, "event": "handoff"},
        {"unit": "inside", "at": 2 * HOUR, "event": "b"},
        {"unit": "before", "at": -HOUR, "event": "handoff"},
        {"unit": "before", "at": 0 * SECOND, "event": "a"},
        {"unit": "before", "at": HOUR, "event": "b"},
        {"unit": "after", "at": 0 * SECOND, "event": "a"},
        {"unit": "after", "at": HOUR, "event": "b"},
        {"unit": "after", "at": DAY + SECOND, "event": "handoff"},
        {"unit": "edge", "at": 0 * SECOND, "event": "a"},
        {"unit": "edge", "at": DAY, "event": "handoff"},  # at the window's last instant: inside
        {"unit": "second", "at": 0 * SECOND, "event": "a"},
        {"unit": "second", "at": 3 * DAY, "event": "a"},
        {"unit": "second", "at": 3 * DAY + HOUR, "event": "handoff"},  # inside the second attempt's window
    ]
    units = {row[0]: (row[2], row[3]) for row in funnel.units(log(rows)).fetchall()}
    assert units == {
        "inside": (True, 0),
        "before": (False, 2),
        "after": (False, 2),
        "edge": (True, 0),
        "second": (True, 0),
    }
    result = funnel.compute(log(rows))
    assert result.n_excluded == 3
    assert [s.n_units for s in result.steps] == [2, 2]


def test_an_exclusion_on_the_step_one_row_itself_counts() -> None:
    funnel = Funnel(["a", "b"], window="1 day", exclude=[Step(where="channel = 'sms'", name="sms")])
    rows = [
        {"unit": "s1", "at": 0 * SECOND, "event": "a", "channel": "sms"},
        {"unit": "s1", "at": SECOND, "event": "b"},
    ]
    assert funnel.compute(log(rows)).n_excluded == 1


# --- results -----------------------------------------------------------------------------------------------------------


def converting(unit: str, at: dt.timedelta, wait: dt.timedelta, channel: str | None = "web") -> list[dict[str, Any]]:
    return [
        {"unit": unit, "at": at, "event": "a", "channel": channel},
        {"unit": unit, "at": at + wait, "event": "b", "channel": channel},
    ]


def test_time_to_convert_is_the_median_and_p90_of_the_units() -> None:
    rows = converting("s1", 0 * SECOND, 10 * SECOND) + converting("s2", 0 * SECOND, 20 * SECOND)
    rows += converting("s3", 0 * SECOND, 60 * SECOND)
    step = Funnel(["a", "b"], window="1 hour").compute(log(rows)).steps[1]
    # numpy.quantile([10, 20, 60], [0.5, 0.9]) -> [20.0, 52.0] (linear interpolation: 20 + 0.8 * (60 - 20))
    assert (step.median_seconds, step.p90_seconds) == (20.0, 52.0)


def test_the_summary_names_the_conversion_and_the_largest_drop() -> None:
    rows = []
    for i in range(10):
        rows.append({"unit": f"s{i}", "at": 0 * SECOND, "event": "a"})
        if i < 8:
            rows.append({"unit": f"s{i}", "at": SECOND, "event": "b"})
        if i < 2:
            rows.append({"unit": f"s{i}", "at": 2 * SECOND, "event": "c"})
    result = Funnel(["a", "b", "c"], window="7 days").compute(log(rows))
    # 2 of 10 reach c; a -> b keeps 8/10 (-20%), b -> c keeps 2/8 (-75%)
    assert result.summary_lines()[0] == (
        "20.0% of the 10 sessions that reached a reached c within 7 days; the largest drop is between b and c (-75%)."
    )
    assert [s.n_dropped for s in result.steps] == [0, 2, 6]
    assert result.steps[2].step_rate == 0.25
    assert result.title == "Funnel (sessions, ordered, 7 days): a → b → c"


def test_entry_periods_younger_than_the_window_are_incomplete() -> None:
    rows = [r for d in range(5) for r in converting(f"s{d}", d * DAY, HOUR)]
    result = Funnel(["a", "b"], window="2 days").compute(log(rows))
    periods = result.over_time.periods
    assert [p.period_start for p in periods] == [(T0 + d * DAY).date() for d in range(5)]
    # the log ends at day 4 + 1 h (09:00 + 1 h); a day's last entry (23:59:59.999999) plus 2 days must be before that:
    # days 0 and 1 qualify (day 1 + 3 days - 1 µs = day 4 00:00 - 1 µs, before day 4 10:00), days 2.. do not
    assert [p.is_complete for p in periods] == [True, True, False, False, False]
    assert "incomplete" in result.summary_lines()[1]
    weekly = Funnel(["a", "b"], window="2 days").compute(log(rows), period="week")
    assert [(p.period_start, p.n_units) for p in weekly.over_time.periods] == [(T0.date(), (5, 5))]


def test_weeks_start_on_monday() -> None:
    rows = converting("sun", -DAY, HOUR) + converting("mon", 0 * SECOND, HOUR) + converting("next", 7 * DAY, HOUR)
    weekly = Funnel(["a", "b"], window="1 day").compute(log(rows), period="week")
    monday = T0.date()
    assert [(p.period_start, p.n_units[0]) for p in weekly.over_time.periods] == [
        (monday - dt.timedelta(days=7), 1),
        (monday, 1),
        (monday + dt.timedelta(days=7), 1),
    ]


def test_a_breakdown_keeps_the_largest_values_and_pools_the_rest() -> None:
    rows: list[dict[str, Any]] = []
    plan = {"web": (4, 3), "messenger": (3, 1), "whatsapp": (2, 2), "sms": (1, 0), None: (2, 1)}
    for channel, (entered, converted) in plan.items():
        for i in range(entered):
            unit = f"{channel}{i}"
            rows.append({"unit": unit, "at": 0 * SECOND, "event": "a", "channel": channel})
            if i < converted:
                rows.append({"unit": unit, "at": SECOND, "event": "b", "channel": channel})
    result = Funnel(["a", "b"], window="1 day").compute(log(rows), breakdown="channel", max_breakdown_values=2)
    assert result.breakdown is not None
    groups = [(g.value, g.kind, g.n_units) for g in result.breakdown.groups]
    assert groups == [
        ("web", "value", (4, 3)),
        ("messenger", "value", (3, 1)),
        ("(other)", "other", (3, 2)),  # whatsapp and sms
        ("(missing)", "missing", (2, 1)),
    ]
    assert result.breakdown.summary_lines() == ["Conversion to b ranges from 33.3% (messenger) to 75.0% (web)."]


def test_a_users_breakdown_value_is_the_one_on_their_first_entry() -> None:
    rows = [
        {"unit": "x", "user": "u", "at": 0 * SECOND, "event": "a", "channel": "web"},
        {"unit": "y", "user": "u", "at": DAY, "event": "a", "channel": "whatsapp"},
        {"unit": "y", "user": "u", "at": DAY + SECOND, "event": "b", "channel": "whatsapp"},
    ]
    result = Funnel(["a", "b"], unit="user", window="1 day").compute(log(rows), breakdown="channel")
    assert result.breakdown is not None
    assert [(g.value, g.n_units) for g in result.breakdown.groups] == [("web", (1, 1))]


def test_a_funnel_nobody_entered_is_a_result_with_a_note() -> None:
    result = ABC.compute(log([{"unit": "s1", "at": 0 * SECOND, "event": "b"}]))
    assert [s.n_units for s in result.steps] == [0, 0, 0]
    assert result.steps[1].overall_rate is None
    assert result.summary_lines() == ["No session reached a in the period, so the funnel has no conversions to show."]
    assert "(no rows)" not in result.to_markdown()
    assert result.over_time.periods == ()


def test_the_units_table_has_one_row_per_unit_and_a_column_per_step() -> None:
    rows = [
        *converting("s1", 0 * SECOND, SECOND),
        {"unit": "s2", "at": 0 * SECOND, "event": "a"},
        {"unit": "s3", "at": 0 * SECOND, "event": "b"},
    ]
    units = Funnel(["a", "b"], window="1 day").units(log(rows))
    assert units.columns == ["session_id", "entered_at", "is_excluded", "furthest_step", "reached_a", "reached_b"]
    assert sorted(units.fetchall()) == [
        ("s1", T0, False, 2, 1, 1),
        ("s2", T0, False, 1, 1, 0),
        ("s3", None, False, 0, 0, 0),
    ]


def test_a_table_name_on_a_connection_is_read_like_a_relation() -> None:
    con = duckdb.connect()
    events = log(converting("s1", 0 * SECOND, SECOND))
    con.register("my_events", events.arrow())  # a view over an Arrow table
    assert counts(Funnel(["a", "b"], window="1 day"), con, events="my_events") == [1, 1]


def test_the_result_converts_and_draws() -> None:
    pytest.importorskip("plotly")
    rows = [r for d in range(3) for r in converting(f"s{d}", d * DAY, HOUR, channel="web" if d else "sms")]
    result = Funnel(["a", "b"], window="1 day").compute(log(rows), breakdown="channel")
    frame = result.to_pandas()
    assert list(frame["n_units"]) == [3, 3]
    assert "overall_ci_low" in frame.columns
    assert result.over_time.to_polars().height == 3
    assert "| 1. a |" in result.to_markdown()
    assert "<table>" in result._repr_html_()
    figure = result.plot()
    assert figure.data[0].type == "funnel"
    assert list(figure.data[0].x) == [3, 3]
    assert result.breakdown is not None
    assert [trace.name for trace in result.breakdown.plot().data] == ["web", "sms"]
    assert len(result.over_time.plot().data) == 4
