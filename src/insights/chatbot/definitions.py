"""The chatbot health metrics, defined once: what is counted, over what, in which unit and window.

:data:`HEALTH_DEFINITIONS` is the only place the definitions live; :func:`chatbot_health` computes exactly these
metrics, and :func:`definitions_footer` prints them as the plain-language footer a report shows under its numbers.
Change a definition here and bump ``version``: reports print the version, so two numbers computed under different
definitions are never compared without anyone noticing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from insights.errors import invalid_parameter
from insights.params import check_int, check_open_unit

__all__ = [
    "DEFAULT_PRICE_IN_PER_1K",
    "DEFAULT_PRICE_OUT_PER_1K",
    "HEALTH_DEFINITIONS",
    "KINDS",
    "HealthDefinition",
    "HealthDefinitions",
    "definitions_footer",
]

#: Placeholder LLM prices per 1,000 tokens (input, output), in the report's currency. They are round numbers of the
#: right order for a small hosted model, not any vendor's price list: a team sets its own model's prices.
DEFAULT_PRICE_IN_PER_1K = 0.0005
DEFAULT_PRICE_OUT_PER_1K = 0.0015

Kind = Literal["count", "rate", "ratio", "mean", "quantile", "cost"]
KINDS: tuple[str, ...] = ("count", "rate", "ratio", "mean", "quantile", "cost")

_SESSIONS = "sessions started in [start, end)"
_CONVERSATIONS = "conversations (sessions with at least one user message) started in [start, end)"
_MESSAGES = "messages of the sessions started in [start, end), whenever they were sent"
_LEADS = "leads that name a session started in [start, end)"


@dataclass(frozen=True)
class HealthDefinition:
    """One metric: what its numerator and denominator count, its unit and its window.

    ``kind`` says how its interval is computed: ``rate`` (independent units, Wilson), ``ratio`` (a ratio of sums over
    conversations, delta method), ``mean`` (over conversations, t), and ``count``, ``quantile``, ``cost`` (no
    interval). Texts may hold the report's parameters as ``{qualify_days}``, ``{low_confidence}``,
    ``{price_in_per_1k}``, ``{price_out_per_1k}`` and ``{currency}``.
    """

    name: str
    label: str
    kind: Kind
    numerator: str
    denominator: str
    unit: str
    window: str
    higher_is_better: bool | None = None

    def __post_init__(self) -> None:
        function = "HealthDefinition"
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise invalid_parameter("name", function, "must be a snake_case identifier", self.name)
        if self.kind not in KINDS:
            raise invalid_parameter("kind", function, "must be one of " + ", ".join(KINDS), self.kind)
        for field in ("label", "numerator", "denominator", "unit", "window"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                raise invalid_parameter(field, function, "must be a non-empty string", value)
        if self.higher_is_better is not None and not isinstance(self.higher_is_better, bool):
            raise invalid_parameter("higher_is_better", function, "must be True, False or None", self.higher_is_better)

    def line(self, **parameters: object) -> str:
        """The footer line: label, numerator / denominator, unit, window."""
        text = f"{self.label}: {self.numerator} / {self.denominator}; {self.unit}; {self.window}."
        return text.format(**parameters)


@dataclass(frozen=True)
class HealthDefinitions:
    """The versioned set of health metric definitions, in report order."""

    version: str
    metrics: tuple[HealthDefinition, ...]

    def __post_init__(self) -> None:
        function = "HealthDefinitions"
        if not isinstance(self.version, str) or not self.version.strip():
            raise invalid_parameter("version", function, "must be a non-empty string", self.version)
        if not isinstance(self.metrics, tuple) or not all(isinstance(m, HealthDefinition) for m in self.metrics):
            raise invalid_parameter("metrics", function, "must be a tuple of HealthDefinition", self.metrics)
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise invalid_parameter("metrics", function, "must name each metric once", names)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    def __getitem__(self, name: str) -> HealthDefinition:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"No health metric {name!r}; metrics: {', '.join(self.names)}")


HEALTH_DEFINITIONS = HealthDefinitions(
    version="1",
    metrics=(
        HealthDefinition(
            "n_sessions", "Sessions", "count", "chat sessions started", "none (a count)", "sessions", _SESSIONS
        ),
        HealthDefinition(
            "n_conversations",
            "Conversations",
            "count",
            "sessions in which the user sent at least one message",
            "none (a count)",
            "conversations",
            _SESSIONS,
        ),
        HealthDefinition(
            "message_rate",
            "Message rate",
            "rate",
            "conversations",
            "sessions started",
            "share",
            _SESSIONS,
            higher_is_better=True,
        ),
        HealthDefinition(
            "containment_rate",
            "Containment",
            "rate",
            "conversations the bot finished without handing off to a person",
            "conversations",
            "share",
            _CONVERSATIONS,
            higher_is_better=True,
        ),
        HealthDefinition(
            "handoff_rate",
            "Handoff rate",
            "rate",
            "conversations handed off to a person (a handoff event or an agent message)",
            "conversations (a session without a user message has nothing to hand off)",
            "share",
            _CONVERSATIONS,
            higher_is_better=False,
        ),
        HealthDefinition(
            "first_reply_fallback_rate",
            "First-reply fallback rate",
            "rate",
            "conversations whose first bot reply was a fallback",
            "conversations with a bot reply",
            "share",
            _CONVERSATIONS,
            higher_is_better=False,
        ),
        HealthDefinition(
            "fallback_rate",
            "Fallback rate per user message",
            "ratio",
            "user messages the bot answered with a fallback",
            "user messages the bot answered (the next message is the bot's)",
            "share (its interval takes the conversation as the unit)",
            _MESSAGES,
            higher_is_better=False,
        ),
        HealthDefinition(
            "low_confidence_rate",
            "Low-confidence replies",
            "ratio",
            "bot replies with an intent confidence below {low_confidence}",
            "bot replies that report an intent confidence",
            "share (its interval takes the conversation as the unit)",
            _MESSAGES,
            higher_is_better=False,
        ),
        HealthDefinition(
            "abandonment_rate",
            "Abandonment",
            "rate",
            "conversations that ended with neither a lead captured nor a handoff",
            "conversations",
            "share",
            _CONVERSATIONS,
            higher_is_better=False,
        ),
        HealthDefinition(
            "lead_capture_rate",
            "Lead capture rate",
            "rate",
            "conversations with a lead captured (a lead_captured event or a lead naming the session)",
            "conversations",
            "share",
            _CONVERSATIONS,
            higher_is_better=True,
        ),
        HealthDefinition(
            "lead_mql_rate",
            "Leads reaching mql",
            "rate",
            "leads that reached mql or a later stage within {qualify_days} days of their creation",
            "leads created at least {qualify_days} days before the last lead change in the data",
            "share",
            _LEADS,
            higher_is_better=True,
        ),
        HealthDefinition(
            "lead_sql_rate",
            "Leads reaching sql",
            "rate",
            "leads that reached sql or a later stage within {qualify_days} days of their creation",
            "leads created at least {qualify_days} days before the last lead change in the data",
            "share",
            _LEADS,
            higher_is_better=True,
        ),
        HealthDefinition(
            "csat_response_rate",
            "CSAT response rate",
            "rate",
            "conversations with a satisfaction score",
            "conversations",
            "share",
            _CONVERSATIONS,
            higher_is_better=True,
        ),
        HealthDefinition(
            "csat_mean",
            "CSAT",
            "mean",
            "sum of each rated conversation's last satisfaction score",
            "conversations with a score",
            "points on the scale the bot logs (e.g. 1-5)",
            _CONVERSATIONS,
            higher_is_better=True,
        ),
        HealthDefinition(
            "mean_user_turns",
            "Conversation length",
            "mean",
            "user messages",
            "conversations",
            "user messages per conversation",
            _CONVERSATIONS,
        ),
        HealthDefinition(
            "latency_p50_ms",
            "Bot latency, median",
            "quantile",
            "the median of latency_ms",
            "bot messages that report a latency (a percentile, not a ratio)",
            "milliseconds",
            _MESSAGES,
            higher_is_better=False,
        ),
        HealthDefinition(
            "latency_p95_ms",
            "Bot latency, 95th percentile",
            "quantile",
            "the 95th percentile of latency_ms",
            "bot messages that report a latency (a percentile, not a ratio)",
            "milliseconds",
            _MESSAGES,
            higher_is_better=False,
        ),
        HealthDefinition(
            "tokens_in_per_conversation",
            "LLM input tokens",
            "mean",
            "input tokens (tokens_in) of every message",
            "conversations",
            "tokens per conversation",
            _CONVERSATIONS,
        ),
        HealthDefinition(
            "tokens_out_per_conversation",
            "LLM output tokens",
            "mean",
            "output tokens (tokens_out) of every message",
            "conversations",
            "tokens per conversation",
            _CONVERSATIONS,
        ),
        HealthDefinition(
            "cost_per_conversation",
            "LLM cost per conversation",
            "mean",
            "LLM cost of their messages (each 1,000 input tokens at {price_in_per_1k}, each 1,000 output tokens at "
            "{price_out_per_1k})",
            "conversations",
            "{currency} per conversation (placeholder prices unless the team set its own)",
            _CONVERSATIONS,
            higher_is_better=False,
        ),
        HealthDefinition(
            "cost_per_qualified_lead",
            "LLM cost per qualified lead",
            "cost",
            "LLM cost of the conversations (as above)",
            "their leads that have reached mql or a later stage so far",
            "{currency} per qualified lead (falls while recent leads still qualify)",
            _CONVERSATIONS,
            higher_is_better=False,
        ),
    ),
)


def definitions_footer(
    definitions: HealthDefinitions = HEALTH_DEFINITIONS,
    *,
    metrics: Sequence[str] | None = None,
    qualify_days: int = 14,
    low_confidence: float = 0.5,
    price_in_per_1k: float = DEFAULT_PRICE_IN_PER_1K,
    price_out_per_1k: float = DEFAULT_PRICE_OUT_PER_1K,
    currency: str = "USD",
) -> str:
    """The definitions as plain text, one line per metric, headed by their version.

    >>> print(definitions_footer(metrics=("message_rate",)).splitlines()[1])
    Message rate: conversations / sessions started; share; sessions started in [start, end).
    """
    function = "definitions_footer"
    if not isinstance(definitions, HealthDefinitions):
        raise invalid_parameter("definitions", function, "must be a HealthDefinitions", type(definitions).__name__)
    names: object = definitions.names if metrics is None else metrics
    if not isinstance(names, tuple | list) or not all(isinstance(n, str) and n in definitions.names for n in names):
        raise invalid_parameter(
            "metrics", function, "must be a tuple of metric names (" + ", ".join(definitions.names) + ")", metrics
        )
    check_int("qualify_days", function, qualify_days, 1)
    check_open_unit("low_confidence", function, low_confidence)
    for name, price in (("price_in_per_1k", price_in_per_1k), ("price_out_per_1k", price_out_per_1k)):
        check_price(name, function, price)
    if not isinstance(currency, str) or not currency.strip():
        raise invalid_parameter("currency", function, "must be a non-empty string", currency)
    parameters = {
        "qualify_days": qualify_days,
        "low_confidence": f"{low_confidence:g}",
        "price_in_per_1k": f"{price_in_per_1k:g} {currency}",
        "price_out_per_1k": f"{price_out_per_1k:g} {currency}",
        "currency": currency,
    }
    lines = [f"Metric definitions (version {definitions.version}): numerator / denominator; unit; window."]
    lines += [definitions[name].line(**parameters) for name in names]
    return "\n".join(lines)


def check_price(name: str, function: str, value: object) -> float:
    """A price per 1,000 tokens: a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
        raise invalid_parameter(name, function, "must be a finite number >= 0 (a price per 1,000 tokens)", value)
    return float(value)
