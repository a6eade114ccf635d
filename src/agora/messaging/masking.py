"""Finding phone numbers and e-mail addresses in a message, to hide them before payment.

The marketplace earns its commission on what is paid through it. A phone number or an
e-mail address shared before the booking or order is paid lets both sides agree the job
off the platform, so until then the other side reads them as "[phone number hidden until
booking is paid]". This is a pure function of the text: the message keeps what its author
wrote, and `masked_text` is computed once when it is sent (`services.message_send`).

The rules lean towards hiding a real contact and leaving everything else alone:

- e-mail addresses, also when spelt out ("name at example dot com", "name [at] example
  [dot] com", "name (at) gmail") — but never a bare website;
- phone numbers, UK and international, however grouped: spaces, dots, dashes and brackets
  between the digits ("07700 900123", "+44 7700 900123", "(020) 7946-0958",
  "0044.20.7946.0958"), counted by their digits: 8–15 after a "+", 10–13 from a trunk "0",
  9–15 otherwise. Shorter runs are prices, times, quantities and order numbers
  ("£189.00", "09:30", "order 58213"); digits touching letters are references and
  registrations ("AB12 CDE", "RM00001234GB"); dates with a four-digit year ("05.01.2026")
  are never read as part of a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- e-mail addresses ----------------------------------------------------------------------

_LOCAL = r"[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9])?"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_TLD = r"[A-Za-z]{2,24}(?![A-Za-z0-9\-]|\.[A-Za-z0-9])"
_OPEN, _CLOSE = r"[\[\(\{<]", r"[\]\)\}>]"

# "@" or a bracketed "at": clear enough that spaces may surround it and the dots after it.
_AT_MARKED = rf"[ \t]*(?:@|{_OPEN}[ \t]*(?:at|@)[ \t]*{_CLOSE})[ \t]*"
# A spaced dot needs spaces on both sides ("example . com"): ". " ends a sentence.
_DOT_MARKED = (
    rf"(?:\.|[ \t]+\.[ \t]+|[ \t]*{_OPEN}[ \t]*(?:dot|\.)[ \t]*{_CLOSE}[ \t]*|[ \t]+dot[ \t]+)"
)
# The plain word "at" is everyday English ("see you at the garage. Bring..."), so after it
# only an unspaced "." or the word "dot" counts as a dot, and a website ("us at
# www.example.com") is not taken for an address.
_AT_WORD = r"[ \t]+at[ \t]+(?!www\.)"
_DOT_WORD = rf"(?:\.|[ \t]*{_OPEN}[ \t]*(?:dot|\.)[ \t]*{_CLOSE}[ \t]*|[ \t]+dot[ \t]+)"

_EMAIL_MARKED = re.compile(
    rf"(?<![A-Za-z0-9._%+\-]){_LOCAL}{_AT_MARKED}{_LABEL}(?:{_DOT_MARKED}{_LABEL})*"
    rf"{_DOT_MARKED}{_TLD}",
    re.IGNORECASE,
)
_EMAIL_WORD = re.compile(
    rf"(?<![A-Za-z0-9._%+\-]){_LOCAL}{_AT_WORD}{_LABEL}(?:{_DOT_WORD}{_LABEL})*{_DOT_WORD}{_TLD}",
    re.IGNORECASE,
)
# "name at gmail", "name (at) hotmail": the provider names the domain well enough.
_PROVIDERS = (
    "gmail|googlemail|hotmail|outlook|yahoo|ymail|icloud|btinternet|aol|protonmail|proton|gmx"
)
_EMAIL_PROVIDER = re.compile(
    rf"(?<![A-Za-z0-9._%+\-]){_LOCAL}(?:{_AT_MARKED}|{_AT_WORD})(?:{_PROVIDERS})\b",
    re.IGNORECASE,
)

# --- phone numbers -------------------------------------------------------------------------

# A run of digits joined by at most three separators at a time, optionally opened by "+",
# "00" or a bracket. Not inside a word or a reference, not after a currency sign or "#".
_PHONE = re.compile(
    r"(?<![\w£$€¥#])"
    r"(?P<number>(?:\+|\(\+?)?\d(?:[ \t.\-()]{0,3}\d)+\)?)"
    r"(?![\w£$€%])"
)
_DATE = re.compile(
    r"(?<!\d)(?:(?:0?[1-9]|[12]\d|3[01])[./\-](?:0?[1-9]|1[0-2])[./\-](?:19|20)\d\d"
    r"|(?:19|20)\d\d[./\-](?:0?[1-9]|1[0-2])[./\-](?:0?[1-9]|[12]\d|3[01]))(?!\d)"
)


def _is_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    start = candidate.lstrip("(")
    if start.startswith("+"):
        return 8 <= len(digits) <= 15
    if start.startswith("00"):
        return 8 <= len(digits) - 2 <= 15
    if start.startswith("0"):
        return 10 <= len(digits) <= 13
    return 9 <= len(digits) <= 15


# --- masking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    kind: str  # "phone" or "email"
    start: int
    end: int


@dataclass(frozen=True)
class Masked:
    text: str
    phones: int
    emails: int

    @property
    def hidden(self) -> bool:
        return bool(self.phones or self.emails)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span overwritten by letters, keeping every index where it was: a
    blanked span can then neither be found again nor join the digits around it."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "x" * (end - start)
    return "".join(chars)


def find_contacts(text: str) -> list[Span]:
    """Every e-mail address and phone number in `text`, in order, not overlapping."""
    found: list[Span] = []
    view = text
    for pattern in (_EMAIL_MARKED, _EMAIL_WORD, _EMAIL_PROVIDER):
        for match in pattern.finditer(view):
            found.append(Span("email", match.start(), match.end()))
        view = _blank(view, [(span.start, span.end) for span in found])
    dates = [(match.start(), match.end()) for match in _DATE.finditer(view)]
    view = _blank(view, dates)
    for match in _PHONE.finditer(view):
        if _is_phone(match.group("number")):
            start, end = match.span("number")
            # A bracket closing nothing of the number stays outside it ("(call 07700 900123)").
            if view[end - 1] == ")" and "(" not in view[start : end - 1]:
                end -= 1
            found.append(Span("phone", start, end))
    return sorted(found, key=lambda span: span.start)


def mask_contacts(text: str, *, until: str) -> Masked:
    """`text` with its contact details replaced by a note saying they are hidden `until`
    (e.g. "booking is paid")."""
    spans = find_contacts(text)
    if not spans:
        return Masked(text=text, phones=0, emails=0)
    notes = {
        "phone": f"[phone number hidden until {until}]",
        "email": f"[e-mail address hidden until {until}]",
    }
    parts: list[str] = []
    position = 0
    for span in spans:
        parts.append(text[position : span.start])
        parts.append(notes[span.kind])
        position = span.end
    parts.append(text[position:])
    return Masked(
        text="".join(parts),
        phones=sum(1 for span in spans if span.kind == "phone"),
        emails=sum(1 for span in spans if span.kind == "email"),
    )
