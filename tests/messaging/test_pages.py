"""The message pages of both portals: the lists with unread counts, a conversation with its
thread (in `#thread`) and reply form, replying once per form, files, and 404 for anyone
else's conversation."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from agora.core import clock
from agora.messaging.models import Attachment, Message
from tests.factories import VendorFactory, VendorMembershipFactory
from tests.messaging.helpers import HTML_BYTES, PDF_BYTES, World, image_bytes, rows
from tests.vendors.helpers import body_of
from tests.web.account.helpers import form_token, html

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response: Any) -> str:
    """The page's words, tags removed and spaces squeezed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html(response)).split())


def _thread(response: Any) -> str:
    page = html(response)
    start = page.index('<div id="thread"')
    return " ".join(re.sub(r"<[^>]+>", " ", page[start : page.index("</section>", start)]).split())


def _customer_page(world: World) -> str:
    return f"/account/messages/booking/{world.booking.pk}/"


def _vendor_page(world: World) -> str:
    return f"/vendor/messages/booking/{world.booking.pk}/?vendor={world.vendor.pk}"


def _reply(client: Client, url: str, text: str, **extra: Any) -> Any:
    page = client.get(url)
    assert page.status_code == 200, html(page)
    return client.post(url, {"text": text, "token": form_token(page), **extra})


# --- the customer ------------------------------------------------------------------------------


def test_the_customer_writes_from_the_booking_page_and_the_vendor_answers(world: World) -> None:
    alice, staff = signed_in(world.alice), signed_in(world.staff)

    # The booking's page leads to its conversation
    booking_page = alice.get(f"/account/bookings/{world.booking.pk}/")
    assert f'href="{_customer_page(world)}"' in html(booking_page)
    assert 'href="/account/messages/"' in html(booking_page)  # the portal's nav

    # An empty conversation says so, with a reply form
    page = alice.get(_customer_page(world))
    assert page.status_code == 200
    assert f"Booking #{world.booking.pk}: Full service" in _text(page)
    assert "With Camden Motors" in _text(page)
    assert _thread(page) == "No messages yet. Write the first one below."
    assert 'enctype="multipart/form-data"' in html(page)

    # When Alice writes, with her number, before paying
    response = _reply(alice, _customer_page(world), "Can I drop it at 8? 07700 900123")

    # Then she is sent back to the message and told the number is hidden from the vendor
    message = Message.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_customer_page(world)}#message-{message.pk}"
    page = alice.get(response["Location"])
    assert "hidden from the vendor until the booking is paid" in _text(page)
    assert "You" in _thread(page)
    assert "Can I drop it at 8? 07700 900123" in _thread(page)

    # and the vendor's staff see it masked, in their list with one unread
    listing = staff.get("/vendor/messages/")
    assert listing.status_code == 200
    assert f"Booking #{world.booking.pk}: Full service" in _text(listing)
    assert "1 unread" in _text(listing)
    assert "Alice Buyer" in _text(listing)
    page = staff.get(_vendor_page(world))
    assert "Alice (customer)" in _thread(page)
    assert "Can I drop it at 8? [phone number hidden until booking is paid]" in _thread(page)
    assert "07700" not in html(page)
    # opening it read it for the whole staff
    assert "unread" not in _text(signed_in(world.owner).get("/vendor/messages/"))

    # When the staff member answers
    with clock.frozen(clock.now() + timedelta(minutes=3)):
        answer = _reply(staff, _vendor_page(world), "Yes, from 7:30.")
    assert answer.status_code == 302

    # Then Alice's list shows it unread, and her page shows both in order
    mine = alice.get("/account/messages/")
    assert "1 unread" in _text(mine)
    assert "Yes, from 7:30." in _text(mine)
    thread = _thread(alice.get(_customer_page(world)))
    assert thread.index("Can I drop it at 8?") < thread.index("Sam at Camden Motors")
    assert "unread" not in _text(alice.get("/account/messages/"))


def test_the_thread_partial_is_the_thread_alone(world: World) -> None:
    world.send(world.as_staff, f"/bookings/{world.booking.pk}/messages", "Hello <b>Alice</b>")
    alice = signed_in(world.alice)

    page = alice.get(_customer_page(world))
    partial = alice.get(f"/account/messages/booking/{world.booking.pk}/thread/")

    assert f'data-thread-url="/account/messages/booking/{world.booking.pk}/thread/"' in html(page)
    assert partial.status_code == 200
    assert html(partial).lstrip().startswith('<ol class="thread-messages">')
    assert "Hello Alice" in html(partial)  # the tags were removed when it was sent
    assert "<html" not in html(partial)


def test_a_form_sent_twice_writes_once(world: World) -> None:
    alice = signed_in(world.alice)
    page = alice.get(_customer_page(world))
    form = {"text": "only once", "token": form_token(page)}

    first = alice.post(_customer_page(world), form)
    second = alice.post(_customer_page(world), form)

    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert list(Message.objects.values_list("text", flat=True)) == ["only once"]


def test_an_empty_reply_is_refused_on_the_page(world: World) -> None:
    before = rows()

    response = _reply(signed_in(world.alice), _customer_page(world), "   ")

    assert response.status_code == 422
    assert "Write a message or attach a file." in _text(response)
    assert rows() == before


