"""API middleware: the body-size limit of the routes that carry attachments, and the error
contract for responses that never reach a ninja handler."""

from __future__ import annotations

import re
from http import HTTPStatus
from io import BytesIO

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _

from kefu.api.errors import ApiError

# POST /api/v1/tickets and POST /api/v1/tickets/{id}/messages: their JSON carries base64 files.
ATTACHMENT_ROUTES = re.compile(r"^/api/v1/tickets(/\d+/messages)?/?$")
# POST /api/v1/channels/email/inbound: one raw e-mail of up to KEFU_MAX_INBOUND_EMAIL_MB.
INBOUND_MAIL_ROUTE = re.compile(r"^/api/v1/channels/email/inbound/?$")
OVERHEAD_BYTES = 1024 * 1024
MB = 1024 * 1024


def attachment_body_limit() -> int:
    """Room for one attachment of ``MAX_UPLOAD_BYTES`` base64-encoded (4 bytes per 3) plus the
    rest of the request: all attachments of one request together get the size of one file."""
    return 4 * -(-settings.MAX_UPLOAD_BYTES // 3) + OVERHEAD_BYTES


def _body_limit(request) -> tuple[int, str] | None:
    """``(bytes allowed, the refusal)`` for a route with a limit of its own."""
    if request.method != "POST":
        return None
    if ATTACHMENT_ROUTES.match(request.path_info):
        return attachment_body_limit(), _(
            "The request is too large: at most %(mb)s MB of attachments per request."
        ) % {"mb": settings.MAX_UPLOAD_BYTES // MB}
    if INBOUND_MAIL_ROUTE.match(request.path_info):
        # Some slack, so the handler refuses a mail just over its limit with its own message.
        limit = settings.MAX_INBOUND_EMAIL_MB
        return limit * MB + OVERHEAD_BYTES, _("The e-mail is over the limit of %(limit)s MB.") % {
            "limit": limit
        }
    return None


class ApiAttachmentBodyMiddleware:
    """Read the body of the routes that carry files under their own, larger limit.

    Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (one attachment's size plus 1 MB) suits a multipart
    form, whose files do not count, but not base64 in JSON, which is a third larger: without
    this, files above about 19.5 MB of the documented 25 were refused with 413. Nor does it fit
    a raw e-mail of up to ``KEFU_MAX_INBOUND_EMAIL_MB`` (30). Every other request keeps Django's
    limit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        route_limit = _body_limit(request)
        if route_limit is not None:
            limit, refusal = route_limit
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            body = b"" if declared > limit else request.read(limit + 1)
            if declared > limit or len(body) > limit:
                return ApiError(413, refusal).response()
            # What HttpRequest.body would have stored, had it read the body itself.
            request._body = body
            request._stream = BytesIO(body)
        return self.get_response(request)


class ApiJsonErrorsMiddleware:
    """Some errors are produced outside the API's exception handler — ninja's own 405 for a
    wrong method, Django's CSRF or upload-size rejections — and would otherwise be plain text or
    HTML: turn them into the contract's JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            try:
                detail = HTTPStatus(response.status_code).phrase
            except ValueError:
                detail = "Error"
            replacement = JsonResponse(
                {"detail": detail, "errors": []}, status=response.status_code
            )
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response
