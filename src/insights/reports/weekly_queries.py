"""The weekly report's questions to the warehouse: a dozen grouped queries, aggregates only.

Every query binds the week as parameters ($start, $end: Monday 00:00 UTC to the next Monday) and returns at
most a few hundred rows, whatever the size of the logs. Weeks and days are counted from $start in seconds
(`epoch`), so the answer never depends on the session's time zone. Index 0 is the report's week, -1 the week
before, and so on; "the 4 weeks before" are the indexes -4 to -1.

The engagement queries read posts at the fixed age of 7 days, from the `*_7d` columns of marts.posts (the one
place that defines how a counter at a fixed age is read from the snapshots). The cohort of a week is the
posts whose 7-day mark falls in it: published in [start - 7 days, end - 7 days).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from insights.errors import WarehouseError
from insights.reports.weeks import IsoWeek

#: The fixed post age of the engagement numbers: the age of marts.posts' `*_7d` columns.
POST_AGE_DAYS = 7

#: Tables the report reads; a warehouse without them has not been built.
TABLES = (
    "marts.posts",
    "marts.chat_sessions",
    "marts.leads",
    "staging.post_metrics",
    "raw.posts",
    "raw.post_metrics",
    "raw.chat_events",
    "raw.leads",
    "meta.loads",
    "meta.rejects",
)
#: Posts shown at the top and at the bottom of the ranking, and the length their text is cut to.
N_TOP_POSTS = 5
TEXT_CHARS = 140
#: A post is ranked only with at least this many impressions at the fixed age, and at least this share of
#: the median post's impressions that week: a post seen by 40 people and liked by 6 is not a lesson.
MIN_IMPRESSIONS = 100
MIN_IMPRESSIONS_SHARE_OF_MEDIAN = 0.25
#: How many reject reasons are named.
N_REASONS = 3

_TABLE_ROWS = """
SELECT 'marts.posts' AS table_name, count(*) AS n_rows FROM marts.posts
UNION ALL SELECT 'marts.chat_sessions', count(*) FROM marts.chat_sessions
UNION ALL SELECT 'marts.leads', count(*) FROM marts.leads
UNION ALL SELECT 'staging.post_metrics', count(*) FROM staging.post_metrics
UNION ALL SELECT 'raw.posts', count(*) FROM raw.posts
UNION ALL SELECT 'raw.post_metrics', count(*) FROM raw.post_metrics
UNION ALL SELECT 'raw.chat_events', count(*) FROM raw.chat_events
UNION ALL SELECT 'raw.leads', count(*) FROM raw.leads
UNION ALL SELECT 'meta.loads', count(*) FROM meta.loads
UNION ALL SELECT 'meta.rejects', count(*) FROM meta.rejects
"""

_SPAN = """
SELECT 'posts' AS log, min(published_at) AS first_at, max(published_at) AS last_at FROM marts.posts
UNION ALL SELECT 'chat_sessions', min(started_at), max(started_at) FROM marts.chat_sessions
UNION ALL SELECT 'leads', min(created_at), max(created_at) FROM marts.leads
"""

_POSTS_PUBLISHED = """
SELECT CAST(floor((epoch(published_at) - epoch($start)) / 604800) AS INTEGER) AS week_index, count(*) AS n_posts
FROM marts.posts
WHERE published_at >= $start - INTERVAL 28 DAY AND published_at < $end
GROUP BY 1
"""

# The posts whose age mark falls in the week (index 0) or in one of the 4 weeks before, with their counters
# at that age. engagements = likes + comments + shares + saves (a counter never reported counts as 0);
# both are NULL while no snapshot reaches the mark.
_AGED_FROM_MARTS = """
aged AS (
    SELECT
        post_id, platform, account_id, content_type, origin, published_at, text,
        impressions_7d AS impressions_at_age,
        CASE WHEN impressions_7d IS NOT NULL
            THEN coalesce(likes_7d, 0) + coalesce(comments_7d, 0) + coalesce(shares_7d, 0) + coalesce(saves_7d, 0)
        END AS engagements_at_age,
        CAST(floor((epoch(published_at) + 86400 * $age_days - epoch($start)) / 604800) AS INTEGER) AS cohort_week
    FROM marts.posts
    WHERE published_at >= $start - to_days(CAST($age_days AS INTEGER) + 28)
        AND published_at < $end - to_days(CAST($age_days AS INTEGER))
)"""

_COHORTS = """
SELECT
    cohort_week AS week_index,
    count(*) AS n_posts,
    count(impressions_at_age) AS n_measured,
    sum(impressions_at_age) AS impressions,
    sum(engagements_at_age) AS engagements
