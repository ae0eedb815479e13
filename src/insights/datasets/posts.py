"""Posts and their metric snapshots, with the engagement effects of `EngagementTruth` planted.

Each post gets 7-day counts first (impressions, then engagements as Poisson draws around the
planted rate); earlier snapshots thin those counts binomially and later ones add Poisson
increments along a saturating curve, so counters never decrease over one post's snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from insights.contract import POST_METRICS, POSTS
from insights.datasets import vocabulary as vocab
from insights.datasets.timeline import MS_PER_DAY, MS_PER_HOUR, PERIOD_DAYS, Period, draw_offsets
from insights.datasets.truth import EngagementTruth, PromptTruth
from insights.datasets.writers import RawTable

#: Relative posting frequency by weekday (Monday first) and by UTC hour 6..21.
WEEKDAY_WEIGHTS = (1.0, 1.1, 1.1, 1.0, 0.9, 0.45, 0.35)
HOUR_WEIGHTS = (1, 2, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1)
COUNTERS = ("impressions", "likes", "comments", "shares", "saves", "clicks", "video_views", "followers")


@dataclass(frozen=True)
class Posts:
    """Posts as rows plus the per-post facts the chat sessions need."""

    posts: RawTable
    metrics: RawTable
    published_ms: npt.NDArray[np.int64]
    platform: npt.NDArray[np.str_]
    clicks_7d: npt.NDArray[np.int64]
    is_prompt_post: npt.NDArray[np.bool_]
    post_id: pa.Array
    link_id: pa.Array
    utm_medium: pa.Array
    campaign: pa.Array


def _choice(rng: np.random.Generator, weights: Mapping[str, float], n: int) -> npt.NDArray[np.str_]:
    names = np.array(list(weights))
    p = np.array(list(weights.values()), dtype=np.float64)
    return names[rng.choice(len(names), size=n, p=p / p.sum())]


def _publish_times(
    rng: np.random.Generator, period: Period, platform: npt.NDArray[np.str_], truth: EngagementTruth
) -> npt.NDArray[np.int64]:
    n = len(platform)
    start_wd = period.start.weekday()
    day_w = np.array([WEEKDAY_WEIGHTS[(start_wd + d) % 7] for d in range(PERIOD_DAYS)])
    day = rng.choice(PERIOD_DAYS, size=n, p=day_w / day_w.sum())
    hour_w = np.array(HOUR_WEIGHTS, dtype=float)
    hour = 6 + rng.choice(len(hour_w), size=n, p=hour_w / hour_w.sum())
    in_slot = rng.random(n) < truth.best_slot_share
    slot_week = rng.integers(0, PERIOD_DAYS // 7, size=n)
    slot_u = rng.random(n)
    for plat, slot in truth.best_slots.items():
        pick = in_slot & (platform == plat)
        day[pick] = slot_week[pick] * 7 + (slot.weekday - start_wd) % 7
        hour[pick] = slot.start_hour + np.floor(slot_u[pick] * (slot.end_hour - slot.start_hour)).astype(np.int64)
    seconds = rng.integers(0, 3600, size=n)
    return period.start_ms + day * MS_PER_DAY + hour * MS_PER_HOUR + seconds * 1000


def in_best_slot(
    published_ms: npt.NDArray[np.int64], platform: npt.NDArray[np.str_], truth: EngagementTruth
) -> npt.NDArray[np.bool_]:
    """Whether each post went out in its platform's best weekly slot (UTC)."""
    days = published_ms // MS_PER_DAY
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    hour = (published_ms % MS_PER_DAY) // MS_PER_HOUR
    out = np.zeros(len(published_ms), dtype=bool)
    for plat, slot in truth.best_slots.items():
        out |= (platform == plat) & (weekday == slot.weekday) & (hour >= slot.start_hour) & (hour < slot.end_hour)
    return out


