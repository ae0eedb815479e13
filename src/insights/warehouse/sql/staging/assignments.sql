-- model: staging.assignments
-- grain: one row per exposure of a unit to an experiment variant
-- inputs: raw.assignments
-- rules:
--   unit_type is lower-cased and trimmed and defaults to user, as the data contract says.
--   exposure_seq numbers a unit's exposures within an experiment from 1, by assigned_at then variant;
--   is_first_exposure marks exposure_seq = 1.
--   is_multi_variant: the unit saw more than one variant of the experiment (it cannot be analysed as
--   a clean member of either arm).
-- checks:
--   (experiment_id, unit_id, variant): unique
--   experiment_id: not_null
--   unit_id: not_null
--   variant: not_null
--   assigned_at: not_null
--   unit_type: not_null, accepted_values(user, session, post)
SELECT
    experiment_id,
    unit_id,
    variant,
    assigned_at,
    assignment_prob,
    coalesce(nullif(lower(trim(unit_type)), ''), 'user') AS unit_type,
    row_number() OVER (
        PARTITION BY experiment_id, unit_id ORDER BY assigned_at, variant
    ) AS exposure_seq,
    row_number() OVER (
        PARTITION BY experiment_id, unit_id ORDER BY assigned_at, variant
    ) = 1 AS is_first_exposure,
    min(variant) OVER (PARTITION BY experiment_id, unit_id)
        <> max(variant) OVER (PARTITION BY experiment_id, unit_id) AS is_multi_variant
FROM raw.assignments
