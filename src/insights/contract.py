"""The data contract: what each kind of input log must look like.

One `Kind` per log. The loader, the warehouse's raw tables, the demo generator and the user
documentation (docs/data-contract.md) all read this module, so there is one source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from insights.errors import invalid_parameter

ColumnType = Literal["text", "timestamp", "count", "number", "boolean"]
PiiKind = Literal["id", "email", "phone"]

#: SQL type of each contract column type in the warehouse's raw tables.
SQL_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "count": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    `pii` columns are replaced by a keyed pseudonym before storage; `redact` text has emails, phone
    numbers and card numbers replaced by placeholders. `accepted` values are compared after
    lower-casing and trimming. `minimum`/`maximum` bound numbers (counts are never negative).
    """

    name: str
    type: ColumnType = "text"
    required: bool = False
    accepted: tuple[str, ...] | None = None
    pii: PiiKind | None = None
    redact: bool = False
    minimum: float | None = None
    maximum: float | None = None
    lowercase: bool = False
    description: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]

    @property
    def is_lowercased(self) -> bool:
        """Closed vocabularies and a few labels are compared and stored lower-case."""
        return self.lowercase or self.accepted is not None


@dataclass(frozen=True)
class Kind:
    """One kind of input log and the raw table it lands in."""

    name: str
    cli_name: str
    table: str
    grain: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    aliases: tuple[str, ...] = field(default=())

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


CONTENT_TYPES = ("text", "image", "video", "link", "carousel", "story", "reel", "other")
ORIGINS = ("human", "ai", "ai_edited")
ROLES = ("user", "bot", "agent", "system")
LEAD_STAGES = ("new", "mql", "sql", "opportunity", "won", "lost")
UNIT_TYPES = ("user", "session", "post")

_METRIC_COUNTERS = (
    "impressions",
    "reach",
    "likes",
    "comments",
    "shares",
    "saves",
    "clicks",
    "video_views",
    "followers",
)
_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content")


def _counters() -> tuple[Column, ...]:
    return tuple(
        Column(n, "count", minimum=0, description=f"lifetime {n.replace('_', ' ')} so far") for n in _METRIC_COUNTERS
    )


def _utm() -> tuple[Column, ...]:
    return tuple(Column(n, description="UTM tag of the link that led here") for n in _UTM)


POSTS = Kind(
    name="posts",
    cli_name="posts",
    table="raw.posts",
    grain="one row per post version; a later load with newer metrics adds a snapshot",
    columns=(
        Column("post_id", required=True, description="the platform's id of the post"),
        Column(
            "platform",
            required=True,
            lowercase=True,
            description="facebook, instagram, linkedin, x, tiktok, ... (lower-cased)",
        ),
        Column("published_at", "timestamp", required=True, description="when the post went live"),
        Column("account_id", description="the page or account that posted"),
        Column("content_type", accepted=CONTENT_TYPES, description="format of the post"),
        Column("text", redact=True, description="the post's text"),
        Column("origin", accepted=ORIGINS, description="who wrote it: human, ai or ai_edited"),
        Column("model", description="the language model that drafted it"),
        Column("prompt_id", description="the prompt template that drafted it"),
        Column("prompt_version", description="version of that prompt template"),
        Column("campaign", description="marketing campaign"),
        Column("paid", "boolean", description="promoted (true) or organic (false)"),
        Column("link_id", description="id of the tracked link in the post"),
        *_utm(),
        Column("experiment_id", description="experiment the post belongs to"),
        Column("variant", description="variant of that experiment"),
        Column("observed_at", "timestamp", description="when the counters below were read; default: load time"),
        *_counters(),
    ),
    key=("post_id", "observed_at"),
)

POST_METRICS = Kind(
    name="post_metrics",
    cli_name="post-metrics",
    table="raw.post_metrics",
    grain="one row per snapshot of a post's counters",
    columns=(
        Column("post_id", required=True, description="the post the counters belong to"),
        Column("observed_at", "timestamp", required=True, description="when the counters were read"),
        *_counters(),
    ),
    key=("post_id", "observed_at"),
    aliases=("post_metrics", "metrics"),
)

