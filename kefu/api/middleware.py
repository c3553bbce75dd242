"""Keep the API's error contract for responses that never reach a ninja handler.

Some errors are produced outside the API's exception handler — ninja's own 405 for a wrong
method, Django's CSRF or upload-size rejections — and would otherwise be plain text or HTML.
"""

from __future__ import annotations

from http import HTTPStatus

from django.http import JsonResponse


class ApiJsonErrorsMiddleware:
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
