"""Contact details in a message: which texts hide a phone number or an e-mail address, and
which must be left alone (prices, times, registrations, order numbers, websites)."""

from __future__ import annotations

import pytest

from agora.messaging.masking import find_contacts, mask_contacts

PHONE = "[phone number hidden until booking is paid]"
EMAIL = "[e-mail address hidden until booking is paid]"

MASKED = [
    # UK numbers, however grouped
    ("Call me on 07700 900123", f"Call me on {PHONE}"),
    ("07700900123", PHONE),
    ("mobile: 07700-900-123.", f"mobile: {PHONE}."),
    ("07700.900.123 after six", f"{PHONE} after six"),
    ("020 7946 0958", PHONE),
    ("(020) 7946-0958", PHONE),
    ("0161 496 0123 is the office", f"{PHONE} is the office"),
    ("ring 0 7 7 0 0 9 0 0 1 2 3 please", f"ring {PHONE} please"),
    ("(call 07700 900123)", f"(call {PHONE})"),
    # international
    ("+44 7700 900123", PHONE),
    ("+447700900123", PHONE),
    ("+44 (0) 20 7946 0958", PHONE),
    ("0044 20 7946 0958", PHONE),
    ("+1 (415) 555-0132", PHONE),
    ("+33 1 23 45 67 89", PHONE),
    ("+49.30.1234567", PHONE),
    # without the trunk zero
    ("7700 900123", PHONE),
    # e-mail addresses
    ("jane.doe+cars@example.co.uk", EMAIL),
    ("write to JANE@EXAMPLE.COM, thanks", f"write to {EMAIL}, thanks"),
    ("write to a@b.com. Thanks", f"write to {EMAIL}. Thanks"),
    ("jane at example dot com", EMAIL),
    ("JANE AT EXAMPLE DOT COM", EMAIL),
    ("jane at example.com", EMAIL),
    ("jane [at] example [dot] com", EMAIL),
    ("jane(at)example(dot)co(dot)uk ok", f"{EMAIL} ok"),
    ("jane @ example . com", EMAIL),
    ("jane {at} example {dot} org", EMAIL),
    ("jane at gmail", EMAIL),
    ("jane (at) hotmail", EMAIL),
    # both, and several
    (
        "Text 07700 900123 or mail jane@example.com; landline 020 7946 0958",
        f"Text {PHONE} or mail {EMAIL}; landline {PHONE}",
    ),
]

LEFT_ALONE = [
    "It costs £189.00 in total",
    "£1,250.00 or £ 1 250 with fitting",
    "$ 45.99 and €12",
    "Come at 09:30 or 14:00",
    "between 10.30-11.30",
    "I'll be at 10.30",
    "Reg AB12 CDE, VIN WVWZZZ1JZXW000001",
    "Order 58213 and #1234567890",
    "Booking #12 for order no. 104",
    "Tracking RM00001234GB",
    "On 05.01.2026 09.30 please",
    "2026-01-05 at 10:30",
    "Booking 12 on 06/01/2026 at 9:30",
    "2 x 205/55 R16 tyres",
    "Mileage 123,456",
    "50% off, 3 items",
    "See you at the garage. Bring the keys",
    "See you at St. Albans",
    "visit us at www.example.com",
    "The office is at 12 High Street",
    "",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_contact_details_are_masked(text: str, expected: str) -> None:
    masked = mask_contacts(text, until="booking is paid")

    assert masked.text == expected
    assert masked.hidden


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_everything_else_is_left_alone(text: str) -> None:
    masked = mask_contacts(text, until="booking is paid")

    assert masked.text == text
    assert not masked.hidden
    assert find_contacts(text) == []


def test_counts_say_what_was_found() -> None:
    masked = mask_contacts("07700 900123, +44 20 7946 0958, a@b.co", until="order is paid")

    assert (masked.phones, masked.emails) == (2, 1)
    assert masked.text == (
        "[phone number hidden until order is paid], [phone number hidden until order is paid], "
        "[e-mail address hidden until order is paid]"
    )


@pytest.mark.parametrize(
    "text",
    [
        "a" * 5000,
        "1 " * 2500,
        "a@" + "bb." * 1600 + "1",
        "a at " + "bb dot " * 700 + "1",
        "+" + "1 (" * 1600,
    ],
)
def test_long_hostile_texts_are_scanned_quickly(text: str) -> None:
    import time

    started = time.perf_counter()
    mask_contacts(text, until="booking is paid")

    assert time.perf_counter() - started < 0.5
