"""One row per post with its engagement, its exposure and its features, built in the engine.

:func:`post_features` reads `marts.posts` and returns a DuckDB relation that every engagement model and
recommendation starts from. Nothing is fetched: the caller filters, groups or fetches what it needs.

The engagement set and the denominator are explicit (:class:`EngagementDefinition`): which counters count
as engagement on each platform, whether the rate is per impression, per reach or per follower, and at
which age the counters are read (7 days after publication, interpolated from snapshots, or the lifetime
value of the latest snapshot). Posts that cannot be measured keep their row and say why in `exclusion`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from insights.errors import invalid_parameter
from insights.params import check_choice, check_open_period

#: counters that may count as engagement (all of them are post_metrics columns)
ENGAGEMENT_COUNTERS = ("likes", "comments", "shares", "saves", "clicks", "video_views")
DENOMINATORS = ("impressions", "reach", "followers", "posts")
AGES = ("7d", "lifetime")

#: Phrases that make a call to action (matched as whole words, case-insensitive). Version 1.
CTA_PHRASES = (
    "book a demo",
    "book now",
    "buy now",
    "click",
    "comment below",
    "download",
    "get started",
    "join",
    "learn more",
    "link in bio",
    "read the",
    "register",
    "shop now",
    "sign up",
    "start your",
    "subscribe",
    "try it",
    "visit",
    "watch",
)
#: Pictographs, symbols and flags; enough to tell a post with emoji from one without.
_EMOJI = r"[\x{1F1E6}-\x{1F1FF}\x{1F300}-\x{1FAFF}\x{2600}-\x{27BF}\x{2B50}\x{2B55}]"
_CTA = r"\b(" + "|".join(p.replace(" ", r"\s+") for p in CTA_PHRASES) + r")\b"

#: The text features, each with its SQL over the post's `text` (NULL text reads as empty).
TEXT_FEATURES: Mapping[str, str] = MappingProxyType(
    {
        "text_length": "length(_text)",
        "n_hashtags": r"len(regexp_extract_all(_text, '#\w+'))",
        "has_emoji": f"regexp_matches(_text, '{_EMOJI}')",
        "is_question": r"contains(_text, '?')",
        "has_cta": f"regexp_matches(lower(_text), '{_CTA}')",
        "has_link": r"regexp_matches(lower(_text), '(https?://|www\.)')",
    }
)


@dataclass(frozen=True, kw_only=True)
class EngagementDefinition:
    """What counts as engagement, per what, and when it is read.

    `counters` is the engagement set on every platform unless `by_platform` gives a platform its own
    (for example ``{"x": ("likes", "comments", "shares")}``). A counter a platform does not report
    (NULL) adds nothing. `denominator` is the exposure: impressions, reach or followers, or "posts" (each
    post counts 1: engagement per post, for exports that report no audience size). `age` is
    "7d" (counters at 7 days after publication, from snapshots) or "lifetime" (the latest snapshot;
    for exports that only carry lifetime totals).

    >>> EngagementDefinition().label
    'likes + comments + shares + saves per impression, at 7 days'
    """

    counters: tuple[str, ...] = ("likes", "comments", "shares", "saves")
    by_platform: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    denominator: str = "impressions"
    age: str = "7d"

    def __post_init__(self) -> None:
        fn = "EngagementDefinition"
        _check_counters("counters", fn, self.counters)
        if not isinstance(self.by_platform, Mapping):
            raise invalid_parameter("by_platform", fn, "must be a mapping of platform to counters", self.by_platform)
        for platform, counters in self.by_platform.items():
            if not isinstance(platform, str) or not platform:
                raise invalid_parameter("by_platform", fn, "must have platform names as keys", platform)
            _check_counters("by_platform", fn, counters)
        object.__setattr__(self, "counters", tuple(self.counters))
        object.__setattr__(
            self, "by_platform", MappingProxyType({p.lower(): tuple(c) for p, c in self.by_platform.items()})
        )
        check_choice("denominator", fn, self.denominator, DENOMINATORS)
        check_choice("age", fn, self.age, AGES)

    @property
    def label(self) -> str:
        """For example 'likes + comments + shares + saves per impression, at 7 days'."""
        unit = {"impressions": "impression", "reach": "person reached", "followers": "follower", "posts": "post"}[
            self.denominator
        ]
        when = "at 7 days" if self.age == "7d" else "lifetime"
        text = f"{' + '.join(self.counters)} per {unit}, {when}"
        for platform, counters in sorted(self.by_platform.items()):
            text += f"; on {platform}: {' + '.join(counters)}"
        return text

    def column(self, counter: str) -> str:
        """The marts.posts column holding `counter` at this definition's age."""
        return f"{counter}_7d" if self.age == "7d" else counter


def _check_counters(name: str, function: str, counters: object) -> None:
    if (
        isinstance(counters, str)
        or not isinstance(counters, tuple | list)
        or not counters
        or any(c not in ENGAGEMENT_COUNTERS for c in counters)
        or len(set(counters)) != len(counters)
    ):
        raise invalid_parameter(
            name, function, "must be distinct counters from " + ", ".join(ENGAGEMENT_COUNTERS), counters
        )


def _sum_sql(definition: EngagementDefinition, counters: tuple[str, ...]) -> str:
    return " + ".join(f"coalesce(p.{definition.column(c)}, 0)" for c in counters)


