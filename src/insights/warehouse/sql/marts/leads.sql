-- model: marts.leads
-- grain: one row per lead
-- inputs: staging.leads
-- rules:
--   created_at: the lead's first stage change. new_at, mql_at, sql_at, opportunity_at, won_at, lost_at:
--   the first change into each stage; a stage the CRM skipped stays NULL (use is_qualified or
--   furthest_stage for "reached at least").
--   current_stage: the stage of the latest change (staging.leads.change_seq).
--   furthest_stage: the most advanced of new, mql, sql, opportunity, won ever recorded (lost is an exit,
--   not a step).
--   is_qualified: reached mql or beyond (mql, sql, opportunity or won recorded). is_won: won recorded.
--   user_id, session_id, source and campaign: the first non-NULL value in change order (the context the
--   lead was captured in).
--   value: the value recorded with the (latest) won change; else the latest non-NULL value.
-- checks:
--   lead_id: unique, not_null
--   created_at: not_null
--   current_stage: not_null, accepted_values(new, mql, sql, opportunity, won, lost)
--   furthest_stage: accepted_values(new, mql, sql, opportunity, won)
--   is_qualified: not_null
--   is_won: not_null
--   session_id: relationships(marts.chat_sessions.session_id) warn
SELECT
    lead_id,
    arg_min(user_id, change_seq) FILTER (WHERE user_id IS NOT NULL) AS user_id,
    arg_min(session_id, change_seq) FILTER (WHERE session_id IS NOT NULL) AS session_id,
    arg_min(source, change_seq) FILTER (WHERE source IS NOT NULL) AS source,
    arg_min(campaign, change_seq) FILTER (WHERE campaign IS NOT NULL) AS campaign,
    min(changed_at) AS created_at,
    min(changed_at) FILTER (WHERE stage = 'new') AS new_at,
    min(changed_at) FILTER (WHERE stage = 'mql') AS mql_at,
    min(changed_at) FILTER (WHERE stage = 'sql') AS sql_at,
    min(changed_at) FILTER (WHERE stage = 'opportunity') AS opportunity_at,
    min(changed_at) FILTER (WHERE stage = 'won') AS won_at,
    min(changed_at) FILTER (WHERE stage = 'lost') AS lost_at,
    arg_max(stage, change_seq) AS current_stage,
    arg_max(stage, stage_rank) FILTER (WHERE stage_rank <= 5) AS furthest_stage,
    coalesce(bool_or(stage IN ('mql', 'sql', 'opportunity', 'won')), FALSE) AS is_qualified,
    coalesce(bool_or(stage = 'won'), FALSE) AS is_won,
    coalesce(
        arg_max(value, change_seq) FILTER (WHERE stage = 'won' AND value IS NOT NULL),
        arg_max(value, change_seq) FILTER (WHERE value IS NOT NULL)
    ) AS value,
    count(*) AS n_changes
FROM staging.leads
WHERE lead_id IS NOT NULL
GROUP BY lead_id
