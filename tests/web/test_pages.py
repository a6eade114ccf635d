"""The public shell: home page essentials, security headers, health check, API docs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection

from agora.core.middleware import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db


def test_home_page_is_html_with_seo_essentials(client: Any) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert '<html lang="en">' in html
    title = re.search(r"<title>(.+?)</title>", html)
    assert title is not None
    assert title.group(1) == "Agora — book local services and buy from independent shops"
    description = re.search(r'<meta name="description" content="([^"]+)">', html)
    assert description is not None
    assert description.group(1).startswith("Find and book car workshops")
    assert '<link rel="canonical" href="http://testserver/">' in html
    assert '<meta name="viewport"' in html


def test_pages_send_the_security_headers(client: Any) -> None:
    response = client.get("/")

    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Permissions-Policy"] == "camera=(), microphone=(), geolocation=(self)"


def test_api_responses_send_the_security_headers_too(client: Any) -> None:
    response = client.get("/api/v1/me")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_the_stylesheet_the_page_links_is_served(client: Any) -> None:
    html = client.get("/").content.decode()
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)">', html)
    assert stylesheet is not None

    response = client.get(stylesheet.group(1))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")


def test_home_page_refuses_writes(client: Any) -> None:
    assert client.post("/").status_code == 405


def test_healthz_reports_the_database(client: Any) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}
    assert "no-store" in response["Cache-Control"]


def test_api_docs_are_served(client: Any) -> None:
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_openapi_describes_the_accounts_endpoints(client: Any) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Agora API"
    paths = schema["paths"]
    assert {"/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/me"} <= paths.keys()
    assert set(paths["/api/v1/auth/register"]) == {"post"}
    assert set(paths["/api/v1/auth/token"]) == {"post", "delete"}
    assert "201" in paths["/api/v1/auth/register"]["post"]["responses"]
    # /me says it needs the bearer token; registration does not
    assert paths["/api/v1/me"]["get"]["security"]
    assert "security" not in paths["/api/v1/auth/register"]["post"]