FROM aged
GROUP BY 1
"""

_ENGAGEMENT_BY = """
SELECT
    CASE WHEN GROUPING(platform) = 0 THEN 'platform'
        WHEN GROUPING(content_type) = 0 THEN 'content_type'
        ELSE 'origin' END AS dimension,
    CASE WHEN GROUPING(platform) = 0 THEN platform
        WHEN GROUPING(content_type) = 0 THEN content_type
        ELSE origin END AS value,
    count(*) FILTER (WHERE cohort_week = 0) AS n_posts,
    coalesce(sum(impressions_at_age) FILTER (WHERE cohort_week = 0), 0) AS impressions,
    coalesce(sum(engagements_at_age) FILTER (WHERE cohort_week = 0), 0) AS engagements,
    count(*) FILTER (WHERE cohort_week < 0) AS n_posts_previous_4_weeks,
    coalesce(sum(impressions_at_age) FILTER (WHERE cohort_week < 0), 0) AS impressions_previous_4_weeks,
    coalesce(sum(engagements_at_age) FILTER (WHERE cohort_week < 0), 0) AS engagements_previous_4_weeks
FROM aged
WHERE impressions_at_age IS NOT NULL
GROUP BY GROUPING SETS ((platform), (content_type), (origin))
"""

_TOP_BOTTOM = """
, measured AS (
    SELECT * FROM aged WHERE cohort_week = 0 AND impressions_at_age IS NOT NULL
),
threshold AS (
    SELECT
        greatest($min_impressions, coalesce($min_share * median(impressions_at_age), 0)) AS min_impressions,
        count(*) AS n_measured
    FROM measured
),
ranked AS (
    SELECT
        m.*,
        m.engagements_at_age / m.impressions_at_age AS engagement_rate,
        row_number() OVER (ORDER BY m.engagements_at_age / m.impressions_at_age DESC, m.post_id) AS rank_top,
        row_number() OVER (ORDER BY m.engagements_at_age / m.impressions_at_age, m.post_id DESC) AS rank_bottom,
        count(*) OVER () AS n_ranked
    FROM measured AS m, threshold AS t
    WHERE m.impressions_at_age >= t.min_impressions AND m.impressions_at_age > 0
)
SELECT
    t.min_impressions,
    t.n_measured,
    coalesce(r.n_ranked, 0) AS n_ranked,
    r.rank_top,
    r.rank_bottom,
    r.post_id,
    r.published_at,
    r.platform,
    r.account_id,
    r.content_type,
    r.origin,
    r.impressions_at_age,
    r.engagements_at_age,
    r.engagement_rate,
    CASE WHEN length(r.flat_text) > $text_chars THEN rtrim(left(r.flat_text, $text_chars - 1)) || '…'
        ELSE r.flat_text END AS text
FROM threshold AS t
LEFT JOIN (
    SELECT *, trim(regexp_replace(text, '\\s+', ' ', 'g')) AS flat_text FROM ranked
) AS r ON r.rank_top <= $n_top OR r.rank_bottom <= $n_top
ORDER BY r.rank_top
"""

_SESSIONS = """
SELECT CAST(floor((epoch(started_at) - epoch($start)) / 604800) AS INTEGER) AS week_index, count(*) AS n_sessions
FROM marts.chat_sessions
WHERE started_at >= $start - INTERVAL 28 DAY AND started_at < $end
GROUP BY 1
"""

# Lead events per week: created (first stage change), qualified (first change into mql, sql, opportunity
# or won: a CRM that skips mql still qualifies), won (with the won value).
_LEADS = """
WITH leads AS (
    SELECT created_at, least(mql_at, sql_at, opportunity_at, won_at) AS qualified_at, won_at, value
    FROM marts.leads
),
events AS (
    SELECT 'created' AS event, created_at AS event_at, NULL::DOUBLE AS value FROM leads
    WHERE created_at >= $start - INTERVAL 28 DAY AND created_at < $end
    UNION ALL
    SELECT 'qualified', qualified_at, NULL FROM leads
    WHERE qualified_at >= $start - INTERVAL 28 DAY AND qualified_at < $end
    UNION ALL
    SELECT 'won', won_at, value FROM leads
    WHERE won_at >= $start - INTERVAL 28 DAY AND won_at < $end
)
SELECT
    CAST(floor((epoch(event_at) - epoch($start)) / 604800) AS INTEGER) AS week_index,
    event,
    count(*) AS n_leads,
    coalesce(sum(value), 0) AS value
