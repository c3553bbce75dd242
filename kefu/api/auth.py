"""Bearer-token authentication and the per-token request throttle."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, Throttled
from ninja.security import HttpBearer

from kefu.accounts.models import ApiToken, User, hash_token
from kefu.lib import counters

# ``last_used_at`` is for "when was this token last used" in the token list, not an audit log:
# writing it on every request would turn each read into a write on a hot row.
LAST_USED_RESOLUTION = timedelta(minutes=1)
THROTTLE_WINDOW_SECONDS = 60


class ExpiredToken(AuthenticationError):
    """A known token past its ``expires_at``: a ``401`` that says so (``detail``), so the
    integration's owner knows to create a new token rather than hunt for a typo."""

    def __init__(self, api_token: ApiToken):
        super().__init__()
        when = formats.date_format(timezone.localtime(api_token.expires_at), "DATETIME_FORMAT")
        self.detail = _("API token expired on %(date)s; create a new one.") % {"date": when}


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>`` against the SHA-256 hashes in ``ApiToken``."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        token = token.strip()
        if not token:
            return None
        api_token = (
            ApiToken.objects.active()
            .select_related("user")
            .filter(token_hash=hash_token(token))
            .first()
        )
        if api_token is None:
            expired = (
                ApiToken.objects.filter(
                    token_hash=hash_token(token),
                    revoked_at__isnull=True,
                    user__is_active=True,
                    expires_at__lte=timezone.now(),
                )
                .only("expires_at")
                .first()
            )
            if expired is not None:
                raise ExpiredToken(expired)
            return None
        check_throttle(api_token)
        record_use(api_token)
        user = api_token.user
        request.user = user
        if user.language:
            translation.activate(user.language)
        return user


def record_use(api_token: ApiToken) -> None:
    now = timezone.now()
    if api_token.last_used_at and now - api_token.last_used_at < LAST_USED_RESOLUTION:
        return
    # Conditional, so concurrent requests of one token write the row once per minute at most.
    ApiToken.objects.filter(pk=api_token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)


def check_throttle(api_token: ApiToken) -> None:
    """A fixed one-minute window per token, counted in ``kefu.lib.counters`` (per process while
    Redis is down); over the limit → ``429``."""
    now = time.time()
    window = int(now // THROTTLE_WINDOW_SECONDS)
    count = counters.increment(f"api-throttle:{api_token.pk}:{window}", THROTTLE_WINDOW_SECONDS * 2)
    if count > settings.API_THROTTLE_PER_MINUTE:
        raise Throttled(wait=int((window + 1) * THROTTLE_WINDOW_SECONDS - now) + 1)


def current_user(request: HttpRequest) -> User:
    """The user the request's token belongs to (set by ``BearerToken``)."""
    return request.auth  # type: ignore[attr-defined]
