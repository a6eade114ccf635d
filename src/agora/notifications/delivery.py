"""The outbox's work, in the order it must happen: sequence, fan out, send.

`run_once` does the work there is and is what tests call; `agora worker` runs it in a
thread of its own every half second (a `periodic.Loop`), so notifications go out within a
second of the commit that caused them whatever the task queue is busy with.
"""

from __future__ import annotations

import logging

from agora.notifications import fanout, mailer, sequencer

logger = logging.getLogger(__name__)


def _send_webhooks() -> int:
    try:
        from agora.notifications.webhooks.delivery import send_due
    except ModuleNotFoundError:  # a build without the webhooks package
        return 0
    return send_due()


def run_once() -> int:
    """Do every step until nothing is left to do now; return the units of work done."""
    done = 0
    while True:
        round_done = sequencer.assign()
        round_done += fanout.dispatch()
        # The notices just written announce themselves as events: sequence them too.
        round_done += sequencer.assign()
        round_done += mailer.send_due()
        round_done += _send_webhooks()
        done += round_done
        if not round_done:
            return done
