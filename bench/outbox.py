"""Outbox throughput: events emitted → delivered by the worker's outbox loop.

N `booking.accepted` events (each concerns its customer: one mail and one in-app notice,
itself announced on the customer's stream), emitted in transactions of 50; then the
outbox's steps in this process, as the worker's loop runs them, to the file e-mail
backend. Prints the time to fan out and to send, and mails per second. With
BENCH_WEBHOOK=1 a loopback receiver (a threaded HTTP server answering 200, in a process of
its own as a real receiver would be) subscribes the vendor to every event, and webhook
deliveries per second are printed too.

    env -u DATABASE_URL .venv/bin/python bench/outbox.py     # temporary SQLite
    scripts/with-postgres .venv/bin/python bench/outbox.py   # throwaway PostgreSQL

BENCH_N  events (default 2000)
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ScratchEnv, django_setup, free_port, loadavg, machine_info, migrate


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def receive(port: int) -> None:
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()


def main() -> None:
    events = int(os.environ.get("BENCH_N", "2000"))
    webhooks = os.environ.get("BENCH_WEBHOOK") == "1"
    extra = {"AGORA_WEBHOOK_ALLOW_PRIVATE": "1"}
    with ScratchEnv(prefix="agora-bench-outbox-", extra=extra) as env:
        mail_dir = env.dir / "mail"
        env.env["EMAIL_BACKEND"] = "django.core.mail.backends.filebased.EmailBackend"
        env.env["EMAIL_FILE_PATH"] = str(mail_dir)
        migrate(env)
        os.environ["EMAIL_BACKEND"] = env.env["EMAIL_BACKEND"]
        os.environ["EMAIL_FILE_PATH"] = str(mail_dir)
        django_setup(env)
        run(events, webhooks=webhooks, db=env.db_label)


def run(events: int, *, webhooks: bool, db: str) -> None:
    from django.db import transaction

    from agora.accounts.models import User
    from agora.notifications import delivery, fanout, mailer, outbox, sequencer
    from agora.notifications.models import EmailDelivery, Notification
    from agora.vendors.models import Vendor, VendorMembership

    vendor = Vendor.objects.create(name="Bench Garage", slug="bench-garage", status="active")
    staff = [User.objects.create(email=f"staff{i}@bench.test", name=f"Staff {i}") for i in (1, 2)]
    for user, role in zip(staff, ("owner", "staff"), strict=True):
        VendorMembership.objects.create(vendor=vendor, user=user, role=role)
    customers = User.objects.bulk_create(
        [User(email=f"c{i}@bench.test", name=f"Customer {i}") for i in range(200)]
    )
    server = None
    if webhooks:
        from agora.notifications.webhooks import services as webhook_services
        from agora.notifications.webhooks.selectors import WebhookOwner

        port = free_port()
        server = multiprocessing.get_context("spawn").Process(target=receive, args=(port,))
        server.start()
        time.sleep(1)
        checked = webhook_services.webhook_endpoint_check(
            url=f"http://127.0.0.1:{port}/hook", events=["*"]
        )
        webhook_services.webhook_endpoint_create(
            actor=staff[0], owner=WebhookOwner(vendor=vendor), checked=checked
        )

    started = time.perf_counter()
    for first in range(0, events, 50):
        with transaction.atomic():
            outbox.emit_many(
                [
                    (
                        "booking.accepted",
                        f"booking:{i}",
                        {
                            "id": i,
                            "status": "accepted",
                            "url": f"/account/bookings/{i}/",
                            "vendor_url": f"/vendor/bookings/{i}/",
                            "listing_title": "MOT",
                            "vendor_name": vendor.name,
                            "start": "2026-12-08T09:30:00+00:00",
                            "timezone": "Europe/London",
                        },
                        customers[i % len(customers)].pk,
                        vendor.pk,
                        False,
                    )
                    for i in range(first, min(first + 50, events))
                ]
            )
    emitted = time.perf_counter() - started

    started = time.perf_counter()
    while True:
        done = sequencer.assign() + fanout.dispatch()
        if not done:
            break
    fanned = time.perf_counter() - started

    started = time.perf_counter()
    while mailer.send_due(limit=200):
        pass
    mailed = time.perf_counter() - started
    mails = EmailDelivery.objects.filter(status="sent").count()
    notices = Notification.objects.count()

    hooks_seconds = 0.0
    if webhooks:
        started = time.perf_counter()
        delivery.run_once()
        hooks_seconds = time.perf_counter() - started

    print(f"outbox benchmark ({db}), {events} events; machine {machine_info()}; load {loadavg()}")
    print(f"  emit (50 per transaction): {emitted:.2f} s = {events / emitted:,.0f} events/s")
    print(
        f"  fan-out: {fanned:.2f} s = {events / fanned:,.0f} events/s "
        f"({notices} notices, {mails} mails)"
    )
    print(f"  e-mail to the file backend: {mailed:.2f} s = {mails / mailed:,.0f} mails/s")
    if webhooks and server is not None:
        from agora.notifications.webhooks.models import WebhookDelivery

        received = WebhookDelivery.objects.filter(status="succeeded").count()
        print(
            f"  webhooks to a loopback receiver: {received} in {hooks_seconds:.2f} s"
            f" = {received / max(hooks_seconds, 1e-9):,.0f} deliveries/s"
        )
        server.terminate()


if __name__ == "__main__":
    main()
