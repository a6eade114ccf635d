"""Webhook URLs may not reach the server's own network: refused at creation (422
`webhook_url_refused`, nothing created) unless AGORA_WEBHOOK_ALLOW_PRIVATE is on."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from agora.notifications.webhooks import ssrf
from agora.notifications.webhooks.errors import WebhookUrlRefused
from agora.notifications.webhooks.models import WebhookEndpoint
from tests.conftest import assert_problem
from tests.notifications.webhooks.conftest import Market, api_as

pytestmark = pytest.mark.django_db

REFUSED_ADDRESSES = [
    ("https://127.0.0.1/hook", "The URL's host 127.0.0.1, a loopback address"),
    ("https://127.1.2.3:8443/hook", "The URL's host 127.1.2.3, a loopback address"),
    ("https://localhost/hook", "The URL's host localhost resolves to 127.0.0.1, a loopback"),
    ("https://2130706433/hook", "resolves to 127.0.0.1, a loopback address"),
    ("https://10.1.2.3/hook", "The URL's host 10.1.2.3, a private address"),
    ("https://172.16.0.1/hook", "The URL's host 172.16.0.1, a private address"),
    ("https://192.168.1.20/hook", "The URL's host 192.168.1.20, a private address"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
    ("https://100.64.0.1/hook", "The URL's host 100.64.0.1, a shared (CGNAT) address"),
    ("https://0.0.0.0/hook", "The URL's host 0.0.0.0, an unspecified address"),
    ("https://224.0.0.1/hook", "The URL's host 224.0.0.1, a multicast address"),
    ("https://240.0.0.1/hook", "The URL's host 240.0.0.1, a reserved address"),
    ("https://[::1]/hook", "The URL's host ::1, a loopback address"),
    ("https://[::ffff:127.0.0.1]/hook", "The URL's host ::ffff:127.0.0.1, a loopback address"),
    ("https://[::ffff:10.0.0.1]/hook", "The URL's host ::ffff:10.0.0.1, a private address"),
    ("https://[fe80::1]/hook", "The URL's host fe80::1, a link-local address"),
    ("https://[fc00::1]/hook", "The URL's host fc00::1, a private address"),
    ("https://[::]/hook", "The URL's host ::, an unspecified address"),
    ("https://[2002:7f00:1::]/hook", "The URL's host 2002:7f00:1::, a loopback address"),
    ("https://[64:ff9b::a00:1]/hook", "The URL's host 64:ff9b::a00:1, a private address"),
]

REFUSED_URLS = [
    ("ftp://example.com/hook", "The URL must start with https://."),
    ("file:///etc/passwd", "The URL must start with https://."),
    ("gopher://example.com:70/_GET", "The URL must start with https://."),
    ("javascript:alert(1)", "The URL must start with https://."),
    ("http://93.184.215.14/hook", "The URL must start with https://."),
    ("https:///no-host", "The URL has no host name."),
    ("https://user:pass@93.184.215.14/hook", "Credentials in the URL are not accepted"),
    ("https://93.184.215.14:99999/hook", "This is not a valid URL."),
    ("https://no-such-host.invalid/hook", "The host name no-such-host.invalid does not resolve."),
]


def _create(market: Market, url: str) -> Any:
    return api_as(market.owner).post(
        f"/vendors/{market.vendor.pk}/webhooks", {"url": url, "events": ["*"]}
    )


@pytest.mark.parametrize(("url", "detail"), REFUSED_ADDRESSES + REFUSED_URLS)
def test_urls_reaching_private_addresses_or_other_schemes_are_refused(
    market: Market, url: str, detail: str
) -> None:
    response = _create(market, url)

    body = assert_problem(response, 422, "webhook_url_refused")
    assert detail in body["detail"]
    assert body["errors"] == [
        {"loc": ["body", "url"], "msg": body["detail"], "type": "url_refused"}
    ]
    assert not WebhookEndpoint.objects.exists()


def test_a_public_https_address_is_accepted(market: Market) -> None:
    response = _create(market, "https://93.184.215.14/agora")

    assert response.status_code == 201, response.content
    assert response.json()["url"] == "https://93.184.215.14/agora"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "https://localhost/hook",
        "http://10.1.2.3/hook",
        "http://[::1]:9000/hook",
        "http://169.254.169.254/",
    ],
)
def test_the_setting_allows_private_addresses_and_plain_http(
    market: Market, settings: Any, url: str
) -> None:
    settings.AGORA_WEBHOOK_ALLOW_PRIVATE = True

    response = _create(market, url)

    assert response.status_code == 201, response.content
    assert WebhookEndpoint.objects.get().url == url


def test_the_setting_still_refuses_other_schemes(market: Market, settings: Any) -> None:
    settings.AGORA_WEBHOOK_ALLOW_PRIVATE = True

    body = assert_problem(_create(market, "ftp://127.0.0.1/"), 422, "webhook_url_refused")

    assert body["detail"] == "The URL must start with https:// or http://."


def test_changing_the_url_is_checked_too(market: Market, settings: Any) -> None:
    created = _create(market, "https://93.184.215.14/agora").json()

    response = api_as(market.owner).patch(
        f"/vendors/{market.vendor.pk}/webhooks/{created['id']}", {"url": "https://10.0.0.1/x"}
    )

    assert_problem(response, 422, "webhook_url_refused")
    assert WebhookEndpoint.objects.get().url == "https://93.184.215.14/agora"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("8.8.8.8", None),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
        ("::ffff:8.8.8.8", None),
        ("2002:5db8:d70e::1", None),  # 6to4 of a public address
        ("127.0.0.1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::7f00:1", "loopback"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "private"),  # Teredo
        ("192.0.2.1", "private"),  # documentation
        ("198.18.0.1", "private"),  # benchmarking
        ("ff02::1", "multicast"),
    ],
)
def test_refusal_reasons(address: str, reason: str | None) -> None:
    assert ssrf.refusal_reason(ipaddress.ip_address(address)) == reason


def test_an_attempt_connects_to_the_address_just_checked() -> None:
    target = ssrf.target_resolve("https://localhost:8443/hooks?x=1", allow_private=True)

    assert target.address == "127.0.0.1"
    assert target.connect_url == "https://127.0.0.1:8443/hooks?x=1"
    assert target.host_header == "localhost:8443"
    assert target.sni_hostname == "localhost"
    with pytest.raises(WebhookUrlRefused):
        ssrf.target_resolve("https://localhost:8443/hooks", allow_private=False)


def test_an_ipv6_literal_is_bracketed_in_the_connect_url() -> None:
    target = ssrf.target_resolve("http://[::1]:9000/h", allow_private=True)

    assert (target.connect_url, target.host_header, target.sni_hostname) == (
        "http://[::1]:9000/h",
        "[::1]:9000",
        None,
    )
