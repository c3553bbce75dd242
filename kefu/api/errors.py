"""Every API error as JSON ``{detail, errors: [{field, message}]}`` with the contract's status codes.

``describe`` turns an exception into its status and body; the one exception handler installed on
the API and the idempotency layer (which stores 4xx responses for replay) both use it, so a
replayed error is byte-for-byte what the first request got.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as SchemaValidationError

from kefu.api.parser import UnsafeText
from kefu.lib.errors import BusinessRuleError

logger = logging.getLogger(__name__)

# Where ninja found a parameter; the first element of a pydantic error location.
_PARAM_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


class PayloadTooLarge(Exception):
    """An upload (or the whole request) is over the configured size limit: ``413``."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Conflict(Exception):
    """The request collides with another one still running: ``409``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TemporarilyUnavailable(Exception):
    """A transient failure (the database busy or unreachable): ``503`` with ``Retry-After``;
    nothing was stored, so the client sends the same request again later."""

    def __init__(self, message: str, *, retry_after: int = 60):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass
class ApiError:
    status: int
    detail: str
    errors: list[dict] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> dict:
        return {"detail": self.detail, "errors": self.errors}

    def response(self) -> JsonResponse:
        response = JsonResponse(
            self.body, status=self.status, json_dumps_params={"ensure_ascii": False}
        )
        for name, value in self.headers.items():
            response[name] = value
        return response


def field_error(field_name: str | None, message: str) -> dict:
    return {"field": field_name, "message": message}


def _invalid(errors: list[dict]) -> ApiError:
    detail = (
        errors[0]["message"]
        if len(errors) == 1
        else _("The request is invalid; see the errors for each field.")
    )
    return ApiError(422, detail, errors)


def _location_to_field(location: tuple | list) -> str:
    """``("body", "payload", "customer", "email")`` → ``customer.email``.

    Ninja puts the parameter's source first and, for a JSON body, the name of the handler's body
    argument second; neither means anything to a client.
    """
    parts = [str(part) for part in location]
    if parts and parts[0] in _PARAM_SOURCES:
        source, parts = parts[0], parts[1:]
        if source == "body" and parts:
            parts = parts[1:]
    return ".".join(parts) or "body"


def _schema_message(error: dict) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    return str(error.get("msg", _("Invalid value.")))


def _from_django_validation(error: DjangoValidationError) -> ApiError:
    if hasattr(error, "error_dict"):
        errors = [
            field_error(None if name == NON_FIELD_ERRORS else name, message)
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    else:
        errors = [field_error(None, message) for message in error.messages]
    return _invalid(errors)


def _from_http_error(error: HttpError) -> ApiError:
    if isinstance(error.__cause__, UnsafeText):
        # ninja wraps whatever its body parser raises in a 400.
        return _invalid([field_error(error.__cause__.field, error.__cause__.message)])
    if isinstance(error.__cause__, RequestDataTooBig):
        return ApiError(413, _("The request is too large."))
    if error.status_code == 400 and isinstance(error.__cause__, ValueError):
        # ninja could not parse the body; ``json.JSONDecodeError`` is a ``ValueError``.
        message = _("The request body is not valid JSON.")
        return ApiError(422, message, [field_error("body", message)])
    return ApiError(error.status_code, error.message)


def describe(exc: Exception) -> ApiError | None:
    """The API error for an expected exception; ``None`` for a bug (which becomes a 500)."""
    if isinstance(exc, Throttled):
        wait = max(1, int(exc.wait or 1))
        return ApiError(
            429,
            _("Too many requests; retry in %(seconds)s seconds.") % {"seconds": wait},
            headers={"Retry-After": str(wait)},
        )
    if isinstance(exc, AuthenticationError):
        return ApiError(
            401,
            # ``detail``: a more precise reason, e.g. kefu.api.auth.ExpiredToken.
            getattr(exc, "detail", None)
            or _("Missing or invalid API token; send the header Authorization: Bearer <token>."),
            headers={"WWW-Authenticate": "Bearer"},
        )
    if isinstance(exc, HttpError):
        return _from_http_error(exc)
    if isinstance(exc, UnsafeText):
        return _invalid([field_error(exc.field, exc.message)])
    if isinstance(exc, SchemaValidationError):
        return _invalid(
            [
                field_error(_location_to_field(e.get("loc", ())), _schema_message(e))
                for e in exc.errors
            ]
        )
    if isinstance(exc, DjangoValidationError):
        return _from_django_validation(exc)
    if isinstance(exc, BusinessRuleError):
        errors = [field_error(exc.field, exc.message)] if exc.field else []
        return ApiError(400, exc.message, errors)
    if isinstance(exc, PermissionDenied):
        return ApiError(403, str(exc) or _("You are not allowed to do this."))
    if isinstance(exc, Http404):
        return ApiError(404, _("Not found"))
    if isinstance(exc, PayloadTooLarge):
        return ApiError(
            413, exc.message, [field_error(exc.field, exc.message)] if exc.field else []
        )
    if isinstance(exc, RequestDataTooBig):
        return ApiError(413, _("The request is too large."))
    if isinstance(exc, Conflict):
        return ApiError(409, exc.message)
    if isinstance(exc, TemporarilyUnavailable):
        return ApiError(503, exc.message, headers={"Retry-After": str(exc.retry_after)})
    return None


def handle_exception(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The API's only exception handler: known errors by ``describe``, anything else a JSON 500."""
    error = describe(exc)
    if error is None:
        logger.error("API error on %s %s", request.method, request.path, exc_info=exc)
        error = ApiError(500, _("Internal error"))
    return error.response()
