-- query: journeys, grouped
-- grain: one row per distinct journey (path of touches, their ages, outcome and value) with its count
-- inputs: marts.lineage
-- parameters:
--   $start, $end: journeys that end in [start, end) (a lead's creation, or a user's last session)
--   $lookback_seconds: a touch counts when it started at most this long before the journey's anchor
-- placeholders: __channel__ (a session's label), __is_converted__ and __value__ (of a lead's lineage row)
-- rules:
--   A touch is a chat session with a known user. A lead of a known user ends a journey anchored at its
--   session's start (at its creation when no session explains it); the journey holds the user's sessions
--   that started at or before the anchor, at most the lookback before it, and after the anchor of the
--   user's previous lead (a lead starts the next journey afresh). The sessions a user started after their
--   last lead form one non-converting journey, anchored at their last session in the period. Touches are
--   ordered by start time, then session_id; a touch's age is the whole days from its start to the lead's
--   creation (to the anchor for a non-converting journey).
WITH touches AS (
    SELECT user_id, session_id, started_at, __channel__ AS channel
    FROM marts.lineage
    WHERE session_id IS NOT NULL AND user_id IS NOT NULL AND started_at < $end
),
leads AS (
    SELECT
        lead_id,
        user_id,
        coalesce(started_at, lead_created_at) AS anchor_at,
        lead_created_at AS ended_at,
        __is_converted__ AS is_converted,
        __value__ AS value
    FROM marts.lineage
    WHERE is_lead AND user_id IS NOT NULL AND lead_created_at < $end
),
lead_ends AS (
    SELECT
        *,
        lag(anchor_at) OVER (PARTITION BY user_id ORDER BY anchor_at, lead_id) AS after_at
    FROM leads
),
user_ends AS (
    SELECT t.user_id, max(t.started_at) AS anchor_at, max(l.anchor_at) AS after_at
    FROM touches AS t
    LEFT JOIN (SELECT user_id, max(anchor_at) AS anchor_at FROM leads GROUP BY user_id) AS l
        ON l.user_id = t.user_id
    WHERE t.started_at >= $start
    GROUP BY t.user_id
),
ends AS (
    SELECT 'lead' AS kind, lead_id AS end_id, user_id, anchor_at, after_at, ended_at, is_converted, value
    FROM lead_ends
    WHERE ended_at >= $start
    UNION ALL
    SELECT
        'user' AS kind, user_id AS end_id, user_id, anchor_at, after_at, anchor_at AS ended_at,
        FALSE AS is_converted, 0.0 AS value
    FROM user_ends
    WHERE after_at IS NULL OR anchor_at > after_at
),
journey_touches AS (
    SELECT e.kind, e.end_id, e.is_converted, e.value, e.ended_at, t.channel, t.started_at, t.session_id
    FROM ends AS e
    INNER JOIN touches AS t
        ON t.user_id = e.user_id
        AND t.started_at <= e.anchor_at
        AND epoch(e.anchor_at) - epoch(t.started_at) <= $lookback_seconds
        AND (e.after_at IS NULL OR t.started_at > e.after_at)
),
journeys AS (
    SELECT
        kind,
        end_id,
        is_converted,
        value,
        list(channel ORDER BY started_at, session_id) AS path,
        list(
            CAST(greatest(0, floor((epoch(ended_at) - epoch(started_at)) / 86400)) AS INTEGER)
            ORDER BY started_at, session_id
        ) AS ages
    FROM journey_touches
    GROUP BY kind, end_id, is_converted, value
)
SELECT path, ages, is_converted, value, count(*) AS n_journeys
FROM journeys
GROUP BY path, ages, is_converted, value
ORDER BY n_journeys DESC, path, ages, is_converted, value
