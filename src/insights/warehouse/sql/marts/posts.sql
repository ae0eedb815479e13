-- model: marts.posts
-- grain: one row per post
-- inputs: staging.posts, staging.post_metrics
-- rules:
--   Attributes come from staging.posts (each post's most recent raw row). Posts that only appear in
--   snapshots (no raw.posts row) are left out: they have no platform or publication time.
--   Latest metrics (impressions ... followers): each counter's value in the latest snapshot that reports
--   it, so a snapshot that omits a counter does not blank it. latest_observed_at is the newest snapshot
--   of any counter; age_days is the post's age in days at that snapshot; n_snapshots counts snapshots.
--   Metrics at a fixed age of 7 days (*_7d): each counter at published_at + 7 days, interpolated
--   linearly between the last snapshot before that mark and the first snapshot at or after it (a
--   snapshot exactly at the mark is used as is). Without an earlier snapshot the counter is taken to be
--   0 at published_at. NULL when no snapshot at or after the mark reports the counter: the post is not
--   7 days old in the data yet. is_7d_observed says whether any snapshot reaches the mark.
-- checks:
--   post_id: unique, not_null
--   platform: not_null
--   published_at: not_null
--   content_type: accepted_values(text, image, video, link, carousel, story, reel, other)
--   origin: accepted_values(human, ai, ai_edited)
--   n_snapshots: not_null
--   is_7d_observed: not_null
WITH marks AS (
    SELECT post_id, published_at, published_at + INTERVAL 7 DAY AS mark_at
    FROM staging.posts
),
long AS (
    -- one row per reported counter value; UNPIVOT drops the NULLs ("not reported")
    SELECT post_id, observed_at, metric, value
    FROM staging.post_metrics
    UNPIVOT (value FOR metric IN (impressions, reach, likes, comments, shares, saves, clicks, video_views, followers))
),
per_metric AS (
    SELECT
        l.post_id,
        l.metric,
        m.published_at,
        m.mark_at,
        arg_max(l.value, l.observed_at) AS latest_value,
        max(l.observed_at) FILTER (WHERE l.observed_at < m.mark_at) AS before_at,
        arg_max(l.value, l.observed_at) FILTER (WHERE l.observed_at < m.mark_at) AS before_value,
        min(l.observed_at) FILTER (WHERE l.observed_at >= m.mark_at) AS after_at,
        arg_min(l.value, l.observed_at) FILTER (WHERE l.observed_at >= m.mark_at) AS after_value
    FROM long AS l
    INNER JOIN marks AS m ON m.post_id = l.post_id
    GROUP BY l.post_id, l.metric, m.published_at, m.mark_at
),
interpolated AS (
    SELECT
        post_id,
        metric,
        latest_value,
        CASE
            WHEN after_at IS NULL THEN NULL
            WHEN after_at = mark_at THEN CAST(after_value AS DOUBLE)
            ELSE coalesce(before_value, 0) + (after_value - coalesce(before_value, 0))
                * (epoch(mark_at) - epoch(coalesce(before_at, published_at)))
                / (epoch(after_at) - epoch(coalesce(before_at, published_at)))
        END AS value_7d
    FROM per_metric
),
metrics AS (
    SELECT
        post_id,
        max(latest_value) FILTER (WHERE metric = 'impressions') AS impressions,
        max(latest_value) FILTER (WHERE metric = 'reach') AS reach,
        max(latest_value) FILTER (WHERE metric = 'likes') AS likes,
        max(latest_value) FILTER (WHERE metric = 'comments') AS comments,
        max(latest_value) FILTER (WHERE metric = 'shares') AS shares,
        max(latest_value) FILTER (WHERE metric = 'saves') AS saves,
        max(latest_value) FILTER (WHERE metric = 'clicks') AS clicks,
        max(latest_value) FILTER (WHERE metric = 'video_views') AS video_views,
        max(latest_value) FILTER (WHERE metric = 'followers') AS followers,
        max(value_7d) FILTER (WHERE metric = 'impressions') AS impressions_7d,
        max(value_7d) FILTER (WHERE metric = 'reach') AS reach_7d,
        max(value_7d) FILTER (WHERE metric = 'likes') AS likes_7d,
        max(value_7d) FILTER (WHERE metric = 'comments') AS comments_7d,
        max(value_7d) FILTER (WHERE metric = 'shares') AS shares_7d,
        max(value_7d) FILTER (WHERE metric = 'saves') AS saves_7d,
        max(value_7d) FILTER (WHERE metric = 'clicks') AS clicks_7d,
        max(value_7d) FILTER (WHERE metric = 'video_views') AS video_views_7d,
        max(value_7d) FILTER (WHERE metric = 'followers') AS followers_7d
    FROM interpolated
    GROUP BY post_id
),
snapshots AS (
    SELECT post_id, count(*) AS n_snapshots, max(observed_at) AS latest_observed_at
    FROM staging.post_metrics
    GROUP BY post_id
)
SELECT
    p.post_id,
    p.platform,
    p.published_at,
    p.account_id,
    p.content_type,
    p.text,
    p.origin,
    p.model,
    p.prompt_id,
    p.prompt_version,
    p.campaign,
    p.is_paid,
    p.link_id,
    p.utm_source,
    p.utm_medium,
    p.utm_campaign,
    p.utm_content,
    p.experiment_id,
    p.variant,
    coalesce(s.n_snapshots, 0) AS n_snapshots,
    s.latest_observed_at,
    (epoch(s.latest_observed_at) - epoch(p.published_at)) / 86400.0 AS age_days,
    coalesce(s.latest_observed_at >= p.published_at + INTERVAL 7 DAY, FALSE) AS is_7d_observed,
    m.impressions,
    m.reach,
    m.likes,
    m.comments,
    m.shares,
    m.saves,
    m.clicks,
    m.video_views,
    m.followers,
    m.impressions_7d,
    m.reach_7d,
    m.likes_7d,
    m.comments_7d,
    m.shares_7d,
    m.saves_7d,
    m.clicks_7d,
    m.video_views_7d,
    m.followers_7d
FROM staging.posts AS p
LEFT JOIN snapshots AS s ON s.post_id = p.post_id
LEFT JOIN metrics AS m ON m.post_id = p.post_id
