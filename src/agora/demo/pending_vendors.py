"""Applications waiting for the operator, with their documents, so the approval queue of
/operator/vendors/ has work in it after `make run`.

Applied and uploaded through the real services (audit rows, sniffed content types, scoped
storage); idempotent: an applicant that exists (by name) is left as it is, and the
marketplace's own pending applicant gets its documents once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from agora.accounts.models import User
from agora.catalog.models import City
from agora.demo.accounts import DEMO_PASSWORD
from agora.demo.marketplace import CURRENCY, PENDING
from agora.vendors import services as vendor_services
from agora.vendors.models import Vendor, VendorStatus


@dataclass(frozen=True)
class Applicant:
    name: str
    city: str
    vertical: str
    owner_email: str
    description: str
    documents: tuple[tuple[str, str], ...]  # (kind, file name)


APPLICANTS = (
    Applicant("Kings Cross Auto Glass", "london", "automotive", "autoglass@agora.test",
              "Windscreen repair and replacement at your door.",
              (("business_registration", "companies-house-extract.pdf"), ("insurance", "public-liability.pdf"))),
    Applicant("Salford Smart Homes", "manchester", "home-services", "smarthomes@agora.test",
              "Smart thermostats, EV chargers and rewiring.",
              (("trade_licence", "niceic-certificate.png"), ("insurance", "insurance-schedule.pdf"))),
    Applicant("Parramatta Paint & Panel", "sydney", "automotive", "paintpanel@agora.test",
              "Smash repairs and resprays, insurer approved.",
              (("business_registration", "abn-registration.pdf"),)),
)  # fmt: skip

PENDING_DOCUMENTS = (("business_registration", "sole-trader-registration.pdf"),)


def _pdf(title: str) -> bytes:
    """A small valid one-page PDF naming the document."""
    text = title.replace("(", "").replace(")", "")
    stream = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        body += b"%010d 00000 n \n" % offset
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(body)


def _png(title: str) -> bytes:
    image = Image.new("RGB", (420, 120), "white")
    ImageDraw.Draw(image).text((16, 50), title, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _upload(owner: User, vendor: Vendor, kind: str, file_name: str) -> None:
    title = f"{vendor.name}: {file_name}"
    if file_name.endswith(".png"):
        upload = SimpleUploadedFile(file_name, _png(title), content_type="image/png")
    else:
        upload = SimpleUploadedFile(file_name, _pdf(title), content_type="application/pdf")
    vendor_services.document_upload(actor=owner, vendor=vendor, kind=kind, upload=upload)


def _owner(email: str, name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, name=name)
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _apply(applicant: Applicant) -> bool:
    if Vendor.objects.filter(name=applicant.name).exists():
        return False
    city = City.objects.get(slug=applicant.city)
    owner = _owner(applicant.owner_email, f"{applicant.name} owner")
    vendor = vendor_services.vendor_apply(
        user=owner,
        name=applicant.name,
        description=applicant.description,
        timezone=city.timezone,
        currency=CURRENCY[city.country],
        address=f"{len(applicant.name)} {applicant.name.split()[0]} Road",
        city=city.slug,
        lat=city.lat,
        lng=city.lng,
        contact_email=applicant.owner_email,
        vertical=applicant.vertical,
    )
    for kind, file_name in applicant.documents:
        _upload(owner, vendor, kind, file_name)
    return True


def _document_the_marketplace_applicant() -> None:
    vendor = Vendor.objects.filter(name=PENDING.name, status=VendorStatus.PENDING).first()
    if vendor is None or vendor.documents.exists():
        return
    owner = vendor.memberships.select_related("user").first()
    if owner is None:
        return
    for kind, file_name in PENDING_DOCUMENTS:
        _upload(owner.user, vendor, kind, file_name)


def load() -> str:
    created = sum(_apply(applicant) for applicant in APPLICANTS)
    _document_the_marketplace_applicant()
    waiting = Vendor.objects.filter(status=VendorStatus.PENDING).count()
    return f"{waiting} applications awaiting approval ({created} new), with documents"
