"""Attachments: downloading them, and decoding the base64 files that requests carry."""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from kefu.api.auth import current_user
from kefu.api.errors import PayloadTooLarge
from kefu.api.schemas import AttachmentIn, ErrorOut
from kefu.tickets.access import get_attachment_for_user
from kefu.tickets.actions import UploadedFile

router = Router(tags=["attachments"])

# Shown in the browser when opened; every other type (HTML, SVG, scripts, …) is always a
# download, so an uploaded file can never run as a page of this site.
INLINE_CONTENT_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}
)


@router.get(
    "/{int:attachment_id}",
    response={401: ErrorOut, 404: ErrorOut},
    url_name="download_attachment",
    summary="Download an attachment",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file; images and PDF inline, anything else as a download.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def download_attachment(request: HttpRequest, attachment_id: int):
    attachment = get_attachment_for_user(current_user(request), attachment_id)
    is_inline = attachment.content_type in INLINE_CONTENT_TYPES
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not is_inline,
        filename=attachment.filename,
        content_type=attachment.content_type if is_inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def decode_attachments(items: list[AttachmentIn]) -> list[UploadedFile]:
    """Decode base64 attachments; a bad encoding is ``422``, a file over the limit ``413``."""
    files = []
    for index, item in enumerate(items):
        field = f"attachments.{index}.content_base64"
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError({field: _("This is not valid base64.")}) from None
        if len(content) > settings.MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(
                _("%(name)s is larger than the limit of %(mb)s MB.")
                % {"name": item.filename, "mb": settings.MAX_UPLOAD_BYTES // (1024 * 1024)},
                field=field,
            )
        files.append(
            UploadedFile(filename=item.filename, content=content, content_type=item.content_type)
        )
    return files
