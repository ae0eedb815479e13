"""Leads and their stage changes (CRM export), planted with the rates of `LeadTruth`.

Chatbot leads come from sessions with a lead_captured event; form and event leads come without a
chat. Every stage change is one row; a change whose time falls after the period's end is not
written (the CRM has not seen it yet).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from insights.contract import LEADS
from insights.datasets import vocabulary as vocab
from insights.datasets.timeline import MS_PER_DAY, Period, draw_offsets
from insights.datasets.truth import LeadTruth
from insights.datasets.writers import RawTable

STAGES = ("new", "mql", "sql", "opportunity", "won", "lost")
SOURCES = ("chatbot", "form", "event")


@dataclass(frozen=True)
class LeadSources:
    """One entry per lead before stages are drawn; chatbot-only fields are None for other sources."""

    source: list[str]
    created_ms: npt.NDArray[np.int64]
    qualify_prob: npt.NDArray[np.float64]
    user_id: list[str | None]
    session_id: list[str | None]
    email: list[str | None]
    phone: list[str | None]
    campaign: list[str]


def other_sources(
    rng: np.random.Generator, period: Period, truth: LeadTruth, n_sessions: int, first_number: int
) -> LeadSources:
    """Form and event leads, spread over the period, with fresh fake contact details."""
    n_form = round(truth.form_leads_per_session * n_sessions)
    n_event = round(truth.event_leads_per_session * n_sessions)
    source = ["form"] * n_form + ["event"] * n_event
    n = len(source)
    created = rng.integers(period.start_ms, period.end_ms, size=n)
    email: list[str | None] = []
    phone: list[str | None] = []
    for i in range(n):
        first, last = vocab.pick(rng, vocab.FIRST_NAMES), vocab.pick(rng, vocab.LAST_NAMES)
        email.append(vocab.fake_email(first, last, first_number + i, vocab.pick(rng, vocab.EMAIL_DOMAINS)))
        phone.append(vocab.fake_phone(rng) if rng.random() < 0.7 else None)
    campaigns = np.array(vocab.CAMPAIGNS)[rng.choice(len(vocab.CAMPAIGNS), size=n, p=vocab.CAMPAIGN_PROBS)]
    return LeadSources(
        source=source,
        created_ms=created,
        qualify_prob=np.array([truth.qualify_rate[s] for s in source], dtype=float),
        user_id=[None] * n,
        session_id=[None] * n,
        email=email,
        phone=phone,
        campaign=campaigns.tolist(),
    )


def combine(a: LeadSources, b: LeadSources) -> LeadSources:
    """Both lists of leads, in order of creation."""
    created = np.concatenate([a.created_ms, b.created_ms])
    order = np.argsort(created, kind="stable").tolist()

    def cat(x: list[str | None] | list[str], y: list[str | None] | list[str]) -> list[str | None]:
        joined: list[str | None] = [*x, *y]
        return [joined[i] for i in order]

    return LeadSources(
        source=[str(s) for s in cat(a.source, b.source)],
        created_ms=created[order],
        qualify_prob=np.concatenate([a.qualify_prob, b.qualify_prob])[order],
        user_id=cat(a.user_id, b.user_id),
        session_id=cat(a.session_id, b.session_id),
        email=cat(a.email, b.email),
        phone=cat(a.phone, b.phone),
        campaign=[str(c) for c in cat(a.campaign, b.campaign)],
    )


def _delay(rng: np.random.Generator, truth: LeadTruth, step: str, n: int) -> npt.NDArray[np.int64]:
    low, high = truth.delay_days[step]
    return (rng.uniform(low, high, size=n) * MS_PER_DAY).astype(np.int64)


def generate_leads(rng: np.random.Generator, period: Period, leads: LeadSources, truth: LeadTruth) -> RawTable:
    """Stage-change rows of all leads, in time order."""
    n = len(leads.source)
    reached = {
        "new": np.ones(n, dtype=bool),
        "mql": rng.random(n) < leads.qualify_prob,
    }
    reached["sql"] = reached["mql"] & (rng.random(n) < truth.sql_rate)
    reached["opportunity"] = reached["sql"] & (rng.random(n) < truth.opportunity_rate)
    won = reached["opportunity"] & (rng.random(n) < truth.won_rate)
    reached["won"] = won
    disqualified = ~reached["opportunity"] & (rng.random(n) < truth.disqualify_rate)
    reached["lost"] = (reached["opportunity"] & ~won) | disqualified

    when = {"new": leads.created_ms}
    when["mql"] = when["new"] + _delay(rng, truth, "mql", n)
    when["sql"] = when["mql"] + _delay(rng, truth, "sql", n)
    when["opportunity"] = when["sql"] + _delay(rng, truth, "opportunity", n)
    when["won"] = when["opportunity"] + _delay(rng, truth, "won", n)
    last = np.where(reached["sql"], when["sql"], np.where(reached["mql"], when["mql"], when["new"]))
    when["lost"] = np.where(reached["opportunity"], when["won"], last + _delay(rng, truth, "lost", n))
    value = np.round(rng.lognormal(np.log(truth.won_value_median), truth.won_value_sigma, size=n), 2)

    lead, stage, changed = [], [], []
    for k, name in enumerate(STAGES):
        pick = np.flatnonzero(reached[name] & (when[name] < period.end_ms))
        lead.append(pick)
        stage.append(np.full(len(pick), k))
        changed.append(when[name][pick])
    lead_idx, stage_idx, changed_ms = np.concatenate(lead), np.concatenate(stage), np.concatenate(changed)
    order = np.lexsort((stage_idx, changed_ms))
    lead_idx, stage_idx, changed_ms = lead_idx[order], stage_idx[order], changed_ms[order]
    rows = lead_idx.tolist()
    is_won = stage_idx == STAGES.index("won")
    columns: dict[str, object] = {
        "lead_id": [f"L{i + 1:06d}" for i in rows],
        "stage": np.array(STAGES)[stage_idx],
        "changed_at": changed_ms,
        "user_id": [leads.user_id[i] for i in rows],
        "session_id": [leads.session_id[i] for i in rows],
        "email": [leads.email[i] for i in rows],
        "phone": [leads.phone[i] for i in rows],
        "source": [leads.source[i] for i in rows],
        "campaign": [leads.campaign[i] for i in rows],
        "value": [float(v) if w else None for v, w in zip(value[lead_idx].tolist(), is_won.tolist(), strict=True)],
    }
    return RawTable.from_columns(LEADS, columns, draw_offsets(rng, len(rows)))
