"""The SQL of the chatbot health report and the fallback texts: static statements, values bound as parameters.

Each statement reads the warehouse models (docs/warehouse.md) and returns aggregates only. The health report first
builds ``chat_health_sessions``, a temporary table with one row per session of the two periods (its facts and its
breakdown value), in a cursor of its own (temporary tables work on read-only connections too, and a cursor's
temporary tables are its own); the other statements aggregate it, so the message window runs once per period.
"""

from __future__ import annotations

#: breakdown name -> what it holds; the CASE in SESSIONS_SQL maps each name to its column
BREAKDOWNS: dict[str, str] = {
    "channel": "the session's channel",
    "bot_version": "the bot version of the session's first row that names one",
    "utm_source": "the session's utm_source",
    "utm_medium": "the session's utm_medium",
    "utm_campaign": "the session's utm_campaign",
    "first_intent": "the intent of the bot's first reply",
    "first_reply": "understood or fallback: how the bot's first reply went",
}

#: one row per session started in [previous_start, end)
#: params: previous_start, start, end, breakdown ('' for none), low_confidence, request_pattern
SESSIONS_SQL = """
CREATE TEMP TABLE chat_health_sessions AS
WITH sessions AS (
    SELECT
        session_id,
        started_at >= $start AS is_current,
        channel,
        bot_version,
        utm_source,
        utm_medium,
        utm_campaign,
        coalesce(n_user_turns, 0) AS n_user_turns,
        is_handoff,
        is_lead_captured,
        CAST(csat AS DOUBLE) AS csat,
        tokens_in,
        tokens_out
    FROM marts.chat_sessions
    WHERE started_at >= $previous_start AND started_at < $end
),
events AS (
    -- every row of a session is at or after its start, so the ts bound only skips rows that cannot match
    SELECT
        e.session_id,
        e.session_seq,
        e.role,
        e.event,
        e.text,
        e.is_message,
        e.is_fallback,
        e.intent,
        e.intent_confidence
    FROM staging.chat_events AS e
    WHERE e.ts >= $previous_start AND e.session_id IN (SELECT session_id FROM sessions)
),
handoffs AS (
    -- where a person took over: the first handoff event or agent row (an aggregate and a join cost less than a
    -- second window over every row)
    SELECT session_id, min(session_seq) AS handoff_seq
    FROM events
    WHERE event = 'handoff' OR role = 'agent'
    GROUP BY session_id
),
messages AS (
    SELECT
        m.*,
        h.handoff_seq,
        lag(m.role) OVER (PARTITION BY m.session_id ORDER BY m.session_seq) AS previous_role
    FROM events AS m
    LEFT JOIN handoffs AS h ON h.session_id = m.session_id
    WHERE m.is_message
),
per_session AS (
    -- a reply is a bot message that directly follows a user message
    SELECT
        session_id,
        count(*) FILTER (WHERE role = 'bot' AND previous_role = 'user') AS n_replies,
        count(*) FILTER (WHERE role = 'bot' AND previous_role = 'user' AND is_fallback) AS n_fallback_replies,
        count(*) FILTER (
            WHERE role = 'bot' AND previous_role = 'user' AND intent_confidence IS NOT NULL
        ) AS n_scored_replies,
        count(*) FILTER (
            WHERE role = 'bot' AND previous_role = 'user' AND intent_confidence < $low_confidence
        ) AS n_low_confidence_replies,
        arg_min(coalesce(is_fallback, FALSE), session_seq) FILTER (
            WHERE role = 'bot' AND previous_role = 'user'
        ) AS first_reply_is_fallback,
        arg_min(intent, session_seq) FILTER (WHERE role = 'bot' AND previous_role = 'user') AS first_intent,
        arg_max(intent, session_seq) FILTER (WHERE intent IS NOT NULL) AS last_intent,
        arg_max(coalesce(is_fallback, FALSE), session_seq) FILTER (
            WHERE role = 'bot' AND session_seq < handoff_seq
        ) AS is_fallback_before_handoff,
        arg_max(text, session_seq) FILTER (
            WHERE role = 'user' AND session_seq < handoff_seq AND text IS NOT NULL
        ) AS user_text_before_handoff,
        arg_max(intent, session_seq) FILTER (
            WHERE intent IS NOT NULL AND session_seq < handoff_seq
        ) AS intent_before_handoff
    FROM messages
    GROUP BY session_id
),
handoff_texts AS (
    SELECT session_id, arg_min(trim(text), session_seq) AS handoff_text
    FROM events
    WHERE event = 'handoff' AND trim(text) <> ''
    GROUP BY session_id
)
SELECT
    s.session_id,
    s.is_current,
    coalesce(
        CASE $breakdown
            WHEN 'channel' THEN s.channel
            WHEN 'bot_version' THEN s.bot_version
            WHEN 'utm_source' THEN s.utm_source
            WHEN 'utm_medium' THEN s.utm_medium
            WHEN 'utm_campaign' THEN s.utm_campaign
            WHEN 'first_intent' THEN p.first_intent
            WHEN 'first_reply' THEN
                CASE WHEN p.first_reply_is_fallback THEN 'fallback'
                    WHEN NOT p.first_reply_is_fallback THEN 'understood' END
        END,
        '(not set)'
    ) AS segment,
    s.n_user_turns > 0 AS is_conversation,
    s.n_user_turns,
    s.is_handoff,
    s.is_lead_captured,
    s.csat,
    s.tokens_in,
    s.tokens_out,
    coalesce(p.n_replies, 0) AS n_replies,
    coalesce(p.n_fallback_replies, 0) AS n_fallback_replies,
    coalesce(p.n_scored_replies, 0) AS n_scored_replies,
    coalesce(p.n_low_confidence_replies, 0) AS n_low_confidence_replies,
    p.first_reply_is_fallback,
    p.first_intent,
    p.last_intent,
    -- the first rule that applies names the reason (docs/chatbot.md, "Handoff reasons")
    CASE
        WHEN NOT s.is_handoff THEN NULL
        WHEN h.handoff_text IS NOT NULL THEN 'logged: ' || lower(h.handoff_text)
        WHEN p.is_fallback_before_handoff THEN 'after a fallback'
        WHEN regexp_matches(lower(p.user_text_before_handoff), $request_pattern) THEN 'user asked for a person'
        WHEN p.intent_before_handoff IS NOT NULL THEN 'intent: ' || p.intent_before_handoff
        ELSE 'no reason in the data'
    END AS handoff_reason
FROM sessions AS s
LEFT JOIN per_session AS p ON p.session_id = s.session_id
LEFT JOIN handoff_texts AS h ON h.session_id = s.session_id
"""

