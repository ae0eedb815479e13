-- model: staging.chat_events
-- grain: one row per message or event in a chatbot conversation
-- inputs: raw.chat_events
-- rules:
--   role, event and channel are lower-cased and trimmed; empty strings become NULL.
--   session_seq numbers a session's rows from 1 in conversation order: by ts, then system before
--   user before bot before agent (a reply logged in the same second follows its question), then the
--   hash of the row's natural key, so the order never depends on how rows were loaded.
--   is_message: a row a person or the bot said (role user, bot or agent, and either text or no event);
--   system rows and bare events (session_start, handoff, csat, ...) are not messages.
-- checks:
--   (session_id, session_seq): unique
--   session_id: not_null
--   user_id: not_null
--   ts: not_null
--   role: not_null, accepted_values(user, bot, agent, system)
--   session_seq: not_null
--   is_message: not_null
WITH cleaned AS (
    SELECT
        session_id,
        user_id,
        ts,
        nullif(lower(trim(role)), '') AS role,
        text,
        intent,
        intent_confidence,
        is_fallback,
        nullif(lower(trim(event)), '') AS event,
        nullif(lower(trim(channel)), '') AS channel,
        entry_post_id,
        link_id,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        bot_version,
        latency_ms,
        tokens_in,
        tokens_out,
        csat,
        _key
    FROM raw.chat_events
)
SELECT
    session_id,
    row_number() OVER (
        PARTITION BY session_id
        ORDER BY
            ts,
            CASE role WHEN 'system' THEN 0 WHEN 'user' THEN 1 WHEN 'bot' THEN 2 WHEN 'agent' THEN 3 ELSE 4 END,
            -- _key hashes the natural key (session_id, ts, role, event, text); rows written by hand
            -- without one get the same kind of hash, which sorts far faster than the text itself
            coalesce(_key, hash(event, text))
    ) AS session_seq,
    user_id,
    ts,
    role,
    event,
    text,
    role IN ('user', 'bot', 'agent') AND (text IS NOT NULL OR event IS NULL) AS is_message,
    intent,
    intent_confidence,
    is_fallback,
    channel,
    entry_post_id,
    link_id,
    utm_source,
    utm_medium,
    utm_campaign,
    utm_content,
    bot_version,
    latency_ms,
    tokens_in,
    tokens_out,
    csat
FROM cleaned
