"""Every page reachable by following links from the demo marketplace answers without error.

The demo (the data `make run` serves) is loaded once; then, for a visitor and for each demo
account, every same-site link found on the pages is followed breadth-first. A 5xx anywhere,
or a 4xx behind a link the page itself offered, is a broken page. Each portal's own tests
check what is on its pages; this one checks that the pages hold together.
"""

from __future__ import annotations

import re
from collections import deque
from html import unescape
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from agora.accounts.models import User

pytestmark = pytest.mark.django_db

LINK = re.compile(r"""<a\s[^>]*?href=["']([^"']+)["']""", re.IGNORECASE)
# Not pages: the API and its docs, files, and links that act (sign-out posts a form anyway).
SKIPPED_PREFIXES = ("/api/", "/static/", "/media/", "/django-admin/", "/logout/")
# Downloads (CSV, iCalendar, documents) are checked by their own tests.
SKIPPED_PATTERNS = re.compile(r"\.(csv|ics|pdf|png|jpe?g|webp|svg|xml|txt)$|/download|format=csv")
PAGE_BUDGET = 250


def crawl(client: Client, start: str) -> tuple[dict[str, int], dict[str, str]]:
    """Status of every page reached from `start`, and which page linked to each."""
    seen: dict[str, int] = {}
    found_on: dict[str, str] = {start: "(start)"}
    queue: deque[str] = deque([start])
    while queue and len(seen) < PAGE_BUDGET:
        path = queue.popleft()
        response = client.get(path)
        seen[path] = response.status_code
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for raw in LINK.findall(response.content.decode()):
            target, _ = urldefrag(unescape(raw))
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not target.startswith("/"):
                continue
            if target.startswith(SKIPPED_PREFIXES) or SKIPPED_PATTERNS.search(parts.path):
                continue
            if target not in found_on:
                found_on[target] = path
                queue.append(target)
    return seen, found_on


ROLES = [
    (None, "/"),
    ("customer@agora.test", "/account/"),
    ("vendor@agora.test", "/vendor/"),
    ("operator@agora.test", "/operator/"),
]


def test_every_linked_page_of_the_demo_answers_for_every_role() -> None:
    # One demo load for all four crawls: loading it is most of this test's time.
    call_command("demo", verbosity=0)
    broken: dict[str, str] = {}
    pages_ok: dict[str, int] = {}

    for email, start in ROLES:
        client = Client()
        if email is not None:
            client.force_login(User.objects.get(email=email))
        statuses, found_on = crawl(client, start)
        who = email or "visitor"
        broken.update(
            {
                f"{who} {path}": f"{status} (linked from {found_on[path]})"
                for path, status in statuses.items()
                if status >= 400
            }
        )
        pages_ok[who] = sum(1 for status in statuses.values() if status == 200)

    assert broken == {}
    # Each crawl reached well beyond its start page: the portals are linked together.
    assert all(count >= 8 for count in pages_ok.values()), pages_ok
