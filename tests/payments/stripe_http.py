"""Stripe at the HTTP boundary: an `HTTPClient` for the official SDK that answers from
recorded JSON fixtures (tests/payments/fixtures/stripe/, in Stripe's documented shapes)
and keeps every request the SDK sent, for exact assertions on method, path, form
parameters and headers. Nothing above the HTTP layer is replaced."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from stripe._http_client import HTTPClient

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"


def fixture(name: str, **changes: Any) -> dict[str, Any]:
    """A recorded Stripe object, with top-level fields changed."""
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    data.update(copy.deepcopy(changes))
    return data


@dataclass
class Sent:
    method: str
    path: str
    params: dict[str, Any]  # form body (POST) or query string (GET), flattened as sent
    headers: dict[str, str]


@dataclass
class Reply:
    method: str
    path: str
    body: dict[str, Any]
    status: int


@dataclass(eq=False)  # hashable by identity, like any HTTP client
class RecordedStripe(HTTPClient):
    """Answers the SDK's requests in order from `replies`; a request nobody expected, or
    in another order, fails the test."""

    name = "recorded"
    replies: list[Reply] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def expect(self, method: str, path: str, body: dict[str, Any], status: int = 200) -> None:
        self.replies.append(Reply(method, path, body, status))

    def request(
        self,
        method: str,
        url: str,
        headers: Any,
        post_data: Any = None,
        *,
        _usage: Any = None,
    ) -> tuple[str, int, dict[str, str]]:
        parts = urlsplit(url)
        raw = post_data.decode() if isinstance(post_data, bytes) else (post_data or parts.query)
        params = {
            key: values[0] if len(values) == 1 else values
            for key, values in parse_qs(raw, keep_blank_values=True).items()
        }
        self.sent.append(Sent(method.upper(), parts.path, params, dict(headers or {})))
        assert self.replies, f"unexpected Stripe request {method.upper()} {parts.path}"
        reply = self.replies.pop(0)
        assert (reply.method, reply.path) == (method.upper(), parts.path), (
            f"expected {reply.method} {reply.path}, the SDK sent {method.upper()} {parts.path}"
        )
        return json.dumps(reply.body), reply.status, {"request-id": "req_AgoraTest01"}

    def close(self) -> None:
        pass

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return 0.0  # retries happen at once in tests
