"""Only operators open the console: signed-out visitors are sent to sign in, customers and
vendor staff get 403 — for every page and every action, and a refused action changes
nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agora.core.models import AuditLog
from agora.vendors.models import Vendor
from tests.web.operator.conftest import pending_vendor

pytestmark = pytest.mark.django_db

PAGES = [
    "/operator/",
    "/operator/?days=7",
    "/operator/vendors/",
    "/operator/vendors/{vendor}/",
    "/operator/vendors/{vendor}/documents/{document}/",
    "/operator/reviews/",
    "/operator/sales/",
    "/operator/sales/booking:1/",
    "/operator/disputes/",
    "/operator/disputes/1/",
    "/operator/commission-rules/",
    "/operator/commission-rules/new/",
]
ACTIONS = [
    "/operator/vendors/{vendor}/approve/",
    "/operator/vendors/{vendor}/reject/",
    "/operator/vendors/bulk/",
    "/operator/reviews/1/approve/",
    "/operator/quality-flags/1/resolve/",
    "/operator/sales/booking:1/refund/",
    "/operator/sales/booking:1/dispute/",
    "/operator/disputes/1/evidence/",
    "/operator/disputes/1/decide/",
    "/operator/commission-rules/new/",
]


@pytest.fixture
def target() -> dict[str, Any]:
    vendor = pending_vendor("Queue Motors")
    return {"vendor": vendor.pk, "document": vendor.documents.get().pk}


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(path: str, target: dict[str, Any]) -> None:
    url = path.format(**target)

    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert "/operator/" in response["Location"]


@pytest.mark.parametrize("path", PAGES)
def test_customers_and_vendor_staff_get_403(
    path: str, target: dict[str, Any], customer_client: Client, staff_client: Client
) -> None:
    url = path.format(**target)

    for client in (customer_client, staff_client):
        response = client.get(url)
        assert response.status_code == 403
        assert "Your account cannot open this page." in response.content.decode()


@pytest.mark.parametrize("path", ACTIONS)
def test_actions_refuse_other_roles_and_change_nothing(
    path: str, target: dict[str, Any], customer_client: Client, staff_client: Client
) -> None:
    url = path.format(**target)
    audit_before = AuditLog.objects.count()
    body = {"vendor_ids": [target["vendor"]], "action": "approve", "reason": "x"}

    assert Client().post(url, body).status_code == 302
    assert customer_client.post(url, body).status_code == 403
    assert staff_client.post(url, body).status_code == 403

    assert Vendor.objects.get(pk=target["vendor"]).status == "pending"
    assert AuditLog.objects.count() == audit_before


def test_the_console_is_linked_for_operators_only(op: Client, customer_client: Client) -> None:
    assert 'href="/operator/"' in op.get("/operator/").content.decode()
    assert 'href="/operator/"' not in customer_client.get("/account/").content.decode()
