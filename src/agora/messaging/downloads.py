"""Handing out a message's file, for the API and the portals alike."""

from __future__ import annotations

from django.http import FileResponse

from agora.messaging.models import Attachment


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file as a download. Images were re-encoded when sent, so they may show inline
    (in the thread); anything else is offered as a file to save, never rendered by the
    browser. The caller has checked that the person may have it (`attachment_get`)."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not attachment.is_image,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
