"""Redis pub/sub between processes and servers, when `REDIS_URL` is set: "look now".

A message carries nothing but the wake-up: the events themselves are read from the
database by each hub, so Redis never decides what a stream says, a lost message costs one
poll interval, and a Redis that is down only slows the hubs to polling (said once in the
log, and once again when it is back).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

import redis
import redis.asyncio as aioredis

logger = logging.getLogger(__name__)

CHANNEL = "agora:events"
RETRY_SECONDS = 2.0
_TIMEOUT_SECONDS = 0.5


class Publisher:
    """PUBLISHes a wake-up after each commit that emitted events, from any thread.

    The commit's thread only sets a flag; one daemon thread per process does the network
    call, so a request never waits for Redis, and a burst of commits becomes one message.
    """

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=_TIMEOUT_SECONDS, socket_timeout=_TIMEOUT_SECONDS
        )
        self._pending = threading.Event()
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="agora-live-publish", daemon=True)
        self._thread.start()

    def publish(self) -> None:
        self._pending.set()

    def _run(self) -> None:
        while True:
            self._pending.wait()
            self._pending.clear()
            try:
                self._client.publish(CHANNEL, b"1")
            except redis.RedisError as error:
                if not self._failing:
                    logger.warning("live events: cannot publish to Redis (%s); hubs poll", error)
                self._failing = True
                time.sleep(RETRY_SECONDS)
            else:
                if self._failing:
                    logger.info("live events: publishing to Redis again")
                self._failing = False


_publishers: dict[str, Publisher] = {}
_publishers_lock = threading.Lock()


def publisher(url: str) -> Publisher:
    with _publishers_lock:
        if url not in _publishers:
            _publishers[url] = Publisher(url)
        return _publishers[url]


class Wakeups:
    """SUBSCRIBEs in the hub's event loop and calls `on_wake` for every message.

    `healthy` is True while subscribed; the hub polls at its short interval otherwise.
    """

    def __init__(self, url: str, *, on_wake: Callable[[], None]) -> None:
        self.url = url
        self.healthy = False
        self._on_wake = on_wake
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="agora-live-redis")

    async def _listen(self) -> None:
        failing = False
        while True:
            client = aioredis.Redis.from_url(
                self.url, socket_connect_timeout=1.0, health_check_interval=10
            )
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self.healthy = True
                    if failing:
                        logger.info("live events: subscribed to Redis again")
                    failing = False
                    # Events may have been committed while we were not listening.
                    self._on_wake()
                    while True:
                        message = await pubsub.get_message(timeout=5.0)
                        if message is not None:
                            self._on_wake()
            except (redis.RedisError, OSError) as error:
                self.healthy = False
                if not failing:
                    logger.warning("live events: Redis unavailable (%s); hubs poll", error)
                failing = True
            finally:
                self.healthy = False
                await client.aclose()
            await asyncio.sleep(RETRY_SECONDS)

    async def aclose(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
