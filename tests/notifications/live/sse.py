"""A Server-Sent Events reader for tests: the SSE parsing rules of the HTML standard, over
a real HTTP connection (httpx), in a thread of its own, with each frame's arrival time."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Frame:
    """One dispatched SSE message: `id:` (None if the frame set none), `event:`, `data:`."""

    id: int | None
    event: str | None
    data: str
    retry: int | None
    at: float = field(compare=False)

    @property
    def json(self) -> dict[str, Any]:
        value = json.loads(self.data)
        assert isinstance(value, dict)
        return value


def parse_frames(text: str, at: float = 0.0) -> tuple[list[Frame], int]:
    """Every complete frame in `text` and the count of comment lines (heartbeats)."""
    frames: list[Frame] = []
    comments = 0
    fields: dict[str, list[str]] = {}
    for line in text.split("\n"):
        if line == "":
            if fields:
                frames.append(_frame(fields, at))
            fields = {}
        elif line.startswith(":"):
            comments += 1
        else:
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)
    return frames, comments


def _frame(fields: dict[str, list[str]], at: float) -> Frame:
    return Frame(
        id=int(fields["id"][-1]) if "id" in fields else None,
        event=fields["event"][-1] if "event" in fields else None,
        data="\n".join(fields.get("data", [])),
        retry=int(fields["retry"][-1]) if "retry" in fields else None,
        at=at,
    )


class Stream:
    """`GET path` as a live SSE stream, read in a background thread.

    `opened` is set once the first frame (`retry:`) arrived, i.e. the server has
    subscribed the stream: anything committed after that must reach it.
    """

    def __init__(
        self,
        base_url: str,
        path: str = "/api/v1/events",
        *,
        token: str | None = None,
        last_event_id: int | None = None,
        cookies: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url
        self.headers = {"Accept": "text/event-stream"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if last_event_id is not None:
            self.headers["Last-Event-ID"] = str(last_event_id)
        self.cookies = cookies or {}
        self.path = path
        self.frames: queue.Queue[Frame] = queue.Queue()
        self.received: list[Frame] = []
        self.comments = 0
        self.status: int | None = None
        self.body = ""
        self.ended = threading.Event()
        self.opened = threading.Event()
        self.client_port: int | None = None
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        timeout = httpx.Timeout(10.0, read=None)
        try:
            with (
                httpx.Client(
                    base_url=self.base_url, timeout=timeout, cookies=self.cookies
                ) as client,
                client.stream("GET", self.path, headers=self.headers) as response,
            ):
                self.status = response.status_code
                stream = response.extensions.get("network_stream")
                if stream is not None:
                    self._socket = stream.get_extra_info("socket")
                    if self._socket is not None:
                        self.client_port = self._socket.getsockname()[1]
                if response.status_code != 200:
                    self.body = response.read().decode()
                    self.opened.set()
                    return
                buffer = ""
                for chunk in response.iter_text():
                    buffer += chunk
                    if "\n\n" not in buffer:
                        continue
                    complete, buffer = buffer.rsplit("\n\n", 1)
                    frames, comments = parse_frames(complete + "\n\n", time.monotonic())
                    self.comments += comments
                    for frame in frames:
                        self.received.append(frame)
                        self.frames.put(frame)
                    if frames or comments:
                        self.opened.set()
        except (httpx.HTTPError, OSError, ValueError):
            pass
        finally:
            self.opened.set()
            self.ended.set()

    def wait_open(self, timeout: float = 10.0) -> Stream:
        assert self.opened.wait(timeout), f"the stream {self.path} did not open"
        assert self.status == 200, (self.status, self.body)
        return self

    def next(self, timeout: float = 5.0) -> Frame:
        return self.frames.get(timeout=timeout)

    def events(self) -> list[Frame]:
        """The frames with an event so far (not the bare `retry:` / `id:` ones)."""
        return [frame for frame in self.received if frame.event is not None]

    def wait_for(self, predicate: Callable[[list[Frame]], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.events()):
                return
            time.sleep(0.01)
        raise AssertionError(f"timed out; events so far: {self.events()}")

    def last_id(self) -> int | None:
        ids = [frame.id for frame in self.received if frame.id is not None]
        return ids[-1] if ids else None

    def close(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self.ended.wait(5)
