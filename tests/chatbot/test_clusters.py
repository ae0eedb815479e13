"""Fallback clustering: the grouping itself, the demo's fallback messages, and a planted growing group."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights.chatbot import chatbot_health, cluster_texts, fallback_clusters
from insights.warehouse import build, connect
from tests.chatbot.conftest import bot, insert, session, user

PHRASES = {
    "refund": ["refund my order", "I want a refund", "refund please", "how do I get a refund", "refund the money"],
    "parcel": ["where is my parcel", "my parcel has not arrived", "track my parcel", "parcel still missing"],
    "password": ["reset my password", "forgot my password", "password reset link", "change my password please"],
}


def test_clear_groups_are_found_and_labelled() -> None:
    texts = [t for group in PHRASES.values() for t in group]
    result = cluster_texts(texts, seed=3)
    truth = [name for name, group in PHRASES.items() for _ in group]
    found = {}
    for name, label in zip(truth, result.labels, strict=True):
        found.setdefault(name, set()).add(label)
    # each planted group is one cluster, and no two groups share one
    assert all(len(labels) == 1 for labels in found.values())
    assert len({next(iter(v)) for v in found.values()}) == 3 == result.n_clusters
    labels = {next(iter(found[name])): name for name in PHRASES}
    for cluster in result.clusters:
        assert cluster.top_terms[0] == labels[cluster.cluster_id]
    assert result.cluster(1).n_messages == 5 and result.cluster(1).share == pytest.approx(5 / 13)


def test_the_same_text_typed_differently_is_one_text_with_a_count() -> None:
    result = cluster_texts(
        ["Tell me a joke", "tell me  a JOKE!", "Tell me a joke", "reset my password", "forgot password", "?!"],
        [3, 1, 2, 1, 1, 5],
        n_clusters=2,
    )
    assert result.labels[0] == result.labels[1] == result.labels[2] and result.labels[5] == -1
    joke = result.cluster(result.labels[0])
    assert joke.texts == (("Tell me a joke", 6),) and joke.n_messages == 6 and joke.examples == ("Tell me a joke",)


def test_too_few_or_no_texts_give_a_note() -> None:
    assert cluster_texts([]).note == "no_texts" and cluster_texts(["...", " "]).clusters == ()
    two = cluster_texts(["book a demo", "price list"])
    assert two.note == "too_few_texts" and two.n_clusters == 1 and two.clusters[0].n_texts == 2


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.permutations(range(13)))
def test_groups_do_not_depend_on_the_order_of_the_texts(order: list[int]) -> None:
    texts = [t for group in PHRASES.values() for t in group]
    counts = [i % 4 + 1 for i in range(len(texts))]

    def groups(result, items: list[str]) -> set[frozenset[str]]:
        by: dict[int, set[str]] = {}
        for text, label in zip(items, result.labels, strict=True):
            by.setdefault(label, set()).add(text)
        return {frozenset(v) for v in by.values()}

    shuffled = [texts[i] for i in order]
    first = cluster_texts(texts, counts, max_clusters=6)
    second = cluster_texts(shuffled, [counts[i] for i in order], max_clusters=6)
    assert groups(first, texts) == groups(second, shuffled)
    assert first.k_scores == second.k_scores


# --- the demo's fallback messages ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_groups(demo_read, demo_warehouse):
    truth = demo_warehouse[1].truth
    return demo_read(fallback_clusters, start=truth.start, end=truth.end)


@pytest.fixture(scope="module")
def planted_intent(demo_read) -> dict[str, str]:
    """Each fallback text and the intent the generator planted for its conversation (on the fallback reply)."""
    rows = demo_read(
        lambda con: con.execute(
            "SELECT DISTINCT trim(text), next_intent FROM (SELECT role, text, "
            "lead(intent) OVER w AS next_intent, lead(is_fallback) OVER w AS next_fallback, "
            "lead(role) OVER w AS next_role FROM staging.chat_events WHERE is_message "
            "WINDOW w AS (PARTITION BY session_id ORDER BY session_seq)) "
            "WHERE role = 'user' AND next_role = 'bot' AND next_fallback"
        ).fetchall()
    )
    mapping = dict(rows)
    assert len(mapping) == len(rows)  # every text belongs to one intent's templates
    return mapping


def test_every_fallback_message_is_counted(demo_groups, demo_read, demo_warehouse) -> None:
    truth = demo_warehouse[1].truth
    health = demo_read(chatbot_health, start=truth.start, end=truth.end, compare=False)
    assert demo_groups.n_fallback_messages == health.metric("fallback_rate").numerator == 8595
    assert demo_groups.n_answered == health.metric("fallback_rate").denominator
    assert sum(demo_groups.weekly_fallbacks) == demo_groups.n_fallback_messages
    assert demo_groups.n_clustered_messages == demo_groups.n_fallback_messages  # 32 texts, all clustered
    for c in demo_groups.clusters:
        assert sum(c.weekly_counts) == c.n_messages == c.n_first_half + c.n_second_half
    assert len(demo_groups.week_starts) == 13


def test_the_demo_fallbacks_split_into_recognisable_groups(demo_groups, planted_intent) -> None:
    def cluster_of(prefix: str) -> set[int]:
        return {c.cluster_id for c in demo_groups.clusters for t, _ in c.texts if t.startswith(prefix)}

    # the generator's templates: each family of filled-in slots is one group
    for prefix in ("Can I book a demo for", "Do you offer discounts for", "Do you ship to", "What's the price diff"):
        assert len(cluster_of(prefix)) == 1, prefix
    assert cluster_of("I was charged twice") == cluster_of("My card [card]")
    largest = demo_groups.clusters[0]
    assert largest.examples[0] == "Are you a real person?" and "person" in largest.top_terms
    # each group holds one planted intent's questions: measured 0.961 (two pairs share a word across intents,
    # "like" and "how"); a floor of 0.9 still fails if groups mix intents at random (the intents' shares of the
    # fallback messages, 0.06-0.40, would give about 0.4)
    majority = 0
    for c in demo_groups.clusters:
        intents: Counter[str] = Counter()
        for text, n in c.texts:
            intents[planted_intent[text]] += n
        majority += max(intents.values())
    assert majority / demo_groups.n_clustered_messages > 0.9


def test_no_group_grows_where_nothing_was_planted_to_grow(demo_groups) -> None:
    from statsmodels.stats.rates import test_poisson_2indep

    assert not any(c.is_growing for c in demo_groups.clusters)
    c = demo_groups.clusters[0]
    # the growth test is the exact conditional test of two Poisson rates (second half against the first):
    # statsmodels test_poisson_2indep(n2, e2, n1, e1, method="exact-cond", alternative="larger")
    reference = test_poisson_2indep(
        c.n_second_half,
        demo_groups.n_answered_second_half,
        c.n_first_half,
        demo_groups.n_answered_first_half,
        method="exact-cond",
        alternative="larger",
    )
    assert c.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert c.rate_second_half / c.rate_first_half == pytest.approx(c.growth_ratio)


def test_only_the_most_frequent_texts_reach_python(demo_read, demo_warehouse) -> None:
    truth = demo_warehouse[1].truth
    small = demo_read(fallback_clusters, start=truth.start, end=truth.end, max_texts=5)
    assert sum(c.n_texts for c in small.clusters) == 5 and small.n_distinct_texts == 32
    # the five most frequent texts: 1,512 + 760 + 697 + 555 + 525 = 4,049 messages of 8,595 (47.1%)
    assert small.n_clustered_messages == 4049
    assert "the 5 most frequent texts, 47.1% of the messages" in str(small)


# --- a planted growing group ---------------------------------------------------------------------------------------

START = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def growing_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two weeks of 40 conversations each; "parcel" fallbacks only in the second week, "cancel" ones in both."""
    rows = []
    parcel = ["where is my parcel", "my parcel is late", "track my parcel please"]
    for week in (0, 1):
        for i in range(40):
            sid = f"w{week}s{i:02d}"
            start = START + timedelta(days=7 * week, hours=4 * i)  # 40 sessions in 160 hours: within the week
            if week == 1 and i < 15:
                text = parcel[i % 3]
            elif i in (20, 21):
                text = "cancel my subscription"
            else:
                text = None
            if text:
                rows += session(sid, start, user(text), bot("Sorry?", "other", fallback=True))
            else:
                rows += session(sid, start, user("how much is it"), bot("$19.", "pricing"))
    path = tmp_path_factory.mktemp("growing") / "growing.duckdb"
    con = connect(path)
    try:
        insert(con, "raw.chat_events", rows)
        build(con)
    finally:
        con.close()
    return path