FROM events
GROUP BY 1, 2
"""

# Each step counts the sessions that reached it and every step before, so the funnel never gains
# sessions. "Qualified": a lead that names the session has reached mql or beyond by the end of the data.
_FUNNEL = """
WITH qualified AS (
    SELECT DISTINCT session_id FROM marts.leads WHERE is_qualified AND session_id IS NOT NULL
),
sessions AS (
    SELECT
        s.started_at >= $start AS is_week,
        s.n_user_turns > 0 AS has_user_message,
        s.is_lead_captured,
        q.session_id IS NOT NULL AS is_qualified,
        s.is_handoff,
        s.n_fallbacks > 0 AS has_fallback
    FROM marts.chat_sessions AS s
    LEFT JOIN qualified AS q ON q.session_id = s.session_id
    WHERE s.started_at >= $start - INTERVAL 28 DAY AND s.started_at < $end
)
SELECT
    is_week,
    count(*) AS n_sessions,
    count(*) FILTER (WHERE has_user_message) AS n_user_message,
    count(*) FILTER (WHERE has_user_message AND is_lead_captured) AS n_lead_captured,
    count(*) FILTER (WHERE has_user_message AND is_lead_captured AND is_qualified) AS n_qualified,
    count(*) FILTER (WHERE is_handoff) AS n_handoff,
    count(*) FILTER (WHERE has_fallback) AS n_fallback
FROM sessions
GROUP BY is_week
"""

_LEAD_SOURCES = """
SELECT
    l.source,
    s.channel,
    count(*) FILTER (WHERE l.created_at >= $start) AS n_leads,
    count(*) FILTER (WHERE l.created_at >= $start AND l.is_qualified) AS n_qualified,
    count(*) FILTER (WHERE l.created_at < $start) AS n_leads_previous_4_weeks
FROM marts.leads AS l
LEFT JOIN marts.chat_sessions AS s ON s.session_id = l.session_id
WHERE l.created_at >= $start - INTERVAL 28 DAY AND l.created_at < $end
GROUP BY 1, 2
"""

# Rows of each log whose own timestamp falls in the week, by day of the week and by the load that brought them.
_DAILY_ROWS = """
SELECT 'posts' AS log, _load_id AS load_id,
    CAST(floor((epoch(published_at) - epoch($start)) / 86400) AS INTEGER) AS day_index, count(*) AS n_rows
FROM raw.posts WHERE published_at >= $start AND published_at < $end GROUP BY ALL
UNION ALL
SELECT 'post_metrics', _load_id, CAST(floor((epoch(observed_at) - epoch($start)) / 86400) AS INTEGER), count(*)
FROM raw.post_metrics WHERE observed_at >= $start AND observed_at < $end GROUP BY ALL
UNION ALL
SELECT 'chat_events', _load_id, CAST(floor((epoch(ts) - epoch($start)) / 86400) AS INTEGER), count(*)
FROM raw.chat_events WHERE ts >= $start AND ts < $end GROUP BY ALL
UNION ALL
SELECT 'leads', _load_id, CAST(floor((epoch(changed_at) - epoch($start)) / 86400) AS INTEGER), count(*)
FROM raw.leads WHERE changed_at >= $start AND changed_at < $end GROUP BY ALL
"""

_LOADS = """
SELECT
    load_id, kind, file, loaded_at, rows_read, rows_loaded, rows_rejected, rows_duplicate,
    loaded_at >= $start AND loaded_at < $end AS ran_in_week,
    list_contains(CAST($carried AS INTEGER[]), load_id) AS carried_week
