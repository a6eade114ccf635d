"""GET /api/v1/openapi.json: built once per process, then served from memory with an ETag.

    env -u DATABASE_URL .venv/bin/python bench/openapi_document.py
    scripts/with-postgres .venv/bin/python bench/openapi_document.py
    .venv/bin/python bench/openapi_document.py --requests 100

What it measures:

1. In this process: what every request cost before the document was cached — Ninja
   building the document from every router, plus rendering it as JSON — and what the
   completed contract adds to that build (`agora.core.openapi.complete_document`), each
   the median of --builds builds.
2. Against `agora serve --workers 1` on 127.0.0.1: the first request of the process (it
   builds the document), then --requests further requests (served from the cached bytes),
   and --requests revalidations with If-None-Match (304, no body). Medians and p95 of the
   wall time per request, from one keep-alive httpx client.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ScratchEnv,
    Server,
    django_setup,
    loadavg,
    machine_info,
    migrate,
    percentile,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--builds", type=int, default=5, help="in-process builds to time")
    parser.add_argument("--requests", type=int, default=50, help="HTTP requests per series")
    return parser.parse_args(argv)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def in_process(builds: int) -> None:
    import copy

    from ninja import NinjaAPI
    from ninja.responses import NinjaJSONEncoder

    from agora.api import api
    from agora.core.openapi import complete_document

    plain: list[float] = []
    completing: list[float] = []
    size = 0
    for _ in range(builds):
        started = time.perf_counter()
        document: Any = NinjaAPI.get_openapi_schema(api, path_prefix="/api/v1/")
        size = len(json.dumps(document, cls=NinjaJSONEncoder))
        plain.append(time.perf_counter() - started)
        copied = copy.deepcopy(dict(document))
        started = time.perf_counter()
        complete_document(copied, path_prefix="/api/v1/")
        completing.append(time.perf_counter() - started)
    print(
        f"uncached build + render (every request before): median {ms(statistics.median(plain))}"
        f" (min {ms(min(plain))}, max {ms(max(plain))}, {size} bytes)",
        flush=True,
    )
    print(
        f"complete_document on top of a build: median {ms(statistics.median(completing))}",
        flush=True,
    )


def over_http(server: Server, requests: int) -> None:
    import httpx

    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        started = time.perf_counter()
        first = client.get("/api/v1/openapi.json")
        first_took = time.perf_counter() - started
        assert first.status_code == 200, first.text
        etag = first.headers["etag"]
        cached: list[float] = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get("/api/v1/openapi.json")
            cached.append(time.perf_counter() - started)
            assert response.status_code == 200
            assert response.content == first.content
        revalidated: list[float] = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get("/api/v1/openapi.json", headers={"If-None-Match": etag})
            revalidated.append(time.perf_counter() - started)
            assert response.status_code == 304
    print(f"first request (builds): {ms(first_took)}, {len(first.content)} bytes", flush=True)
    for label, series in (("cached", cached), ("If-None-Match 304", revalidated)):
        print(
            f"{label}: median {ms(statistics.median(series))}, "
            f"p95 {ms(percentile(series, 95))} over {len(series)} requests",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = ScratchEnv(prefix="agora-openapi-")
    server: Server | None = None
    try:
        migrate(env)
        django_setup(env)
        info = machine_info()
        print(
            f"# openapi-document db={env.db_label} nproc={info['nproc']} cpu={info['cpu']!r} "
            f"python={info['python']} django={info['django']} load={loadavg()}",
            flush=True,
        )
        in_process(args.builds)
        server = Server(env, workers=1).start()
        over_http(server, args.requests)
        return 0
    finally:
        if server is not None:
            server.stop()
        env.close()


if __name__ == "__main__":
    sys.exit(main())
