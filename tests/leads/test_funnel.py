"""The lead funnel: hand-made leads worked out by hand, Wilson intervals against statsmodels, and the demo's planted
stage rates and delays."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest

from insights.datasets.truth import GroundTruth
from insights.leads import STAGES, lead_funnel
from tests.leads.conftest import day, marts, session

AS_OF = day(100)
AGES = {"mql": 3, "sql": 7, "opportunity": 14, "won": 21}


def crm(lead_id: str, source: str, **stages: float) -> dict[str, object]:
    at = {name: day(n) for name, n in stages.items()}
    return {
        "lead_id": lead_id,
        "source": source,
        "campaign": "always-on",
        "created_at": at["new"],
        "new_at": at["new"],
        **{f"{name}_at": at.get(name) for name in ("mql", "sql", "opportunity", "won", "lost")},
    }


LEADS = [
    crm("L1", "form", new=0, mql=1, sql=3, opportunity=10, won=20),
    crm("L2", "form", new=0, won=5),  # the CRM skipped mql, sql and opportunity
    crm("L3", "event", new=0, mql=2, lost=10),
    crm("L4", "event", new=0),  # still open at new
    crm("L5", "form", new=95, mql=96),  # too young for the sql step
    crm("L6", "form", new=99),  # too young for the mql step
    crm("L7", "event", new=0, mql=101),  # mql after as_of: not seen yet
]


@pytest.fixture
def tiny_leads() -> duckdb.DuckDBPyConnection:
    lineage = [session("s1", "u1", day(0), "p2", {"lead_id": "L1", "is_lead": True}), session("s2", "u1", day(1), None)]
    return marts(lineage, LEADS)


def test_stage_counts_rates_and_times_by_hand(tiny_leads: duckdb.DuckDBPyConnection) -> None:
    funnel = lead_funnel(tiny_leads, as_of=AS_OF, min_age_days=AGES)
    new, mql, sql_, opp, won = (funnel.stage(name) for name in STAGES)
    assert (new.n_reached, new.n_open, new.n_lost) == (7, 3, 0)  # L4, L6 and L7 (its mql is not seen yet)
    assert math.isnan(new.conversion_rate)
    # mql: reached by L1, L2 (through won), L3, L5; every lead but L6 is at least 3 days old
    assert (mql.n_reached, mql.n_eligible, mql.n_converted, mql.n_too_young) == (4, 6, 4, 1)
    assert mql.conversion_rate == pytest.approx(4 / 6)
    # days from new to mql: L1 1, L2 5, L3 2, L5 1 -> median 1.5; p90 interpolates 2 + 0.7 * (5 - 2)
    assert (mql.median_days, mql.p90_days) == pytest.approx((1.5, 4.1))
    assert (mql.n_open, mql.n_lost) == (1, 1)  # L5 open, L3 lost
    # sql: L5 entered mql 4 days ago, under the 7 it needs
    assert (sql_.n_reached, sql_.n_eligible, sql_.n_converted, sql_.n_too_young) == (2, 3, 2, 1)
    assert sql_.median_days == pytest.approx(1.0)  # L1 2 days, L2 0
    assert (opp.n_eligible, opp.n_converted, won.n_eligible, won.n_converted) == (2, 2, 2, 2)
    assert (won.n_open, won.n_lost, won.median_days) == (0, 0, pytest.approx(5.0))  # L1 10 days, L2 0
    assert funnel.min_age_days == {"mql": 3.0, "sql": 7.0, "opportunity": 14.0, "won": 21.0}


def test_reading_as_of_an_earlier_moment(tiny_leads: duckdb.DuckDBPyConnection) -> None:
    funnel = lead_funnel(tiny_leads, as_of=day(4), min_age_days={"mql": 0, "sql": 0, "opportunity": 0, "won": 0})
    # at day 4: L1 is in sql, L3 in mql; L2's jump to won (day 5) has not happened; L5 and L6 do not exist yet
    assert [funnel.stage(s).n_reached for s in STAGES] == [5, 2, 1, 0, 0]
    assert funnel.stage("mql").n_lost == 0  # L3 was lost on day 10


def test_default_minimum_ages_are_the_95th_percentile_of_observed_delays(tiny_leads: duckdb.DuckDBPyConnection) -> None:
    funnel = lead_funnel(tiny_leads, as_of=AS_OF)
    # observed delays into mql: 1, 1, 2, 5 days -> 95th percentile at rank 0.95 * 3 = 2.85: 2 + 0.85 * 3 = 4.55,
    # rounded up to 5
    assert np.percentile([1, 5, 2, 1], 95) == pytest.approx(4.55)
    assert funnel.min_age_days["mql"] == 5.0
    assert funnel.min_age_days["sql"] == math.ceil(np.percentile([2, 0], 95))
    # with 5 days L5 (5 days old) still counts in the mql step, L6 does not
    assert funnel.stage("mql").n_eligible == 6


def test_breakdowns_by_source_and_by_the_post_behind_the_lead(tiny_leads: duckdb.DuckDBPyConnection) -> None:
    by_source = lead_funnel(tiny_leads, as_of=AS_OF, min_age_days=AGES, by="source")
    assert by_source.groups == ("event", "form")
    assert by_source.stage("new", "form").n_reached == 4
    by_prompt = lead_funnel(tiny_leads, as_of=AS_OF, min_age_days=AGES, by="prompt")
    assert by_prompt.groups == ("(no session)", "hook v2")
    assert by_prompt.stage("won", "hook v2").n_reached == 1


def test_the_result_reads_as_a_table(tiny_leads: duckdb.DuckDBPyConnection) -> None:
    funnel = lead_funnel(tiny_leads, as_of=AS_OF, min_age_days=AGES, by="source")
    text = str(funnel)
    assert text.startswith("Lead funnel by source")
    assert "7 leads created" in text
    # per group: forms take the mql step 3 of 3 (L6 is too young), events 1 of 3
    assert funnel.stage("mql", "form").conversion_rate == 1.0
    assert funnel.stage("mql", "event").conversion_rate == pytest.approx(1 / 3)
    assert "100.0%" in text and "33.3%" in text
    assert len(funnel.rows()) == 10 and set(funnel.rows()[0]) >= {"group", "stage", "conversion_rate", "ci_low"}
    assert funnel.to_pandas().shape == (10, 15)
    assert "<table>" in funnel._repr_html_()
    fig = funnel.plot()
    assert len(fig.data) == 2 and list(fig.data[0].x) == [
        "new -> mql",
        "mql -> sql",
        "sql -> opportunity",
        "opportunity -> won",
    ]


def test_no_leads_is_a_note_not_an_error(tiny_leads: duckdb.DuckDBPyConnection) -> None:
    funnel = lead_funnel(tiny_leads, start="2030-01-01", as_of=AS_OF)
    assert funnel.stages == ()
    assert "No leads were created in the period." in funnel.summary_lines()


def test_demo_stage_rates_recover_the_planted_ones(
    demo_con: duckdb.DuckDBPyConnection, demo_truth: GroundTruth
) -> None:
    leads = demo_truth.leads
    # each step's longest planted delay: every lead older than that has taken the step or never will
    ages = {step: leads.delay_days[step][1] for step in ("mql", "sql", "opportunity", "won")}
    overall = lead_funnel(demo_con, min_age_days=ages)
    planted = {"sql": leads.sql_rate, "opportunity": leads.opportunity_rate, "won": leads.won_rate}
    for stage, rate in planted.items():
        row = overall.stage(stage)
        assert row.ci_low <= rate <= row.ci_high, (stage, row)
    by_source = lead_funnel(demo_con, min_age_days=ages, by="source")
    for source in ("form", "event"):
        row = by_source.stage("mql", source)
        assert row.ci_low <= leads.qualify_rate[source] <= row.ci_high, (source, row)
    # the prompt effect: chatbot leads from hook-v2 posts qualify at 0.60, not the usual 0.40
    hook = lead_funnel(demo_con, min_age_days=ages, by="prompt").stage("mql", "hook v2")
    assert hook.ci_low <= leads.qualify_rate["chatbot"] * demo_truth.prompt.qualify_ratio <= hook.ci_high
    assert hook.ci_low > leads.qualify_rate["chatbot"]


def test_demo_time_in_stage_recovers_the_planted_delays(
    demo_con: duckdb.DuckDBPyConnection, demo_truth: GroundTruth
) -> None:
    delays = demo_truth.leads.delay_days
    funnel = lead_funnel(
        demo_con, min_age_days={step: delays[step][1] for step in ("mql", "sql", "opportunity", "won")}
    )
    for step in ("mql", "sql", "opportunity", "won"):
        low, high = delays[step]
        row = funnel.stage(step)
        n = row.n_converted
        # the sample median of a uniform delay has standard error (high - low) / (2 sqrt(n)); allow 4 of them
        assert abs(row.median_days - (low + high) / 2) <= 4 * (high - low) / (2 * math.sqrt(n)), (step, row)
        assert low <= row.median_days <= row.p90_days <= high
    # the default minimum ages, estimated from the delays seen, are within a day of the planted maxima
    default = lead_funnel(demo_con)
    for step in ("mql", "sql", "opportunity", "won"):
        assert delays[step][1] - 1 <= default.min_age_days[step] <= delays[step][1], step
