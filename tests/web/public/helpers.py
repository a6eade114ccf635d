"""Read-outs of what a search engine sees in a page."""

from __future__ import annotations

import html
import json
import re
from typing import Any


def text(response: Any) -> str:
    return response.content.decode()


def title(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    assert found is not None, "no <title>"
    return html.unescape(found.group(1))


def meta_description(page: str) -> str:
    found = re.search(r'<meta name="description" content="([^"]*)">', page)
    assert found is not None, "no meta description"
    return html.unescape(found.group(1))


def canonical(page: str) -> str:
    found = re.findall(r'<link rel="canonical" href="([^"]*)">', page)
    assert len(found) == 1, f"expected one canonical link, found {found}"
    return html.unescape(found[0])


def robots(page: str) -> str | None:
    found = re.search(r'<meta name="robots" content="([^"]*)">', page)
    return found.group(1) if found else None


def jsonld(page: str) -> list[dict[str, Any]]:
    """Every JSON-LD node of the page, `@graph`s flattened."""
    nodes: list[dict[str, Any]] = []
    for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S):
        document = json.loads(block)
        nodes.extend(document.get("@graph", [document]))
    return nodes


def node_of_type(page: str, *types: str) -> dict[str, Any]:
    found = [node for node in jsonld(page) if node.get("@type") in types]
    assert len(found) == 1, (
        f"expected one node of {types}, found {[n.get('@type') for n in jsonld(page)]}"
    )
    return found[0]


def breadcrumb_names(page: str) -> list[str]:
    nav = re.search(r'<nav class="breadcrumbs" aria-label="Breadcrumb">(.*?)</nav>', page, re.S)
    assert nav is not None, "no breadcrumbs"
    return [html.unescape(name) for name in re.findall(r"<a [^>]*>(.*?)</a>", nav.group(1))]


def jsonld_breadcrumbs(page: str) -> list[tuple[str, str]]:
    trail = node_of_type(page, "BreadcrumbList")
    items = sorted(trail["itemListElement"], key=lambda item: item["position"])
    assert [item["position"] for item in items] == list(range(1, len(items) + 1))
    return [(item["name"], item["item"]) for item in items]


def links(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="([^"]*)"', page)]
