"""Files sent with messages: judged by their bytes like verification documents (PDF, JPEG,
PNG or WebP, at most 10 MB), images written again without their metadata, stored where
/media/ does not serve them, and handed out only through the scoped download."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from agora.messaging.attachments import MAX_ATTACHMENT_BYTES
from agora.messaging.models import Attachment, Message
from tests.conftest import assert_problem
from tests.messaging.helpers import HTML_BYTES, PDF_BYTES, SVG_BYTES, World, image_bytes, rows
from tests.vendors.helpers import body_of, multipart, png_bomb, stored_files

pytestmark = pytest.mark.django_db


def _send(world: World, *files: SimpleUploadedFile, text: str = "see attached") -> Any:
    return multipart(
        world.as_alice,
        f"/bookings/{world.booking.pk}/messages",
        {"text": text, "files": list(files)},
    )


def _upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("quote.pdf", PDF_BYTES, "application/pdf"),
        ("dent.jpg", image_bytes("JPEG"), "image/jpeg"),
        ("dent.png", image_bytes("PNG"), "image/png"),
        ("dent.webp", image_bytes("WEBP"), "image/webp"),
        # the bytes decide, not the name or the browser's header
        ("photo.pdf", image_bytes("PNG"), "image/png"),
    ],
)
def test_accepted_files_are_stored_privately(
    world: World, media_root: Path, name: str, data: bytes, content_type: str
) -> None:
    response = _send(world, _upload(name, data))

    assert response.status_code == 201, response.content
    (file,) = response.json()["attachments"]
    attachment = Attachment.objects.get()
    assert file == {
        "id": attachment.pk,
        "name": name,
        "content_type": content_type,
        "size": attachment.size,
        "url": f"/api/v1/messages/{attachment.message_id}/attachments/{attachment.pk}",
    }
    assert attachment.content_type == content_type
    assert attachment.file.name.startswith("messaging/attachments/2026/01/")
    assert stored_files(media_root) == [attachment.file.name]
    assert (media_root / attachment.file.name).stat().st_size == attachment.size
    if content_type == "application/pdf":
        assert (media_root / attachment.file.name).read_bytes() == PDF_BYTES


def test_photos_lose_their_location_and_camera_but_keep_their_pixels(
    world: World, media_root: Path
) -> None:
    original = image_bytes("JPEG", size=(64, 48), gps=True)
    with Image.open(io.BytesIO(original)) as probe:
        assert probe.getexif().get(0x0110) == "Phone Camera 12"

    response = _send(world, _upload("IMG_0042.jpg", original))

    assert response.status_code == 201, response.content
    stored = (media_root / Attachment.objects.get().file.name).read_bytes()
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert image.size == (64, 48)
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info


def test_a_message_may_be_only_a_file(world: World) -> None:
    response = _send(world, _upload("quote.pdf", PDF_BYTES), text="")

    assert response.status_code == 201, response.content
    assert response.json()["text"] == ""
    assert Message.objects.get().attachments.count() == 1


@pytest.mark.parametrize(
    ("upload", "code", "status"),
    [
        (lambda: _upload("logo.svg", SVG_BYTES, "image/svg+xml"), "attachment_type_refused", 422),
        (lambda: _upload("page.html", HTML_BYTES, "text/html"), "attachment_type_refused", 422),
        (lambda: _upload("page.png", HTML_BYTES, "image/png"), "attachment_type_refused", 422),
        (
            lambda: _upload("notes.txt", b"plain words", "text/plain"),
            "attachment_type_refused",
            422,
        ),
        (
            lambda: _upload("anim.gif", image_bytes("GIF"), "image/gif"),
            "attachment_type_refused",
            422,
        ),
        (lambda: _upload("empty.pdf", b"", "application/pdf"), "attachment_type_refused", 422),
        (lambda: _upload("bomb.png", png_bomb(), "image/png"), "attachment_too_large", 422),
        (
            lambda: _upload(
                "huge.pdf", PDF_BYTES + b"0" * (MAX_ATTACHMENT_BYTES - len(PDF_BYTES) + 1)
            ),
            "attachment_too_large",
            422,
        ),
    ],
    ids=["svg", "html", "html-named-png", "text", "gif", "empty", "bomb", "oversized"],
)
def test_other_files_are_refused_and_nothing_is_written(
    world: World, media_root: Path, upload: Any, code: str, status: int
) -> None:
    before = rows()

    response = _send(world, _upload("ok.pdf", PDF_BYTES), upload())

    problem = assert_problem(response, status, code)
    assert [error["loc"] for error in problem["errors"]] == [["body", "files", 1]]
    assert rows() == before
    assert stored_files(media_root) == []


def test_at_most_five_files_go_with_one_message(world: World, media_root: Path) -> None:
    before = rows()

    response = _send(world, *[_upload(f"{n}.pdf", PDF_BYTES) for n in range(6)])

    assert_problem(response, 422, "too_many_attachments")
    assert rows() == before
    assert stored_files(media_root) == []


def test_downloads_say_what_they_are_and_are_never_rendered_as_pages(world: World) -> None:
    response = _send(
        world, _upload("quote.pdf", PDF_BYTES), _upload("dent.png", image_bytes("PNG"))
    )
    pdf, png = response.json()["attachments"]

    document = world.as_staff.get(pdf["url"].removeprefix("/api/v1"))
    picture = world.as_staff.get(png["url"].removeprefix("/api/v1"))

    assert document["Content-Type"] == "application/pdf"
    assert document["Content-Disposition"] == 'attachment; filename="quote.pdf"'
    assert body_of(document) == PDF_BYTES
    assert picture["Content-Type"] == "image/png"
    assert picture["Content-Disposition"] == 'inline; filename="dent.png"'
    body_of(picture)
    for answer in (document, picture):
        assert answer["Content-Security-Policy"] == "default-src 'none'; img-src 'self'; sandbox"
        assert answer["X-Content-Type-Options"] == "nosniff"
        assert answer["Cache-Control"] == "private, no-store"


def test_files_are_not_served_under_media(world: World, media_root: Path) -> None:
    response = _send(world, _upload("quote.pdf", PDF_BYTES))
    assert response.status_code == 201, response.content
    name = Attachment.objects.get().file.name
    assert (media_root / name).is_file()

    answer = Client().get(f"/media/{name}")

    assert answer.status_code == 404
    body_of(answer)
