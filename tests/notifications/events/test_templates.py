"""Every (event, audience) has its three templates, and each renders with the data its
service writes: no template error, no unrendered tag, no "None", the money and times as
people read them."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.template import Context, Template

from agora.notifications import catalogue, rendering
from agora.notifications.templatetags.notification_format import clock_time, day, money, when
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GBP = {"amount": 4599, "currency": "GBP"}
START, END = "2026-12-08T09:30:00+00:00", "2026-12-08T10:30:00+00:00"

BOOKING = {
    "id": 12,
    "status": "pending",
    "url": "/account/bookings/12/",
    "vendor_url": "/vendor/bookings/12/?vendor=3",
    "listing_title": "MOT",
    "vendor_name": "Smith's Garage",
    "vendor_address": "1 High Street, London",
    "start": START,
    "end": END,
    "timezone": "Europe/London",
    "price": GBP,
}
ORDER = {
    "id": 7,
    "status": "paid",
    "url": "/account/orders/7/",
    "vendor_url": "/vendor/orders/7/?vendor=3",
    "vendor_name": "Anvil & Sons",
    "timezone": "Europe/London",
    "total": {"amount": 2598, "currency": "GBP"},
}
SALE = {**BOOKING, "kind": "booking", "title": "MOT"}
VENDOR = {
    "id": 3,
    "status": "active",
    "name": "Smith's Garage",
    "reason": "",
    "url": "/vendor/?vendor=3",
    "vendor_url": "/vendor/?vendor=3",
}
DISPUTE = {
    "id": 5,
    "status": "opened",
    "reference": "booking:12",
    "amount": GBP,
    "reason": "Work not done",
    "sale": SALE,
    "url": "/account/bookings/12/",
    "vendor_url": "/vendor/bookings/12/?vendor=3",
    "operator_url": "/operator/disputes/5/",
}
REFUND = {
    "refund_id": 9,
    "refund": {"amount": 1000, "currency": "GBP"},
    "refunded_total": {"amount": 1000, "currency": "GBP"},
    "paid": GBP,
    "fully_refunded": False,
    "reason": "goodwill",
}

# The data each event's service writes (see tests/notifications/events/test_*.py for the
# real rows); several shapes where the wording branches.
SAMPLES: dict[str, list[dict[str, Any]]] = {
    "account.welcome": [{"id": 1, "url": "/account/", "browse_url": "/"}],
    "vendor.applied": [
        {
            **VENDOR,
            "status": "pending",
            "applicant_name": "Sam Smith",
            "operator_url": "/operator/vendors/3/",
        }
    ],
    "vendor.approved": [VENDOR, {**VENDOR, "reason": "Welcome aboard"}],
    "vendor.rejected": [{**VENDOR, "status": "rejected", "reason": "No insurance document"}],
    "vendor.suspended": [{**VENDOR, "status": "suspended", "reason": "Too many complaints"}],
    "vendor.reinstated": [VENDOR],
    "staff.invited": [
        {
            "id": 4,
            "to_email": "sam@example.test",
            "vendor_name": "Smith's Garage",
            "inviter_name": "Olly Owner",
            "role": role,
            "token": "abc123",
            "url": f"{settings.AGORA_BASE_URL}/vendor/onboarding/?token=abc123",
            "expires_at": START,
            "timezone": "Europe/London",
        }
        for role in ("owner", "manager", "staff")
    ],
    "booking.paid": [
        {
            **BOOKING,
            "customer_name": "Ann",
            "amount_paid": GBP,
            "payment_reference": "ch_123",
            "auto_accepted": auto,
            "receipt_url": "/account/bookings/12/receipt/",
        }
        for auto in (False, True)
    ],
    "booking.accepted": [{**BOOKING, "status": "accepted"}, {**BOOKING, "vendor_address": ""}],
    "booking.declined": [
        {**BOOKING, "status": "declined", "reason": "Fully booked", "refund": GBP},
        {**BOOKING, "status": "declined", "reason": ""},
    ],
    "booking.cancelled": [
        {**BOOKING, "status": "cancelled", "by": "customer", "reason": "", "refund": GBP},
        {
            **BOOKING,
            "by": "customer",
            "reason": "ill",
            "refund": {"amount": 2300, "currency": "GBP"},
            "fee": {"amount": 2299, "currency": "GBP"},
            "customer_name": "Ann",
        },
        {**BOOKING, "by": "customer", "reason": "", "fee": GBP},
        {**BOOKING, "by": "vendor", "reason": "Mechanic ill", "refund": GBP},
    ],
    "booking.expired": [
        {**BOOKING, "status": "expired", "reason": "not accepted in time", "refund": GBP}
    ],
    "booking.rescheduled": [
        {
            **BOOKING,
            "previous_start": "2026-12-07T09:30:00+00:00",
            "previous_end": "2026-12-07T10:30:00+00:00",
            "by": by,
            **({"customer_name": "Ann"} if by == "customer" else {}),
        }
        for by in ("customer", "vendor")
    ],
    "booking.started": [{**BOOKING, "status": "in_progress"}],
    "booking.completed": [
        {
            **BOOKING,
            "status": "completed",
            "review_url": "/account/reviews/new/booking/12/",
            "review_until": "2027-01-07T10:30:00+00:00",
        }
    ],
    "booking.no_show": [{**BOOKING, "status": "no_show"}],
    "booking.reminder": [
        {
            "id": 12,
            "status": "accepted",
            "kind": kind,
            "url": "/account/bookings/12/",
            "vendor_url": "/vendor/bookings/12/",
            "listing_id": 2,
            "listing_title": "MOT",
            "vendor_name": "Smith's Garage",
            "start": START,
            "end": END,
            "timezone": "Europe/London",
            "address": address,
        }
        for kind, address in (("24h", "1 High Street"), ("2h", ""))
    ],
    "booking.refunded": [{**SALE, **REFUND}, {**SALE, **REFUND, "fully_refunded": True}],
    "order.paid": [
        {
            **ORDER,
            "lines": [{"title": "Widget", "quantity": 2}, {"title": 'Tyre — 16"', "quantity": 1}],
            "line_count": 2,
            "more_lines": 0,
            "customer_name": "Ann",
            "subtotal": {"amount": 2598, "currency": "GBP"},
            "shipping": {"amount": 0, "currency": "GBP"},
            "receipt_url": "/account/checkouts/4/receipt/",
        },
        {
            **ORDER,
            "lines": [{"title": f"Item {n}", "quantity": 1} for n in range(5)],
            "line_count": 8,
            "more_lines": 3,
            "customer_name": "",
            "subtotal": {"amount": 2598, "currency": "GBP"},
            "shipping": {"amount": 499, "currency": "GBP"},
            "receipt_url": "/account/checkouts/4/receipt/",
        },
    ],
    "order.accepted": [{**ORDER, "status": "accepted"}],
    "order.shipped": [
        {**ORDER, "status": "shipped", "carrier": "Royal Mail", "tracking_number": "RM1GB"}
    ],
    "order.delivered": [
        {**ORDER, "status": "delivered", "review_url": "/account/reviews/new/order/7/"}
    ],
    "order.cancelled": [
        {**ORDER, "status": "cancelled", "by": by, "reason": reason, **refund}
        for by, reason, refund in (
            ("customer", "", {"refund": ORDER["total"]}),
            ("vendor", "Out of stock", {"refund": ORDER["total"]}),
            ("system", "not accepted in time", {"refund": ORDER["total"]}),
            ("customer", "", {}),
        )
    ],
    "order.refunded": [
        {**ORDER, "kind": "order", "title": "Order 7", **REFUND},
        {**ORDER, "kind": "order", "title": "Order 7", **REFUND, "fully_refunded": True},
    ],
    "order.escalated": [
        {
            **ORDER,
            "level": level,
            "paid_at": "2026-12-07T09:00:00+00:00",
            "hours_waiting": hours,
            "cancel_at": "2026-12-10T09:00:00+00:00",
            "operator_url": "/operator/sales/order:7/",
        }
        for level, hours in ((1, 24), (2, 48))
    ],
    "stock.low": [
        {
            "id": 2,
            "listing_id": 5,
            "variant_id": None,
            "title": "Widget",
            "stock": 3,
            "threshold": 3,
            "url": "/vendor/listings/5/?vendor=3",
            "vendor_url": "/vendor/listings/5/?vendor=3",
        }
    ],
    "payout.paid": [
        {
            "id": 8,
            "status": "paid",
            "amount": GBP,
            "url": "/vendor/money/?vendor=3",
            "vendor_url": "/vendor/money/?vendor=3",
            "created_at": START,
        }
    ],
    "payout.failed": [
        {
            "id": 8,
            "status": "failed",
            "amount": GBP,
            "url": "/vendor/money/?vendor=3",
            "vendor_url": "/vendor/money/?vendor=3",
            "created_at": START,
            "failure_reason": "account closed",
        }
    ],
    "dispute.opened": [
        DISPUTE,
        {**DISPUTE, "sale": {}, "url": "", "vendor_url": "/vendor/money/?vendor=3"},
    ],
    "dispute.decided": [
        {**DISPUTE, "status": outcome, "outcome": outcome} for outcome in ("won", "lost")
    ],
    "review.published": [
        {
            "id": 6,
            "status": "published",
            "rating": 4,
            "text": "Quick & friendly <b>service</b>.",
            "reviewer_name": "Ann",
            "vendor_name": "Smith's Garage",
            "kind": "booking",
            "url": "/v/smiths-garage/",
            "vendor_url": "/v/smiths-garage/",
        }
    ],
    "review.replied": [
        {
            "id": 6,
            "status": "published",
            "rating": 4,
            "reply": "Thank you, Ann!",
            "vendor_name": "Smith's Garage",
            "url": "/account/reviews/",
            "review_url": "/v/smiths-garage/",
        }
    ],
}


# The account, vendor, booking, order, money and review events (messages and webhooks have
# their own tests).
LIFECYCLE_EVENTS = {
    "account.welcome",
    "vendor.applied",
    "vendor.approved",
    "vendor.rejected",
    "vendor.suspended",
    "vendor.reinstated",
    "staff.invited",
    "booking.paid",
    "booking.accepted",
    "booking.declined",
    "booking.cancelled",
    "booking.expired",
    "booking.rescheduled",
    "booking.started",
    "booking.completed",
    "booking.no_show",
    "booking.reminder",
    "booking.refunded",
    "order.paid",
    "order.accepted",
    "order.shipped",
    "order.delivered",
    "order.cancelled",
    "order.refunded",
    "order.escalated",
    "stock.low",
    "payout.paid",
    "payout.failed",
    "dispute.opened",
    "dispute.decided",
    "review.published",
    "review.replied",
}


def pairs() -> list[tuple[str, str, int]]:
    return [
        (name, audience, index)
        for name, samples in SAMPLES.items()
        for audience in catalogue.EVENT_TYPES[name].audiences
        for index in range(len(samples))
    ]


def test_every_lifecycle_event_has_samples_and_is_in_the_catalogue() -> None:
    assert set(SAMPLES) == LIFECYCLE_EVENTS
    assert set(catalogue.EVENT_TYPES) >= LIFECYCLE_EVENTS


@pytest.mark.parametrize(("name", "audience", "index"), pairs())
def test_each_template_pair_renders_cleanly(name: str, audience: str, index: int) -> None:
    data = SAMPLES[name][index]
    recipient = None if audience == "address" else UserFactory.build(name="Ann Example")
    words = rendering.render(
        event_name=name,
        audience=audience,
        data=data,
        recipient=recipient,
        unsubscribe_url=f"{settings.AGORA_BASE_URL}/notifications/unsubscribe/x/",
    )

    for part in (words.subject, words.text, words.html, words.notice):
        assert part.strip()
        assert "None" not in part, part
        for leftover in ("{{", "{%", "}}", "%}"):
            assert leftover not in part, part
    assert "\n" not in words.subject
    assert len(words.subject) <= 200
    # plain text is not HTML-escaped; the HTML is
    assert "&#x27;" not in words.text + words.subject
    assert "&amp;" not in words.text
    assert "<b>" not in words.html
    # one paragraph per idea: never more than one empty line in a row
    assert "\n\n\n" not in words.text, words.text
    assert words.html.lstrip().startswith("<!doctype html>")
    assert 'lang="en"' in words.html
    link = rendering.absolute(rendering.path_for(audience=audience, data=data))
    if link:
        assert link in words.text
        assert f'href="{link}"' in words.html or f'href="{link.replace("&", "&amp;")}"' in (
            words.html
        )
    assert f"{settings.AGORA_BASE_URL}/notifications/unsubscribe/x/" in words.html


def test_the_wording_is_specific() -> None:
    # Given a booking just paid for at a vendor that accepts automatically
    words = rendering.render(
        event_name="booking.paid",
        audience="user",
        data=SAMPLES["booking.paid"][1],
        recipient=UserFactory.build(name="Ann Example"),
    )

    assert words.subject == "Booked: MOT at Smith's Garage, Tue 8 Dec 2026, 09:30"
    assert words.notice == "Your MOT at Smith's Garage is booked for Tue 8 Dec 2026, 09:30."
    assert "Amount paid: £45.99" in words.text
    assert "Payment reference: ch_123" in words.text
    assert "Hi Ann," in words.html
    assert "Smith&#x27;s Garage" in words.html


def test_the_vendor_is_asked_to_accept_unless_the_booking_accepted_itself() -> None:
    pending, auto = SAMPLES["booking.paid"]

    to_accept = rendering.render(event_name="booking.paid", audience="vendor", data=pending)
    accepted = rendering.render(event_name="booking.paid", audience="vendor", data=auto)

    assert to_accept.subject == "New booking to accept: MOT, Tue 8 Dec 2026, 09:30"
    assert to_accept.notice == (
        "Ann booked and paid for MOT on Tue 8 Dec 2026, 09:30. Please accept or decline it."
    )
    assert "Accept or decline: " in to_accept.text
    assert accepted.subject == "New booking: MOT, Tue 8 Dec 2026, 09:30"
    assert "It is confirmed automatically." in accepted.notice


def test_a_completed_booking_asks_for_a_review_with_the_review_page() -> None:
    words = rendering.render(
        event_name="booking.completed", audience="user", data=SAMPLES["booking.completed"][0]
    )

    review_link = f"{settings.AGORA_BASE_URL}/account/reviews/new/booking/12/"
    assert f"Write a review: {review_link}" in words.text
    assert f'href="{review_link}"' in words.html
    assert "You can write it until Thu 7 Jan 2027." in words.text


def test_a_late_cancellation_says_what_is_refunded_and_what_is_kept() -> None:
    words = rendering.render(
        event_name="booking.cancelled", audience="user", data=SAMPLES["booking.cancelled"][1]
    )

    assert (
        "We are refunding £23.00 (£22.99 is kept as the late-cancellation fee) to the card you "
        "paid with" in words.text
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"amount": 4599, "currency": "GBP"}, "£45.99"),
        ({"amount": 123456, "currency": "EUR"}, "€1,234.56"),
        ({"amount": -500, "currency": "USD"}, "-$5.00"),
        ({"amount": 1200, "currency": "JPY"}, "¥1,200"),
        ({"amount": 995, "currency": "CHF"}, "9.95 CHF"),
        ({"amount": 995, "currency": "XXX"}, ""),
        ({"amount": "995", "currency": "GBP"}, ""),
        (None, ""),
    ],
)
def test_money_reads_like_a_price(value: Any, expected: str) -> None:
    assert money(value) == expected


def test_when_shows_the_vendors_local_time() -> None:
    # 8 Dec is winter in London (UTC) and summer in Sydney (UTC+11)
    assert when(START, "Europe/London") == "Tue 8 Dec 2026, 09:30"
    assert when(START, "Australia/Sydney") == "Tue 8 Dec 2026, 20:30"
    assert when("2026-07-01T08:00:00Z", "Europe/London") == "Wed 1 Jul 2026, 09:00"
    assert when(START, "Not/AZone") == "Tue 8 Dec 2026, 09:30"
    assert when("", "Europe/London") == when(None) == when("yesterday") == ""
    assert day(START, "Europe/London") == "Tue 8 Dec 2026"
    assert clock_time(START, "America/New_York") == "04:30"


def test_the_filters_are_usable_in_templates() -> None:
    template = Template("{% load notification_format %}{{ price|money }} on {{ start|when:zone }}")
    text = template.render(Context({"price": GBP, "start": START, "zone": "Europe/London"}))
    assert text == "£45.99 on Tue 8 Dec 2026, 09:30"
