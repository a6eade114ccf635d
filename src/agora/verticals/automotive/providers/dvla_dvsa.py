"""The real sources: DVLA's Vehicle Enquiry Service and DVSA's MOT History API, over httpx,
asked side by side and merged into one profile.

- DVLA: `POST {DVLA_API_URL}/v1/vehicles` with `x-api-key` and `{"registrationNumber"}`.
- DVSA: `GET {DVSA_API_URL}/v1/trade/vehicles/registration/{reg}` with `X-API-Key` and a
  bearer token from an OAuth2 client-credentials grant at `DVSA_TOKEN_URL` (Microsoft
  Entra ID), kept until shortly before it expires and shared by every thread.

Each source has its own circuit breaker and retry policy (providers.resilience). When one
source fails and the other answers, the profile is partial: `unavailable_sources` names
the one missing. When DVLA says the registration does not exist, it does not exist — unless
DVSA has MOT tests for it. DVLA's answer (the register, which changes rarely) is cached
for `AGORA_VEHICLE_REGISTER_CACHE_SECONDS`, a day by default; the merged profile, with the
MOT history, is cached by the caller (selectors.vehicle_profile) for an hour.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from agora.verticals.automotive import mapping
from agora.verticals.automotive.profile import VehicleProfile
from agora.verticals.automotive.providers.base import VehicleDataUnavailable, VehicleNotFound
from agora.verticals.automotive.providers.resilience import (
    CircuitBreaker,
    RetryPolicy,
    SourceUnavailable,
    Timing,
    send,
)

logger = logging.getLogger(__name__)

DVLA_URL = "https://driver-vehicle-licensing.api.gov.uk/vehicle-enquiry"
DVSA_URL = "https://history.mot.api.gov.uk"
DVSA_SCOPE = "https://tapi.dvsa.gov.uk/.default"
# A token is renewed this long before DVSA would refuse it, so none expires in flight.
TOKEN_EARLY_RENEWAL_SECONDS = 60
# DVSA error codes that mean "get a new token and try again".
_TOKEN_REFUSED = frozenset({"MOTH-UA-01", "MOTH-FB-02", "MOTH-FB-04"})


@dataclass(frozen=True)
class DvlaDvsaConfig:
    dvla_api_key: str
    dvsa_client_id: str
    dvsa_client_secret: str
    dvsa_api_key: str
    dvsa_token_url: str
    dvsa_scope: str = DVSA_SCOPE
    dvla_url: str = DVLA_URL
    dvsa_url: str = DVSA_URL
    timeout_seconds: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    failure_threshold: int = 5
    reset_seconds: float = 30.0
    register_cache_seconds: int = 24 * 3600

    @classmethod
    def from_settings(cls) -> DvlaDvsaConfig:
        required = {
            "DVLA_API_KEY": settings.DVLA_API_KEY,
            "DVSA_CLIENT_ID": settings.DVSA_CLIENT_ID,
            "DVSA_CLIENT_SECRET": settings.DVSA_CLIENT_SECRET,
            "DVSA_API_KEY": settings.DVSA_API_KEY,
            "DVSA_TOKEN_URL": settings.DVSA_TOKEN_URL,
        }
        missing = [name for name, value in required.items() if not value]
        if missing:
            raise ImproperlyConfigured(
                "AGORA_VEHICLE_PROVIDER=dvla_dvsa needs " + ", ".join(missing) + "."
            )
        return cls(
            dvla_api_key=settings.DVLA_API_KEY,
            dvsa_client_id=settings.DVSA_CLIENT_ID,
            dvsa_client_secret=settings.DVSA_CLIENT_SECRET,
            dvsa_api_key=settings.DVSA_API_KEY,
            dvsa_token_url=settings.DVSA_TOKEN_URL,
            dvsa_scope=settings.DVSA_SCOPE,
            dvla_url=settings.DVLA_API_URL,
            dvsa_url=settings.DVSA_API_URL,
            timeout_seconds=settings.AGORA_VEHICLE_HTTP_TIMEOUT_SECONDS,
            retry=RetryPolicy(retries=settings.AGORA_VEHICLE_HTTP_RETRIES),
            register_cache_seconds=settings.AGORA_VEHICLE_REGISTER_CACHE_SECONDS,
        )


class DvsaToken:
    """The OAuth2 client-credentials token for DVSA, fetched once and kept until shortly
    before `expires_in` runs out. One fetch at a time: threads that need a token while it
    is being fetched wait for that one."""

    def __init__(
        self, config: DvlaDvsaConfig, client: httpx.Client, timing: Timing, breaker: CircuitBreaker
    ) -> None:
        self._config = config
        self._client = client
        self._timing = timing
        self._breaker = breaker
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self.fetches = 0

    def bearer(self) -> str:
        with self._lock:
            if self._token is None or self._timing.monotonic() >= self._renew_at:
                self._token, lifetime = self._fetch()
                self._renew_at = self._timing.monotonic() + max(
                    0.0, lifetime - TOKEN_EARLY_RENEWAL_SECONDS
                )
            return self._token

    def forget(self, token: str) -> None:
        """DVSA refused `token` (revoked, or expired early): the next call fetches anew."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> tuple[str, float]:
        config = self._config
        response = send(
            self._client,
            lambda: self._client.build_request(
                "POST",
                config.dvsa_token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": config.dvsa_client_id,
                    "client_secret": config.dvsa_client_secret,
                    "scope": config.dvsa_scope,
                },
            ),
            source=mapping.DVSA,
            policy=config.retry,
            breaker=self._breaker,
            timing=self._timing,
        )
        self.fetches += 1
        body = _json(response)
        token = body.get("access_token") if response.status_code == 200 else None
        if not token:
            logger.error("DVSA token request refused: HTTP %s", response.status_code)
            raise SourceUnavailable(mapping.DVSA, "token refused", retry_after=300)
        return str(token), float(body.get("expires_in") or 3599)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class DvlaDvsaProvider:
    name = "dvla_dvsa"

    def __init__(
        self,
        config: DvlaDvsaConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        timing: Timing | None = None,
    ) -> None:
        self.config = config
        self.timing = timing or Timing()
        self.client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(config.timeout_seconds),
            headers={"Accept": "application/json", "User-Agent": "Agora vehicle lookup"},
        )
        self.dvla_breaker = CircuitBreaker(
            "dvla", config.failure_threshold, config.reset_seconds, self.timing
        )
        self.dvsa_breaker = CircuitBreaker(
            "dvsa", config.failure_threshold, config.reset_seconds, self.timing
        )
        self.token = DvsaToken(config, self.client, self.timing, self.dvsa_breaker)
        # DVLA is asked on a worker thread while DVSA is asked on the caller's.
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="dvla")

    def lookup(self, registration: str) -> VehicleProfile:
        dvla_future = self._pool.submit(self._outcome, self.dvla, registration)
        dvsa = self._outcome(self.dvsa, registration)
        dvla = dvla_future.result()
        return decide(registration, dvla=dvla, dvsa=dvsa)

    @staticmethod
    def _outcome(ask: Any, registration: str) -> Any:
        try:
            return ask(registration)
        except SourceUnavailable as error:
            return error

    # --- DVLA -----------------------------------------------------------------------------

    def dvla(self, registration: str) -> mapping.DvlaPart | None:
        """DVLA's part, or None when DVLA has no such vehicle."""
        key = f"vehicle:dvla:v1:{registration}"
        cached = cache.get(key)
        if cached is None:
            cached = self._ask_dvla(registration)
            cache.set(key, cached, self.config.register_cache_seconds)
        return mapping.from_dvla(cached) if cached else None

    def _ask_dvla(self, registration: str) -> dict[str, Any]:
        """DVLA's body for the registration; `{}` when it has no such vehicle."""
        config = self.config
        response = send(
            self.client,
            lambda: self.client.build_request(
                "POST",
                f"{config.dvla_url.rstrip('/')}/v1/vehicles",
                json={"registrationNumber": registration},
                headers={"x-api-key": config.dvla_api_key},
            ),
            source=mapping.DVLA,
            policy=config.retry,
            breaker=self.dvla_breaker,
            timing=self.timing,
        )
        if response.status_code == 200:
            return _json(response)
        # 400: DVLA does not take it for a registration; 404: no such vehicle.
        if response.status_code in (400, 404):
            return {}
        logger.error("DVLA refused the lookup: HTTP %s", response.status_code)
        raise SourceUnavailable(mapping.DVLA, f"HTTP {response.status_code}", retry_after=300)

    # --- DVSA -----------------------------------------------------------------------------

    def dvsa(self, registration: str) -> mapping.DvsaPart | None:
        """DVSA's part, or None when DVSA has no MOT record of the vehicle. A token DVSA
        refuses is replaced once."""
        config = self.config
        url = f"{config.dvsa_url.rstrip('/')}/v1/trade/vehicles/registration/{quote(registration)}"
        for attempt in range(2):
            token = self.token.bearer()
            response = send(
                self.client,
                lambda token=token: self.client.build_request(  # type: ignore[misc]
                    "GET",
                    url,
                    headers={"Authorization": f"Bearer {token}", "X-API-Key": config.dvsa_api_key},
                ),
                source=mapping.DVSA,
                policy=config.retry,
                breaker=self.dvsa_breaker,
                timing=self.timing,
            )
            if response.status_code == 200:
                return mapping.from_dvsa(_json(response))
            if response.status_code in (400, 404):
                return None
            code = str(_json(response).get("errorCode") or "")
            if response.status_code in (401, 403) and code in _TOKEN_REFUSED and attempt == 0:
                self.token.forget(token)
                continue
            break
        logger.error("DVSA refused the lookup: HTTP %s %s", response.status_code, code)
        raise SourceUnavailable(mapping.DVSA, f"HTTP {response.status_code}", retry_after=300)


