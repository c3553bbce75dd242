"""Errors actions raise; views and the API turn them into messages and status codes.

- ``django.core.exceptions.ValidationError`` (with field names): bad input → form errors / 422.
- ``BusinessRuleError``: the input is well-formed but the rule forbids it → message / 400.
- ``django.core.exceptions.PermissionDenied``: visible but not allowed → 403.
- ``django.http.Http404``: not visible → 404.
"""


class BusinessRuleError(Exception):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
