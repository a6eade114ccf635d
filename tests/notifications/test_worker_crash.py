"""The outbox survives a worker killed mid-batch: nothing lost, nothing sent twice.

A real `agora worker` process sends 300 mails to files; it is killed with SIGKILL while
sending, and a second worker finishes the job. Every mail arrives; the only one that may
arrive twice is the one being written at the instant of the kill (sent but not yet marked),
and then with the same Message-ID, so a mailbox sees one message.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from agora.notifications import mailer, outbox
from agora.notifications.models import EmailDelivery, Event, Notification
from tests.core.test_asgi_lanes import database_url
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]

REPO = Path(__file__).resolve().parents[2]
MAILS = 300


def start_worker(tmp_path: Path, mail_dir: Path, name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SECRET_KEY": settings.SECRET_KEY,  # Message-IDs are keyed with it
        "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings",
        "AGORA_VAR_DIR": str(tmp_path / "var"),
        "EMAIL_FILE_PATH": str(mail_dir),
        "AGORA_OUTBOX_LEASE_SECONDS": "2",
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")]),
    }
    log = (tmp_path / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "agora", "worker", "--interval", "0.2"],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate: object, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    # Given 300 events, each worth one mail to its customer
    customers = UserFactory.create_batch(MAILS)
    with transaction.atomic():
        outbox.emit_many(
            [
                ("test.ping", f"booking:{i}", {"id": i, "url": f"/b/{i}/"}, c.pk, None, False)
                for i, c in enumerate(customers)
            ]
        )
    mail_dir = tmp_path / "mail"

    # When a worker starts sending and is killed with SIGKILL in the middle
    first = start_worker(tmp_path, mail_dir, "first")
    try:
        wait_for(
            lambda: EmailDelivery.objects.filter(status="sent").count() >= 40,
            timeout=60,
            what="the first worker to send some mail",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    sent_before = EmailDelivery.objects.filter(status="sent").count()
    assert 40 <= sent_before < MAILS, "the kill must land mid-batch"

    # ...and a second worker takes over
    second = start_worker(tmp_path, mail_dir, "second")
    try:
        wait_for(
            lambda: EmailDelivery.objects.filter(status="sent").count() == MAILS,
            timeout=90,
            what="the second worker to finish",
        )
    finally:
        second.terminate()
        second.wait(15)

    # Then every event was fanned out once and every mail is marked sent...
    assert Event.objects.filter(name="test.ping", dispatched_at__isnull=True).count() == 0
    assert Notification.objects.count() == MAILS
    assert EmailDelivery.objects.count() == MAILS
    # ...each arrived, and at most the one in flight at the kill arrived twice
    written = "".join(path.read_text() for path in mail_dir.iterdir())
    arrived = re.findall(r"^Message-ID: (\S+)$", written, flags=re.MULTILINE)
    expected = {mailer.message_id(row) for row in EmailDelivery.objects.all()}
    assert set(arrived) == expected
    assert len(arrived) - len(expected) <= 1
    assert set(re.findall(r"^To: (\S+)$", written, flags=re.MULTILINE)) == {
        c.email for c in customers
    }