#: per period, overall and per breakdown value: every sum the metrics need (conversations are the units)
#: params: price_in, price_out (per 1,000 tokens)
TOTALS_SQL = """
WITH c AS (
    SELECT
        *,
        CAST(n_replies AS DOUBLE) AS x_replies,
        CAST(n_fallback_replies AS DOUBLE) AS y_fallback,
        CAST(n_scored_replies AS DOUBLE) AS x_scored,
        CAST(n_low_confidence_replies AS DOUBLE) AS y_low,
        CAST(coalesce(tokens_in, 0) AS DOUBLE) AS t_in,
        CAST(coalesce(tokens_out, 0) AS DOUBLE) AS t_out,
        (coalesce(tokens_in, 0) * $price_in + coalesce(tokens_out, 0) * $price_out) / 1000.0 AS cost
    FROM chat_health_sessions
)
SELECT
    is_current,
    grouping(segment) = 0 AS is_segment,
    segment,
    count(*) AS n_sessions,
    count(*) FILTER (WHERE is_conversation) AS n_conversations,
    count(*) FILTER (WHERE is_conversation AND is_handoff) AS n_handoffs,
    count(*) FILTER (WHERE is_conversation AND first_reply_is_fallback IS NOT NULL) AS n_replied,
    count(*) FILTER (WHERE is_conversation AND first_reply_is_fallback) AS n_first_fallback,
    count(*) FILTER (WHERE is_conversation AND NOT is_handoff AND NOT is_lead_captured) AS n_abandoned,
    count(*) FILTER (WHERE is_conversation AND is_lead_captured) AS n_captured,
    count(csat) FILTER (WHERE is_conversation) AS n_rated,
    coalesce(sum(csat) FILTER (WHERE is_conversation), 0) AS csat_sum,
    coalesce(sum(csat * csat) FILTER (WHERE is_conversation), 0) AS csat_sq,
    coalesce(sum(x_replies), 0) AS replies_x,
    coalesce(sum(y_fallback), 0) AS fallback_y,
    coalesce(sum(x_replies * x_replies), 0) AS replies_xx,
    coalesce(sum(y_fallback * y_fallback), 0) AS fallback_yy,
    coalesce(sum(x_replies * y_fallback), 0) AS fallback_xy,
    coalesce(sum(x_scored), 0) AS scored_x,
    coalesce(sum(y_low), 0) AS low_y,
    coalesce(sum(x_scored * x_scored), 0) AS scored_xx,
    coalesce(sum(y_low * y_low), 0) AS low_yy,
    coalesce(sum(x_scored * y_low), 0) AS low_xy,
    coalesce(sum(CAST(n_user_turns AS DOUBLE)) FILTER (WHERE is_conversation), 0) AS turns_sum,
    coalesce(sum(CAST(n_user_turns AS DOUBLE) * n_user_turns) FILTER (WHERE is_conversation), 0) AS turns_sq,
    count(*) FILTER (WHERE is_conversation AND (tokens_in IS NOT NULL OR tokens_out IS NOT NULL)) AS n_token_reports,
    coalesce(sum(t_in) FILTER (WHERE is_conversation), 0) AS tokens_in_sum,
    coalesce(sum(t_in * t_in) FILTER (WHERE is_conversation), 0) AS tokens_in_sq,
    coalesce(sum(t_out) FILTER (WHERE is_conversation), 0) AS tokens_out_sum,
    coalesce(sum(t_out * t_out) FILTER (WHERE is_conversation), 0) AS tokens_out_sq,
    coalesce(sum(cost) FILTER (WHERE is_conversation), 0) AS cost_sum,
    coalesce(sum(cost * cost) FILTER (WHERE is_conversation), 0) AS cost_sq
FROM c
GROUP BY GROUPING SETS ((is_current), (is_current, segment))
"""

