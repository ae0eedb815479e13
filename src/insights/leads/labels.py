"""How a lead or a touch is labelled by the post that started its session (and the CRM fields of a lead).

Every label is a SQL expression over ``marts.lineage`` (and ``marts.leads`` for the CRM fields), built from the
constant snippets below: the choice of dimension picks a snippet, never user text.

- a session without a post: ``direct``;
- a session whose post was never loaded (its attributes are unknown): ``(unknown post)``;
- a post without the attribute (a human-written post has no prompt): ``(none)``;
- a lead that no session explains (for the lead funnel): ``(no session)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insights.leads._sql import fill, snippet

if TYPE_CHECKING:
    from sqlglot import exp

#: post attributes of marts.lineage a touch (and a lead) can be labelled by; ``prompt`` is "prompt_id prompt_version"
POST_DIMENSIONS = ("platform", "content_type", "origin", "prompt", "post", "campaign")
#: what the lead funnel can break down by: the CRM's source and campaign, or the post of the lead's session
LEAD_DIMENSIONS = ("source", "campaign", "platform", "content_type", "origin", "prompt", "post")

DIRECT = "direct"
UNKNOWN_POST = "(unknown post)"
NONE = "(none)"
NO_SESSION = "(no session)"

_POST_LABEL = f"""
CASE
    WHEN __post_id__ IS NULL THEN '{DIRECT}'
    WHEN __platform__ IS NULL THEN '{UNKNOWN_POST}'
    ELSE coalesce(__value__, '{NONE}')
END
"""
_VALUE = {
    "platform": "__platform__",
    "content_type": "__content_type__",
    "origin": "__origin__",
    "prompt": "CASE WHEN __prompt_id__ IS NOT NULL THEN concat_ws(' ', __prompt_id__, __prompt_version__) END",
    "post": "__post_id__",
    "campaign": "__campaign__",
}
_COLUMNS = ("post_id", "platform", "content_type", "origin", "prompt_id", "prompt_version", "campaign")


def post_label(dimension: str, table: str | None = None) -> exp.Expr:
    """The label of a session by its post's ``dimension`` (one of POST_DIMENSIONS), over marts.lineage columns."""
    from sqlglot import exp

    columns = {f"__{c}__": exp.column(c, table=table, quoted=True) for c in _COLUMNS}
    value = fill(snippet(_VALUE[dimension]), columns)
    return fill(snippet(_POST_LABEL), {**columns, "__value__": value})


def lead_label(dimension: str | None) -> exp.Expr:
    """The label of a lead (marts.leads as ``l``, its marts.lineage row as ``g``) by ``dimension``; None: 'all'."""
    from sqlglot import exp

    if dimension is None:
        return exp.Literal.string("all")
    if dimension in ("source", "campaign"):
        return fill(snippet(f"coalesce(__x__, '{NONE}')"), {"__x__": exp.column(dimension, table="l", quoted=True)})
    session = exp.column("session_id", table="g", quoted=True)
    return fill(
        snippet(f"CASE WHEN __session__ IS NULL THEN '{NO_SESSION}' ELSE __label__ END"),
        {"__session__": session, "__label__": post_label(dimension, "g")},
    )