def _mean_one_lognormal(rng: np.random.Generator, sigma: float, n: int) -> npt.NDArray[np.float64]:
    return rng.lognormal(-(sigma**2) / 2, sigma, size=n)


def _texts(rng: np.random.Generator, origin: npt.NDArray[np.str_], prompt_id: npt.NDArray[np.str_]) -> list[str]:
    texts = []
    for o, p in zip(origin.tolist(), prompt_id.tolist(), strict=True):
        if o == "human":
            texts.append(vocab.fill(vocab.pick(rng, vocab.HUMAN_POSTS), rng))
            continue
        text = vocab.fill(vocab.pick(rng, vocab.AI_POSTS[p]), rng)
        if o == "ai_edited":
            text = (
                vocab.pick(rng, ("New: ", "Heads up! ", "")) + text + vocab.pick(rng, (" #saas", " #sales", " #growth"))
            )
        texts.append(text)
    return texts


def generate_posts(
    rng: np.random.Generator, period: Period, n_posts: int, truth: EngagementTruth, prompt: PromptTruth
) -> Posts:
    """Draw `n_posts` posts over the period and their metric snapshots before its end."""
    accounts = truth.accounts
    share = np.array([a.post_share for a in accounts])
    acc = rng.choice(len(accounts), size=n_posts, p=share / share.sum())
    platform = np.array([a.platform for a in accounts])[acc]
    published = _publish_times(rng, period, platform, truth)
    order = np.argsort(published, kind="stable")
    acc, platform, published = acc[order], platform[order], published[order]

    content = np.empty(n_posts, dtype=object)
    for plat, mix in truth.content_mix.items():
        pick = platform == plat
        content[pick] = _choice(rng, mix, int(pick.sum()))
    content = content.astype(str)
    origin = _choice(rng, truth.origin_mix, n_posts)
    is_ai = origin != "human"
    model = np.where(is_ai, _choice(rng, prompt.models, n_posts), "")
    prompt_id = np.where(is_ai, _choice(rng, prompt.prompt_mix, n_posts), "")
    hook_v2 = rng.random(n_posts) < prompt.hook_v2_share
    other_v2 = rng.random(n_posts) < 0.5
    is_hook = prompt_id == prompt.prompt_id
    version = np.where(is_ai, np.where(np.where(is_hook, hook_v2, other_v2), "v2", "v1"), "")
    is_prompt_post = is_hook & (version == prompt.prompt_version)
    campaign = np.array(vocab.CAMPAIGNS)[rng.choice(len(vocab.CAMPAIGNS), size=n_posts, p=vocab.CAMPAIGN_PROBS)]
    paid = rng.random(n_posts) < truth.paid_share

    # 7-day counts around the planted rates
    base_rate = np.array([a.engagement_rate for a in accounts])[acc]
    type_ratio = np.array([truth.content_type_ratio[c] for c in content])
    origin_ratio = np.array([truth.origin_ratio[o] for o in origin])
    slot = in_best_slot(published, platform, truth)
    rate = base_rate * type_ratio * origin_ratio * np.where(slot, truth.best_slot_ratio, 1.0)
    rate = rate * _mean_one_lognormal(rng, truth.post_noise_sigma, n_posts)
    mean_imp = np.array([a.impressions for a in accounts])[acc] * np.where(paid, truth.paid_impressions_ratio, 1.0)
    imp7 = rng.poisson(mean_imp * _mean_one_lognormal(rng, truth.impressions_sigma, n_posts))
    engaged = rng.poisson(imp7 * rate)
    split = rng.multinomial(engaged, list(truth.engagement_split.values()))
    click_rate = np.array([truth.click_rate[c] for c in content])
    counts7 = {
        "impressions": imp7,
        **{name: split[:, i] for i, name in enumerate(truth.engagement_split)},
        "clicks": rng.binomial(imp7, click_rate),
        "video_views": rng.binomial(imp7, truth.video_view_rate),
        "followers": rng.binomial(imp7, truth.follow_rate),
    }
    reach_ratio = rng.uniform(0.55, 0.85, size=n_posts)

    prefix = np.array([vocab.PLATFORM_PREFIX[p] for p in platform])
    post_id = np.char.add(np.char.add(prefix, "-"), np.char.zfill(np.arange(1, n_posts + 1).astype(str), 6))
    link_id = np.char.add("lnk-", np.char.zfill(np.arange(1, n_posts + 1).astype(str), 5))
    medium = np.where(paid, "paid_social", "social")
    texts = _texts(rng, origin, prompt_id)
    blank = ~is_ai
    posts = RawTable.from_columns(
        POSTS,
        {
            "post_id": post_id,
            "platform": platform,
            "published_at": published,
            "account_id": np.array([a.account_id for a in accounts])[acc],
            "content_type": content,
            "text": texts,
            "origin": origin,
            "model": pa.array(model, mask=blank),
            "prompt_id": pa.array(prompt_id, mask=blank),
            "prompt_version": pa.array(version, mask=blank),
            "campaign": campaign,
            "paid": paid,
            "link_id": link_id,
            "utm_source": platform,
            "utm_medium": medium,
            "utm_campaign": campaign,
            "utm_content": post_id,
        },
        draw_offsets(rng, n_posts),
    )
    metrics = _snapshots(rng, period, truth, published, post_id, content, counts7, reach_ratio)
    return Posts(
        posts=posts,
        metrics=metrics,
        published_ms=published,
        platform=platform,
        clicks_7d=counts7["clicks"].astype(np.int64),
        is_prompt_post=is_prompt_post,
        post_id=pa.array(post_id),
        link_id=pa.array(link_id),
        utm_medium=pa.array(medium),
        campaign=pa.array(campaign),
    )


