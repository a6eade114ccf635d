"""Public listing images carry no EXIF: no GPS position of the workshop owner's home, no
camera serial — and the picture still stands the right way up.

Phones write the place a photo was taken into its EXIF block; the original is served to
anyone under /media/listings/, so it is re-encoded without metadata on upload, with the
EXIF orientation applied to the pixels first.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from agora.catalog.models import ListingImage
from tests.factories import ListingFactory, UserFactory, VendorFactory
from tests.vendors.helpers import body_of, client_for, multipart, png_bytes

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
ORIENTATION = 0x0112
ROTATED_90 = 6  # "rotate 90° clockwise to display"
CAMERA_SERIAL = 0xA431


def photo(format_: str, size: tuple[int, int] = (120, 80)) -> bytes:
    """A photo as a phone writes it: the EXIF names where it was taken and which way up
    it is; the left half of the stored pixels is red, the right half blue."""
    image = Image.new("RGB", size, "blue")
    image.paste(Image.new("RGB", (size[0] // 2, size[1]), "red"), (0, 0))
    exif = Image.Exif()
    exif[ORIENTATION] = ROTATED_90
    exif[CAMERA_SERIAL] = "SN-123456"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)})
    buffer = io.BytesIO()
    image.save(buffer, format=format_, exif=exif.tobytes())
    return buffer.getvalue()


@pytest.fixture
def owner_client(db: Any) -> tuple[Any, Any]:
    owner = UserFactory()
    listing = ListingFactory(vendor=VendorFactory(owner=owner))
    return client_for(owner), listing


@pytest.mark.parametrize(("format_", "name"), [("JPEG", "home.jpg"), ("PNG", "home.png")])
def test_the_stored_original_has_no_exif_and_stands_upright(
    owner_client: tuple[Any, Any], media_root: Path, format_: str, name: str
) -> None:
    client, listing = owner_client
    sent = photo(format_)
    with Image.open(io.BytesIO(sent)) as check:  # the fixture is what a phone sends
        assert check.getexif().get_ifd(GPS_IFD)

    response = multipart(
        client,
        f"/listings/{listing.pk}/images",
        {"file": SimpleUploadedFile(name, sent, content_type="image/jpeg")},
    )

    assert response.status_code == 201, response.content
    image = ListingImage.objects.get()
    served = body_of(Client().get(response.json()["url"]))
    assert served == (media_root / image.image.name).read_bytes()
    with Image.open(io.BytesIO(served)) as stored:
        assert stored.format == format_
        assert dict(stored.getexif()) == {}
        assert b"SN-123456" not in served
        # turned upright: 80 wide, 120 high, red on top (the left of the stored pixels)
        assert stored.size == (80, 120)
        rgb = stored.convert("RGB")
        top, bottom = rgb.getpixel((40, 10)), rgb.getpixel((40, 110))
        assert top[0] > 200, top
        assert top[2] < 60, top
        assert bottom[2] > 200, bottom
        assert bottom[0] < 60, bottom
    assert (response.json()["width"], response.json()["height"]) == (80, 120)


def test_an_image_without_metadata_is_kept_as_sent(
    owner_client: tuple[Any, Any], media_root: Path
) -> None:
    client, listing = owner_client
    sent = png_bytes((64, 48), "navy")

    response = multipart(
        client,
        f"/listings/{listing.pk}/images",
        {"file": SimpleUploadedFile("plain.png", sent, content_type="image/png")},
    )

    assert response.status_code == 201, response.content
    assert (media_root / ListingImage.objects.get().image.name).read_bytes() == sent
