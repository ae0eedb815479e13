"""The shared parameter checks: one sentence naming the parameter, the function, the rule and the value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from insights.errors import InvalidParameterError
from insights.params import (
    check_bool,
    check_choice,
    check_count,
    check_instance,
    check_int,
    check_open_unit,
    check_path,
)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_int("n", "f", 2, 3), "The 'n' parameter of f must be an integer >= 3. Got 2 instead."),
        (lambda: check_int("n", "f", True, 0), "Got True instead"),
        (lambda: check_count("n", "f", -1), "The 'n' parameter of f must be a non-negative integer. Got -1 instead."),
        (lambda: check_count("n", "f", 2.0), "Got 2.0 instead"),
        (lambda: check_open_unit("alpha", "f", 1.5), "The 'alpha' parameter of f must be in (0, 1). Got 1.5 instead."),
        (lambda: check_open_unit("alpha", "f", False), "Got False instead"),
        (lambda: check_choice("how", "f", "up", ("a", "b")), "must be one of a, b. Got 'up' instead."),
        (lambda: check_bool("flag", "f", 1), "must be True or False. Got 1 instead."),
        (lambda: check_instance("x", "f", 3, str), "must be a str. Got 'int' instead."),
        (lambda: check_path("out", "f", ""), "must be a path (str or os.PathLike). Got '' instead."),
    ],
)
def test_each_check_refuses_with_one_sentence(call, message):
    with pytest.raises(InvalidParameterError) as info:
        call()
    assert message in str(info.value)
    assert str(info.value).count(". ") == 1


def test_each_check_returns_the_value_it_accepts():
    assert check_int("n", "f", 3, 3) == 3
    assert check_count("n", "f", np.int64(4)) == 4
    assert check_open_unit("alpha", "f", 0.05) == 0.05
    assert check_choice("how", "f", "b", ("a", "b")) == "b"
    assert check_bool("flag", "f", False) is False
    assert check_path("out", "f", "x/y") == Path("x/y")
    check_instance("x", "f", "text", str)