#: per period and breakdown value: percentiles of the bot's latency
#: params: previous_start
LATENCY_SQL = """
SELECT
    s.is_current,
    grouping(s.segment) = 0 AS is_segment,
    s.segment,
    count(*) AS n_latency,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY e.latency_ms) AS latency_p50_ms,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY e.latency_ms) AS latency_p95_ms
FROM staging.chat_events AS e
JOIN chat_health_sessions AS s ON s.session_id = e.session_id
WHERE e.ts >= $previous_start AND e.role = 'bot' AND e.is_message AND e.latency_ms IS NOT NULL
GROUP BY GROUPING SETS ((s.is_current), (s.is_current, s.segment))
"""

#: per period and breakdown value: the leads that name a session of the period
#: params: mature_before (leads created at or before it are old enough), qualify_seconds
LEADS_SQL = """
WITH l AS (
    SELECT
        s.is_current,
        s.segment,
        l.is_qualified,
        l.created_at <= $mature_before AS is_mature,
        epoch(least(l.mql_at, l.sql_at, l.opportunity_at, l.won_at)) - epoch(l.created_at) <= $qualify_seconds
            AS is_mql_in_time,
        epoch(least(l.sql_at, l.opportunity_at, l.won_at)) - epoch(l.created_at) <= $qualify_seconds
            AS is_sql_in_time
    FROM marts.leads AS l
    JOIN chat_health_sessions AS s ON s.session_id = l.session_id
)
SELECT
    is_current,
    grouping(segment) = 0 AS is_segment,
    segment,
    count(*) AS n_leads,
    count(*) FILTER (WHERE is_qualified) AS n_qualified_so_far,
    count(*) FILTER (WHERE is_mature) AS n_mature,
    count(*) FILTER (WHERE is_mature AND is_mql_in_time) AS n_mql,
    count(*) FILTER (WHERE is_mature AND is_sql_in_time) AS n_sql
FROM l
GROUP BY GROUPING SETS ((is_current), (is_current, segment))
"""

#: the last lead change in the data: leads are judged "old enough" against it
AS_OF_SQL = """
SELECT max(greatest(created_at, mql_at, sql_at, opportunity_at, won_at, lost_at)) FROM marts.leads
"""

#: per intent of the current period's conversations: how their first reply went, and where they ended
INTENT_CONVERSATIONS_SQL = """
SELECT
    'first' AS grouping_kind,
    first_intent AS intent,
    count(*) AS n_conversations,
    count(*) FILTER (WHERE first_reply_is_fallback) AS n_first_fallback,
    count(*) FILTER (WHERE is_handoff) AS n_handoffs,
    0 AS n_abandoned
FROM chat_health_sessions
WHERE is_current AND is_conversation AND first_reply_is_fallback IS NOT NULL
GROUP BY first_intent
UNION ALL
SELECT
    'last' AS grouping_kind,
    last_intent AS intent,
    count(*) AS n_conversations,
    0 AS n_first_fallback,
    0 AS n_handoffs,
    count(*) FILTER (WHERE NOT is_handoff AND NOT is_lead_captured) AS n_abandoned
FROM chat_health_sessions
WHERE is_current AND is_conversation
GROUP BY last_intent
"""