def _any_sql(definition: EngagementDefinition) -> str:
    counters = dict.fromkeys(definition.counters + tuple(c for cs in definition.by_platform.values() for c in cs))
    return "coalesce(" + ", ".join(f"p.{definition.column(c)}" for c in counters) + ")"


def _check_timezone(function: str, value: object) -> dict[str, str] | str:
    """A timezone name, or a mapping of account_id (or 'platform/account_id') to a timezone name."""

    def one(name: object) -> str:
        if not isinstance(name, str):
            raise invalid_parameter("timezone", function, "must be a timezone name such as 'Europe/Berlin'", name)
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise invalid_parameter(
                "timezone", function, "must be a timezone name such as 'Europe/Berlin'", name
            ) from None
        return name

    if isinstance(value, Mapping):
        return {str(k): one(v) for k, v in value.items()}
    return one(value)


def post_features(
    con: duckdb.DuckDBPyConnection,
    *,
    engagement: EngagementDefinition | None = None,
    timezone: str | Mapping[str, str] = "UTC",
    start: dt.date | dt.datetime | str | None = None,
    end: dt.date | dt.datetime | str | None = None,
) -> duckdb.DuckDBPyRelation:
    """One row per post published in [start, end): engagement, exposure, time and text features.

    Columns: post_id, platform, account (``platform/account_id``), account_id, published_at, content_type,
    origin, model, prompt_id, prompt_version, campaign, is_paid, local_hour (0-23), local_weekday
    (0 = Monday), hour_of_week (weekday * 24 + hour), the text features of :data:`TEXT_FEATURES`,
    engagements, exposure, engagement_rate, and exclusion (NULL for a usable post; otherwise why it
    cannot be measured: "not measured yet", "no exposure reported" or "zero exposure").

    `timezone` gives local time: one name for all accounts, or a mapping from account_id (or
    ``platform/account_id``) to a name; accounts not in the mapping stay in UTC.

    >>> rel = post_features(con, timezone={"brightloop-hq": "Europe/Berlin"})  # doctest: +SKIP
    >>> rel.filter("exclusion IS NULL").aggregate("sum(engagements) / sum(exposure)")  # doctest: +SKIP
    """
    fn = "post_features"
    definition = EngagementDefinition() if engagement is None else engagement
    if not isinstance(definition, EngagementDefinition):
        raise invalid_parameter("engagement", fn, "must be an EngagementDefinition", type(definition).__name__)
    zones = _check_timezone(fn, timezone)
    first, last = check_open_period(fn, start, end)

    params: dict[str, Any] = {}
    if isinstance(zones, str):
        params["tz"] = zones
        zone_sql = "$tz"
    else:
        cases = []
        for i, (key, zone) in enumerate(sorted(zones.items())):
            params[f"acct{i}"], params[f"tz{i}"] = key, zone
            cases.append(f"WHEN p.account_id = $acct{i} OR p.platform || '/' || p.account_id = $acct{i} THEN $tz{i}")
        zone_sql = "CASE " + " ".join(cases) + " ELSE 'UTC' END" if cases else "'UTC'"

    engaged = _sum_sql(definition, definition.counters)
    if definition.by_platform:
        whens = []
        for i, (platform, counters) in enumerate(sorted(definition.by_platform.items())):
            params[f"platform{i}"] = platform
            whens.append(f"WHEN p.platform = $platform{i} THEN {_sum_sql(definition, counters)}")
        engaged = f"CASE {' '.join(whens)} ELSE {engaged} END"
    exposure = "1.0" if definition.denominator == "posts" else f"p.{definition.column(definition.denominator)}"
    where = []
    if first is not None:
        params["start"] = first
        where.append("p.published_at >= $start")
    if last is not None:
        params["end"] = last
        where.append("p.published_at < $end")
    text_columns = ",\n        ".join(f"{sql} AS {name}" for name, sql in TEXT_FEATURES.items())
    query = f"""
    WITH base AS (
        SELECT
            p.*,
            coalesce(p.text, '') AS _text,
            timezone({zone_sql}, p.published_at) AS _local,
            CAST({engaged} AS DOUBLE) AS _engagements,
            CAST({exposure} AS DOUBLE) AS _exposure,
            {_any_sql(definition)} IS NOT NULL AS _measured
        FROM marts.posts AS p
        {"WHERE " + " AND ".join(where) if where else ""}
    )
    SELECT
        post_id,
        platform,
        platform || '/' || coalesce(account_id, '(none)') AS account,
        account_id,
        published_at,
        coalesce(content_type, 'other') AS content_type,
        coalesce(origin, 'human') AS origin,
        model,
        prompt_id,
        prompt_version,
        campaign,
        coalesce(is_paid, FALSE) AS is_paid,
        CAST(hour(_local) AS INTEGER) AS local_hour,
        CAST(isodow(_local) - 1 AS INTEGER) AS local_weekday,
        CAST((isodow(_local) - 1) * 24 + hour(_local) AS INTEGER) AS hour_of_week,
        {text_columns},
        _engagements AS engagements,
        _exposure AS exposure,
        CASE WHEN _exposure > 0 THEN _engagements / _exposure END AS engagement_rate,
        CASE
            WHEN {"NOT is_7d_observed OR " if definition.age == "7d" else ""}NOT _measured THEN 'not measured yet'
            WHEN _exposure IS NULL THEN 'no exposure reported'
            WHEN _exposure <= 0 THEN 'zero exposure'
        END AS exclusion
    FROM base
    """  # noqa: S608 - identifiers come from fixed choices; values are bound parameters
    return con.sql(query, params=params)
