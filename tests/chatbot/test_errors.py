"""One wrong call for every public callable of insights.chatbot, each read as one sentence (tests/test_parameter_errors.py)."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pytest

import insights.chatbot as cb
from insights.errors import InvalidParameterError
from tests.test_parameter_errors import SHAPE, assert_one_sentence, missing_wrong_calls

#: results are built by the functions that return them, not by callers
RESULT_RECORDS = {
    "FallbackCluster",
    "FallbackClusters",
    "HandoffReason",
    "HandoffReasonTable",
    "HealthMetric",
    "HealthReport",
    "IntentHealth",
    "IntentHealthTable",
    "TextCluster",
    "TextClusters",
}
WEEK = {"start": "2026-02-23", "end": "2026-03-02"}

WRONG_CALLS: dict[str, Callable[[], object]] = {
    "HealthDefinition": lambda: cb.HealthDefinition("x_rate", "X", "share", "a", "b", "c", "d"),  # type: ignore[arg-type]
    "HealthDefinitions": lambda: cb.HealthDefinitions("", ()),
    "chatbot_health": lambda: cb.chatbot_health(None, **WEEK, breakdown="country"),  # type: ignore[arg-type]
    "cluster_texts": lambda: cb.cluster_texts("one string, not a list"),
    "definitions_footer": lambda: cb.definitions_footer(metrics=("happiness",)),
    "fallback_clusters": lambda: cb.fallback_clusters(None, start="2026-03-02", end="2026-02-23"),  # type: ignore[arg-type]
}


def test_every_public_callable_has_a_wrong_call() -> None:
    missing = missing_wrong_calls(cb, WRONG_CALLS, RESULT_RECORDS)
    assert not missing, f"add a wrong call for {missing}"


@pytest.mark.parametrize("name", sorted(WRONG_CALLS))
def test_a_wrong_call_reads_as_one_sentence(name: str) -> None:
    assert_one_sentence(WRONG_CALLS[name])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"start": "last week", "end": "2026-03-02"},
            "The 'start' parameter of chatbot_health must be a date, a datetime or an ISO-8601 string such as "
            "'2026-02-23'. Got 'last week' instead.",
        ),
        (
            {"start": "2026-03-02", "end": "2026-03-02"},
            "The 'end' parameter of chatbot_health must be after start (2026-03-02T00:00:00+00:00). "
            "Got '2026-03-02' instead.",
        ),
        ({**WEEK, "low_confidence": 1.5}, "The 'low_confidence' parameter of chatbot_health must be in (0, 1)."),
        ({**WEEK, "qualify_days": 0}, "The 'qualify_days' parameter of chatbot_health must be an integer >= 1."),
        ({**WEEK, "price_in_per_1k": -1.0}, "The 'price_in_per_1k' parameter of chatbot_health must be a finite"),
        ({**WEEK, "currency": " "}, "The 'currency' parameter of chatbot_health must be a non-empty string."),
        ({**WEEK, "handoff_request_terms": "human"}, "The 'handoff_request_terms' parameter of chatbot_health"),
        ({**WEEK, "ci_level": 95}, "The 'ci_level' parameter of chatbot_health must be in (0, 1)."),
        ({**WEEK, "compare": "yes"}, "The 'compare' parameter of chatbot_health must be True or False."),
        ({**WEEK, "as_of": 3}, "The 'as_of' parameter of chatbot_health must be a date"),
    ],
)
def test_chatbot_health_checks_every_parameter_at_the_door(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        cb.chatbot_health(duckdb.connect(":memory:"), **kwargs)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)
    assert SHAPE.fullmatch(str(caught.value))


def test_a_connection_is_required() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        cb.chatbot_health("warehouse.duckdb", **WEEK)  # type: ignore[arg-type]
    assert str(caught.value) == (
        "The 'con' parameter of chatbot_health must be a DuckDB connection to the warehouse. Got 'str' instead."
    )


@pytest.mark.parametrize(
    ("call", "start"),
    [
        (lambda: cb.cluster_texts(["a", "b"], [1]), "The 'counts' parameter of cluster_texts must hold one integer"),
        (lambda: cb.cluster_texts(["a"], max_clusters=1), "The 'max_clusters' parameter of cluster_texts"),
        (lambda: cb.cluster_texts(["a"], n_clusters=0), "The 'n_clusters' parameter of cluster_texts"),
        (lambda: cb.fallback_clusters(None, **WEEK, max_texts=1), "The 'max_texts' parameter of fallback_clusters"),  # type: ignore[arg-type]
        (lambda: cb.fallback_clusters(None, **WEEK, alpha=0.0), "The 'alpha' parameter of fallback_clusters"),  # type: ignore[arg-type]
        (lambda: cb.definitions_footer(qualify_days=-3), "The 'qualify_days' parameter of definitions_footer"),
    ],
)
def test_the_clustering_and_footer_check_their_parameters(call: Callable[[], object], start: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        call()
    assert str(caught.value).startswith(start) and SHAPE.fullmatch(str(caught.value))


def test_plot_methods_check_their_parameters(small_con: duckdb.DuckDBPyConnection) -> None:
    report = cb.chatbot_health(small_con, start="2026-02-02", end="2026-02-09")
    with pytest.raises(InvalidParameterError) as caught:
        report.plot(["csat_mean"])
    assert SHAPE.fullmatch(str(caught.value)) and "HealthReport.plot" in str(caught.value)
    groups = cb.fallback_clusters(small_con, start="2026-02-02", end="2026-02-09")
    with pytest.raises(InvalidParameterError) as caught:
        groups.plot(top=0)
    assert str(caught.value) == ("The 'top' parameter of FallbackClusters.plot must be an integer >= 1. Got 0 instead.")