def test_a_group_that_appears_in_the_second_half_is_flagged(growing_warehouse: Path) -> None:
    con = connect(growing_warehouse, read_only=True)
    try:
        result = fallback_clusters(con, start=START, end=START + timedelta(days=14), n_clusters=2)
    finally:
        con.close()
    assert result.n_answered == 80 and result.n_fallback_messages == 19
    parcel, cancel = result.clusters
    assert parcel.n_messages == 15 and parcel.weekly_counts == (0, 15) and parcel.is_growing
    assert "parcel" in parcel.top_terms
    # the conditional test: all 15 in the second half, with equal exposure: 0.5 ** 15; Holm doubles it
    assert parcel.p_value == pytest.approx(0.5**15) and parcel.p_adjusted == pytest.approx(2 * 0.5**15)
    assert cancel.weekly_counts == (2, 2) and not cancel.is_growing
    assert parcel.growth_ratio == float("inf")
    assert f"'{parcel.label}' (new in the second half)" in str(result)
    figure = result.plot()
    assert [t.name for t in figure.data] == [parcel.label, cancel.label]


def test_a_period_without_fallbacks(small_con: duckdb.DuckDBPyConnection) -> None:
    result = fallback_clusters(small_con, start="2025-01-01", end="2025-01-08")
    assert result.clusters == () and result.note == "no_texts"
    assert str(result).splitlines()[1] == "No user message got a fallback in 2025-01-01 to 2025-01-07."
