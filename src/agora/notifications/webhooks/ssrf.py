"""Keeping webhooks away from the marketplace's own network (server-side request forgery).

A webhook URL is chosen by a vendor, so without a check a delivery could reach what only
the server can: the cloud's metadata service (169.254.169.254), a database on loopback, an
admin page on the private network. Every address the host resolves to must be public —
not loopback, private, link-local, CGNAT, multicast, reserved or unspecified, in IPv4 or
IPv6 (IPv4-mapped, 6to4, Teredo and NAT64 forms are judged by the IPv4 address inside).

The check runs when an endpoint is created or changed, and again before every attempt,
since DNS answers change; the attempt then connects to the address just checked (the
TLS handshake and the Host header still name the host), so a second, different DNS
answer cannot slip in between check and connect (DNS rebinding).

Only https is accepted; `AGORA_WEBHOOK_ALLOW_PRIVATE=1` (local testing) accepts plain
http and private addresses too.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from agora.notifications.webhooks.errors import WebhookUrlRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class Target:
    """Where one attempt goes: the checked address and how to address the host there."""

    url: str  # the endpoint's URL as stored
    connect_url: str  # the same URL with the checked address in place of the host
    host_header: str
    sni_hostname: str | None  # the host name the TLS certificate must match
    address: str


def _parts(url: str, *, allow_private: bool) -> SplitResult:
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise WebhookUrlRefused("This is not a valid URL.") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme.lower() not in schemes:
        raise WebhookUrlRefused(
            "The URL must start with https://."
            if not allow_private
            else "The URL must start with https:// or http://."
        )
    if not parts.hostname:
        raise WebhookUrlRefused("The URL has no host name.")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused(
            "Credentials in the URL are not accepted; receivers verify the signature instead."
        )
    if port == 0:
        raise WebhookUrlRefused("The URL's port must be between 1 and 65535.")
    try:
        parts.hostname.encode("idna")
    except UnicodeError:
        raise WebhookUrlRefused("The URL's host name is not valid.") from None
    return parts


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why `address` may not receive webhooks (e.g. "loopback"), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            reason = refusal_reason(inner)
            if reason is not None or address.ipv4_mapped is not None:
                return reason
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "shared (CGNAT)"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
        (not address.is_global, "non-public"),
    )
    for refused, reason in checks:
        if refused:
            return reason
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookUrlRefused(f"The host name {host} does not resolve.") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise WebhookUrlRefused(f"The host name {host} does not resolve.")
    return addresses


def url_check(url: str, *, allow_private: bool) -> str:
    """The URL, stripped, if it may receive webhooks now; else WebhookUrlRefused."""
    return target_resolve(url, allow_private=allow_private).url


def target_resolve(url: str, *, allow_private: bool) -> Target:
    """Check `url` and resolve its host now: where the next attempt must connect."""
    url = url.strip()
    parts = _parts(url, allow_private=allow_private)
    host = parts.hostname or ""
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    addresses = _resolve(host, port)
    if not allow_private:
        for address in addresses:
            reason = refusal_reason(address)
            if reason is not None:
                shown = host if _literal(host) is not None else f"{host} resolves to {address}"
                article = "an" if reason[0] in "aeiou" else "a"
                raise WebhookUrlRefused(
                    f"The URL's host {shown}, {article} {reason} address: webhooks are "
                    "delivered to public addresses only."
                )
    address = addresses[0]
    if _literal(host) is None:
        host = host.encode("idna").decode("ascii")  # the Host header and SNI are ASCII
    netloc_address = f"[{address}]" if address.version == 6 else str(address)
    connect_url = parts._replace(
        scheme=scheme, netloc=f"{netloc_address}:{port}", fragment=""
    ).geturl()
    default_port = 443 if scheme == "https" else 80
    host_header = host if ":" not in host else f"[{host}]"
    if parts.port and parts.port != default_port:
        host_header = f"{host_header}:{parts.port}"
    return Target(
        url=url,
        connect_url=connect_url,
        host_header=host_header,
        sni_hostname=host if scheme == "https" and _literal(host) is None else None,
        address=str(address),
    )