FROM meta.loads
WHERE (loaded_at >= $start AND loaded_at < $end) OR list_contains(CAST($carried AS INTEGER[]), load_id)
ORDER BY loaded_at, load_id
"""

_REJECT_REASONS = """
SELECT reason, count(*) AS n_rows
FROM meta.rejects
WHERE list_contains(CAST($load_ids AS INTEGER[]), load_id)
GROUP BY reason
ORDER BY n_rows DESC, reason
"""

_CHAT_DAILY = """
SELECT CAST(floor((epoch(started_at) - epoch($start)) / 86400) AS INTEGER) AS day_index, count(*) AS n_sessions
FROM marts.chat_sessions
WHERE started_at >= $start - INTERVAL 28 DAY AND started_at < $end
GROUP BY 1
"""

# The posts this report talks about: published in the week, or in the cohort that reached its age mark in it.
_POSTS_OFF = """
SELECT
    count(*) AS n_posts,
    count(*) FILTER (WHERE clicks > impressions) AS n_clicks_above_impressions,
    count(*) FILTER (
        WHERE coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0) + coalesce(saves, 0) > impressions
    ) AS n_engagements_above_impressions,
    count(*) FILTER (WHERE n_snapshots = 0) AS n_without_metrics
FROM marts.posts
WHERE published_at >= $start - to_days(CAST($age_days AS INTEGER)) AND published_at < $end
"""


def aged_posts_query(select: str) -> str:
    """WITH <the posts at their 7-day mark, as `aged`> followed by `select` (constants of this module only)."""
    return "WITH " + _AGED_FROM_MARTS + ("" if select.startswith(",") else "\n") + select


@dataclass
class _Runner:
    """Runs the queries, binding only the parameters each one names; keeps time and row counts."""

    con: duckdb.DuckDBPyConnection
    params: dict[str, Any]
    seconds: float = 0.0
    row_counts: dict[str, int] = field(default_factory=dict)

    def rows(self, name: str, sql: str, **extra: Any) -> list[dict[str, Any]]:
        values = {**self.params, **extra}
        used = {k: v for k, v in values.items() if re.search(r"\$" + k + r"\b", sql)}
        started = time.perf_counter()
        try:
            cursor = self.con.execute(sql, used)
            columns = [d[0] for d in cursor.description or ()]
            fetched = cursor.fetchall()
        except duckdb.CatalogException as exc:
            raise WarehouseError(
                f"The weekly report cannot read the warehouse ({exc}); run 'insights warehouse build' first."
            ) from None
        finally:
            self.seconds += time.perf_counter() - started
        self.row_counts[f"query.{name}"] = len(fetched)
        return [dict(zip(columns, row, strict=True)) for row in fetched]


@dataclass(frozen=True)
class WeeklyData:
    """Everything the weekly report knows, as small aggregates (no event rows)."""

    week: IsoWeek
    age_days: int
    table_rows: dict[str, int]
    span: dict[str, tuple[datetime | None, datetime | None]]
    posts_published: dict[int, int]
    cohorts: dict[int, dict[str, Any]]
    engagement_by: list[dict[str, Any]]
    top_bottom: list[dict[str, Any]]
    sessions: dict[int, int]
    leads: dict[tuple[int, str], dict[str, Any]]
    funnel: dict[bool, dict[str, Any]]
    lead_sources: list[dict[str, Any]]
    daily_rows: list[dict[str, Any]]
    loads: list[dict[str, Any]]
    reject_reasons: list[dict[str, Any]]
    chat_daily: dict[int, int]
    posts_off: dict[str, Any]
    query_seconds: float
    row_counts: dict[str, int]

    def first_at(self, log: str) -> datetime | None:
        return self.span.get(log, (None, None))[0]

    def last_at(self, log: str) -> datetime | None:
        return self.span.get(log, (None, None))[1]

    def week_end(self, index: int, *, shift_days: int = 0) -> datetime:
        """End of week `index` (0 = the report's week, -1 the one before), moved back `shift_days` days."""
        return self.week.start + timedelta(days=7 * (index + 1) - shift_days)

    def covered(self, first_at: datetime | None, index: int, *, shift_days: int = 0) -> bool:
        """Whether week `index` counts in comparisons: only once its log had started (it ends after the first
        record). A week before the data is 'n/a', not zero, so a new warehouse does not show a -100% trend."""
        return first_at is not None and self.week_end(index, shift_days=shift_days) > first_at


def _check_tables(runner: _Runner) -> None:
    existing = runner.rows(
        "tables",
        "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables "
        "WHERE table_schema IN ('meta', 'raw', 'staging', 'marts')",
    )
    names = {str(r["name"]) for r in existing}
    missing = [t for t in TABLES if t not in names]
    if missing:
        raise WarehouseError(
            f"The warehouse has no {', '.join(missing)}: the weekly report needs built marts. "
            "Run 'insights ingest' or 'insights warehouse build' first."
        )


def fetch_weekly_data(con: duckdb.DuckDBPyConnection, week: IsoWeek) -> WeeklyData:
    """Ask the warehouse every question of the weekly report (aggregates only)."""
    age_days = POST_AGE_DAYS
    runner = _Runner(con, {"start": week.start, "end": week.end, "age_days": age_days})
    _check_tables(runner)
    table_rows = {str(r["table_name"]): int(r["n_rows"]) for r in runner.rows("table_rows", _TABLE_ROWS)}
    span = {str(r["log"]): (r["first_at"], r["last_at"]) for r in runner.rows("span", _SPAN)}
    posts_published = {int(r["week_index"]): int(r["n_posts"]) for r in runner.rows("posts", _POSTS_PUBLISHED)}
    cohorts = {int(r["week_index"]): r for r in runner.rows("cohorts", aged_posts_query(_COHORTS))}
    engagement_by = runner.rows("engagement_by", aged_posts_query(_ENGAGEMENT_BY))
    top_bottom = runner.rows(
        "top_bottom",
        aged_posts_query(_TOP_BOTTOM),
        min_impressions=float(MIN_IMPRESSIONS),
        min_share=MIN_IMPRESSIONS_SHARE_OF_MEDIAN,
        text_chars=TEXT_CHARS,
        n_top=N_TOP_POSTS,
    )
    sessions = {int(r["week_index"]): int(r["n_sessions"]) for r in runner.rows("sessions", _SESSIONS)}
    leads = {(int(r["week_index"]), str(r["event"])): r for r in runner.rows("leads", _LEADS)}
    funnel = {bool(r["is_week"]): r for r in runner.rows("funnel", _FUNNEL)}
    lead_sources = runner.rows("lead_sources", _LEAD_SOURCES)
    daily_rows = runner.rows("daily_rows", _DAILY_ROWS)
    carried = sorted({int(r["load_id"]) for r in daily_rows if r["load_id"] is not None})
    loads = runner.rows("loads", _LOADS, carried=carried)
    reject_reasons = runner.rows("reject_reasons", _REJECT_REASONS, load_ids=[int(r["load_id"]) for r in loads])
    chat_daily = {int(r["day_index"]): int(r["n_sessions"]) for r in runner.rows("chat_daily", _CHAT_DAILY)}
    posts_off = runner.rows("posts_off", _POSTS_OFF)[0]
    return WeeklyData(
        week=week,
        age_days=age_days,
        table_rows=table_rows,
        span=span,
        posts_published=posts_published,
        cohorts=cohorts,
        engagement_by=engagement_by,
        top_bottom=top_bottom,
        sessions=sessions,
        leads=leads,
        funnel=funnel,
        lead_sources=lead_sources,
        daily_rows=daily_rows,
        loads=loads,
        reject_reasons=reject_reasons,
        chat_daily=chat_daily,
        posts_off=posts_off,
        query_seconds=runner.seconds,
        row_counts={**table_rows, **runner.row_counts},
    )


def cohort_window(week: IsoWeek, age_days: int) -> tuple[datetime, datetime]:
    """Publication times [from, to) of the posts whose age mark falls in the week."""
    shift = timedelta(days=age_days)
    return week.start - shift, week.end - shift
