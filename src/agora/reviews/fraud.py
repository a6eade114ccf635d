"""Fraud signals captured with each review, and the rules that flag one for an operator.

A matched rule does not reject the review: it is stored `flagged`, is not public and does
not count in ratings until an operator approves it. Each rule is a function of the new
review and what is already stored, returning the ids of the reviews that made it match
(empty: no match), so an operator sees why.

Rules (codes stored in ReviewSignals.reasons):
- `shared_network`: another account reviewed the same vendor from the same IP address
  (hashed) or the same device (user agent on the same network) within
  AGORA_REVIEW_SHARED_NETWORK_DAYS. The earlier reviews found are flagged too, unless an
  operator already approved them.
- `burst`: this is the AGORA_REVIEW_BURST_COUNT-th (or later) review of the vendor within
  AGORA_REVIEW_BURST_MINUTES.
- `staff_link`: the author is, or was invited to be, on the vendor's staff, or writes from
  the vendor's own e-mail or web domain.
- `near_duplicate`: the text is a near copy (rapidfuzz ratio ≥ AGORA_REVIEW_DUPLICATE_SCORE)
  of another author's recent review; texts shorter than AGORA_REVIEW_DUPLICATE_MIN_LENGTH
  are not compared ("Great service!" is written by many honest people).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q
from django.utils.crypto import salted_hmac
from rapidfuzz import fuzz, process

from agora.accounts.models import User
from agora.core import clock
from agora.reviews.models import Review, ReviewSignals
from agora.vendors.models import Vendor, VendorInvitation, VendorMembership

SHARED_NETWORK = "shared_network"
BURST = "burst"
STAFF_LINK = "staff_link"
NEAR_DUPLICATE = "near_duplicate"

DUPLICATE_CANDIDATES = 500
# Mail providers many unrelated people share: a matching domain there links no one.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "yahoo.com",
        "yahoo.co.uk",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "btinternet.com",
    }
)
# Top-level domains reserved for testing and documentation (RFC 2606, RFC 6761): an address
# there names no real organisation, so it links no one either.
RESERVED_TLDS = frozenset({"test", "example", "invalid", "localhost"})


def _hash(purpose: str, value: str) -> str:
    # salted_hmac keys the HMAC with SECRET_KEY: the same address always gives the same
    # hash here, and the hash cannot be reversed by trying every IPv4 address without it.
    return salted_hmac(f"agora.reviews.{purpose}", value, algorithm="sha256").hexdigest()


def ip_hash(ip_address: str | None) -> str:
    return _hash("ip", ip_address) if ip_address else ""


def _network(ip_address: str) -> str:
    """The /24 (IPv4) or /64 (IPv6) around an address: one household or office line."""
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return ip_address
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def device_hash(ip_address: str | None, user_agent: str) -> str:
    if not ip_address or not user_agent:
        return ""
    return _hash("device", f"{_network(ip_address)}|{user_agent}")


@dataclass(frozen=True)
class Signals:
    ip_hash: str
    device_hash: str
    user_agent: str
    account_age_days: int
    author_review_count: int


def collect(*, author: User, ip_address: str | None, user_agent: str) -> Signals:
    return Signals(
        ip_hash=ip_hash(ip_address),
        device_hash=device_hash(ip_address, user_agent),
        user_agent=user_agent[:300],
        account_age_days=max(0, (clock.now() - author.date_joined).days),
        author_review_count=Review.objects.filter(author=author).count(),
    )


@dataclass
class Verdict:
    reasons: list[str] = field(default_factory=list)
    related: set[int] = field(default_factory=set)
    # Earlier reviews that the new one shows to be suspicious too.
    also_flag: set[int] = field(default_factory=set)

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)

    def match(self, code: str, review_ids: list[int]) -> None:
        if review_ids:
            self.reasons.append(code)
            self.related.update(review_ids)


def _shared_network(vendor_id: int, author_id: int, signals: Signals) -> list[int]:
    same_source = Q()
    if signals.ip_hash:
        same_source |= Q(signals__ip_hash=signals.ip_hash)
    if signals.device_hash:
        same_source |= Q(signals__device_hash=signals.device_hash)
    if not same_source:
        return []
    since = clock.now() - timedelta(days=settings.AGORA_REVIEW_SHARED_NETWORK_DAYS)
    return list(
        Review.objects.filter(same_source, vendor_id=vendor_id, created_at__gte=since)
        .exclude(author_id=author_id)
        .values_list("id", flat=True)
    )


def _burst(vendor_id: int, exclude_id: int | None) -> list[int]:
    since = clock.now() - timedelta(minutes=settings.AGORA_REVIEW_BURST_MINUTES)
    recent = Review.objects.filter(vendor_id=vendor_id, created_at__gte=since)
    if exclude_id is not None:
        recent = recent.exclude(pk=exclude_id)
    ids = list(recent.order_by("created_at", "id").values_list("id", flat=True))
    return ids if len(ids) + 1 >= settings.AGORA_REVIEW_BURST_COUNT else []


def _domain(value: str) -> str:
    if "@" in value:
        return value.rsplit("@", 1)[1].strip().lower()
    host = urlsplit(value if "//" in value else f"//{value}").hostname or ""
    return host.lower().removeprefix("www.")


def staff_linked(vendor: Vendor, author: User) -> bool:
    if VendorMembership.objects.filter(vendor=vendor, user=author).exists():
        return True
    if VendorInvitation.objects.filter(vendor=vendor, email__iexact=author.email).exists():
        return True
    author_domain = _domain(author.email)
    if (
        not author_domain
        or author_domain in PUBLIC_MAIL_DOMAINS
        or author_domain.rsplit(".", 1)[-1] in RESERVED_TLDS
        or author_domain in ("example.com", "example.net", "example.org")
    ):
        return False
    vendor_domains = {_domain(vendor.contact_email), _domain(vendor.website)} - {""}
    return author_domain in vendor_domains


_WORDS = re.compile(r"\w+")


def normalise(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def near_duplicates(text: str, *, author_id: int, exclude_id: int | None) -> list[int]:
    needle = normalise(text)
    if len(needle) < settings.AGORA_REVIEW_DUPLICATE_MIN_LENGTH:
        return []
    recent = (
        Review.objects.exclude(author_id=author_id)
        .order_by("-created_at", "-id")
        .values_list("id", "text")[:DUPLICATE_CANDIDATES]
    )
    choices = {
        review_id: normalised
        for review_id, candidate in recent
        if review_id != exclude_id
        and len(normalised := normalise(candidate)) >= settings.AGORA_REVIEW_DUPLICATE_MIN_LENGTH
    }
    found = process.extract(
        needle,
        choices,
        scorer=fuzz.ratio,
        score_cutoff=settings.AGORA_REVIEW_DUPLICATE_SCORE,
        limit=10,
    )
    return sorted(key for _choice, _score, key in found)


def judge(
    *,
    vendor: Vendor,
    author: User,
    text: str,
    signals: Signals,
    exclude_id: int | None = None,
) -> Verdict:
    """Run every rule for a new review of `vendor` by `author` (not yet saved)."""
    verdict = Verdict()
    shared = _shared_network(vendor.pk, author.pk, signals)
    verdict.match(SHARED_NETWORK, shared)
    verdict.also_flag.update(shared)
    verdict.match(BURST, _burst(vendor.pk, exclude_id))
    if staff_linked(vendor, author):
        verdict.reasons.append(STAFF_LINK)
    verdict.match(NEAR_DUPLICATE, near_duplicates(text, author_id=author.pk, exclude_id=exclude_id))
    return verdict


def judge_text(*, review: Review, text: str) -> Verdict:
    """The rules an edit can newly trip: a text turned into a copy of another review."""
    verdict = Verdict()
    verdict.match(
        NEAR_DUPLICATE,
        near_duplicates(text, author_id=review.author_id, exclude_id=review.pk),
    )
    return verdict


def record(*, review: Review, signals: Signals, verdict: Verdict) -> ReviewSignals:
    return ReviewSignals.objects.create(
        review=review,
        ip_hash=signals.ip_hash,
        device_hash=signals.device_hash,
        user_agent=signals.user_agent,
        account_age_days=signals.account_age_days,
        author_review_count=signals.author_review_count,
        reasons=verdict.reasons,
        related_review_ids=sorted(verdict.related),
    )


def add_reasons(*, review_id: int, reasons: list[str], related: set[int]) -> None:
    """Add rule matches to a stored review's signals (an edit, or a later review that
    shows this one to be part of a pattern)."""
    stored = ReviewSignals.objects.filter(review_id=review_id).first()
    if stored is None:
        stored = ReviewSignals(review_id=review_id)
    stored.reasons = sorted(set(stored.reasons) | set(reasons))
    stored.related_review_ids = sorted(set(stored.related_review_ids) | related)
    stored.save()
