-- query: the lead stage funnel
-- grain: one row per group and stage (rank 1 new, 2 mql, 3 sql, 4 opportunity, 5 won)
-- inputs: marts.leads, marts.lineage
-- parameters:
--   $start, $end: the leads created in [start, end) form the cohort
--   $as_of: the moment the funnel is read at; stage changes after it are not seen
--   $min_age_2 .. $min_age_5: days a lead must have been in the previous stage for the step to count it
--   (NULL: the 95th percentile of the step's observed delays, rounded up to whole days)
-- placeholders: __group__, the label of a lead (marts.leads as l, its marts.lineage row as g)
-- rules:
--   A lead reached stage k when it recorded stage k or any later one (the CRM may skip a stage); it entered
--   stage k at the first such change. Lost is an exit, not a step. A step k-1 -> k counts a lead in its
--   denominator only when the lead entered k-1 at least min_age_k days before as_of: younger leads may
--   still advance, and counting them would bias the rate down.
WITH seen AS (
    SELECT
        __group__ AS group_value,
        l.created_at,
        CASE WHEN l.mql_at <= $as_of THEN l.mql_at END AS mql_at,
        CASE WHEN l.sql_at <= $as_of THEN l.sql_at END AS sql_at,
        CASE WHEN l.opportunity_at <= $as_of THEN l.opportunity_at END AS opportunity_at,
        CASE WHEN l.won_at <= $as_of THEN l.won_at END AS won_at,
        CASE WHEN l.lost_at <= $as_of THEN l.lost_at END AS lost_at
    FROM marts.leads AS l
    LEFT JOIN marts.lineage AS g ON g.lead_id = l.lead_id
    WHERE l.created_at >= $start AND l.created_at < $end AND l.created_at <= $as_of
),
reached AS (
    SELECT
        group_value,
        created_at AS at_1,
        least(mql_at, sql_at, opportunity_at, won_at) AS at_2,
        least(sql_at, opportunity_at, won_at) AS at_3,
        least(opportunity_at, won_at) AS at_4,
        won_at AS at_5,
        lost_at IS NOT NULL AND won_at IS NULL AS is_lost
    FROM seen
),
status AS (
    SELECT
        *,
        CASE
            WHEN at_5 IS NOT NULL THEN 5
            WHEN at_4 IS NOT NULL THEN 4
            WHEN at_3 IS NOT NULL THEN 3
            WHEN at_2 IS NOT NULL THEN 2
            ELSE 1
        END AS furthest_rank
    FROM reached
),
steps AS (
    SELECT group_value, furthest_rank, is_lost, 1 AS stage_rank, CAST(NULL AS TIMESTAMPTZ) AS previous_at, at_1 AS entered_at
    FROM status
    UNION ALL
    SELECT group_value, furthest_rank, is_lost, 2 AS stage_rank, at_1 AS previous_at, at_2 AS entered_at
    FROM status
    UNION ALL
    SELECT group_value, furthest_rank, is_lost, 3 AS stage_rank, at_2 AS previous_at, at_3 AS entered_at
    FROM status
    UNION ALL
    SELECT group_value, furthest_rank, is_lost, 4 AS stage_rank, at_3 AS previous_at, at_4 AS entered_at
    FROM status
    UNION ALL
    SELECT group_value, furthest_rank, is_lost, 5 AS stage_rank, at_4 AS previous_at, at_5 AS entered_at
    FROM status
),
timed AS (
    SELECT
        *,
        (epoch(entered_at) - epoch(previous_at)) / 86400.0 AS days_in_previous,
        (epoch($as_of) - epoch(previous_at)) / 86400.0 AS previous_age_days
    FROM steps
),
observed_delays AS (
    SELECT stage_rank, ceil(quantile_cont(days_in_previous, 0.95)) AS delay_days
    FROM timed
    WHERE days_in_previous IS NOT NULL
    GROUP BY stage_rank
),
given AS (
    SELECT 2 AS stage_rank, CAST($min_age_2 AS DOUBLE) AS min_age_days
    UNION ALL
    SELECT 3 AS stage_rank, CAST($min_age_3 AS DOUBLE) AS min_age_days
    UNION ALL
    SELECT 4 AS stage_rank, CAST($min_age_4 AS DOUBLE) AS min_age_days
    UNION ALL
    SELECT 5 AS stage_rank, CAST($min_age_5 AS DOUBLE) AS min_age_days
),
maturity AS (
    SELECT given.stage_rank, coalesce(given.min_age_days, observed_delays.delay_days, 0) AS min_age_days
    FROM given
    LEFT JOIN observed_delays ON observed_delays.stage_rank = given.stage_rank
),
measured AS (
    SELECT
        timed.*,
        maturity.min_age_days,
        coalesce(timed.previous_age_days >= maturity.min_age_days, FALSE) AS is_eligible
    FROM timed
    LEFT JOIN maturity ON maturity.stage_rank = timed.stage_rank
)
SELECT
    group_value,
    stage_rank,
    count(entered_at) AS n_reached,
    count(*) FILTER (WHERE is_eligible) AS n_eligible,
    count(entered_at) FILTER (WHERE is_eligible) AS n_converted,
    count(previous_at) FILTER (WHERE NOT is_eligible) AS n_too_young,
    quantile_cont(days_in_previous, 0.5) FILTER (WHERE is_eligible) AS median_days,
    quantile_cont(days_in_previous, 0.9) FILTER (WHERE is_eligible) AS p90_days,
    max(min_age_days) AS min_age_days,
    count(*) FILTER (WHERE furthest_rank = stage_rank AND stage_rank < 5 AND NOT is_lost) AS n_open,
    count(*) FILTER (WHERE furthest_rank = stage_rank AND is_lost) AS n_lost
FROM measured
GROUP BY group_value, stage_rank
ORDER BY group_value, stage_rank
