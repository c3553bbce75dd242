"""Redis stops while Kefu runs: logins and the API keep working, throttles keep counting in the
process, live updates are dropped, and ``/readyz`` says Redis is failing (issue 24, item 4).

A real redis-server of the test's own is stopped mid-test; the machine's shared one is never
touched.
"""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from kefu.lib import counters
from kefu.test import PASSWORD


@pytest.fixture
def redis_settings(settings, private_redis, monkeypatch):
    settings.REDIS_URL = private_redis.url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
            "KEY_PREFIX": "outage-test",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": private_redis.url, "socket_connect_timeout": 1}]},
        }
    }
    # The outage memory and the local counters are per process: start and end each test clean.
    monkeypatch.setattr(counters, "_shared_down_until", 0.0)
    counters._local.clear()
    yield private_redis
    counters._local.clear()


def _api(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def _login(email: str, password: str) -> Client:
    client = Client()
    client.post(reverse("accounts:login"), {"email": email, "password": password})
    return client


def test_it_keeps_the_api_and_logins_working_when_redis_stops(
    cast, redis_settings, django_capture_on_commit_callbacks
):
    api = _api(cast.token(cast.agent))
    assert api.get("/api/v1/tickets").status_code == 200
    assert Client().get("/readyz").status_code == 200

    redis_settings.stop()

    assert api.get("/api/v1/tickets").status_code == 200
    with django_capture_on_commit_callbacks(execute=True) as published:
        created = api.post(
            "/api/v1/tickets",
            {
                "subject": "Redis is down 缓存宕机",
                "body": "still works",
                "customer": {"email": cast.alice.email},
            },
            content_type="application/json",
        )
    assert created.status_code == 201, created.content
    assert published  # the live updates were attempted, failed and were dropped
    assert "_auth_user_id" in _login(cast.agent.email, PASSWORD).session
    assert "_auth_user_id" in _login(cast.alice.email, PASSWORD).session

    ready = Client().get("/readyz")
    assert ready.status_code == 503
    assert any(problem.startswith("redis unreachable") for problem in ready.json()["problems"])


def test_the_login_lockout_still_holds_while_redis_is_down(cast, redis_settings, settings):
    redis_settings.stop()
    for _attempt in range(settings.LOGIN_MAX_FAILURES):
        _login(cast.agent.email, "wrong password")

    locked = Client()
    response = locked.post(
        reverse("accounts:login"), {"email": cast.agent.email, "password": PASSWORD}
    )
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in locked.session
    # The outsider: another address from another client is not locked out by it.
    assert "_auth_user_id" in _login(cast.supervisor.email, PASSWORD).session


def test_the_api_throttle_still_holds_while_redis_is_down(cast, redis_settings, settings):
    settings.API_THROTTLE_PER_MINUTE = 3
    redis_settings.stop()
    api = _api(cast.token(cast.agent))
    statuses = [api.get("/api/v1/tickets").status_code for _request in range(4)]

    assert statuses[:3] == [200, 200, 200]
    # Unless the minute turned over between the requests, the fourth is over the limit.
    assert statuses[3] in (429, 200)
    throttled = [api.get("/api/v1/tickets") for _request in range(3)]
    assert any(response.status_code == 429 for response in throttled)
    assert all(r["Retry-After"] for r in throttled if r.status_code == 429)
    # The outsider: another token has its own count.
    assert _api(cast.token(cast.tech_agent)).get("/api/v1/tickets").status_code == 200


def test_it_counts_in_redis_again_once_it_is_back(db, redis_settings, monkeypatch):
    assert counters.increment("outage-probe", 60) == 1
    assert cache.get("outage-probe") == 1  # shared
    redis_settings.stop()
    assert counters.increment("outage-probe", 60) == 1  # local: the shared count is unreachable
    assert counters.increment("outage-probe", 60) == 2

    redis_settings.start()  # empty: it kept nothing on disk
    assert counters.increment("outage-probe", 60) == 3  # still inside the retry pause: local
    monkeypatch.setattr(counters, "_shared_down_until", 0.0)  # as if the pause had passed
    assert counters.increment("outage-probe", 60) == 1
    assert cache.get("outage-probe") == 1