def _snapshots(
    rng: np.random.Generator,
    period: Period,
    truth: EngagementTruth,
    published: npt.NDArray[np.int64],
    post_id: npt.NDArray[np.str_],
    content: npt.NDArray[np.str_],
    counts7: dict[str, npt.NDArray[np.int64]],
    reach_ratio: npt.NDArray[np.float64],
) -> RawTable:
    ages = np.array(truth.snapshot_hours, dtype=np.int64)
    curve = 1.0 - np.exp(-ages / (24.0 * truth.saturation_days))
    i7 = truth.snapshot_hours.index(truth.rate_age_hours)
    n = len(published)
    series: dict[str, npt.NDArray[np.int64]] = {}
    for name in COUNTERS:
        c = np.zeros((n, len(ages)), dtype=np.int64)
        c[:, i7] = counts7[name]
        for i in range(i7 - 1, -1, -1):
            c[:, i] = rng.binomial(c[:, i + 1], curve[i] / curve[i + 1])
        for i in range(i7 + 1, len(ages)):
            c[:, i] = c[:, i - 1] + rng.poisson(counts7[name] * (curve[i] - curve[i - 1]) / curve[i7])
        series[name] = c
    series["reach"] = np.floor(series["impressions"] * reach_ratio[:, None]).astype(np.int64)
    jitter = rng.integers(0, 20 * 60_000, size=(n, len(ages)))
    observed = published[:, None] + ages[None, :] * MS_PER_HOUR + jitter
    keep = observed < period.end_ms
    rows = np.argsort(observed[keep], kind="stable")
    post_rows = np.broadcast_to(np.arange(n)[:, None], observed.shape)[keep][rows]
    columns: dict[str, object] = {
        "post_id": post_id[post_rows],
        "observed_at": observed[keep][rows],
    }
    is_video = content[post_rows] == "video"
    for name, values in series.items():
        flat = values[keep][rows]
        columns[name] = pa.array(flat, mask=~is_video) if name == "video_views" else flat
    return RawTable.from_columns(POST_METRICS, columns, draw_offsets(rng, len(post_rows)))
