"""Checking parameters at the door, in the one sentence shape of insights.errors.

Every public function validates its arguments with these, so a wrong call always reads the same:
"The 'alpha' parameter of welch_test must be in (0, 1). Got 1.5 instead."
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from insights.errors import invalid_parameter


def check_int(name: str, function: str, value: object, minimum: int) -> int:
    """An int (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid_parameter(name, function, f"must be an integer >= {minimum}", value)
    return value


def check_count(name: str, function: str, value: object) -> int:
    """A non-negative whole number (Python or numpy integer, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise invalid_parameter(name, function, "must be a non-negative integer", value)
    return int(value)


def check_open_unit(name: str, function: str, value: object) -> float:
    """A number strictly between 0 and 1 (a significance level, a power, a probability)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise invalid_parameter(name, function, "must be in (0, 1)", value)
    return float(value)


def check_choice(name: str, function: str, value: object, choices: tuple[str, ...]) -> str:
    """One of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise invalid_parameter(name, function, "must be one of " + ", ".join(choices), value)
    return value


def check_bool(name: str, function: str, value: object) -> bool:
    """True or False."""
    if not isinstance(value, bool):
        raise invalid_parameter(name, function, "must be True or False", value)
    return value


def check_instance(name: str, function: str, value: object, kind: type) -> None:
    """An instance of `kind` (the message names the type that was given)."""
    if not isinstance(value, kind):
        raise invalid_parameter(name, function, f"must be a {kind.__name__}", type(value).__name__)


def check_path(name: str, function: str, value: object) -> Path:
    """A str or os.PathLike."""
    if not isinstance(value, str | os.PathLike) or str(value) == "":
        raise invalid_parameter(name, function, "must be a path (str or os.PathLike)", value)
    return Path(value)