def test_a_file_goes_with_a_reply_and_is_downloaded_from_the_page(
    world: World, media_root: Any
) -> None:
    alice, staff = signed_in(world.alice), signed_in(world.staff)
    page = alice.get(_customer_page(world))

    response = alice.post(
        _customer_page(world),
        {
            "text": "photo of the dent",
            "token": form_token(page),
            "file": SimpleUploadedFile("dent.png", image_bytes("PNG")),
        },
    )

    assert response.status_code == 302, html(response)
    attachment = Attachment.objects.get()
    staff_page = staff.get(_vendor_page(world))
    url = f"/vendor/messages/files/{attachment.pk}/?vendor={world.vendor.pk}"
    assert f'src="{url}"' in html(staff_page)
    download = staff.get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert body_of(download) == (media_root / attachment.file.name).read_bytes()
    own = alice.get(f"/account/messages/files/{attachment.pk}/")
    assert own.status_code == 200
    body_of(own)


def test_a_refused_file_is_shown_on_the_form_and_nothing_is_written(
    world: World, media_root: Any
) -> None:
    alice = signed_in(world.alice)
    page = alice.get(_customer_page(world))
    before = rows()

    response = alice.post(
        _customer_page(world),
        {
            "text": "see this",
            "token": form_token(page),
            "file": SimpleUploadedFile("page.html", HTML_BYTES, content_type="text/html"),
        },
    )

    assert response.status_code == 422
    assert (
        "Attach a file (PDF, JPEG, PNG or WebP, up to 10 MB) "
        "Attach a PDF or a JPEG, PNG or WebP image."
    ) in _text(response)
    assert "see this" in _text(response)  # what was written is kept
    assert rows() == before
    assert [p for p in media_root.rglob("*") if p.is_file()] == []


# --- the vendor ---------------------------------------------------------------------------------


def test_the_vendor_writes_from_the_order_page(world: World) -> None:
    owner = signed_in(world.owner)

    order_page = owner.get(f"/vendor/orders/{world.order.pk}/")
    url = f"/vendor/messages/order/{world.order.pk}/?vendor={world.vendor.pk}"
    assert f'href="{url}"' in html(order_page)
    assert 'href="/vendor/messages/"' in html(order_page)

    response = _reply(owner, url, "Your wipers are ready to ship.")

    assert response.status_code == 302
    assert Message.objects.get().author_role == "vendor"
    alice_page = signed_in(world.alice).get(f"/account/messages/order/{world.order.pk}/")
    assert "Wendy at Camden Motors" in _thread(alice_page)
    assert f'href="/account/messages/order/{world.order.pk}/"' in html(
        signed_in(world.alice).get(f"/account/orders/{world.order.pk}/")
    )


def test_staff_of_two_vendors_see_only_the_vendor_they_work_for(world: World) -> None:
    world.send(world.as_alice, f"/bookings/{world.booking.pk}/messages", "hello workshop")
    # the owner also works for a second vendor
    other = VendorFactory(name="Second Shop")
    VendorMembershipFactory(vendor=other, user=world.owner, role="owner")
    owner = signed_in(world.owner)

    assert "hello workshop" in _text(owner.get(f"/vendor/messages/?vendor={world.vendor.pk}"))
    assert "hello workshop" not in _text(owner.get(f"/vendor/messages/?vendor={other.pk}"))
    page = owner.get(f"/vendor/messages/booking/{world.booking.pk}/?vendor={other.pk}")
    assert page.status_code == 404


# --- everyone else ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "carol", "rival_owner"])
def test_other_people_get_404_on_every_page(world: World, who: str, media_root: Any) -> None:
    world.send(world.as_alice, f"/bookings/{world.booking.pk}/messages", "private")
    response = world.as_alice.client.post(
        f"/api/v1/bookings/{world.booking.pk}/messages",
        {"text": "file", "files": [SimpleUploadedFile("q.pdf", PDF_BYTES)]},
        headers={"Authorization": f"Bearer {world.as_alice.token}"},
    )
    assert response.status_code == 201
    attachment = Attachment.objects.get()
    client = signed_in(getattr(world, who))
    before = rows()

    customer_pages = [
        _customer_page(world),
        f"/account/messages/booking/{world.booking.pk}/thread/",
        f"/account/messages/order/{world.order.pk}/",
        f"/account/messages/files/{attachment.pk}/",
    ]
    for url in customer_pages:
        assert client.get(url).status_code == 404, url
    assert client.post(_customer_page(world), {"text": "x", "token": "t" * 20}).status_code == 404
    if who == "rival_owner":
        for url in (
            f"/vendor/messages/booking/{world.booking.pk}/",
            f"/vendor/messages/booking/{world.booking.pk}/thread/",
            f"/vendor/messages/files/{attachment.pk}/",
        ):
            assert client.get(url).status_code == 404, url
        response = client.post(
            f"/vendor/messages/booking/{world.booking.pk}/", {"text": "x", "token": "t" * 20}
        )
        assert response.status_code == 404
        assert "private" not in _text(client.get("/vendor/messages/"))
    else:
        # customers are not staff: the vendor portal is closed to them
        assert client.get(_vendor_page(world)).status_code == 403
    assert "private" not in _text(client.get("/account/messages/"))
    assert rows() == before


def test_the_vendors_staff_cannot_write_as_the_customer(world: World) -> None:
    # The customer portal speaks for the customer: the workshop's staff have no customer
    # side in Alice's booking.
    staff = signed_in(world.staff)

    assert staff.get(_customer_page(world)).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(world: World) -> None:
    response = Client().get(_customer_page(world))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
