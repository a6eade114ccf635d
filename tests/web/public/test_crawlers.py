"""/sitemap.xml and /robots.txt."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # our own sitemap, not untrusted input
from typing import Any

import pytest

from agora.web.public.views import crawlers

pytestmark = pytest.mark.django_db

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def _locs(response: Any) -> list[str]:
    root = ET.fromstring(response.content)  # noqa: S314
    return [loc.text or "" for loc in root.findall("s:url/s:loc", NS)]


def test_sitemap_lists_every_public_page_and_nothing_else(
    client: Any, market: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(7):
        response = client.get("/sitemap.xml")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert "public" in response["Cache-Control"]
    urls = {loc.removeprefix("http://testserver") for loc in _locs(response)}
    assert len(urls) == len(_locs(response))  # no duplicates
    assert {"/", "/v/camden-motors/", "/v/northern-sparks/"} <= urls
    assert {
        f"/l/{market.mot.pk}/",
        f"/l/{market.clutch.pk}/",
        f"/l/{market.pads.pk}/",
        f"/l/{market.rewire.pk}/",
    } <= urls
    # landing pages that have offers, ancestors and category × city included
    assert {
        "/c/automotive/",
        "/c/mot-servicing/",
        "/c/car-repairs/",
        "/c/auto-parts/",
        "/c/home-services/",
        "/c/electricians/",
        "/c/automotive/london/",
        "/c/mot-servicing/london/",
        "/c/home-services/manchester/",
        "/c/electricians/manchester/",
    } <= urls
    # never: inactive vendors, their listings, drafts, empty landing pages, portals
    for hidden in (
        "/v/gone-garage/",
        "/v/soon-garage/",
        f"/l/{market.hidden.pk}/",
        f"/l/{market.draft.pk}/",
        "/c/plumbers/",
        "/c/mot-servicing/manchester/",
    ):
        assert hidden not in urls
    assert not any(url.startswith(("/account", "/vendor", "/operator", "/api")) for url in urls)


def test_sitemap_gives_listings_a_last_modified_date(client: Any, market: Any) -> None:
    root = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314
    for url in root.findall("s:url", NS):
        if url.findtext("s:loc", namespaces=NS) == f"http://testserver/l/{market.mot.pk}/":
            assert url.findtext("s:lastmod", namespaces=NS) == "2026-01-05T08:00:00+00:00"
            break
    else:
        pytest.fail("the MOT listing is missing")


def test_suspending_a_vendor_drops_its_pages_from_the_sitemap(client: Any, market: Any) -> None:
    market.garage.status = "suspended"
    market.garage.save()

    urls = _locs(client.get("/sitemap.xml"))

    assert "http://testserver/v/camden-motors/" not in urls
    assert f"http://testserver/l/{market.mot.pk}/" not in urls
    assert "http://testserver/c/automotive/london/" not in urls


def test_robots_txt_keeps_crawlers_out_of_portals_and_api_and_points_at_the_sitemap(
    client: Any, db: Any
) -> None:
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    portals = ("/account/", "/vendor/", "/operator/", "/api/", "/django-admin/")
    for path in (*portals, "/l/*/slots/", "/c/*/first-free/"):
        assert f"Disallow: {path}" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert "Disallow: /" not in lines  # the public pages stay open


def test_a_large_catalogue_gets_a_sitemap_index_of_split_files(
    client: Any, market: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crawlers, "SITEMAP_LIMIT", 3)  # 2 vendors and 4 listings are public

    index = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314

    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    files = [loc.text for loc in index.findall("s:sitemap/s:loc", NS)]
    assert files == [
        "http://testserver/sitemap-pages.xml",
        "http://testserver/sitemap-vendors-1.xml",
        "http://testserver/sitemap-listings-1.xml",
        "http://testserver/sitemap-listings-2.xml",
    ]
    split: list[str] = []
    for url in files:
        response = client.get(url.removeprefix("http://testserver"))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/xml; charset=utf-8"
        split += _locs(response)
    assert len(_locs(client.get("/sitemap-listings-2.xml"))) == 1
    # the split files hold exactly what the single file held
    monkeypatch.setattr(crawlers, "SITEMAP_LIMIT", 50_000)
    assert sorted(split) == sorted(_locs(client.get("/sitemap.xml")))


@pytest.mark.parametrize(
    "path", ["/sitemap-listings-3.xml", "/sitemap-listings-0.xml", "/sitemap-drafts-1.xml"]
)
def test_sitemap_files_past_the_end_are_404(
    client: Any, market: Any, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setattr(crawlers, "SITEMAP_LIMIT", 3)

    assert client.get(path).status_code == 404
