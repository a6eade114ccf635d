"""Portal pages never show one tenant's records to another.

From the demo marketplace, every page a customer (or a vendor's staff member) can reach by
following links is collected; each one whose path names a record by its number — a booking,
an order, a listing, a receipt — is then requested by another customer (or the staff of
another vendor). Each must answer 404 (or 403), never the record. The portals' own tests
check chosen ids; this one tries every id the demo's pages actually link to.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client

from agora.accounts.models import User
from tests.factories import UserFactory
from tests.web.test_crawl import crawl

pytestmark = pytest.mark.django_db

NAMES_A_RECORD = re.compile(r"/\d+(/|$)")
# These name a public listing, not anything of the customer's: anyone may start a booking or
# a quote request from them.
LISTING_STEPS = ("/account/book/", "/account/quote/")


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _record_pages(owner: User, start: str) -> list[str]:
    statuses, _ = crawl(_client_for(owner), start)
    return sorted(
        path
        for path, status in statuses.items()
        if status == 200
        and path.startswith(start)
        and not path.startswith(LISTING_STEPS)
        and NAMES_A_RECORD.search(path.split("?")[0])
    )


def test_another_customer_gets_404_for_every_record_page_of_a_customer() -> None:
    call_command("demo", verbosity=0)
    owner = User.objects.get(email="customer@agora.test")
    stranger = UserFactory(email="stranger@example.test")

    pages = _record_pages(owner, "/account/")
    answers = {path: _client_for(stranger).get(path).status_code for path in pages}

    assert len(pages) >= 5, pages  # bookings, orders, receipts... the demo links to many
    assert {path: status for path, status in answers.items() if status not in (403, 404)} == {}


def test_another_vendors_staff_get_404_for_every_record_page_of_a_vendor() -> None:
    call_command("demo", verbosity=0)
    staff = User.objects.get(email="vendor@agora.test")
    other_vendors_owner = User.objects.get(email="brightspark@agora.test")

    pages = _record_pages(staff, "/vendor/")
    answers = {path: _client_for(other_vendors_owner).get(path).status_code for path in pages}

    assert len(pages) >= 5, pages
    assert {path: status for path, status in answers.items() if status not in (403, 404)} == {}