#: per intent of the bot's replies in the current period: fallbacks and confidence, summed per conversation first
#: (the conversation is the unit of the intervals); params: start, low_confidence
INTENT_REPLIES_SQL = """
WITH messages AS (
    SELECT
        e.session_id,
        e.role,
        e.intent,
        e.is_fallback,
        e.intent_confidence,
        lag(e.role) OVER (PARTITION BY e.session_id ORDER BY e.session_seq) AS previous_role
    FROM staging.chat_events AS e
    WHERE e.ts >= $start
        AND e.is_message
        AND e.session_id IN (SELECT session_id FROM chat_health_sessions WHERE is_current)
),
per_conversation AS (
    SELECT
        session_id,
        intent,
        CAST(count(*) AS DOUBLE) AS x,
        CAST(count(*) FILTER (WHERE is_fallback) AS DOUBLE) AS y,
        CAST(count(intent_confidence) AS DOUBLE) AS xs,
        CAST(count(*) FILTER (WHERE intent_confidence < $low_confidence) AS DOUBLE) AS ys,
        sum(intent_confidence) AS confidence_sum
    FROM messages
    WHERE role = 'bot' AND previous_role = 'user'
    GROUP BY session_id, intent
)
SELECT
    intent,
    count(*) AS n_conversations,
    sum(x) AS replies_x,
    sum(y) AS fallback_y,
    sum(x * x) AS replies_xx,
    sum(y * y) AS fallback_yy,
    sum(x * y) AS fallback_xy,
    sum(xs) AS scored_x,
    sum(ys) AS low_y,
    sum(xs * xs) AS scored_xx,
    sum(ys * ys) AS low_yy,
    sum(xs * ys) AS low_xy,
    coalesce(sum(confidence_sum), 0) AS confidence_sum
FROM per_conversation
GROUP BY intent
"""

#: per period: handed-off conversations by reason
REASONS_SQL = """
SELECT is_current, handoff_reason, count(*) AS n_handoffs
FROM chat_health_sessions
WHERE is_conversation AND is_handoff
GROUP BY is_current, handoff_reason
"""

#: the fallback texts: user messages of the period's sessions that the bot answered with a fallback, with the
#: week (from start) and half of the period their session started in; and every answered user message per week,
#: the exposure the trend is measured against. params: start, end, mid
FALLBACK_TURNS_SQL = """
CREATE TEMP TABLE chat_fallback_turns AS
WITH sessions AS (
    SELECT session_id, started_at
    FROM marts.chat_sessions
    WHERE started_at >= $start AND started_at < $end
),
messages AS (
    SELECT
        e.session_id,
        e.role,
        e.text,
        lead(e.role) OVER (PARTITION BY e.session_id ORDER BY e.session_seq) AS next_role,
        lead(e.is_fallback) OVER (PARTITION BY e.session_id ORDER BY e.session_seq) AS next_is_fallback
    FROM staging.chat_events AS e
    WHERE e.ts >= $start AND e.is_message AND e.session_id IN (SELECT session_id FROM sessions)
)
SELECT
    CAST(floor((epoch(s.started_at) - epoch(CAST($start AS TIMESTAMPTZ))) / 604800) AS INTEGER) AS week_index,
    s.started_at >= $mid AS is_second_half,
    coalesce(m.next_is_fallback, FALSE) AS is_fallback,
    CASE WHEN m.next_is_fallback THEN trim(m.text) END AS text
FROM messages AS m
JOIN sessions AS s ON s.session_id = m.session_id
WHERE m.role = 'user' AND m.next_role = 'bot'
"""

#: answered user messages and fallbacks per week and half
FALLBACK_EXPOSURE_SQL = """
SELECT
    week_index,
    is_second_half,
    count(*) AS n_answered,
    count(*) FILTER (WHERE is_fallback) AS n_fallback,
    count(*) FILTER (WHERE is_fallback AND text IS NOT NULL AND text <> '') AS n_with_text
FROM chat_fallback_turns
GROUP BY week_index, is_second_half
"""

#: the most frequent fallback texts (at most max_texts), with their count per week and half; params: max_texts
FALLBACK_TEXTS_SQL = """
WITH texts AS (
    SELECT text, count(*) AS n_messages
    FROM chat_fallback_turns
    WHERE is_fallback AND text IS NOT NULL AND text <> ''
    GROUP BY text
    ORDER BY n_messages DESC, text
    LIMIT $max_texts
)
SELECT f.text, f.week_index, f.is_second_half, count(*) AS n_messages
FROM chat_fallback_turns AS f
JOIN texts AS t ON t.text = f.text
WHERE f.is_fallback
GROUP BY f.text, f.week_index, f.is_second_half
"""

#: how many distinct fallback texts there are (to say what share the clustered ones cover)
FALLBACK_DISTINCT_SQL = """
SELECT count(DISTINCT text) FROM chat_fallback_turns WHERE is_fallback AND text IS NOT NULL AND text <> ''
"""
