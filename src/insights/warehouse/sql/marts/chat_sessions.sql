-- model: marts.chat_sessions
-- grain: one row per chat session
-- inputs: staging.chat_events, staging.leads
-- rules:
--   started_at / ended_at: first and last ts of the session; duration_seconds between them.
--   n_messages counts rows that are messages (staging.chat_events.is_message); n_user_turns,
--   n_bot_turns and n_agent_turns count the messages of each role; n_events counts every row.
--   user_id, channel, entry_post_id, link_id, utm_*, bot_version and first_intent: the first non-NULL
--   value in conversation order (session_seq). csat: the last non-NULL score given.
--   is_handoff: a handoff event or any agent message. n_fallbacks: rows flagged is_fallback.
--   is_lead_captured: a lead_captured event, or a lead in staging.leads that names this session.
--   tokens_in / tokens_out: sums over the session (NULL when never reported).
--   mean_latency_ms / p95_latency_ms: over bot rows that report latency (continuous percentile).
-- checks:
--   session_id: unique, not_null
--   user_id: not_null
--   started_at: not_null
--   ended_at: not_null
--   n_messages: not_null
--   is_handoff: not_null
--   is_lead_captured: not_null
--   entry_post_id: relationships(marts.posts.post_id) warn
WITH sessions AS (
    SELECT
        session_id,
        arg_min(user_id, session_seq) FILTER (WHERE user_id IS NOT NULL) AS user_id,
        min(ts) AS started_at,
        max(ts) AS ended_at,
        count(*) AS n_events,
        count(*) FILTER (WHERE is_message) AS n_messages,
        count(*) FILTER (WHERE is_message AND role = 'user') AS n_user_turns,
        count(*) FILTER (WHERE is_message AND role = 'bot') AS n_bot_turns,
        count(*) FILTER (WHERE is_message AND role = 'agent') AS n_agent_turns,
        arg_min(channel, session_seq) FILTER (WHERE channel IS NOT NULL) AS channel,
        arg_min(entry_post_id, session_seq) FILTER (WHERE entry_post_id IS NOT NULL) AS entry_post_id,
        arg_min(link_id, session_seq) FILTER (WHERE link_id IS NOT NULL) AS link_id,
        arg_min(utm_source, session_seq) FILTER (WHERE utm_source IS NOT NULL) AS utm_source,
        arg_min(utm_medium, session_seq) FILTER (WHERE utm_medium IS NOT NULL) AS utm_medium,
        arg_min(utm_campaign, session_seq) FILTER (WHERE utm_campaign IS NOT NULL) AS utm_campaign,
        arg_min(utm_content, session_seq) FILTER (WHERE utm_content IS NOT NULL) AS utm_content,
        arg_min(bot_version, session_seq) FILTER (WHERE bot_version IS NOT NULL) AS bot_version,
        arg_min(intent, session_seq) FILTER (WHERE intent IS NOT NULL) AS first_intent,
        coalesce(bool_or(event = 'handoff' OR role = 'agent'), FALSE) AS is_handoff,
        count(*) FILTER (WHERE is_fallback) AS n_fallbacks,
        coalesce(bool_or(event = 'lead_captured'), FALSE) AS has_lead_captured_event,
        arg_max(csat, session_seq) FILTER (WHERE csat IS NOT NULL) AS csat,
        CAST(sum(tokens_in) AS BIGINT) AS tokens_in,
        CAST(sum(tokens_out) AS BIGINT) AS tokens_out
    FROM staging.chat_events
    WHERE session_id IS NOT NULL
    GROUP BY session_id
),
bot_latency AS (
    -- a separate, narrow aggregate: a percentile among the many aggregates above slows them all down
    SELECT
        session_id,
        avg(latency_ms) AS mean_latency_ms,
        percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_latency_ms
    FROM staging.chat_events
    WHERE role = 'bot' AND latency_ms IS NOT NULL
    GROUP BY session_id
),
lead_sessions AS (
    SELECT DISTINCT session_id
    FROM staging.leads
    WHERE session_id IS NOT NULL
)
SELECT
    s.session_id,
    s.user_id,
    s.started_at,
    s.ended_at,
    epoch(s.ended_at) - epoch(s.started_at) AS duration_seconds,
    s.n_events,
    s.n_messages,
    s.n_user_turns,
    s.n_bot_turns,
    s.n_agent_turns,
    s.channel,
    s.entry_post_id,
    s.link_id,
    s.utm_source,
    s.utm_medium,
    s.utm_campaign,
    s.utm_content,
    s.bot_version,
    s.first_intent,
    s.is_handoff,
    s.n_fallbacks,
    s.has_lead_captured_event OR l.session_id IS NOT NULL AS is_lead_captured,
    s.csat,
    s.tokens_in,
    s.tokens_out,
    b.mean_latency_ms,
    b.p95_latency_ms
FROM sessions AS s
LEFT JOIN lead_sessions AS l ON l.session_id = s.session_id
LEFT JOIN bot_latency AS b ON b.session_id = s.session_id
