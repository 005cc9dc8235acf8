"""The one-line errors (acsumgan.errors): values shown in a message stay short, whatever they are."""

from __future__ import annotations

import pytest

from acsumgan.errors import MAX_PROBLEM_CHARS, SHOWN_CHARS, ConfigError, checked_number, shown


def test_shown_is_repr_for_short_values():
    assert [shown(v) for v in ("one", 1.7, [64], {"a": 1}, None, True, -5)] == [
        "'one'",
        "1.7",
        "[64]",
        "{'a': 1}",
        "None",
        "True",
        "-5",
    ]


def test_shown_of_a_value_of_billions_of_elements_is_short_and_at_once():
    """A YAML alias bomb's value: 9 levels of 9 references to one list (9^9 elements whose
    full repr is gigabytes), shown piece by piece."""
    value = ["x"] * 9
    for _ in range(9):
        value = [value] * 9
    text = shown(value)
    assert len(text) <= SHOWN_CHARS and text.endswith("...") and text.startswith("[[[")


def test_shown_of_long_strings_and_huge_integers():
    assert len(shown("y" * 10_000)) <= SHOWN_CHARS
    assert shown(10**5000) == "<an integer of 16610 bits>"  # more digits than Python converts to text
    assert shown(99999999999999999999999) == "99999999999999999999999"


def test_a_problem_is_cut_to_a_bounded_line():
    line = ConfigError("c.yaml", "x" * 100_000).one_line()
    assert line.startswith("c.yaml: xxx") and line.endswith("...")
    assert len(line) == len("c.yaml: ") + MAX_PROBLEM_CHARS


@pytest.mark.parametrize("value", [float("inf"), float("nan"), "-inf"])
def test_checked_number_says_finite(value):
    with pytest.raises(ConfigError, match="summary length must be a finite number, got"):
        checked_number(value, "summary length", lambda v: v > 0, "> 0")
