-- model: staging.posts
-- grain: one row per post
-- inputs: raw.posts, meta.loads
-- rules:
--   A post's attributes come from its most recent raw row: latest observed_at (a row without one
--   counts as observed when its load ran), then latest load, then the row's key hash.
--   platform, content_type and origin are lower-cased and trimmed; empty strings become NULL.
--   paid is renamed is_paid.
-- checks:
--   post_id: unique, not_null
--   platform: not_null
--   published_at: not_null
--   content_type: accepted_values(text, image, video, link, carousel, story, reel, other)
--   origin: accepted_values(human, ai, ai_edited)
WITH versions AS (
    SELECT
        p.*,
        coalesce(p.observed_at, l.loaded_at) AS version_observed_at,
        row_number() OVER (
            PARTITION BY p.post_id
            ORDER BY coalesce(p.observed_at, l.loaded_at) DESC NULLS LAST, p._load_id DESC NULLS LAST, p._key DESC NULLS LAST
        ) AS recency_rank,
        count(*) OVER (PARTITION BY p.post_id) AS n_versions
    FROM raw.posts AS p
    LEFT JOIN meta.loads AS l ON l.load_id = p._load_id
    WHERE p.post_id IS NOT NULL
)
SELECT
    post_id,
    nullif(lower(trim(platform)), '') AS platform,
    published_at,
    account_id,
    nullif(lower(trim(content_type)), '') AS content_type,
    text,
    nullif(lower(trim(origin)), '') AS origin,
    model,
    prompt_id,
    prompt_version,
    campaign,
    paid AS is_paid,
    link_id,
    utm_source,
    utm_medium,
    utm_campaign,
    utm_content,
    experiment_id,
    variant,
    version_observed_at AS updated_at,
    n_versions,
    extra
FROM versions
WHERE recency_rank = 1
