"""Due work at its due time (after agora.bookings.timers): each deadline a service sets —
a request's expiry, its next wave, a quote's validity, an assignment's answer-by — enqueues
a django-tasks task with `run_after` in the service's own transaction, so a rolled-back
change schedules nothing. The task runs the same sweep the periodic jobs run, which acts
only on what is due: a timer that fires early, late or twice does nothing wrong, and the
periodic sweeps are the safety net for a lost one."""

from __future__ import annotations

from datetime import timedelta

from agora.core import clock
from agora.quotes.models import Invitation, Quote, QuoteRequest

# A second after the deadline, so the sweep finds it due.
_GRACE = timedelta(seconds=1)


def after_request(*, request: QuoteRequest) -> None:
    from agora.quotes import tasks

    tasks.expire_quote_requests.using(run_after=request.expires_at + _GRACE).enqueue()


def at_next_wave(*, request: QuoteRequest) -> None:
    from agora.quotes import tasks

    if request.next_wave_at is not None:
        tasks.invite_next_waves.using(run_after=request.next_wave_at + _GRACE).enqueue()


def after_quote(*, quote: Quote) -> None:
    from agora.quotes import tasks

    tasks.expire_quotes.using(run_after=quote.valid_until + _GRACE).enqueue()


def after_assignment(*, invitation: Invitation) -> None:
    from agora.quotes import tasks

    if invitation.respond_by is not None:
        tasks.lapse_assignments.using(run_after=invitation.respond_by + _GRACE).enqueue()


def assign_soon() -> None:
    """A request to assign automatically: the next batch now rather than at its period."""
    from agora.quotes import tasks

    tasks.assign_requests.using(run_after=clock.now()).enqueue()