CHAT_EVENTS = Kind(
    name="chat_events",
    cli_name="chat",
    table="raw.chat_events",
    grain="one row per message or event in a chatbot conversation",
    columns=(
        Column("session_id", required=True, description="the conversation"),
        Column("user_id", required=True, pii="id", description="the person (pseudonymized)"),
        Column("ts", "timestamp", required=True, description="when the message or event happened"),
        Column("role", required=True, accepted=ROLES, description="who spoke: user, bot, agent or system"),
        Column("text", redact=True, description="the message text (emails, phones and cards are redacted)"),
        Column("intent", description="intent the bot recognised"),
        Column("intent_confidence", "number", minimum=0, maximum=1, description="classifier confidence, 0 to 1"),
        Column("is_fallback", "boolean", description="the bot did not understand this message"),
        Column(
            "event",
            lowercase=True,
            description="session_start, handoff, lead_captured, csat, session_end, ...",
        ),
        Column("channel", lowercase=True, description="web, messenger, whatsapp, ..."),
        Column("entry_post_id", description="the post that started the conversation"),
        Column("link_id", description="tracked link that started the conversation"),
        *_utm(),
        Column("bot_version", description="version of the bot or its prompt"),
        Column("latency_ms", "number", minimum=0, description="bot response time in milliseconds"),
        Column("tokens_in", "count", minimum=0, description="LLM prompt tokens for this message"),
        Column("tokens_out", "count", minimum=0, description="LLM completion tokens for this message"),
        Column("csat", "number", description="satisfaction score given in the conversation"),
    ),
    key=("session_id", "ts", "role", "event", "text"),
    aliases=("chat_events", "chats"),
)

LEADS = Kind(
    name="leads",
    cli_name="leads",
    table="raw.leads",
    grain="one row per change of a lead's stage",
    columns=(
        Column("lead_id", required=True, description="the lead in the CRM"),
        Column(
            "stage",
            required=True,
            accepted=LEAD_STAGES,
            description="new, mql, sql, opportunity, won or lost",
        ),
        Column("changed_at", "timestamp", required=True, description="when the lead entered this stage"),
        Column("user_id", pii="id", description="the person (pseudonymized; joins to chat_events.user_id)"),
        Column("session_id", description="the chat session that captured the lead"),
        Column("email", pii="email", description="contact email (pseudonymized)"),
        Column("phone", pii="phone", description="contact phone (pseudonymized)"),
        Column("source", description="chatbot, form, event, referral, ..."),
        Column("campaign", description="marketing campaign"),
        Column("value", "number", minimum=0, description="deal value (revenue when the stage is won)"),
    ),
    key=("lead_id", "stage", "changed_at"),
    aliases=("lead",),
)

ASSIGNMENTS = Kind(
    name="assignments",
    cli_name="assignments",
    table="raw.assignments",
    grain="one row per exposure of a unit to an experiment variant",
    columns=(
        Column("experiment_id", required=True, description="the experiment"),
        Column("unit_id", required=True, description="the unit (a user id is pseudonymized like chat user ids)"),
        Column("variant", required=True, description="the variant the unit saw"),
        Column("assigned_at", "timestamp", required=True, description="first exposure time"),
        Column("assignment_prob", "number", minimum=0, maximum=1, description="probability of this variant"),
        Column("unit_type", accepted=UNIT_TYPES, description="user (default), session or post"),
    ),
    key=("experiment_id", "unit_id", "variant"),
    aliases=("assignment", "exposures"),
)

KINDS: dict[str, Kind] = {k.name: k for k in (POSTS, POST_METRICS, CHAT_EVENTS, LEADS, ASSIGNMENTS)}


def get_kind(name: str, function: str = "ingest") -> Kind:
    """Look a kind up by its name, its command-line name or an alias.

    >>> get_kind("chat").table
    'raw.chat_events'
    """
    wanted = name.strip().lower()
    for kind in KINDS.values():
        if wanted in (kind.name, kind.cli_name, *kind.aliases):
            return kind
    choices = ", ".join(k.cli_name for k in KINDS.values())
    raise invalid_parameter("kind", function, f"must be one of {choices}", name)


def contract_markdown() -> str:
    """The column tables of docs/data-contract.md, generated from this module (a test keeps them equal)."""
    out: list[str] = []
    for kind in KINDS.values():
        key = ", ".join(kind.key)
        out += [
            f"### {kind.cli_name} (`{kind.table}`)",
            "",
            f"One row per {kind.grain.removeprefix('one row per ')}. Natural key: ({key}).",
            "",
            "| column | type | required | rule | meaning |",
            "|---|---|---|---|---|",
        ]
        for c in kind.columns:
            rules = []
            if c.accepted:
                rules.append("one of " + ", ".join(c.accepted))
            if c.minimum is not None:
                rules.append(f">= {c.minimum:g}")
            if c.maximum is not None:
                rules.append(f"<= {c.maximum:g}")
            if c.pii:
                rules.append("pseudonymized")
            if c.redact:
                rules.append("redacted")
            if c.lowercase and not c.accepted:
                rules.append("lower-cased")
            required = "yes" if c.required else ""
            out.append(f"| `{c.name}` | {c.type} | {required} | {'; '.join(rules)} | {c.description} |")
        out.append("")
    return "\n".join(out)
