"""Vehicle lookup benchmark (TARGETS.md: a burst of 1,000 lookups of 50 registrations costs
≤ 50 upstream calls; cached p95 ≤ 10 ms).

Lookups go through `selectors.vehicle_profile` (the cache, single-flight, the provider) —
what `GET /api/v1/vehicles/lookup` and the pages call — and, for the cached case, through
the API itself in-process (Django's test client: routing, the rate-limit counter write,
serialisation). Two providers:

- `offline`: the shipped fixture;
- `dvla_dvsa`: the real provider (httpx, retries, circuit breakers, the OAuth token) against
  a fake DVLA, DVSA and token endpoint in a process of its own on loopback, answering in
  the recorded shapes after an injected latency (default DVLA 150 ms, DVSA 200 ms, token
  300 ms, each ± 20 %).

Figures printed: miss and hit latency (p50/p95/p99) for each provider; cached lookups per
second (1 and 32 threads); the burst (32 threads, 1,000 lookups of 50 registrations, cold
cache): wall time, p95, and the upstream requests each endpoint received.

    .venv/bin/python bench/vehicle_lookup.py [--dvla-ms 150] [--dvsa-ms 200] [--lookups 1000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    HOST,
    ScratchEnv,
    django_setup,
    free_port,
    loadavg,
    machine_info,
    migrate,
    percentile,
)

FIXTURE = (
    Path(__file__).resolve().parent.parent
    / "src/agora/verticals/automotive/providers/offline_vehicles.json"
)
LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"


def registrations(count: int) -> list[str]:
    """`count` distinct current-style marks (AB12CDE shapes)."""
    rng = random.Random(15)
    found: set[str] = set()
    while len(found) < count:
        found.add(
            "".join(rng.choice(LETTERS) for _ in range(2))
            + f"{rng.randint(51, 74):02d}"
            + "".join(rng.choice(LETTERS) for _ in range(3))
        )
    return sorted(found)


# --- the fake upstream, in its own process ------------------------------------------------


def serve_upstream(port: int, latency: dict[str, float], ready: Any) -> None:
    sample = json.loads(FIXTURE.read_text())["vehicles"]["AB12CDE"]
    counts = {"dvla": 0, "dvsa": 0, "token": 0}
    lock = threading.Lock()
    rng = random.Random(7)

    def wait(route: str) -> None:
        with lock:
            counts[route] += 1
            jitter = rng.uniform(0.8, 1.2)
        time.sleep(latency[route] * jitter)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path == "/token":
                wait("token")
                self._send(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": "t"})
            elif self.path == "/vehicle-enquiry/v1/vehicles":
                wait("dvla")
                reg = json.loads(raw)["registrationNumber"]
                self._send(200, {**sample["dvla"], "registrationNumber": reg})
            else:
                self._send(404, {})

        def do_GET(self) -> None:
            if self.path == "/_stats":
                with lock:
                    self._send(200, dict(counts))
                return
            prefix = "/v1/trade/vehicles/registration/"
            if self.path.startswith(prefix):
                wait("dvsa")
                self._send(200, {**sample["dvsa"], "registration": self.path[len(prefix) :]})
            else:
                self._send(404, {})

    server = ThreadingHTTPServer((HOST, port), Handler)
    server.daemon_threads = True
    ready.set()
    server.serve_forever()


def upstream_stats(port: int) -> dict[str, int]:
    import httpx

    return httpx.get(f"http://{HOST}:{port}/_stats").json()  # type: ignore[no-any-return]


# --- measuring ----------------------------------------------------------------------------


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def summary(label: str, samples: list[float]) -> str:
    return (
        f"{label:<44} n={len(samples):>5}  p50 {percentile(samples, 50):8.3f} ms  "
        f"p95 {percentile(samples, 95):8.3f} ms  p99 {percentile(samples, 99):8.3f} ms"
    )


def miss_and_hit(label: str, regs: list[str], rounds: int) -> None:
    from django.core.cache import cache

    from agora.verticals.automotive import selectors

    cache.clear()
    misses = [timed(lambda r=r: selectors.vehicle_profile(registration_number=r)) for r in regs]
    hits = [
        timed(lambda r=r: selectors.vehicle_profile(registration_number=r))
        for _ in range(rounds)
        for r in regs
    ]
    print(summary(f"{label}: miss (provider)", misses))
    print(summary(f"{label}: hit (cache)", hits))


def cached_throughput(regs: list[str], total: int) -> None:
    from agora.verticals.automotive import selectors

    for threads in (1, 32):
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(
                pool.map(
                    lambda i: selectors.vehicle_profile(registration_number=regs[i % len(regs)]),
                    range(total),
                )
            )
        elapsed = time.perf_counter() - started
        print(f"cached lookups/s, {threads:>2} thread(s): {total / elapsed:10.0f}")


def burst(regs: list[str], lookups: int, port: int) -> None:
    from django.core.cache import cache

    from agora.verticals.automotive import selectors

    cache.clear()
    before = upstream_stats(port)
    order = [regs[i % len(regs)] for i in range(lookups)]
    random.Random(3).shuffle(order)
    latencies: list[float] = []
    lock = threading.Lock()

    def one(reg: str) -> None:
        ms = timed(lambda: selectors.vehicle_profile(registration_number=reg))
        with lock:
            latencies.append(ms)

    started = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(one, order))
    wall = time.perf_counter() - started
    after = upstream_stats(port)
    calls = {k: after[k] - before[k] for k in after}
    print(
        f"burst: {lookups} lookups of {len(regs)} registrations, 32 threads, cold cache: "
        f"{wall:.2f} s ({lookups / wall:.0f}/s)"
    )
    print(summary("burst latency", latencies))
    print(
        f"burst upstream requests: DVLA {calls['dvla']}, DVSA {calls['dvsa']}, "
        f"token {calls['token']} (provider lookups = {max(calls['dvla'], calls['dvsa'])})"
    )


def api_cached(regs: list[str], rounds: int) -> None:
    from django.conf import settings
    from django.test import Client

    settings.AGORA_VEHICLE_LOOKUPS_PER_MINUTE = 10**9
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    client = Client()
    for reg in regs:  # warm
        assert client.get("/api/v1/vehicles/lookup", {"registration": reg}).status_code == 200
    samples = [
        timed(lambda r=r: client.get("/api/v1/vehicles/lookup", {"registration": r}))
        for _ in range(rounds)
        for r in regs
    ]
    print(summary("API in-process, cached (rate-limit write incl.)", samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dvla-ms", type=float, default=150)
    parser.add_argument("--dvsa-ms", type=float, default=200)
    parser.add_argument("--token-ms", type=float, default=300)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--registrations", type=int, default=50)
    args = parser.parse_args()

    port = free_port()
    ready = multiprocessing.Event()
    latency = {
        "dvla": args.dvla_ms / 1000,
        "dvsa": args.dvsa_ms / 1000,
        "token": args.token_ms / 1000,
    }
    upstream = multiprocessing.Process(
        target=serve_upstream, args=(port, latency, ready), daemon=True
    )
    upstream.start()
    ready.wait(10)

    with ScratchEnv(prefix="agora-bench-vehicles-") as env:
        migrate(env)
        django_setup(env)
        from agora.verticals.automotive import providers
        from agora.verticals.automotive.providers.dvla_dvsa import DvlaDvsaConfig, DvlaDvsaProvider

        info = machine_info()
        print(f"machine: {info}  load: {loadavg()}  db: {env.db_label}")
        print(
            f"fake upstream latency: DVLA {args.dvla_ms:.0f} ms, DVSA {args.dvsa_ms:.0f} ms, "
            f"token {args.token_ms:.0f} ms (± 20 %)"
        )

        offline = providers.build("offline")
        offline_regs = offline.registrations()  # type: ignore[attr-defined]
        with providers.using(offline):
            miss_and_hit("offline", offline_regs, rounds=50)
            cached_throughput(offline_regs, total=20000)
            api_cached(offline_regs, rounds=20)

        live = DvlaDvsaProvider(
            DvlaDvsaConfig(
                dvla_api_key="bench",
                dvsa_client_id="bench",
                dvsa_client_secret="bench",
                dvsa_api_key="bench",
                dvsa_token_url=f"http://{HOST}:{port}/token",
                dvla_url=f"http://{HOST}:{port}/vehicle-enquiry",
                dvsa_url=f"http://{HOST}:{port}",
            )
        )
        regs = registrations(args.registrations)
        with providers.using(live):
            miss_and_hit("dvla_dvsa", regs[:20], rounds=50)
            burst(regs, args.lookups, port)
            cached_throughput(regs, total=20000)
        print(f"load after: {loadavg()}")
    upstream.terminate()


if __name__ == "__main__":
    main()
