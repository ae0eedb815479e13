"""Metric specs over a unit-level table: what to measure and which statistics the engine must return for it.

A unit-level table has one row per randomisation unit, a variant column and metric columns. Each spec names its
columns (a column name, or a SQL expression over the table's columns) and declares the variables whose count, means
and covariance the grouped query returns (:class:`~insights.experiments.summaries.MomentStats`), so one pass serves
every metric. Units with a missing (NULL) value in one of a metric's variables are left out of that metric only.

>>> Proportion("is_lead_captured", covariate="pre_sessions").variables()
{'value': 'is_lead_captured', 'covariate': 'pre_sessions'}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from insights.errors import invalid_parameter
from insights.params import check_bool, check_open_unit

__all__ = ["Mean", "Metric", "Proportion", "Quantile", "Ratio"]


def _check_column(name: str, function: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        raise invalid_parameter(name, function, "must be a column name or SQL expression (a non-empty str)", value)


def _check_name(function: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise invalid_parameter("name", function, "must be None or a non-empty str", value)


class _ValueMetric:
    """What a metric of one per-unit value (and an optional CUPED covariate) shares: its label and variables."""

    column: str
    name: str | None
    covariate: str | None

    @property
    def label(self) -> str:
        return self.name or self.column

    def variables(self) -> dict[str, str]:
        """The variables the engine summarises for this metric: role -> column or expression."""
        return _value_and_covariate(self.column, self.covariate)


@dataclass(frozen=True)
class Proportion(_ValueMetric):
    """Share of units with the outcome: a column of true/false or 0/1 per unit.

    Tested with the two-proportion z test (``pooled`` SE for the test, ``continuity`` correction off by default);
    with a pre-period ``covariate`` the readout uses CUPED (a Welch test on the adjusted 0/1 values) instead.
    ``higher_is_better`` says which direction is an improvement (it matters for guardrails and the verdict).
    """

    column: str
    name: str | None = None
    covariate: str | None = None
    higher_is_better: bool = True
    pooled: bool = True
    continuity: bool = False

    kind = "proportion"

    def __post_init__(self) -> None:
        _check_column("column", "Proportion", self.column)
        _check_name("Proportion", self.name)
        _check_column("covariate", "Proportion", self.covariate, optional=True)
        for field in ("higher_is_better", "pooled", "continuity"):
            check_bool(field, "Proportion", getattr(self, field))


@dataclass(frozen=True)
class Mean(_ValueMetric):
    """Mean of a per-unit value (revenue per user, sessions per user), tested with Welch's t test.

    ``winsorize`` caps values above that percentile (and ``winsorize_lower`` floors values below it); the percentiles
    are computed in the engine over all analysed units of every arm pooled, so the cap does not depend on the
    treatment. With a pre-period ``covariate`` the readout uses CUPED; the covariate is capped at its own pooled
    percentiles.
    """

    column: str
    name: str | None = None
    covariate: str | None = None
    winsorize: float | None = None
    winsorize_lower: float | None = None
    higher_is_better: bool = True

    kind = "mean"

    def __post_init__(self) -> None:
        _check_column("column", "Mean", self.column)
        _check_name("Mean", self.name)
        _check_column("covariate", "Mean", self.covariate, optional=True)
        for field in ("winsorize", "winsorize_lower"):
            if getattr(self, field) is not None:
                check_open_unit(field, "Mean", getattr(self, field))
        if self.winsorize is not None and self.winsorize_lower is not None and self.winsorize_lower >= self.winsorize:
            raise invalid_parameter(
                "winsorize_lower", "Mean", f"must be below winsorize={self.winsorize}", self.winsorize_lower
            )
        check_bool("higher_is_better", "Mean", self.higher_is_better)


@dataclass(frozen=True)
class Ratio:
    """Ratio of two per-unit sums, such as messages per session when users are randomised.

    Each unit's row holds its own numerator and denominator (the user's messages and sessions); the estimate is
    mean(numerator) / mean(denominator) per arm and its variance comes from the delta method over the randomisation
    units, which is right when the analysis unit (the session) differs from the randomisation unit (the user).
    With both pre-period covariates the readout uses CUPED for ratios.
    """

    numerator: str
    denominator: str
    name: str | None = None
    covariate_numerator: str | None = None
    covariate_denominator: str | None = None
    higher_is_better: bool = True

    kind = "ratio"

    def __post_init__(self) -> None:
        _check_column("numerator", "Ratio", self.numerator)
        _check_column("denominator", "Ratio", self.denominator)
        _check_name("Ratio", self.name)
        _check_column("covariate_numerator", "Ratio", self.covariate_numerator, optional=True)
        _check_column("covariate_denominator", "Ratio", self.covariate_denominator, optional=True)
        if (self.covariate_numerator is None) != (self.covariate_denominator is None):
            raise invalid_parameter(
                "covariate_denominator",
                "Ratio",
                "must be given together with covariate_numerator (both or neither)",
                self.covariate_denominator,
            )
        check_bool("higher_is_better", "Ratio", self.higher_is_better)

    @property
    def label(self) -> str:
        return self.name or f"{self.numerator} / {self.denominator}"

    def variables(self) -> dict[str, str]:
        """The variables the engine summarises for this metric: role -> column or expression."""
        out = {"numerator": self.numerator, "denominator": self.denominator}
        if self.covariate_numerator is not None and self.covariate_denominator is not None:
            out["covariate_numerator"] = self.covariate_numerator
            out["covariate_denominator"] = self.covariate_denominator
        return out


@dataclass(frozen=True)
class Quantile:
    """A quantile of a per-unit value (p90 of a session's response latency), compared between arms.

    The engine returns only the few order statistics the distribution-free interval needs (see
    :mod:`insights.experiments.quantiles`); ``higher_is_better`` defaults to False, as quantile metrics are
    mostly latencies and durations.
    """

    column: str
    q: float = 0.9
    name: str | None = None
    higher_is_better: bool = False

    kind = "quantile"

    def __post_init__(self) -> None:
        _check_column("column", "Quantile", self.column)
        check_open_unit("q", "Quantile", self.q)
        _check_name("Quantile", self.name)
        check_bool("higher_is_better", "Quantile", self.higher_is_better)

    @property
    def label(self) -> str:
        return self.name or f"p{_percent(self.q)} {self.column}"

    def variables(self) -> dict[str, str]:
        """The value whose count the grouped pass returns (the order statistics come from a second query)."""
        return {"value": self.column}


def _value_and_covariate(column: str, covariate: str | None) -> dict[str, str]:
    return {"value": column} if covariate is None else {"value": column, "covariate": covariate}


def _percent(q: float) -> str:
    value = q * 100
    return str(int(value)) if math.isclose(value, round(value)) else f"{value:g}"


Metric = Proportion | Mean | Ratio | Quantile
MetricKind = Literal["proportion", "mean", "ratio", "quantile"]
