"""Mail leaves through the configured transport: a real SMTP server, files, the environment."""

from __future__ import annotations

import email
import json
import os
import socket
import subprocess
import sys
from email import policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from agora.notifications import delivery, outbox
from agora.notifications.models import EmailDelivery
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class Sink:
    """An SMTP server's handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_sink() -> Any:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, sink
    controller.stop()


def emit_ping(user: Any) -> None:
    with transaction.atomic():
        outbox.emit(
            "test.ping",
            subject="booking:9",
            data={"id": 9, "url": "/account/bookings/9/"},
            user_id=user.pk,
        )


def test_mail_goes_through_a_real_smtp_server(
    smtp_sink: Any, settings: Any, ping_event: Any
) -> None:
    # Given the SMTP backend pointed at a local SMTP server
    controller, sink = smtp_sink
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.DEFAULT_FROM_EMAIL = "Market <noreply@market.test>"
    user = UserFactory(name="Ann Lee", email="ann@example.test")
    emit_ping(user)

    # When the outbox round runs
    delivery.run_once()

    # Then the server received one multipart mail with both parts and absolute links
    assert len(sink.messages) == 1
    sender, recipients, content = sink.messages[0]
    assert (sender, recipients) == ("noreply@market.test", ["ann@example.test"])
    message = email.message_from_bytes(content, policy=policy.default)
    assert message["Subject"] == "Ping 9 for Ann (user)"
    assert message["Message-ID"].startswith("<agora.")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"{settings.AGORA_BASE_URL}/account/bookings/9/" in text
    assert f'href="{settings.AGORA_BASE_URL}/account/bookings/9/"' in html
    assert EmailDelivery.objects.get().status == "sent"


def test_a_required_starttls_the_server_does_not_offer_is_a_failure_not_a_send(
    smtp_sink: Any, settings: Any, ping_event: Any
) -> None:
    # EMAIL_USE_TLS is honoured: the plain server cannot STARTTLS, so nothing is sent
    controller, sink = smtp_sink
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = True
    emit_ping(UserFactory())

    delivery.run_once()

    assert sink.messages == []
    row = EmailDelivery.objects.get()
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
    assert "STARTTLS" in row.last_error or "starttls" in row.last_error.lower()


def test_an_unreachable_relay_is_retried_not_reported_sent(settings: Any, ping_event: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.EMAIL_TIMEOUT = 2
    emit_ping(UserFactory())

    delivery.run_once()

    row = EmailDelivery.objects.get()
    assert (row.status, row.sent_at) == ("pending", None)
    assert "ConnectionRefusedError" in row.last_error


def test_mail_is_written_by_the_file_backend_where_email_file_path_says(
    tmp_path: Path, settings: Any, ping_event: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    emit_ping(UserFactory(email="fay@example.test"))

    delivery.run_once()

    files = list((tmp_path / "mail").iterdir())
    assert len(files) == 1
    written = files[0].read_text()
    assert "To: fay@example.test" in written
    assert "Subject: Ping 9 for" in written


def test_every_email_setting_is_read_from_the_environment(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "AGORA_VAR_DIR": str(tmp_path),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.test",
        "EMAIL_PORT": "2525",
        "EMAIL_HOST_USER": "relay-user",
        "EMAIL_HOST_PASSWORD": "relay-pass",
        "EMAIL_USE_TLS": "1",
        "EMAIL_FILE_PATH": "/srv/mail",
        "DEFAULT_FROM_EMAIL": "Shop <hello@shop.test>",
        "AGORA_BASE_URL": "https://shop.test/",
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, "
        "s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.EMAIL_FILE_PATH, s.DEFAULT_FROM_EMAIL, "
        "s.AGORA_BASE_URL]))"
    )
    environment["DJANGO_SETTINGS_MODULE"] = "agora.settings"
    output = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output) == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.test",
        2525,
        "relay-user",
        "relay-pass",
        True,
        "/srv/mail",
        "Shop <hello@shop.test>",
        "https://shop.test",
    ]
