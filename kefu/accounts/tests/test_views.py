from django.urls import reverse

from kefu.accounts import throttle
from kefu.lib import counters
from kefu.test import PASSWORD


def test_it_logs_staff_in_and_sends_them_to_the_console(client, cast):
    response = client.post(
        reverse("accounts:login"), {"email": "AGENT@kefu.example", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).redirect_chain[-1][0] == reverse(
        "tickets:list"
    )


def test_customer_lands_in_the_portal(client, cast):
    client.post(reverse("accounts:login"), {"email": cast.alice.email, "password": PASSWORD})
    assert client.get(reverse("home"))["Location"] == reverse("portal:tickets")


def test_wrong_password_is_refused_with_a_message(client, cast):
    response = client.post(
        reverse("accounts:login"), {"email": cast.agent.email, "password": "nope"}
    )
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def _forget_failures(email):
    # Only these keys: clearing the whole cache would flush a shared Redis database.
    counters.reset(*throttle._keys("login-fail", email, "127.0.0.1"))


def test_it_locks_out_after_repeated_failures(client, cast, settings):
    _forget_failures(cast.agent.email)
    for _attempt in range(settings.LOGIN_MAX_FAILURES):
        client.post(reverse("accounts:login"), {"email": cast.agent.email, "password": "wrong"})
    response = client.post(
        reverse("accounts:login"), {"email": cast.agent.email, "password": PASSWORD}
    )
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    _forget_failures(cast.agent.email)


def test_login_ignores_an_offsite_next(client, cast):
    response = client.post(
        reverse("accounts:login") + "?next=https://evil.example/",
        {"email": cast.agent.email, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("home")


def test_deactivated_user_cannot_log_in(client, cast):
    cast.agent.is_active = False
    cast.agent.save()
    response = client.post(
        reverse("accounts:login"), {"email": cast.agent.email, "password": PASSWORD}
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_language_switch_is_remembered_in_the_profile(client, cast):
    client.force_login(cast.agent)
    client.post(reverse("accounts:switch_language"), {"language": "zh-hans", "next": "/tickets/"})
    cast.agent.refresh_from_db()
    assert cast.agent.language == "zh-hans"
    client.post(reverse("accounts:switch_language"), {"language": "en", "next": "/tickets/"})
    cast.agent.refresh_from_db()
    assert cast.agent.language == "en"


def test_anonymous_language_switch_sets_the_cookie_only(client, db):
    response = client.post(
        reverse("accounts:switch_language"), {"language": "zh-hant", "next": "/accounts/login/"}
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "zh-hant"


def test_it_rejects_an_unknown_language(client, cast):
    client.force_login(cast.agent)
    client.post(reverse("accounts:switch_language"), {"language": "xx", "next": "/tickets/"})
    cast.agent.refresh_from_db()
    assert cast.agent.language == ""


def test_preferences_reject_an_unknown_time_zone(client, cast):
    client.force_login(cast.agent)
    response = client.post(
        reverse("accounts:preferences"), {"language": "", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 200
    assert "Unknown time zone" in response.content.decode()


def test_preferences_need_a_login(client, db):
    response = client.get(reverse("accounts:preferences"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_healthz_and_readyz(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"
