"""The webhook pages: /vendor/webhooks/ (a vendor's owners and managers) and
/operator/webhooks/ (operators) — list, create with the secret shown once, the delivery
log with Replay, rotate, switch off and on, delete; 403 for the wrong role, 404 for
another vendor's endpoints, and nothing changed by a refused request."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agora.core.audit import audit_trail
from agora.core.models import AuditLog
from agora.notifications.webhooks import delivery
from agora.notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.notifications.webhooks.conftest import Market, emit, endpoint_for, fan_out, page_as
from tests.vendors.fixtures import _no_static_finders

__all__ = ["_no_static_finders"]

pytestmark = pytest.mark.django_db

PUBLIC = "https://93.184.215.14/agora"


def _token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "no once-only token on the page"
    return match.group(1)


def _snapshot() -> list[Any]:
    return [
        list(WebhookEndpoint.objects.order_by("id").values()),
        list(WebhookDelivery.objects.order_by("id").values()),
        AuditLog.objects.count(),
    ]


# --- the vendor portal ------------------------------------------------------------------


def test_the_list_shows_the_vendors_endpoints_and_a_form(market: Market) -> None:
    mine = endpoint_for(
        vendor=market.vendor, url=PUBLIC + "/mine", events=["booking.paid"], actor=market.owner
    )
    endpoint_for(vendor=market.rival, url=PUBLIC + "/rival", events=["*"], actor=market.rival_owner)
    endpoint_for(vendor=None, url=PUBLIC + "/platform", events=["*"], actor=market.operator)

    response = page_as(market.manager).get("/vendor/webhooks/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Webhooks</h1>" in html
    assert f'href="/vendor/webhooks/{mine.pk}/">{PUBLIC}/mine</a>' in html
    assert "/rival" not in html
    assert "/platform" not in html
    assert mine.secret not in html
    assert 'value="booking.paid"' in html  # the events to choose from
    assert 'value="*"' in html
    assert 'href="/vendor/webhooks/" aria-current="page">Webhooks</a>' in html


def test_creating_shows_the_secret_once_and_a_second_click_creates_nothing(
    market: Market,
) -> None:
    client = page_as(market.owner)
    token = _token(client.get("/vendor/webhooks/").content.decode())
    form = {"token": token, "url": PUBLIC, "events": ["booking.paid", "order.shipped"]}

    response = client.post("/vendor/webhooks/", form)

    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.vendor_id, endpoint.url, endpoint.events) == (
        market.vendor.pk,
        PUBLIC,
        ["booking.paid", "order.shipped"],
    )
    html = response.content.decode()
    assert f'<code id="webhook-secret">{endpoint.secret}</code>' in html
    assert "shown only this once" in html

    again = client.post("/vendor/webhooks/", form)

    assert again.status_code == 302
    assert again["Location"] == f"/vendor/webhooks/{endpoint.pk}/"
    assert WebhookEndpoint.objects.count() == 1
    shown = client.get(again["Location"]).content.decode()
    assert endpoint.secret not in shown
    assert "That form was already sent" in shown


def test_a_refused_url_is_shown_on_the_form(market: Market) -> None:
    client = page_as(market.owner)
    token = _token(client.get("/vendor/webhooks/").content.decode())

    response = client.post(
        "/vendor/webhooks/",
        {"token": token, "url": "https://169.254.169.254/latest", "events": ["*"]},
    )

    assert response.status_code == 422
    assert "169.254.169.254, a link-local address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
    # The refused attempt used nothing up: the same form may be sent again, corrected
    fixed = client.post("/vendor/webhooks/", {"token": token, "url": PUBLIC, "events": ["*"]})
    assert fixed.status_code == 201


def test_no_event_chosen_is_a_form_error(market: Market) -> None:
    client = page_as(market.owner)
    token = _token(client.get("/vendor/webhooks/").content.decode())

    response = client.post("/vendor/webhooks/", {"token": token, "url": PUBLIC})

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_detail_page_shows_every_attempt_with_replay(
    market: Market, receiver_factory: Any, allow_private: None
) -> None:
    receiver = receiver_factory(500, response_body=b"upstream timeout")
    endpoint = endpoint_for(
        vendor=market.vendor, url=receiver.url, events=["*"], actor=market.owner
    )
    fan_out(emit("booking.paid", vendor=market.vendor))
    delivery.send_due()
    item = WebhookDelivery.objects.get()

    response = page_as(market.owner).get(f"/vendor/webhooks/{endpoint.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<h1 class="wh-url">{receiver.url}</h1>' in html
    assert item.webhook_id in html
    assert "booking.paid" in html
    assert '<span class="wh-bad">500</span>' in html
    assert "<pre>upstream timeout</pre>" in html
    assert f'action="/vendor/webhooks/{endpoint.pk}/deliveries/{item.pk}/replay/"' in html
    assert f'action="/vendor/webhooks/{endpoint.pk}/rotate/"' in html
    assert endpoint.secret not in html


def test_the_detail_page_costs_the_same_for_many_deliveries(
    market: Market, django_assert_num_queries: Any
) -> None:
    endpoint = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    fan_out(emit("booking.paid", vendor=market.vendor, number=1))
    client = page_as(market.owner)
    path = f"/vendor/webhooks/{endpoint.pk}/"
    client.get(path)
    with CaptureQueriesContext(connection) as one:
        client.get(path)
    fan_out(*[emit("booking.paid", vendor=market.vendor, number=n) for n in range(2, 15)])

    with django_assert_num_queries(len(one)):
        response = client.get(path)

    assert response.content.decode().count("/replay/") == 14


def test_rotating_shows_the_new_secret_once(market: Market) -> None:
    endpoint = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    old = endpoint.secret
    client = page_as(market.owner)
    token = _token(client.get(f"/vendor/webhooks/{endpoint.pk}/").content.decode())

    response = client.post(f"/vendor/webhooks/{endpoint.pk}/rotate/", {"token": token})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.previous_secret == old
    assert f'<code id="webhook-secret">{endpoint.secret}</code>' in response.content.decode()
    # A second click with the same form rotates nothing more
    again = client.post(f"/vendor/webhooks/{endpoint.pk}/rotate/", {"token": token})
    assert again.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == old


def test_switching_off_and_on_replaying_and_deleting(market: Market) -> None:
    endpoint = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    fan_out(emit("booking.paid", vendor=market.vendor))
    item = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=item.pk).update(status="failed")
    client = page_as(market.manager)
    base = f"/vendor/webhooks/{endpoint.pk}/"

    assert client.post(base + "disable/")["Location"] == base
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, "Disabled by Mia Manager.")
    page = client.get(base).content.decode()
    assert "Disabled" in page
    assert "/replay/" not in page
    assert f'action="{base}enable/"' in page

    client.post(base + "enable/")
    endpoint.refresh_from_db()
    assert endpoint.enabled is True

    replayed = client.post(f"{base}deliveries/{item.pk}/replay/")
    assert replayed["Location"] == base
    item.refresh_from_db()
    assert item.status == "pending"
    assert "queued to be sent again" in client.get(base).content.decode()

    deleted = client.post(base + "delete/")
    assert deleted["Location"] == "/vendor/webhooks/"
    assert not WebhookEndpoint.objects.exists()
    assert [entry.action for entry in audit_trail(endpoint)] == [
        "webhook.created",
        "webhook.disabled",
        "webhook.enabled",
        "webhook.delivery_replayed",
        "webhook.deleted",
    ]


def test_plain_staff_get_403_on_every_webhook_page(market: Market) -> None:
    endpoint = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    fan_out(emit("booking.paid", vendor=market.vendor))
    item = WebhookDelivery.objects.get()
    client = page_as(market.staff)
    base = f"/vendor/webhooks/{endpoint.pk}/"
    before = _snapshot()

    for method, path, data in [
        ("get", "/vendor/webhooks/", None),
        ("post", "/vendor/webhooks/", {"token": "t1", "url": PUBLIC, "events": ["*"]}),
        ("get", base, None),
        ("post", base + "rotate/", {"token": "t2"}),
        ("post", base + "disable/", {}),
        ("post", base + "delete/", {}),
        ("post", f"{base}deliveries/{item.pk}/replay/", {}),
    ]:
        response = getattr(client, method)(path, data)
        assert response.status_code == 403, (path, response.status_code)

    assert _snapshot() == before
    # ...and their navigation does not offer the page
    assert "/vendor/webhooks/" not in client.get("/vendor/staff/").content.decode()


def test_another_vendors_endpoints_are_404(market: Market) -> None:
    theirs = endpoint_for(vendor=market.rival, url=PUBLIC, events=["*"], actor=market.rival_owner)
    platform = endpoint_for(vendor=None, url=PUBLIC, events=["*"], actor=market.operator)
    fan_out(emit("booking.paid", vendor=market.rival))
    their_item = WebhookDelivery.objects.filter(endpoint=theirs).get()
    mine = endpoint_for(vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner)
    client = page_as(market.owner)
    before = _snapshot()

    for foreign in (theirs, platform):
        base = f"/vendor/webhooks/{foreign.pk}/"
        for method, path, data in [
            ("get", base, None),
            ("post", base + "rotate/", {"token": f"t-{foreign.pk}"}),
            ("post", base + "disable/", {}),
            ("post", base + "delete/", {}),
            ("post", f"{base}deliveries/{their_item.pk}/replay/", {}),
        ]:
            response = getattr(client, method)(path, data)
            assert response.status_code == 404, (path, response.status_code)
    response = client.post(f"/vendor/webhooks/{mine.pk}/deliveries/{their_item.pk}/replay/")
    assert response.status_code == 404

    assert _snapshot() == before


def test_a_customer_is_refused_the_vendor_pages(market: Market) -> None:
    assert page_as(market.customer).get("/vendor/webhooks/").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client: Any, market: Market) -> None:
    response = client.get("/vendor/webhooks/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/vendor/webhooks/"


# --- the operator console ---------------------------------------------------------------


def test_operators_list_and_create_the_marketplaces_endpoints(market: Market) -> None:
    endpoint_for(vendor=market.vendor, url=PUBLIC + "/vendor", events=["*"], actor=market.owner)
    client = page_as(market.operator)
    page = client.get("/operator/webhooks/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Every event of the marketplace" in html
    assert "/vendor</a>" not in html
    assert 'href="/operator/webhooks/" aria-current="page">Webhooks</a>' in html

    response = client.post(
        "/operator/webhooks/", {"token": _token(html), "url": PUBLIC, "events": ["*"]}
    )

    assert response.status_code == 201
    created = WebhookEndpoint.objects.get(vendor__isnull=True)
    assert f'<code id="webhook-secret">{created.secret}</code>' in response.content.decode()
    detail = client.get(f"/operator/webhooks/{created.pk}/")
    assert detail.status_code == 200
    assert "Nothing sent yet" in detail.content.decode()


def test_operators_reach_no_vendor_endpoint_through_their_pages(market: Market) -> None:
    vendor_endpoint = endpoint_for(
        vendor=market.vendor, url=PUBLIC, events=["*"], actor=market.owner
    )
    client = page_as(market.operator)

    assert client.get(f"/operator/webhooks/{vendor_endpoint.pk}/").status_code == 404
    assert client.post(f"/operator/webhooks/{vendor_endpoint.pk}/delete/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=vendor_endpoint.pk).exists()


def test_vendor_people_and_customers_are_refused_the_operator_pages(market: Market) -> None:
    platform = endpoint_for(vendor=None, url=PUBLIC, events=["*"], actor=market.operator)
    before = _snapshot()

    for user in (market.owner, market.customer):
        client = page_as(user)
        assert client.get("/operator/webhooks/").status_code == 403
        assert client.get(f"/operator/webhooks/{platform.pk}/").status_code == 403
        assert client.post(f"/operator/webhooks/{platform.pk}/delete/").status_code == 403

    assert _snapshot() == before
