"""The weekly report's attribution section: which platforms brought the week's chatbot leads, under every model.

The week's leads are the journeys that end in the week (`insights.leads.journeys`); their chat sessions of the 30
days before are labelled by the entry post's platform (or `direct`), and `insights.leads.attribute` shares the
leads out under the seven models with bootstrap intervals. When the models agree, the credit is robust to how one
reads a journey; when they disagree, the table shows where.
"""

from __future__ import annotations

import duckdb
import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev group

from insights.reports import _text
from insights.reports.sections import Chart, Section
from insights.reports.weeks import IsoWeek

#: The models the section shows, in this order (the full set; see docs/attribution.md).
SHOWN_MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based", "markov", "shapley")
BOOTSTRAP = 200
LOOKBACK_DAYS = 30


def attribution_section(con: duckdb.DuckDBPyConnection, week: IsoWeek) -> Section:
    """Leads of the week attributed to the platforms of the posts their chats started on."""
    from insights.leads import attribute, journeys
    from insights.leads.attribution import MODEL_LABELS

    paths = journeys(
        con, start=week.start, end=week.end, touch="platform", lookback_days=LOOKBACK_DAYS, conversion="lead"
    )
    result = attribute(paths, SHOWN_MODELS, bootstrap=BOOTSTRAP, seed=0)
    columns = ["platform", *(f"share_{m}" for m in SHOWN_MODELS), "share_low_markov", "share_high_markov"]
    records = []
    for channel in result.channels:
        row: dict[str, object] = {"platform": channel}
        for model in SHOWN_MODELS:
            row[f"share_{model}"] = result.credit(channel, model).share
        markov = result.credit(channel, "markov")
        row["share_low_markov"], row["share_high_markov"] = markov.share_low, markov.share_high
        records.append(row)
    table = pd.DataFrame(records, columns=columns).astype(dict.fromkeys(columns[1:], "float64"))
    table = table.sort_values(["share_markov", "platform"], ascending=[False, True]).reset_index(drop=True)
    title = "Where the week's leads came from"
    unattributed = (
        f" {_text.sentence_case(_text.plural(result.n_unattributed, 'lead'))} had no chat session in the "
        f"{LOOKBACK_DAYS} days before (forms, events) and {'is' if result.n_unattributed == 1 else 'are'} "
        "not attributed."
        if result.n_unattributed
        else ""
    )
    if not result.n_conversions or table.empty:
        return Section(
            "attribution", title, "No chatbot lead this week had a journey to attribute." + unattributed, table
        )

    top = table.iloc[0]
    spread = [float(top[f"share_{m}"]) for m in SHOWN_MODELS]
    agree = max(spread) - min(spread) < 0.05
    low, high = _text.rate(float(top["share_low_markov"])), _text.rate(float(top["share_high_markov"]))
    summary = (
        f"{_text.plural(result.n_conversions, 'chatbot lead')} this week, each credited to the platforms of the posts "
        f"its chats of the {LOOKBACK_DAYS} days before started on ('direct' when a chat came from no post). "
        f"{_text.sentence_case(str(top['platform']))} brought the largest share: "
        f"{_text.rate(float(top['share_markov']))} by the Markov removal effect "
        f"(95% interval {low} to {high}), "
        f"{_text.rate(min(spread))} to {_text.rate(max(spread))} across the seven models"
        + (
            " - they agree, so the credit does not hinge on the model."
            if agree
            else " - the models disagree, see the table."
        )
        + unattributed
    )
    figure = result.plot()
    figure.update_layout(title="Share of the week's leads by platform, under each attribution model")
    leader = str(top["platform"])
    leads_everywhere = all(
        result.credit(leader, m).share >= max(result.shares(m).values()) - 1e-12 for m in SHOWN_MODELS
    )
    takeaway = (
        f"Every model gives {leader} the largest share ({_text.rate(min(spread))} to {_text.rate(max(spread))})."
        if leads_everywhere
        else f"The models disagree on the top platform; by the {MODEL_LABELS['markov']} removal effect it is {leader} "
        f"({_text.rate(float(top['share_markov']))})."
    )
    return Section("attribution", title, summary, table, (Chart(figure, takeaway),))
