"""Page-driving helpers: read a form's once-only token, hold and pay through the pages."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.test import Client

from agora.bookings.models import Booking
from agora.catalog.models import Listing


def html(response: Any) -> str:
    return response.content.decode()


def form_token(response: Any) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html(response))
    assert found, "the page has no once-only form token"
    return found.group(1)


def book_url(listing: Listing, start: datetime) -> str:
    return f"/account/book/{listing.pk}/?{urlencode({'start': start.isoformat()})}"


def hold(client: Client, listing: Listing, start: datetime, **extra: str) -> Any:
    page = client.get(book_url(listing, start))
    assert page.status_code == 200, html(page)
    return client.post(
        f"/account/book/{listing.pk}/",
        {"start": start.isoformat(), "token": form_token(page), "notes": "", **extra},
    )


def held(client: Client, listing: Listing, start: datetime) -> Booking:
    response = hold(client, listing, start)
    assert response.status_code == 302, html(response)
    booking_id = int(response["Location"].split("/")[3])
    return Booking.objects.get(pk=booking_id)


def pay(client: Client, booking: Booking, method: str = "pm_card_visa") -> Any:
    page = client.get(f"/account/bookings/{booking.pk}/pay/")
    return client.post(
        f"/account/bookings/{booking.pk}/pay/",
        {"payment_method": method, "token": form_token(page)},
    )


def paid(client: Client, listing: Listing, start: datetime) -> Booking:
    booking = held(client, listing, start)
    response = pay(client, booking)
    assert response.status_code == 302, html(response)
    booking.refresh_from_db()
    return booking
