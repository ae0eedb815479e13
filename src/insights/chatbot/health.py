"""Chatbot health: the metrics of HEALTH_DEFINITIONS for a period, against the period before, with intervals.

Everything is counted in the engine (a temporary table of one row per session, then grouped sums); Python receives a
few rows per period and breakdown value and does the interval arithmetic. See docs/chatbot.md.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from insights.chatbot import _queries as q
from insights.chatbot._checks import check_connection
from insights.chatbot._stats import MeanStats, RateStats, RatioStats
from insights.chatbot.definitions import (
    DEFAULT_PRICE_IN_PER_1K,
    DEFAULT_PRICE_OUT_PER_1K,
    HEALTH_DEFINITIONS,
    check_price,
)
from insights.chatbot.report import (
    HandoffReason,
    HandoffReasonTable,
    HealthMetric,
    HealthReport,
    IntentHealth,
    IntentHealthTable,
)
from insights.errors import invalid_parameter
from insights.params import check_bool, check_instant, check_int, check_open_unit, check_period
from insights.warehouse.connection import first_row

if TYPE_CHECKING:
    import duckdb

__all__ = ["BREAKDOWNS", "DEFAULT_HANDOFF_REQUEST_TERMS", "chatbot_health"]

BREAKDOWNS: tuple[str, ...] = tuple(q.BREAKDOWNS)
#: words in the last user message before a handoff that mean "let me talk to a person" (matched as whole words,
#: case-insensitive)
DEFAULT_HANDOFF_REQUEST_TERMS = (
    "human",
    "person",
    "agent",
    "someone",
    "somebody",
    "operator",
    "representative",
    "support team",
    "speak to",
    "talk to",
)
NAN = math.nan


def _request_pattern(terms: object, function: str) -> str:
    if not isinstance(terms, tuple | list) or not terms or not all(isinstance(t, str) and t.strip() for t in terms):
        raise invalid_parameter(
            "handoff_request_terms", function, "must be a non-empty tuple of non-empty strings", terms
        )
    words = sorted({re.escape(" ".join(str(t).lower().split())) for t in terms}, key=lambda w: (-len(w), w))
    return r"\b(" + "|".join(words) + r")\b"


def chatbot_health(
    con: duckdb.DuckDBPyConnection,
    *,
    start: dt.date | dt.datetime | str,
    end: dt.date | dt.datetime | str,
    breakdown: str | None = None,
    compare: bool = True,
    low_confidence: float = 0.5,
    qualify_days: int = 14,
    as_of: dt.date | dt.datetime | str | None = None,
    price_in_per_1k: float = DEFAULT_PRICE_IN_PER_1K,
    price_out_per_1k: float = DEFAULT_PRICE_OUT_PER_1K,
    currency: str = "USD",
    handoff_request_terms: Sequence[str] = DEFAULT_HANDOFF_REQUEST_TERMS,
    ci_level: float = 0.95,
) -> HealthReport:
    """The chatbot's health for the sessions started in [start, end), against the period of the same length before.

    - ``breakdown``: None, or one of ``BREAKDOWNS`` (channel, bot_version, utm_source, utm_medium, utm_campaign,
      first_intent, first_reply): every metric is also given per value.
    - ``compare``: also compute the previous period [start - (end - start), start) and the change.
    - ``low_confidence``: replies with an intent confidence below it count as low-confidence.
    - ``qualify_days``: lead quality counts leads that reach mql (sql) within this many days of creation, among leads
      at least this old at ``as_of`` (default: the last lead change in the data).
    - ``price_in_per_1k``, ``price_out_per_1k``, ``currency``: LLM prices per 1,000 tokens. The defaults are
      placeholders; set your model's prices.
    - ``handoff_request_terms``: words that mark a user message as a request for a person (handoff reasons).
    - ``ci_level``: the level of every interval.

    Example::

        from insights.chatbot import chatbot_health
        report = chatbot_health(con, start="2026-02-23", end="2026-03-02", breakdown="channel")
        report.metric("handoff_rate").value, report.metric("handoff_rate", "web").ci_high
        print(report.footer())
    """
    function = "chatbot_health"
    first, last = check_period(function, start, end)
    if breakdown is not None and (not isinstance(breakdown, str) or breakdown not in BREAKDOWNS):
        raise invalid_parameter("breakdown", function, "must be None or one of " + ", ".join(BREAKDOWNS), breakdown)
    check_bool("compare", function, compare)
    check_open_unit("low_confidence", function, low_confidence)
    check_int("qualify_days", function, qualify_days, 1)
    as_of_time = None if as_of is None else check_instant("as_of", function, as_of)
    price_in = check_price("price_in_per_1k", function, price_in_per_1k)
    price_out = check_price("price_out_per_1k", function, price_out_per_1k)
    if not isinstance(currency, str) or not currency.strip():
        raise invalid_parameter("currency", function, "must be a non-empty string", currency)
    pattern = _request_pattern(handoff_request_terms, function)
    check_open_unit("ci_level", function, ci_level)
    check_connection(function, con)

    previous_start = first - (last - first) if compare else first
    cursor = con.cursor()
    try:
        cursor.execute(
            q.SESSIONS_SQL,
            {
                "previous_start": previous_start,
                "start": first,
                "end": last,
                "breakdown": breakdown or "",
                "low_confidence": low_confidence,
                "request_pattern": pattern,
            },
        )
        totals = _grouped(cursor, q.TOTALS_SQL, {"price_in": price_in, "price_out": price_out})
        latency = _grouped(cursor, q.LATENCY_SQL, {"previous_start": previous_start})
        if as_of_time is None:
            row = first_row(cursor.execute(q.AS_OF_SQL))
            as_of_time = row[0] if row and row[0] is not None else None
        mature_before = (as_of_time or last) - dt.timedelta(days=qualify_days)
        leads = _grouped(
            cursor, q.LEADS_SQL, {"mature_before": mature_before, "qualify_seconds": qualify_days * 86400.0}
        )
        intents = _intents(cursor, first, low_confidence, ci_level)
        reasons = _reasons(cursor)
    finally:
        cursor.close()

    keys: list[str | None] = [None]
    if breakdown:
        found = {k[1] for k in totals if k[1] is not None and k[0]}
        keys += sorted(found)
    metrics: list[HealthMetric] = []
    for segment in keys:
        current = _Totals.of(totals.get((True, segment)), latency.get((True, segment)), leads.get((True, segment)))
        before = (
            _Totals.of(totals.get((False, segment)), latency.get((False, segment)), leads.get((False, segment)))
            if compare
            else None
        )
        metrics += _metrics(segment, current, before, ci_level)
    return HealthReport(
        start=first,
        end=last,
        previous_start=previous_start if compare else None,
        breakdown=breakdown,
        metrics=tuple(metrics),
        intents=intents,
        handoff_reasons=reasons,
        as_of=as_of_time,
        qualify_days=qualify_days,
        low_confidence=float(low_confidence),
        price_in_per_1k=price_in,
        price_out_per_1k=price_out,
        currency=currency,
        ci_level=float(ci_level),
        definitions_version=HEALTH_DEFINITIONS.version,
    )


GroupKey = tuple[bool, str | None]


def _grouped(
    cursor: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object]
) -> dict[GroupKey, dict[str, Any]]:
    """Rows of a GROUPING SETS query keyed by (is_current, segment or None for the period's total)."""
    result = cursor.execute(sql, dict(params))
    names = [d[0] for d in result.description or []]
    out: dict[GroupKey, dict[str, Any]] = {}
    for values in result.fetchall():
        row = dict(zip(names, values, strict=True))
        out[(bool(row["is_current"]), row["segment"] if row["is_segment"] else None)] = row
    return out


@dataclass(frozen=True)
class _Totals:
    """The sums of one period and breakdown value (zeros where the engine returned no row)."""

    values: Mapping[str, Any]

    @classmethod
    def of(cls, *rows: Mapping[str, Any] | None) -> _Totals:
        merged: dict[str, Any] = {}
        for row in rows:
            if row:
                merged.update(row)
        return cls(merged)

    def n(self, name: str) -> int:
        value = self.values.get(name)
        return int(value) if value is not None else 0

    def x(self, name: str) -> float:
        value = self.values.get(name)
        return float(value) if value is not None else 0.0

    def quantile(self, name: str) -> float:
        value = self.values.get(name)
        return float(value) if value is not None else NAN

    def ratio(self, prefix_y: str, prefix_x: str) -> RatioStats:
        return RatioStats(
            self.n("n_conversations"),
            self.x(f"{prefix_y}_y"),
            self.x(f"{prefix_x}_x"),
            self.x(f"{prefix_y}_yy"),
            self.x(f"{prefix_x}_xx"),
            self.x(f"{prefix_y}_xy"),
        )


Stat = RateStats | MeanStats | RatioStats | float


def _stats(name: str, t: _Totals) -> tuple[Stat, str | None]:
    """The statistic of one metric in one period, and its note when the data cannot support it."""
    conversations = t.n("n_conversations")
    no_conv = "no_conversations" if conversations == 0 else None
    if name == "n_sessions":
        return float(t.n("n_sessions")), None
    if name == "n_conversations":
        return float(conversations), None
    if name == "message_rate":
        return RateStats(conversations, t.n("n_sessions")), "no_sessions" if not t.n("n_sessions") else None
    if name == "containment_rate":
        return RateStats(conversations - t.n("n_handoffs"), conversations), no_conv
    if name == "handoff_rate":
        return RateStats(t.n("n_handoffs"), conversations), no_conv
    if name == "first_reply_fallback_rate":
        return RateStats(t.n("n_first_fallback"), t.n("n_replied")), None if t.n("n_replied") else "no_replies"
    if name == "fallback_rate":
        stat = t.ratio("fallback", "replies")
        return stat, None if stat.x else "no_replies"
    if name == "low_confidence_rate":
        stat = t.ratio("low", "scored")
        return stat, None if stat.x else "no_scores" if t.x("replies_x") else "no_replies"
    if name == "abandonment_rate":
        return RateStats(t.n("n_abandoned"), conversations), no_conv
    if name == "lead_capture_rate":
        return RateStats(t.n("n_captured"), conversations), no_conv
    if name in ("lead_mql_rate", "lead_sql_rate"):
        k = t.n("n_mql" if name == "lead_mql_rate" else "n_sql")
        note = "no_leads" if not t.n("n_leads") else "too_recent" if not t.n("n_mature") else None
        return RateStats(k, t.n("n_mature")), note
    if name == "csat_response_rate":
        return RateStats(t.n("n_rated"), conversations), no_conv
    if name == "csat_mean":
        return MeanStats(t.n("n_rated"), t.x("csat_sum"), t.x("csat_sq")), None if t.n("n_rated") else "no_ratings"
    if name == "mean_user_turns":
        return MeanStats(conversations, t.x("turns_sum"), t.x("turns_sq")), no_conv
    if name in ("latency_p50_ms", "latency_p95_ms"):
        return t.quantile(name), None if t.n("n_latency") else "no_latency"
    reported = t.n("n_token_reports") > 0
    if name in ("tokens_in_per_conversation", "tokens_out_per_conversation", "cost_per_conversation"):
        prefix = {"tokens_in_per_conversation": "tokens_in", "tokens_out_per_conversation": "tokens_out"}.get(
            name, "cost"
        )
        if not reported:
            return MeanStats(0, 0.0, 0.0), no_conv or "not_reported"
        return MeanStats(conversations, t.x(f"{prefix}_sum"), t.x(f"{prefix}_sq")), None
    if name == "cost_per_qualified_lead":
        qualified = t.n("n_qualified_so_far")
        if not reported:
            return NAN, no_conv or "not_reported"
        if not qualified:
            return NAN, "no_leads" if not t.n("n_leads") else "no_qualified_leads"
        still = "leads_still_qualifying" if t.n("n_mature") < t.n("n_leads") else None
        return t.x("cost_sum") / qualified, still
    raise KeyError(name)  # pragma: no cover - every definition is handled above


def _value(stat: Stat) -> float:
    return stat if isinstance(stat, float) else stat.value


def _interval(stat: Stat, level: float) -> tuple[float, float]:
    if isinstance(stat, float):
        return NAN, NAN
    # the two ratios of the report are shares
    return stat.share_interval(level) if isinstance(stat, RatioStats) else stat.interval(level)


def _difference(stat: Stat, old: Stat, level: float) -> tuple[float, float, float]:
    """Current minus previous, with the interval of the statistic's kind (none for counts and percentiles)."""
    if isinstance(stat, RateStats) and isinstance(old, RateStats):
        return stat.difference(old, level)
    if isinstance(stat, MeanStats) and isinstance(old, MeanStats):
        return stat.difference(old, level)
    if isinstance(stat, RatioStats) and isinstance(old, RatioStats):
        return stat.difference(old, level)
    return _value(stat) - _value(old), NAN, NAN


def _metrics(segment: str | None, current: _Totals, before: _Totals | None, level: float) -> list[HealthMetric]:
    out = []
    for d in HEALTH_DEFINITIONS.metrics:
        stat, note = _stats(d.name, current)
        value = _value(stat)
        low, high = _interval(stat, level)
        numerator, denominator = NAN, NAN
        if isinstance(stat, RateStats):
            numerator, denominator = float(stat.k), float(stat.n)
        elif isinstance(stat, RatioStats):
            numerator, denominator = stat.y, stat.x
        elif isinstance(stat, MeanStats):
            numerator, denominator = stat.total, float(stat.n)
        elif d.kind == "count":
            numerator = value
        previous, p_low, p_high, change, c_low, c_high = NAN, NAN, NAN, NAN, NAN, NAN
        if before is not None:
            old, _ = _stats(d.name, before)
            previous = _value(old)
            p_low, p_high = _interval(old, level)
            change, c_low, c_high = _difference(stat, old, level)
        out.append(
            HealthMetric(
                metric=d.name,
                label=d.label,
                kind=d.kind,
                unit=d.unit,
                segment=segment,
                value=value,
                numerator=numerator,
                denominator=denominator,
                ci_low=low,
                ci_high=high,
                previous_value=previous,
                previous_ci_low=p_low,
                previous_ci_high=p_high,
                change=change,
                change_ci_low=c_low,
                change_ci_high=c_high,
                higher_is_better=d.higher_is_better,
                note=note,
            )
        )
    return out


def _intents(cursor: duckdb.DuckDBPyConnection, start: dt.datetime, low: float, level: float) -> IntentHealthTable:
    def rows(sql: str, params: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        result = cursor.execute(sql, dict(params or {}))
        names = [d[0] for d in result.description or []]
        return [dict(zip(names, r, strict=True)) for r in result.fetchall()]

    first: dict[str, dict[str, Any]] = {}
    ending: dict[str, dict[str, Any]] = {}
    for r in rows(q.INTENT_CONVERSATIONS_SQL):
        (first if r["grouping_kind"] == "first" else ending)[r["intent"] or "(none)"] = r
    params = {"start": start, "low_confidence": low}
    replies = {(r["intent"] or "(none)"): r for r in rows(q.INTENT_REPLIES_SQL, params)}
    n_replied = sum(int(r["n_conversations"]) for r in first.values())
    n_abandoned = sum(int(r["n_abandoned"]) for r in ending.values())
    names = sorted(
        set(first) | set(replies) | set(ending),
        key=lambda i: (-int(first.get(i, {}).get("n_conversations", 0)), i),
    )
    items = []
    for name in names:
        f = _Totals.of(first.get(name))
        e = _Totals.of(ending.get(name))
        rp = _Totals.of(replies.get(name))
        share = RateStats(f.n("n_conversations"), n_replied)
        first_fallback = RateStats(f.n("n_first_fallback"), f.n("n_conversations"))
        fallback = RatioStats(
            rp.n("n_conversations"),
            rp.x("fallback_y"),
            rp.x("replies_x"),
            rp.x("fallback_yy"),
            rp.x("replies_xx"),
            rp.x("fallback_xy"),
        )
        low_conf = RatioStats(
            rp.n("n_conversations"), rp.x("low_y"), rp.x("scored_x"), rp.x("low_yy"), rp.x("scored_xx"), rp.x("low_xy")
        )
        abandoned = RateStats(e.n("n_abandoned"), e.n("n_conversations"))
        items.append(
            IntentHealth(
                intent=name,
                n_conversations=f.n("n_conversations"),
                share=share.value,
                share_ci_low=share.interval(level)[0],
                share_ci_high=share.interval(level)[1],
                first_reply_fallback_rate=first_fallback.value,
                first_reply_fallback_ci_low=first_fallback.interval(level)[0],
                first_reply_fallback_ci_high=first_fallback.interval(level)[1],
                n_handoffs=f.n("n_handoffs"),
                n_replies=int(rp.x("replies_x")),
                fallback_rate=fallback.value,
                fallback_ci_low=fallback.share_interval(level)[0],
                fallback_ci_high=fallback.share_interval(level)[1],
                low_confidence_rate=low_conf.value,
                low_confidence_ci_low=low_conf.share_interval(level)[0],
                low_confidence_ci_high=low_conf.share_interval(level)[1],
                mean_confidence=rp.x("confidence_sum") / rp.x("scored_x") if rp.x("scored_x") else NAN,
                n_ending=e.n("n_conversations"),
                n_abandoned=e.n("n_abandoned"),
                abandonment_rate=abandoned.value,
                share_of_abandoned=e.n("n_abandoned") / n_abandoned if n_abandoned else NAN,
            )
        )
    return IntentHealthTable(intents=tuple(items), low_confidence=float(low), ci_level=float(level))


def _reasons(cursor: duckdb.DuckDBPyConnection) -> HandoffReasonTable:
    counts: dict[str, list[int]] = {}
    for is_current, reason, n in cursor.execute(q.REASONS_SQL).fetchall():
        counts.setdefault(str(reason), [0, 0])[0 if is_current else 1] += int(n)
    total = sum(c[0] for c in counts.values())
    total_before = sum(c[1] for c in counts.values())
    ordered = sorted(counts.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    return HandoffReasonTable(
        tuple(
            HandoffReason(
                reason=reason,
                n_handoffs=now,
                share=now / total if total else NAN,
                previous_n_handoffs=then,
                previous_share=then / total_before if total_before else NAN,
            )
            for reason, (now, then) in ordered
        )
    )
