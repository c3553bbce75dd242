"""Throttles of the forms anyone can post (issue 24, item 5): the Django admin's login, password
reset requests, and which client address they count — with the outsider cases."""

import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from kefu.demo.tests.test_run_command import RunningKefu, install_env, kefu  # noqa: F401
from kefu.lib.client_address import client_ip
from kefu.lib.jobs import run_pending_jobs
from kefu.test import PASSWORD

CSRF_TOKEN = re.compile(r"[A-Za-z0-9]{64}")
pytestmark = pytest.mark.usefixtures("fresh_counters")


def test_the_admin_login_page_is_the_console_login(client, db):
    to_admin = client.get("/admin/")
    assert to_admin.status_code == 302
    to_console = client.get(to_admin["Location"])
    assert to_console.status_code == 302
    assert to_console["Location"] == reverse("accounts:login") + "?next=%2Fadmin%2F"


def test_fifty_wrong_admin_passwords_then_the_right_one_do_not_log_in(client, cast):
    for _attempt in range(50):
        client.post("/admin/login/", {"username": cast.admin.email, "password": "guess"})
    client.post("/admin/login/", {"username": cast.admin.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session

    # Through the console login, where the admins are sent, the lock-out holds.
    for _attempt in range(50):
        client.post(reverse("accounts:login"), {"email": cast.admin.email, "password": "guess"})
    client.post(reverse("accounts:login"), {"email": cast.admin.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    # The outsider: another admin-less address from another client still logs in.
    other = Client(REMOTE_ADDR="192.0.2.80")
    other.post(reverse("accounts:login"), {"email": cast.agent.email, "password": PASSWORD})
    assert "_auth_user_id" in other.session


def _request_resets(client: Client, email: str, times: int) -> list[str]:
    pages = []
    for _request in range(times):
        response = client.post(reverse("accounts:password_reset"), {"email": email}, follow=True)
        # Each page has a fresh CSRF token; everything else must be the same.
        pages.append(CSRF_TOKEN.sub("", response.content.decode()))
    return pages


def test_twenty_reset_requests_send_a_few_mails(client, cast, mailoutbox, settings):
    pages = _request_resets(client, cast.carol.email, 20)
    run_pending_jobs()

    assert len(mailoutbox) == settings.LOGIN_MAX_FAILURES
    # The answer never changes, so a throttled request reveals nothing.
    assert len(set(pages)) == 1 and "If an account uses this address" in pages[0]
    # The outsider: another address from another client still gets its mail.
    _request_resets(Client(REMOTE_ADDR="192.0.2.81"), cast.alice.email, 1)
    run_pending_jobs()
    assert mailoutbox[-1].to == [cast.alice.email]


def test_one_client_cannot_reset_many_addresses(cast, mailoutbox, settings):
    spammer = Client(REMOTE_ADDR="192.0.2.82")
    limit = settings.LOGIN_MAX_FAILURES * 4
    users = [cast.carol, cast.alice, cast.alan, cast.bob, cast.bella, cast.agent, cast.admin]
    for index in range(limit + 10):
        _request_resets(spammer, users[index % len(users)].email, 1)
    run_pending_jobs()
    assert len(mailoutbox) == limit


def test_an_unknown_address_gets_the_same_answer_as_a_throttled_one(client, cast):
    throttled = _request_resets(client, cast.carol.email, 10)[-1]
    unknown = _request_resets(Client(REMOTE_ADDR="192.0.2.83"), "nobody@nowhere.example", 1)[0]
    assert throttled == unknown


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        ([], "127.0.0.1", "203.0.113.9", "127.0.0.1"),  # no proxy configured: header ignored
        (["10.0.0.5"], "127.0.0.1", "203.0.113.9", "127.0.0.1"),  # not from the proxy
        (["10.0.0.5"], "10.0.0.5", "203.0.113.9", "203.0.113.9"),
        (["10.0.0.0/8"], "10.0.0.5", "198.51.100.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (["10.0.0.5"], "10.0.0.5", "", "10.0.0.5"),
        (["10.0.0.5"], "10.0.0.5", "not-an-address", "10.0.0.5"),
        (["::1"], "::1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_x_forwarded_for_counts_only_from_trusted_proxies(
    settings, trusted, remote, forwarded, expected
):
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network(item) for item in trusted]
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_loopback_client_cannot_dodge_the_client_lockout_with_x_forwarded_for(
    install_env,  # noqa: F811 - the imported fixture
    tmp_path,
):
    """Through a real ``kefu run`` (uvicorn): a header naming a new address on every attempt
    must not make one client look like many (KEFU_TRUSTED_PROXIES is empty)."""
    import httpx

    password = "correct horse battery staple"
    assert kefu(install_env, "migrate").returncode == 0
    created = kefu(
        install_env,
        *["user", "create", "--email", "agent@kefu.example", "--name", "Agent"],
        *["--role", "agent", "--group", "Support", "--password", password],
    )
    assert created.returncode == 0, created.stderr
    server = RunningKefu(install_env, tmp_path / "kefu.log")
    try:
        server.wait_until(lambda: server.responds("/readyz"), "ready (/readyz)")
        with httpx.Client(base_url=server.base_url, timeout=30) as browser:

            def log_in(email: str, attempt_password: str, n: int) -> httpx.Response:
                page = browser.get("/accounts/login/")
                csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
                assert csrf, page.text
                return browser.post(
                    "/accounts/login/",
                    data={
                        "csrfmiddlewaretoken": csrf[1],
                        "email": email,
                        "password": attempt_password,
                    },
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                )

            client_limit = 5 * 4  # KEFU_LOGIN_MAX_FAILURES × 4 for one client
            for n in range(client_limit):
                log_in(f"guess{n}@kefu.example", "wrong", n)
            response = log_in("agent@kefu.example", password, 200)
        assert response.status_code == 200
        assert "Too many failed attempts" in response.text
    finally:
        server.kill()
