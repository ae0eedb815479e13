-- model: staging.post_metrics
-- grain: one row per (post_id, observed_at) snapshot of a post's counters
-- inputs: raw.post_metrics, raw.posts, meta.loads
-- rules:
--   Union of raw.post_metrics and the raw.posts rows that carry at least one counter (a posts row
--   without observed_at counts as observed when its load ran). When both kinds hold a snapshot at the
--   same instant, raw.post_metrics wins; within one kind, the latest load wins.
--   Counters are lifetime totals as reported; a NULL counter means "not reported".
-- checks:
--   (post_id, observed_at): unique
--   post_id: not_null
--   observed_at: not_null
--   source: not_null, accepted_values(post_metrics, posts)
--   post_id: relationships(staging.posts.post_id) warn
WITH snapshots AS (
    SELECT
        'post_metrics' AS source, 1 AS source_priority, m._load_id, m._key,
        m.post_id, m.observed_at,
        m.impressions, m.reach, m.likes, m.comments, m.shares, m.saves, m.clicks, m.video_views, m.followers
    FROM raw.post_metrics AS m
    UNION ALL
    SELECT
        'posts' AS source, 2 AS source_priority, p._load_id, p._key,
        p.post_id, coalesce(p.observed_at, l.loaded_at) AS observed_at,
        p.impressions, p.reach, p.likes, p.comments, p.shares, p.saves, p.clicks, p.video_views, p.followers
    FROM raw.posts AS p
    LEFT JOIN meta.loads AS l ON l.load_id = p._load_id
    WHERE coalesce(
        p.impressions, p.reach, p.likes, p.comments, p.shares, p.saves, p.clicks, p.video_views, p.followers
    ) IS NOT NULL
),
ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY post_id, observed_at
            ORDER BY source_priority, _load_id DESC NULLS LAST, _key DESC NULLS LAST
        ) AS preference_rank
    FROM snapshots
    WHERE post_id IS NOT NULL AND observed_at IS NOT NULL
)
SELECT
    post_id,
    observed_at,
    impressions,
    reach,
    likes,
    comments,
    shares,
    saves,
    clicks,
    video_views,
    followers,
    source
FROM ranked
WHERE preference_rank = 1
