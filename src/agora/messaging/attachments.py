"""Checking a file sent with a message, by the same rules as a vendor's verification
documents: a PDF, or a JPEG, PNG or WebP image, judged by its bytes (never by its name or
the browser's content type), at most 10 MB. SVG, HTML, scripts and everything else are
refused.

Images are decoded and written again without their metadata: a photo taken on a phone
carries the place it was taken (EXIF GPS) and the device, which a customer sending a
picture of a dent does not mean to share with a stranger. Orientation is applied first,
so the picture looks the same. A decompression bomb (a small file claiming billions of
pixels) is refused before it is decoded.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from agora.messaging.errors import MessagingError, MessagingErrorCode, attachment_error
from agora.vendors.services import IMAGE_FORMATS, MAX_DOCUMENT_BYTES

MAX_ATTACHMENT_BYTES = MAX_DOCUMENT_BYTES
MAX_ATTACHMENTS = 5
MAX_IMAGE_PIXELS = 40_000_000
_EXTENSIONS = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
}
_ACCEPTED = "Attach a PDF or a JPEG, PNG or WebP image."


@dataclass(frozen=True)
class PreparedFile:
    """A checked file, ready to store: its (re-encoded) bytes and what to record of it."""

    content: ContentFile[bytes]
    original_name: str
    content_type: str
    size: int

    @property
    def storage_name(self) -> str:
        return f"{secrets.token_hex(12)}.{_EXTENSIONS[self.content_type]}"


def _refused(index: int, msg: str) -> MessagingError:
    return attachment_error(
        _ACCEPTED, code=MessagingErrorCode.ATTACHMENT_TYPE_REFUSED, index=index, msg=msg
    )


def _reencoded(data: bytes, index: int) -> tuple[bytes, str]:
    """The image's pixels written again without metadata, and its content type."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format or ""
            if image_format not in IMAGE_FORMATS:
                raise _refused(index, f"{image_format or 'this'} format is not accepted")
            if probe.width * probe.height > MAX_IMAGE_PIXELS:
                raise attachment_error(
                    "The image has too many pixels.",
                    code=MessagingErrorCode.ATTACHMENT_TOO_LARGE,
                    index=index,
                    msg="too many pixels",
                )
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            oriented = ImageOps.exif_transpose(image)
            buffer = io.BytesIO()
            if image_format == "JPEG":
                oriented.convert("RGB").save(buffer, format="JPEG", quality=90, optimize=True)
            elif image_format == "PNG":
                oriented.save(buffer, format="PNG", optimize=True)
            else:
                oriented.save(buffer, format="WEBP", quality=90)
    except Image.DecompressionBombError as error:
        raise attachment_error(
            "The image has too many pixels.",
            code=MessagingErrorCode.ATTACHMENT_TOO_LARGE,
            index=index,
            msg="too many pixels",
        ) from error
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise _refused(index, "not a PDF or a supported image") from error
    return buffer.getvalue(), IMAGE_FORMATS[image_format]


def prepare_attachment(upload: UploadedFile, *, index: int) -> PreparedFile:
    """Check upload number `index` and return what to store, or raise MessagingError (422)."""
    if not upload.size:
        raise _refused(index, "empty file")
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise attachment_error(
            f"Attachments may be at most {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB each.",
            code=MessagingErrorCode.ATTACHMENT_TOO_LARGE,
            index=index,
            msg="too large",
        )
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if data[:5] == b"%PDF-":
        content, content_type = data, "application/pdf"
    else:
        content, content_type = _reencoded(data, index)
    # The name as shown and offered on download: no folders, no control characters.
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return PreparedFile(
        content=ContentFile(content),
        original_name=name[-255:] or "attachment",
        content_type=content_type,
        size=len(content),
    )


def prepare_attachments(uploads: list[UploadedFile]) -> list[PreparedFile]:
    if len(uploads) > MAX_ATTACHMENTS:
        raise MessagingError(
            f"Send at most {MAX_ATTACHMENTS} files with one message.",
            code=MessagingErrorCode.TOO_MANY_ATTACHMENTS,
            errors=[{"loc": ["body", "files"], "msg": "too many files", "type": "too_many"}],
        )
    return [prepare_attachment(upload, index=index) for index, upload in enumerate(uploads)]
