-- model: staging.leads
-- grain: one row per change of a lead's stage
-- inputs: raw.leads
-- rules:
--   stage and source are lower-cased and trimmed; empty strings become NULL.
--   stage_rank orders the pipeline: new 1, mql 2, sql 3, opportunity 4, won 5, lost 6.
--   change_seq numbers a lead's changes from 1: by changed_at, then stage_rank, then the row's key hash.
-- checks:
--   (lead_id, change_seq): unique
--   lead_id: not_null
--   stage: not_null, accepted_values(new, mql, sql, opportunity, won, lost)
--   changed_at: not_null
--   change_seq: not_null
WITH cleaned AS (
    SELECT
        lead_id,
        nullif(lower(trim(stage)), '') AS stage,
        changed_at,
        user_id,
        session_id,
        email,
        phone,
        nullif(lower(trim(source)), '') AS source,
        campaign,
        value,
        _key
    FROM raw.leads
),
ranked AS (
    SELECT
        *,
        CASE stage
            WHEN 'new' THEN 1 WHEN 'mql' THEN 2 WHEN 'sql' THEN 3
            WHEN 'opportunity' THEN 4 WHEN 'won' THEN 5 WHEN 'lost' THEN 6
        END AS stage_rank
    FROM cleaned
)
SELECT
    lead_id,
    row_number() OVER (
        PARTITION BY lead_id ORDER BY changed_at, stage_rank NULLS LAST, _key NULLS LAST
    ) AS change_seq,
    stage,
    stage_rank,
    changed_at,
    user_id,
    session_id,
    email,
    phone,
    source,
    campaign,
    value
FROM ranked
