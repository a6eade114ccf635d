"""UK registration marks: one normal form, and whether a text is one at all. Pure.

People type `ab12 cde`, ` AB12CDE `, `Ab 12 Cde`: all are AB12CDE. Upstream APIs and the
cache see only the normal form, so a burst of lookups differing in spaces and case costs
one upstream call.

The shapes accepted are the ones issued in Great Britain and Northern Ireland: current
(AB12CDE, since 2001), prefix (A123BCD, 1983–2001), suffix (ABC123D, 1963–1983) and
dateless or Northern Irish (up to three letters and four digits either way round:
ABZ1234, 1234AB, A1). Personalised marks use the same shapes.
"""

from __future__ import annotations

import re

MAX_INPUT_LENGTH = 20  # what a person might type, spaces included
MAX_LENGTH = 7

_SHAPES = (
    re.compile(r"[A-Z]{2}[0-9]{2}[A-Z]{3}"),  # current
    re.compile(r"[A-Z][0-9]{1,3}[A-Z]{3}"),  # prefix
    re.compile(r"[A-Z]{3}[0-9]{1,3}[A-Z]"),  # suffix
    re.compile(r"[A-Z]{1,3}[0-9]{1,4}"),  # dateless, Northern Ireland
    re.compile(r"[0-9]{1,4}[A-Z]{1,3}"),  # dateless, reversed
)
_WHITESPACE = re.compile(r"\s+")


class InvalidRegistration(ValueError):
    """The text is not a UK registration mark."""


def normalise(text: str) -> str:
    """`text` without whitespace, in capitals. Does not validate."""
    return _WHITESPACE.sub("", text).upper()


def is_registration(normal: str) -> bool:
    """Whether an already normalised text has the shape of a UK registration mark."""
    return len(normal) <= MAX_LENGTH and any(shape.fullmatch(normal) for shape in _SHAPES)


def parse(text: str) -> str:
    """The normal form of registration `text`; InvalidRegistration if it is none."""
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidRegistration("A registration has at most 7 letters and digits.")
    normal = normalise(text)
    if not normal:
        raise InvalidRegistration("Enter a registration, e.g. AB12 CDE.")
    if not normal.isascii() or not is_registration(normal):
        raise InvalidRegistration(f"{text.strip()!r} is not a UK registration, e.g. AB12 CDE.")
    return normal


def display(normal: str) -> str:
    """How a current-style mark is printed on the plate (AB12 CDE); others as they are."""
    if len(normal) == 7 and _SHAPES[0].fullmatch(normal):
        return f"{normal[:4]} {normal[4:]}"
    return normal
