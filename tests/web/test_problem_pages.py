"""Every problem `type` the API writes resolves to a page that explains its code.

RFC 9457: `type` is a URI reference that, dereferenced, gives human-readable
documentation. Agora writes `/problems/<code>`; `/problems/<code>/` is the page.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from agora.accounts.errors import AccountErrorCode
from agora.bookings.errors import BookingErrorCode
from agora.core.errors import ErrorCode
from agora.notifications.webhooks.errors import WebhookErrorCode
from agora.web.problems import EXPLANATIONS, problem_types
from tests.conftest import ApiClient, assert_problem

pytestmark = pytest.mark.django_db


def test_the_registry_holds_every_apps_error_codes() -> None:
    codes = problem_types().keys()

    for enum in (ErrorCode, AccountErrorCode, BookingErrorCode, WebhookErrorCode):
        assert {member.value for member in enum} <= codes
    # a code defined twice (core and an app) is one page
    assert problem_types()["invalid_credentials"].defined_by == ("AccountErrorCode", "ErrorCode")
    assert problem_types()["slug_taken"].defined_by == ("CatalogErrorCode", "VendorErrorCode")


def test_every_written_explanation_belongs_to_a_registered_code() -> None:
    assert EXPLANATIONS.keys() - problem_types().keys() == set()


@pytest.mark.parametrize("code", sorted(problem_types()))
def test_every_code_has_a_page(client: Client, code: str) -> None:
    response = client.get(f"/problems/{code}/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert f"<h1><code>{code}</code>" in page
    problem = problem_types()[code]
    assert problem.title in page
    assert "What it means" in page
    assert "What to do" in page


def test_a_page_explains_the_code() -> None:
    page = Client().get("/problems/slot_unavailable/").content.decode()

    assert "<title>slot_unavailable: Slot taken — Agora API</title>" in page
    assert "<dd>409</dd>" in page
    assert "between seeing it and booking" in page
    assert "<code>GET /api/v1/listings/{id}/slots</code>" in page


def test_the_type_as_written_redirects_to_the_page(client: Client) -> None:
    response = client.get("/problems/not_found")

    assert response.status_code == 301
    assert response["Location"] == "/problems/not_found/"


@pytest.mark.parametrize("path", ["/problems/no_such_code/", "/problems/no_such_code"])
def test_an_unknown_code_is_404(client: Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_the_index_links_every_code(client: Client) -> None:
    response = client.get("/problems/")

    assert response.status_code == 200
    links = set(re.findall(r'href="/problems/([a-z_]+)/"', response.content.decode()))
    assert links == set(problem_types())


def test_the_type_of_a_real_problem_resolves(anon: ApiClient, client: Any) -> None:
    # Given a problem the API answers with
    body = assert_problem(anon.get("/me"), 401, "not_authenticated")

    # When its type is followed
    page = client.get(body["type"], follow=True)

    # Then it is the page of its code
    assert page.status_code == 200
    assert page.redirect_chain == [("/problems/not_authenticated/", 301)]
    assert "<code>not_authenticated</code>" in page.content.decode()


def test_pages_are_shared_cacheable_for_visitors(client: Client) -> None:
    response = client.get("/problems/busy/")

    assert "public" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]
