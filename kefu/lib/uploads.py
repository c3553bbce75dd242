"""Files people upload (ticket attachments, product documents): one shape and one set of limits
(``KEFU_MAX_UPLOAD_MB``, blocked extensions) for every app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kefu.lib.filenames import blocked_extension


@dataclass(frozen=True)
class UploadedFile:
    """A file to attach, independent of where it came from (form upload, API, e-mail)."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


def validate_upload(upload: UploadedFile) -> None:
    name = PurePosixPath(upload.filename.replace("\\", "/")).name
    if not name:
        raise ValidationError({"attachments": _("An attachment has no file name.")})
    extension = blocked_extension(name, settings.BLOCKED_UPLOAD_EXTENSIONS)
    if extension is not None:
        raise ValidationError(
            {
                "attachments": _("Files of type .%(ext)s are not accepted: %(name)s")
                % {"ext": extension, "name": name}
            }
        )
    if len(upload.content) > settings.MAX_UPLOAD_BYTES:
        raise ValidationError(
            {
                "attachments": _("%(name)s is larger than the limit of %(mb)s MB.")
                % {"name": name, "mb": settings.MAX_UPLOAD_BYTES // (1024 * 1024)}
            }
        )
