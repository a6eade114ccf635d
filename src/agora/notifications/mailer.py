"""Sending the outbox's e-mails: claimed with a lease, sent, marked — or retried later.

Order of work per mail: claim (lease + attempt counted, committed), send, mark sent. A
worker killed between sending and marking leaves the lease to run out, and the mail is
sent again by the next worker with the same Message-ID (the delivery's stable key), so a
relay or mailbox can recognise the repeat; nothing is lost either way. A mail that keeps
failing is retried with exponential backoff and after `AGORA_EMAIL_MAX_ATTEMPTS` marked
failed, where the operator's console shows it — it is never reported as sent.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import F, Q

from agora.core import clock
from agora.notifications import catalogue, rendering
from agora.notifications.models import DeliveryStatus, EmailDelivery, Event

logger = logging.getLogger(__name__)

BATCH = 50
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... doubling, at most 6 hours between tries."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), LONGEST_WAIT)


def claim(*, limit: int = BATCH) -> list[EmailDelivery]:
    """Take up to `limit` due mails for this worker, for the lease's length."""
    now = clock.now()
    lease = timedelta(seconds=settings.AGORA_OUTBOX_LEASE_SECONDS)
    with transaction.atomic():
        due = EmailDelivery.objects.filter(
            Q(leased_until__isnull=True) | Q(leased_until__lt=now),
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now,
        ).order_by("next_attempt_at", "id")
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        EmailDelivery.objects.filter(pk__in=ids).update(
            leased_until=now + lease, attempts=F("attempts") + 1
        )
    return list(
        EmailDelivery.objects.filter(pk__in=ids).select_related("event", "user").order_by("id")
    )


def message_id(delivery: EmailDelivery) -> str:
    """A Message-ID that is the same every time this delivery is sent."""
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{delivery.key}".encode()).hexdigest()[:24]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "agora.invalid"
    return f"<agora.{delivery.pk}.{digest}@{domain}>"


def build(delivery: EmailDelivery) -> EmailMultiAlternatives:
    event = delivery.event
    event_name, audience = delivery.template.split("/", 1)
    kind = catalogue.event_type(event_name)
    unsubscribe = ""
    if kind is not None and not kind.mandatory and delivery.user_id is not None:
        unsubscribe = _unsubscribe_url(user_id=delivery.user_id, group=kind.group)
    words = rendering.render(
        event_name=event_name,
        audience=audience,
        data=event.data,
        recipient=delivery.user,
        unsubscribe_url=unsubscribe,
    )
    headers = {"Message-ID": message_id(delivery), "X-Agora-Event": event_name}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail = EmailMultiAlternatives(
        subject=words.subject,
        body=words.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.to_email],
        headers=headers,
    )
    mail.attach_alternative(words.html, "text/html")
    return mail


def _unsubscribe_url(*, user_id: int, group: str) -> str:
    try:
        from agora.notifications.unsubscribe import unsubscribe_url
    except ModuleNotFoundError:
        return ""
    return unsubscribe_url(user_id=user_id, group=group)


def send_due(*, limit: int = BATCH) -> int:
    """Send the due mails; return how many were sent."""
    deliveries = claim(limit=limit)
    if not deliveries:
        return 0
    mail_connection = get_connection(fail_silently=False)
    try:
        mail_connection.open()
    except Exception as error:  # the relay is down or refuses us: every mail waits
        for delivery in deliveries:
            _failed(delivery, error)
        return 0
    sent = 0
    try:
        for delivery in deliveries:
            try:
                mail = build(delivery)
                mail.connection = mail_connection
                mail.send(fail_silently=False)
            except Exception as error:  # any failure of rendering or transport is retried
                _failed(delivery, error)
            else:
                _sent(delivery)
                sent += 1
    finally:
        try:
            mail_connection.close()
        except Exception:  # a relay that drops us at QUIT has still taken the mail
            logger.warning("closing the mail connection failed", exc_info=True)
    return sent


def _sent(delivery: EmailDelivery) -> None:
    EmailDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENT, sent_at=clock.now(), leased_until=None, last_error=""
    )
    kind = catalogue.event_type(delivery.event.name)
    if kind is not None and kind.private:
        # The secret link has reached its mailbox; it need not wait in the database.
        Event.objects.filter(pk=delivery.event_id).update(data={"wiped": True})


def _failed(delivery: EmailDelivery, error: Exception) -> None:
    final = delivery.attempts >= settings.AGORA_EMAIL_MAX_ATTEMPTS
    logger.warning(
        "e-mail %s to %s failed (attempt %s%s): %s",
        delivery.key,
        delivery.to_email,
        delivery.attempts,
        ", giving up" if final else "",
        error,
    )
    EmailDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
        next_attempt_at=clock.now() + retry_delay(delivery.attempts),
        leased_until=None,
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )
