-- model: marts.lineage
-- grain: one row per chat session, plus one row per lead that no session explains
-- inputs: marts.chat_sessions, marts.posts, marts.leads
-- rules:
--   Session -> post: by the session's entry_post_id; else by its link_id, taking the latest post with
--   that link_id published at or before the session started (ties: the greatest post_id). post_match
--   says which rule matched (entry_post_id or link_id; NULL when none). An entry_post_id that names a
--   post never loaded is kept as post_id, with the post's attributes NULL.
--   Lead -> session: by the lead's session_id when that session exists; else the same user's latest
--   session started at or before the lead was created, if it started at most 30 days before.
--   lead_match says which rule matched (session_id or user_id).
--   A session row carries at most one lead: among the leads matched to it, session_id matches first,
--   then the earliest created, then the smallest lead_id. Every other lead (unmatched, or matched to a
--   session another lead already holds) gets its own row with the session columns NULL, user_id from
--   the lead and lead_match none. So each lead appears exactly once and revenue sums to the won total.
--   is_lead / is_qualified / is_won are FALSE on rows without a lead; revenue is the won lead's value
--   (0 when the lead is not won, NULL when the row has no lead).
-- checks:
--   session_id: unique, relationships(marts.chat_sessions.session_id)
--   lead_id: unique, relationships(marts.leads.lead_id)
--   post_id: relationships(marts.posts.post_id) warn
--   post_match: accepted_values(entry_post_id, link_id)
--   lead_match: accepted_values(session_id, user_id, none)
--   is_lead: not_null
--   is_qualified: not_null
--   is_won: not_null
WITH sessions AS (
    SELECT session_id, user_id, started_at, channel, bot_version, entry_post_id, link_id
    FROM marts.chat_sessions
),
link_stream AS (
    -- posts and link-only sessions on one time line per link_id: a session's post is the last post seen
    -- before it (a portable as-of join: one sort, no range join)
    SELECT link_id, published_at AS event_at, 0 AS is_session, post_id, CAST(NULL AS VARCHAR) AS session_id
    FROM marts.posts
    WHERE link_id IS NOT NULL
    UNION ALL
    SELECT link_id, started_at AS event_at, 1 AS is_session, CAST(NULL AS VARCHAR) AS post_id, session_id
    FROM sessions
    WHERE entry_post_id IS NULL AND link_id IS NOT NULL
),
link_matches AS (
    SELECT session_id, post_id
    FROM (
        SELECT
            session_id,
            is_session,
            last_value(post_id IGNORE NULLS) OVER (
                PARTITION BY link_id ORDER BY event_at, is_session, post_id ROWS UNBOUNDED PRECEDING
            ) AS post_id
        FROM link_stream
    ) AS streamed
    WHERE is_session = 1 AND post_id IS NOT NULL
),
session_posts AS (
    SELECT
        s.session_id,
        s.user_id,
        s.started_at,
        s.channel,
        s.bot_version,
        coalesce(s.entry_post_id, lm.post_id) AS post_id,
        CASE
            WHEN s.entry_post_id IS NOT NULL THEN 'entry_post_id'
            WHEN lm.post_id IS NOT NULL THEN 'link_id'
        END AS post_match
    FROM sessions AS s
    LEFT JOIN link_matches AS lm ON lm.session_id = s.session_id
),
leads AS (
    SELECT lead_id, user_id, session_id, created_at, is_qualified, is_won, won_at, value
    FROM marts.leads
),
explicit_matches AS (
    SELECT l.lead_id, l.session_id, 1 AS match_priority, 'session_id' AS lead_match
    FROM leads AS l
    INNER JOIN sessions AS s ON s.session_id = l.session_id
),
user_stream AS (
    -- sessions and not-yet-matched leads on one time line per user; at equal times the session comes
    -- first, so a lead created the instant its session starts still matches it
    SELECT
        user_id, started_at AS event_at, 0 AS is_lead, session_id, started_at,
        CAST(NULL AS VARCHAR) AS lead_id
    FROM sessions
    WHERE user_id IS NOT NULL
    UNION ALL
    SELECT
        l.user_id, l.created_at AS event_at, 1 AS is_lead, CAST(NULL AS VARCHAR) AS session_id,
        CAST(NULL AS TIMESTAMPTZ) AS started_at, l.lead_id
    FROM leads AS l
    LEFT JOIN explicit_matches AS e ON e.lead_id = l.lead_id
    WHERE e.lead_id IS NULL AND l.user_id IS NOT NULL
),
user_matches AS (
    SELECT lead_id, session_id, 2 AS match_priority, 'user_id' AS lead_match
    FROM (
        SELECT
            lead_id,
            event_at,
            is_lead,
            last_value(session_id IGNORE NULLS) OVER latest_first AS session_id,
            last_value(started_at IGNORE NULLS) OVER latest_first AS session_started_at
        FROM user_stream
        WINDOW latest_first AS (PARTITION BY user_id ORDER BY event_at, is_lead, session_id ROWS UNBOUNDED PRECEDING)
    ) AS streamed
    WHERE is_lead = 1 AND session_id IS NOT NULL AND session_started_at >= event_at - INTERVAL 30 DAY
),
attached AS (
    SELECT lead_id, session_id, lead_match
    FROM (
        SELECT
            c.lead_id,
            c.session_id,
            c.lead_match,
            row_number() OVER (
                PARTITION BY c.session_id ORDER BY c.match_priority, l.created_at, c.lead_id
            ) AS rank_in_session
        FROM (
            SELECT * FROM explicit_matches
            UNION ALL
            SELECT * FROM user_matches
        ) AS c
        INNER JOIN leads AS l ON l.lead_id = c.lead_id
    ) AS ranked
    WHERE rank_in_session = 1
),
lineage_rows AS (
    SELECT
        sp.post_id, sp.post_match, sp.session_id, sp.user_id, sp.started_at, sp.channel, sp.bot_version,
        a.lead_id, a.lead_match
    FROM session_posts AS sp
    LEFT JOIN attached AS a ON a.session_id = sp.session_id
    UNION ALL
    SELECT
        CAST(NULL AS VARCHAR) AS post_id, CAST(NULL AS VARCHAR) AS post_match,
        CAST(NULL AS VARCHAR) AS session_id, l.user_id, CAST(NULL AS TIMESTAMPTZ) AS started_at,
        CAST(NULL AS VARCHAR) AS channel, CAST(NULL AS VARCHAR) AS bot_version,
        l.lead_id, 'none' AS lead_match
    FROM leads AS l
    LEFT JOIN attached AS a ON a.lead_id = l.lead_id
    WHERE a.lead_id IS NULL
)
SELECT
    r.post_id,
    p.platform,
    p.content_type,
    p.origin,
    p.model,
    p.prompt_id,
    p.prompt_version,
    p.campaign,
    r.post_match,
    r.session_id,
    r.user_id,
    r.started_at,
    r.channel,
    r.bot_version,
    r.lead_id,
    r.lead_match,
    l.created_at AS lead_created_at,
    r.lead_id IS NOT NULL AS is_lead,
    coalesce(l.is_qualified, FALSE) AS is_qualified,
    coalesce(l.is_won, FALSE) AS is_won,
    l.won_at,
    CASE
        WHEN r.lead_id IS NULL THEN NULL
        WHEN l.is_won THEN coalesce(l.value, 0)
        ELSE 0
    END AS revenue
FROM lineage_rows AS r
LEFT JOIN marts.posts AS p ON p.post_id = r.post_id
LEFT JOIN leads AS l ON l.lead_id = r.lead_id
