"""Apply the logged-in user's language and time zone to each request."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation


class UserPreferencesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        previous_language = translation.get_language()
        user = getattr(request, "user", None)
        language = (
            getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        )
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        zone_name = (
            getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
        )
        try:
            timezone.activate(zoneinfo.ZoneInfo(zone_name or settings.TIME_ZONE))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(settings.TIME_ZONE))
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        if not response.streaming:
            # The thread serves other requests (and, in tests, other tests) next: leave it as we
            # found it. A streaming response still renders after this, in the user's settings.
            translation.activate(previous_language)
            timezone.deactivate()
        return response
