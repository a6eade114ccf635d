"""Registration marks: one normal form whatever the spacing and case, and only UK shapes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agora.verticals.automotive import registration
from agora.verticals.automotive.registration import InvalidRegistration

LETTERS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
DIGITS = st.sampled_from("0123456789")


def _mark(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map("".join)


def _run(alphabet: st.SearchStrategy[str], low: int, high: int) -> st.SearchStrategy[str]:
    return st.lists(alphabet, min_size=low, max_size=high).map("".join)


MARKS = st.one_of(
    _mark(_run(LETTERS, 2, 2), _run(DIGITS, 2, 2), _run(LETTERS, 3, 3)),  # current
    _mark(_run(LETTERS, 1, 1), _run(DIGITS, 1, 3), _run(LETTERS, 3, 3)),  # prefix
    _mark(_run(LETTERS, 3, 3), _run(DIGITS, 1, 3), _run(LETTERS, 1, 1)),  # suffix
    _mark(_run(LETTERS, 1, 3), _run(DIGITS, 1, 4)),  # dateless, NI
)


@st.composite
def typed(draw: st.DrawFn, mark: str) -> str:
    """`mark` as a person might type it: any case, spaces and tabs anywhere."""
    out = []
    for char in mark:
        out.append(draw(st.sampled_from(["", " ", "  ", "\t"])))
        out.append(char.lower() if draw(st.booleans()) else char)
    out.append(draw(st.sampled_from(["", " ", "\n"])))
    return "".join(out)


@given(data=st.data(), mark=MARKS)
def test_any_spacing_and_case_of_a_mark_is_the_same_registration(
    data: st.DataObject, mark: str
) -> None:
    text = data.draw(typed(mark))
    if len(text) > registration.MAX_INPUT_LENGTH:
        return
    assert registration.parse(text) == mark
    # the normal form is a fixed point
    assert registration.parse(registration.parse(text)) == mark


@given(text=st.text(max_size=registration.MAX_INPUT_LENGTH))
def test_anything_parsed_is_a_short_capital_ascii_mark(text: str) -> None:
    try:
        normal = registration.parse(text)
    except InvalidRegistration:
        return
    assert normal.isascii()
    assert normal.isalnum()
    assert normal == normal.upper()
    assert 2 <= len(normal) <= 7
    assert registration.is_registration(normal)


@pytest.mark.parametrize(
    ("typed_text", "normal"),
    [
        ("AB12CDE", "AB12CDE"),
        ("ab12 cde", "AB12CDE"),
        ("  Ab 12 cDe ", "AB12CDE"),
        ("mt05 old", "MT05OLD"),
        ("R742 KLM", "R742KLM"),
        ("MKD 482X", "MKD482X"),
        ("ABZ 1234", "ABZ1234"),
        ("1234 AB", "1234AB"),
        ("A1", "A1"),
    ],
)
def test_examples(typed_text: str, normal: str) -> None:
    assert registration.parse(typed_text) == normal


@pytest.mark.parametrize(
    "text",
    ["", "   ", "AB12CDEF", "12345678", "AB-12-CDE", "ÅB12CDE", "AB12CD😀", "DROP TABLE", "x" * 21],
)
def test_not_registrations(text: str) -> None:
    with pytest.raises(InvalidRegistration):
        registration.parse(text)


def test_display_spaces_a_current_mark_as_on_the_plate() -> None:
    assert registration.display("AB12CDE") == "AB12 CDE"
    assert registration.display("R742KLM") == "R742KLM"