def decide(registration: str, *, dvla: Any, dvsa: Any) -> VehicleProfile:
    """The answer from each source's outcome: its part, None (not known there) or the
    SourceUnavailable it ended in.

    - any part → a profile, partial when the other source failed;
    - DVLA says no such vehicle and DVSA has none either (or failed) → not found: the
      register is the authority on what exists;
    - DVLA failed and DVSA knows nothing → unavailable: DVSA has no record of vehicles
      without MOT data, so only DVLA could say.
    """
    dvla_failed = isinstance(dvla, SourceUnavailable)
    dvsa_failed = isinstance(dvsa, SourceUnavailable)
    dvla_part = None if dvla_failed else dvla
    dvsa_part = None if dvsa_failed else dvsa
    if dvla_part is not None or dvsa_part is not None:
        unavailable = tuple(
            name
            for name, failed in ((mapping.DVLA, dvla_failed), (mapping.DVSA, dvsa_failed))
            if failed
        )
        return mapping.merge(registration, dvla=dvla_part, dvsa=dvsa_part, unavailable=unavailable)
    if not dvla_failed:
        raise VehicleNotFound(registration)
    failures = [error for error in (dvla, dvsa) if isinstance(error, SourceUnavailable)]
    raise VehicleDataUnavailable(
        "; ".join(str(error) for error in failures),
        retry_after=min(error.retry_after for error in failures),
    )
