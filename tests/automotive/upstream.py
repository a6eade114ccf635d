"""The DVLA and DVSA APIs at the HTTP boundary: an httpx.MockTransport answering with the
recorded responses under `recorded/` (their real shapes, status codes and headers), in an
order a test scripts, and a clock that moves when the code under test sleeps."""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from agora.verticals.automotive.providers.dvla_dvsa import DvlaDvsaConfig, DvlaDvsaProvider
from agora.verticals.automotive.providers.resilience import RetryPolicy, Timing

RECORDED = Path(__file__).with_name("recorded")

DVLA_URL = "https://dvla.test/vehicle-enquiry"
DVSA_URL = "https://dvsa.test"
TOKEN_URL = "https://login.test/tenant-id/oauth2/v2.0/token"


def recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDED / f"{name}.json").read_text())


def response(name: str, *, without: tuple[str, ...] = (), **body_changes: Any) -> httpx.Response:
    """A recorded response, its body changed by `body_changes` and without `without`."""
    doc = recorded(name)
    body = {k: v for k, v in {**doc["body"], **body_changes}.items() if k not in without}
    return httpx.Response(doc["status"], headers=doc.get("headers", {}), json=body)


def route_of(request: httpx.Request) -> str:
    url = str(request.url)
    if url.startswith(TOKEN_URL):
        return "token"
    if url.startswith(DVLA_URL):
        return "dvla"
    if url.startswith(DVSA_URL):
        return "dvsa"
    raise AssertionError(f"unexpected request to {url}")


Answer = str | httpx.Response | type[httpx.TransportError]


@dataclass
class Upstream:
    """Answers per route (`dvla`, `dvsa`, `token`): scripted ones first, in order, then
    the default. An answer is a recorded response's name, an httpx.Response, or an httpx
    transport error class to raise (a timeout, a refused connection)."""

    defaults: dict[str, Answer] = field(
        default_factory=lambda: {"dvla": "dvla_vehicle", "dvsa": "dvsa_vehicle", "token": "token"}
    )
    scripts: dict[str, deque[Answer]] = field(default_factory=lambda: defaultdict(deque))
    requests: list[httpx.Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def then(self, route: str, *answers: Answer) -> Upstream:
        self.scripts[route].extend(answers)
        return self

    def always(self, route: str, answer: Answer) -> Upstream:
        self.scripts[route].clear()
        self.defaults[route] = answer
        return self

    def calls(self, route: str) -> list[httpx.Request]:
        return [r for r in self.requests if route_of(r) == route]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        route = route_of(request)
        with self._lock:
            self.requests.append(request)
            script = self.scripts[route]
            answer = script.popleft() if script else self.defaults[route]
        if isinstance(answer, type) and issubclass(answer, httpx.TransportError):
            raise answer("simulated", request=request)
        if isinstance(answer, httpx.Response):
            return answer
        assert isinstance(answer, str)
        return response(answer)


@dataclass
class FakeTime:
    """Monotonic time that only moves when slept through (or moved by the test)."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def timing(self) -> Timing:
        # Jitter at its top: waits are then exact (backoff 0.25 s → 0.25, 0.5, ...).
        return Timing(monotonic=self.monotonic, sleep=self.sleep, jitter=lambda low, high: high)


def make_provider(
    upstream: Upstream, time: FakeTime, *, retries: int = 2, **config: Any
) -> DvlaDvsaProvider:
    return DvlaDvsaProvider(
        DvlaDvsaConfig(
            dvla_api_key="dvla-test-key",
            dvsa_client_id="client-id",
            dvsa_client_secret="client-secret",
            dvsa_api_key="dvsa-test-key",
            dvsa_token_url=TOKEN_URL,
            dvla_url=DVLA_URL,
            dvsa_url=DVSA_URL,
            retry=RetryPolicy(retries=retries),
            **config,
        ),
        transport=httpx.MockTransport(upstream),
        timing=time.timing(),
    )
