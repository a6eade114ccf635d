"""Every public and sign-in page: one h1, a label for every field, alt text for every
image, a skip link, unique titles and descriptions."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.web.public.helpers import meta_description, text, title

pytestmark = pytest.mark.django_db


class Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h1 = 0
        self.fields: list[dict[str, str]] = []
        self.labels: set[str] = set()
        self.images: list[dict[str, str]] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "h1":
            self.h1 += 1
        elif tag in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            self.fields.append(attributes)
        elif tag == "label" and "for" in attributes:
            self.labels.add(attributes["for"])
        elif tag == "img":
            self.images.append(attributes)


def _pages(market: Any) -> list[str]:
    return [
        "/",
        "/search?q=mot",
        "/c/automotive/",
        "/c/mot-servicing/london/",
        "/v/camden-motors/",
        f"/l/{market.mot.pk}/",
        f"/l/{market.pads.pk}/",
        f"/l/{market.clutch.pk}/",
        "/login/",
        "/signup/",
        "/password-reset/",
    ]


def test_pages_have_one_h1_labelled_fields_and_image_alt_text(client: Any, market: Any) -> None:
    from tests.factories import ListingImageFactory

    ListingImageFactory(listing=market.mot, alt="")  # falls back to the listing's title
    for path in _pages(market):
        page = text(client.get(path))
        outline = Outline()
        outline.feed(page)

        assert outline.h1 == 1, path
        assert '<a class="skip-link" href="#main">' in page, path
        assert '<main id="main">' in page, path
        for field in outline.fields:
            labelled = field.get("id") in outline.labels or field.get("aria-label")
            assert labelled, f"{path}: unlabelled {field}"
        for image in outline.images:
            assert image.get("alt"), f"{path}: image without alt {image}"
        assert len(outline.ids) == len(set(outline.ids)), f"{path}: duplicate ids"


def test_every_page_has_its_own_title_and_description(client: Any, market: Any) -> None:
    pages = {path: text(client.get(path)) for path in _pages(market)}

    titles = [title(page) for page in pages.values()]
    descriptions = [
        meta_description(page)
        for path, page in pages.items()
        if "/l/" in path or "/c/" in path or "/v/" in path
    ]
    assert len(set(titles)) == len(titles)
    assert len(set(descriptions)) == len(descriptions)
    assert all(20 <= len(description) <= 160 for description in descriptions)
    for page in pages.values():
        assert re.search(r'<html lang="en">', page)
