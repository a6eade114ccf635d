"""Live updates over Server-Sent Events: `GET /api/v1/events` and the public slot streams.

How an event gets from a commit to a browser:

1. A domain service `emit`s an Event inside its transaction (`notifications.outbox`).
2. After the commit, `on_events_committed` hooks run (`hooks.py`): they wake this
   process's hub at once and, with `REDIS_URL`, PUBLISH a wake-up for every other process
   and server (`redis_bus.py`).
3. Each server process has one hub (`hub.py`) in its event loop. It reads the events past
   the last stream position it handed out — one indexed query, on a thread of its own —
   every poll interval or when woken, and gives each event to the open streams it
   concerns.
4. Each open stream (`stream.py`, an ASGI app the lane handler routes to before Django)
   writes them out as `id:` / `event:` / `data:` frames.

The database is the source of truth; Redis only says "look now". Streams are keyed on
`Event.seq` (the position in commit order), never on `Event.id`, so `Last-Event-ID: n`
means "everything after n" with no gaps.
"""
