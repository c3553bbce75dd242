"""OAuth2 mailboxes end to end, offline: a fake authorisation server on loopback, Dovecot with an
``oauth2`` passdb asking it about tokens, and an aiosmtpd listener accepting only XOAUTH2.

The administrator connects through the console (the test client follows the redirect to the
fake server and back), Kefu polls over IMAP XOAUTH2 and answers over SMTP XOAUTH2, refreshes
access tokens before they expire, and shows "reconnect needed" when the consent is revoked.
"""

from __future__ import annotations

import base64
import email
import http.client
import urllib.parse
from datetime import timedelta
from email import policy

import pytest
import time_machine
from django.conf import settings
from django.core import mail as django_mail
from django.test import Client
from django.utils import timezone

from kefu.audit.models import AuditEntry
from kefu.intake.email import oauth as protocol
from kefu.intake.models import Mailbox, encrypt_secret
from kefu.intake.tests.conftest import build_mail
from kefu.intake.tests.dovecot import free_port, running_dovecot
from kefu.intake.tests.fake_oauth import FakeAuthorizationServer, running
from kefu.lib.jobs import run_pending_jobs
from kefu.lib.tick import run_tick_once
from kefu.test import PASSWORD
from kefu.tickets.actions import add_message
from kefu.tickets.models import Message, Ticket

ADDRESS = "support@kefu.example"


@pytest.fixture(scope="module")
def authorization_server():
    with running(FakeAuthorizationServer(account=ADDRESS)) as fake:
        yield fake


@pytest.fixture
def fake(authorization_server):
    """The module's server, with this test's tokens only."""
    server = authorization_server
    with server.lock:
        for store in (server.codes, server.refresh_tokens, server.access_tokens):
            store.clear()
        server.authorize_requests.clear()
        server.token_requests.clear()
        server.account = ADDRESS
        server.expires_in = 3600
    return server


@pytest.fixture(scope="module")
def dovecot(authorization_server):
    auth = """
auth_mechanisms = xoauth2 oauthbearer
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/dovecot-oauth2.conf.ext
}
"""
    oauth2 = f"""
introspection_mode = post
introspection_url = {authorization_server.base_url}/introspect
username_attribute = email
active_attribute = active
active_value = true
force_introspection = yes
"""
    with running_dovecot(
        auth, mailbox_name="support", files={"dovecot-oauth2.conf.ext": oauth2}
    ) as server:
        yield server


class XOAuth2Listener:
    """An SMTP server that accepts XOAUTH2 with a token the fake server calls active."""

    def __init__(self, fake: FakeAuthorizationServer):
        self.fake = fake
        self.logins: list[str] = []
        self.messages: list[email.message.EmailMessage] = []

    async def auth_XOAUTH2(self, server, args):  # noqa: N802 - aiosmtpd's naming
        from aiosmtpd.smtp import AuthResult

        if len(args) > 1:
            blob = base64.b64decode(args[1])
        else:
            blob = await server.challenge_auth("")
        fields = dict(part.split("=", 1) for part in blob.decode().split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        answer = self.fake.introspect({"token": token})
        if answer.get("active") and answer.get("email") == fields.get("user"):
            self.logins.append(fields["user"])
            return AuthResult(success=True, auth_data=fields["user"])
        # RFC 7628 style: an error challenge, the client's empty answer, then 535.
        await server.challenge_auth('{"status":"401","schemes":"bearer"}')
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_listener(fake):
    from aiosmtpd.controller import Controller

    handler = XOAuth2Listener(fake)
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN", "PLAIN"],
    )
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


@pytest.fixture
def oauth_mailbox(cast, fake, dovecot, smtp_listener):
    from kefu.intake.actions import save_mailbox

    dovecot.empty()
    return save_mailbox(
        cast.admin,
        name="Support",
        email_address=ADDRESS,
        from_name="Kefu 客服",
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security="none",
        imap_user=ADDRESS,
        smtp_host="127.0.0.1",
        smtp_port=smtp_listener[0],
        smtp_security="none",
        authentication="oauth2",
        oauth_client_id=fake.client_id,
        oauth_client_secret=fake.client_secret,
        oauth_authorize_url=f"{fake.base_url}/authorize",
        oauth_token_url=f"{fake.base_url}/token",
        oauth_scopes="openid email mail",
        group=cast.cs,
    )


def login(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def visit_provider(location: str) -> str:
    """What the browser does at the provider: GET the authorisation URL (the fake consents at
    once) and return where it redirects back to."""
    url = urllib.parse.urlsplit(location)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        connection.request("GET", f"{url.path}?{url.query}")
        response = connection.getresponse()
        response.read()
        assert response.status == 302, response.status
        return response.getheader("Location", "")
    finally:
        connection.close()


def connect(client: Client, mailbox: Mailbox):
    """Click Connect, consent at the provider, come back to Kefu's callback."""
    started = client.post(f"/intake/mailboxes/{mailbox.pk}/connect/")
    assert started.status_code == 302, started.content
    back = visit_provider(started["Location"])
    assert back.startswith(settings.SITE_URL + "/intake/mailboxes/oauth/callback/")
    return client.get(back.removeprefix(settings.SITE_URL), follow=True)


def poll(mailbox) -> None:
    """What ``kefu tick`` and the worker do: claim the due mailbox, run the fetch job."""
    Mailbox.objects.filter(pk=mailbox.pk).update(next_fetch_at=None)
    assert run_tick_once()["mailboxes"] == 1
    run_pending_jobs()


def test_an_admin_connects_the_mailbox_and_mail_is_fetched_and_answered_over_xoauth2(
    cast, fake, dovecot, smtp_listener, oauth_mailbox
):
    _port, listener = smtp_listener
    admin = login(cast.admin)
    page = admin.get(f"/intake/mailboxes/{oauth_mailbox.pk}/")
    redirect_uri = settings.SITE_URL + "/intake/mailboxes/oauth/callback/"
    assert redirect_uri.encode() in page.content and b"not connected" in page.content

    answer = connect(admin, oauth_mailbox)
    [request] = fake.authorize_requests
    assert request["redirect_uri"] == redirect_uri and request["client_id"] == fake.client_id
    assert request["code_challenge_method"] == "S256" and request["scope"] == "openid email mail"
    assert request["login_hint"] == ADDRESS
    assert f"is connected as {ADDRESS}".encode() in answer.content
    mailbox = Mailbox.objects.get()
    assert mailbox.oauth_status == "connected" and mailbox.oauth_account == ADDRESS
    [(refresh_token, _grant)] = fake.refresh_tokens.items()
    assert mailbox.oauth_refresh_token == refresh_token
    assert refresh_token not in mailbox.oauth_refresh_token_encrypted  # stored encrypted
    assert fake.client_secret not in mailbox.oauth_client_secret_encrypted
    [entry] = AuditEntry.objects.filter(action="mailbox.oauth_connected")
    assert entry.actor == cast.admin and entry.changes["oauth_account"] == ["", ADDRESS]

    dovecot.drop(build_mail(sender="Li Lei <li.lei@customer.example>", message_id="<o1@c.example>"))
    poll(mailbox)
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""
    ticket = Ticket.objects.get()
    assert ticket.contact.email == "li.lei@customer.example" and dovecot.count("new") == 0
    [acknowledgement] = listener.messages
    assert acknowledgement["In-Reply-To"] == "<o1@c.example>" and listener.logins == [ADDRESS]

    reply = add_message(cast.agent, ticket, body="请重启打印机。")
    run_pending_jobs()
    reply.refresh_from_db()
    assert reply.customer_notified_at is not None and reply.delivery_error == ""
    assert listener.messages[-1]["Message-ID"] == reply.message_id
    assert "support@kefu.example" in listener.messages[-1]["From"]
    assert fake.grants_by("refresh_token") == []  # the first access token was still valid


def test_outsiders_cannot_connect_a_mailbox_or_use_the_callback(cast, fake, oauth_mailbox):
    # The console's one rule (docs/architecture.md, "Permission guards"): staff without the role
    # get 403, customers 404.
    for who, status in ((cast.agent, 403), (cast.supervisor, 403), (cast.alice, 404)):
        client = login(who)
        assert client.post(f"/intake/mailboxes/{oauth_mailbox.pk}/connect/").status_code == status
        assert client.get("/intake/mailboxes/oauth/callback/?code=x&state=y").status_code == status
    assert fake.authorize_requests == []


def test_a_callback_from_another_session_or_a_replayed_one_connects_nothing(
    cast, fake, oauth_mailbox
):
    admin = login(cast.admin)
    started = admin.post(f"/intake/mailboxes/{oauth_mailbox.pk}/connect/")
    back = visit_provider(started["Location"]).removeprefix(settings.SITE_URL)

    # The same administrator in another browser (no pending attempt in that session).
    other = login(cast.admin).get(back, follow=True)
    assert b"not from the last Connect in this browser" in other.content
    forged = admin.get(back.replace("state=", "state=x"), follow=True)
    assert b"not from the last Connect in this browser" in forged.content
    # The forged answer used the pending attempt up: the genuine one is refused too.
    replayed = admin.get(back, follow=True)
    assert b"not from the last Connect in this browser" in replayed.content
    assert fake.grants_by("authorization_code") == []
    assert Mailbox.objects.get().oauth_status == "not_connected"


def test_a_refusal_at_the_provider_is_shown_and_keeps_the_mailbox_unconnected(
    cast, fake, oauth_mailbox
):
    admin = login(cast.admin)
    admin.post(f"/intake/mailboxes/{oauth_mailbox.pk}/connect/")
    state = admin.session["kefu_mailbox_oauth"]
    from django.core import signing

    from kefu.intake.oauth import STATE_SALT

    signed = signing.dumps({"mailbox": state["mailbox"], "nonce": state["nonce"]}, salt=STATE_SALT)
    answer = admin.get(
        "/intake/mailboxes/oauth/callback/",
        {"error": "access_denied", "error_description": "The user declined", "state": signed},
        follow=True,
    )
    assert b"The provider did not connect the mailbox: The user declined" in answer.content
    assert Mailbox.objects.get().oauth_status == "not_connected"


def test_the_tick_refreshes_the_access_token_before_it_expires_and_fetching_after_expiry_refreshes(
    cast, fake, dovecot, oauth_mailbox
):
    connect(login(cast.admin), oauth_mailbox)
    mailbox = Mailbox.objects.get()
    first_access, first_refresh = mailbox.oauth_access_token, mailbox.oauth_refresh_token
    expires_at = mailbox.oauth_access_token_expires_at
    assert run_tick_once()["mailbox_tokens"] == 0

    with time_machine.travel(expires_at - timedelta(minutes=4), tick=False):
        assert run_tick_once()["mailbox_tokens"] == 1
        assert run_tick_once()["mailbox_tokens"] == 0  # claimed once
        run_pending_jobs()
        mailbox.refresh_from_db()
        assert mailbox.oauth_access_token != first_access
        assert mailbox.oauth_refresh_token != first_refresh  # the rotated one is kept
        assert mailbox.oauth_access_token_expires_at > expires_at
        assert len(fake.grants_by("refresh_token")) == 1

    # The tick did not run for two hours: the fetch path refreshes the expired token itself.
    later = mailbox.oauth_access_token_expires_at + timedelta(minutes=30)
    with time_machine.travel(later, tick=False):
        dovecot.drop(build_mail(message_id="<late@c.example>"))
        poll(mailbox)
        mailbox.refresh_from_db()
        assert mailbox.last_error == "" and Ticket.objects.count() == 1
        assert len(fake.grants_by("refresh_token")) == 2
        assert mailbox.oauth_access_token_expires_at > later


def test_revoked_consent_shows_reconnect_needed_tells_the_admins_and_connecting_again_heals(
    cast, fake, dovecot, smtp_listener, oauth_mailbox, client
):
    admin = login(cast.admin)
    connect(admin, oauth_mailbox)
    mailbox = Mailbox.objects.get()
    fake.revoke(ADDRESS)  # the user removed the app's access at the provider

    dovecot.drop(build_mail(message_id="<after-revoke@c.example>"))
    django_mail.outbox.clear()
    poll(mailbox)  # the stored access token is refused, and so is the refresh
    mailbox.refresh_from_db()
    assert mailbox.oauth_status == "reconnect_needed"
    assert "reconnect needed" in mailbox.last_error and "invalid_grant" in mailbox.last_error
    assert Ticket.objects.count() == 0 and dovecot.count("new") == 1  # nothing lost

    assert b"reconnect needed" in admin.get("/intake/mailboxes/").content
    assert b"reconnect needed" in admin.get(f"/intake/mailboxes/{mailbox.pk}/").content
    ready = client.get("/readyz").json()
    assert ready["status"] == "ok"
    assert "mailbox Support: OAuth2 reconnect needed" in ready["warnings"]

    [notice] = django_mail.outbox  # sent by the job the refusal enqueued
    assert notice.to == [cast.admin.email] and "Support" in notice.subject
    assert f"/intake/mailboxes/{mailbox.pk}/" in notice.body
    poll(mailbox)  # still refused: no second notice, no second refresh attempt
    run_pending_jobs()
    assert len(django_mail.outbox) == 1
    assert len(fake.grants_by("refresh_token")) == 1

    connect(admin, mailbox)
    poll(mailbox)
    mailbox.refresh_from_db()
    assert mailbox.oauth_status == "connected" and mailbox.oauth_reconnect_notified_at is None
    assert Ticket.objects.count() == 1 and dovecot.count("new") == 0
    assert (
        "mailbox Support: OAuth2 reconnect needed" not in client.get("/readyz").json()["warnings"]
    )


def test_a_reply_through_a_revoked_mailbox_is_kept_with_the_reason(
    cast, fake, smtp_listener, oauth_mailbox, make_ticket
):
    from kefu.intake.models import InboundEmail, Outcome
    from kefu.tickets.models import Channel

    connect(login(cast.admin), oauth_mailbox)
    mailbox = Mailbox.objects.get()
    ticket = make_ticket(channel=Channel.EMAIL)
    InboundEmail.objects.create(
        mailbox=mailbox, dedup_key="<x@c>", outcome=Outcome.TICKET_CREATED, ticket=ticket
    )
    Mailbox.objects.filter(pk=mailbox.pk).update(
        oauth_access_token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    fake.revoke(ADDRESS)
    reply = add_message(cast.agent, ticket, body="Hello")
    run_pending_jobs()
    reply = Message.objects.get(pk=reply.pk)
    assert reply.customer_notified_at is None
    assert "invalid_grant" in reply.delivery_error
    assert smtp_listener[1].messages == []


def test_changing_the_provider_settings_forgets_the_tokens(cast, fake, oauth_mailbox):
    from kefu.intake.actions import save_mailbox

    connect(login(cast.admin), oauth_mailbox)
    mailbox = Mailbox.objects.get()
    save_mailbox(cast.admin, mailbox, from_name="Kefu Support")
    assert Mailbox.objects.get().oauth_status == "connected"
    save_mailbox(cast.admin, mailbox, oauth_client_id="another-app")
    mailbox = Mailbox.objects.get()
    assert mailbox.oauth_status == "not_connected" and mailbox.oauth_refresh_token == ""


def test_an_admin_adds_an_oauth_mailbox_in_the_console_and_is_sent_on_to_connect_it(cast):
    client = login(cast.admin)
    data = {
        "name": "Contoso",
        "email_address": "help@contoso.example",
        "imap_host": "outlook.office365.com",
        "imap_port": 993,
        "imap_security": "ssl",
        "imap_user": "help@contoso.example",
        "imap_folder": "INBOX",
        "smtp_host": "smtp.office365.com",
        "smtp_port": 587,
        "smtp_security": "starttls",
        "poll_interval_seconds": 120,
        "is_active": "on",
        "authentication": "microsoft",
        "oauth_client_id": "11111111-2222",
        "oauth_client_secret": "very-secret-value",
    }
    response = client.post("/intake/mailboxes/new/", data)
    mailbox = Mailbox.objects.get()
    assert response["Location"] == f"/intake/mailboxes/{mailbox.pk}/"
    page = client.get(response["Location"])
    assert b"very-secret-value" not in page.content
    assert f'action="/intake/mailboxes/{mailbox.pk}/connect/"'.encode() in page.content
    client.post(f"/intake/mailboxes/{mailbox.pk}/", {**data, "oauth_client_secret": ""})
    assert Mailbox.objects.get().oauth_client_secret == "very-secret-value"  # empty keeps it

    started = client.post(f"/intake/mailboxes/{mailbox.pk}/connect/")
    location = urllib.parse.urlsplit(started["Location"])
    assert location.netloc == "login.microsoftonline.com"
    assert location.path == "/organizations/oauth2/v2.0/authorize"


def test_oauth_settings_are_checked_when_saved(cast):
    response = login(cast.admin).post(
        "/intake/mailboxes/new/",
        {
            "name": "Cloud",
            "email_address": "cloud@kefu.example",
            "imap_host": "imap.example.com",
            "imap_port": 993,
            "imap_security": "ssl",
            "imap_user": "cloud@kefu.example",
            "imap_folder": "INBOX",
            "smtp_host": "smtp.example.com",
            "smtp_port": 465,
            "smtp_security": "ssl",
            "poll_interval_seconds": 120,
            "authentication": "oauth2",
            "oauth_client_id": "app",
            "oauth_authorize_url": "http://idp.example.com/authorize",
            "oauth_token_url": "",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "https://" in form.errors["oauth_authorize_url"][0]
    assert form.errors["oauth_token_url"] and form.errors["oauth_client_secret"]
    assert not form.errors.get("imap_password")  # OAuth2 mailboxes need no password
    assert not Mailbox.objects.exists()


def test_the_provider_presets_ask_for_the_mail_scopes_with_pkce(cast):
    mailbox = Mailbox(
        authentication="microsoft", oauth_client_id="app-id", imap_user="help@contoso.com"
    )
    url = urllib.parse.urlsplit(
        protocol.authorization_url(mailbox, state="s", code_challenge="c", redirect_uri="r")
    )
    query = dict(urllib.parse.parse_qsl(url.query))
    assert url.netloc == "login.microsoftonline.com"
    assert url.path == "/organizations/oauth2/v2.0/authorize"
    assert query["scope"].split()[:3] == [
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
        "offline_access",
    ]
    assert query["code_challenge_method"] == "S256" and query["login_hint"] == "help@contoso.com"
    mailbox.oauth_tenant = "contoso.onmicrosoft.com"
    assert protocol.endpoints(mailbox).token_url == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )

    mailbox.authentication = "google"
    query = dict(
        urllib.parse.parse_qsl(
            urllib.parse.urlsplit(
                protocol.authorization_url(mailbox, state="s", code_challenge="c", redirect_uri="r")
            ).query
        )
    )
    assert query["scope"].split()[0] == "https://mail.google.com/"
    assert query["access_type"] == "offline" and query["prompt"] == "consent"


def test_the_xoauth2_string_is_the_documented_one():
    assert protocol.xoauth2("a@b.example", "tok") == "user=a@b.example\x01auth=Bearer tok\x01\x01"


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://idp.example.com/token", True),
        ("http://127.0.0.1:8080/token", True),
        ("http://localhost/token", True),
        ("http://idp.example.com/token", False),
        ("ftp://idp.example.com/token", False),
    ],
)
def test_endpoints_must_be_https_except_on_this_machine(url, accepted):
    assert (protocol.endpoint_problem(url) == "") is accepted


def test_the_api_sets_oauth_settings_and_never_returns_secrets_or_tokens(cast, api_as, fake):
    api = api_as(cast.admin)
    created = api.post(
        "/channels/email/mailboxes",
        {
            "name": "Contoso",
            "email_address": "help@contoso.example",
            "imap_host": "outlook.office365.com",
            "imap_user": "help@contoso.example",
            "smtp_host": "smtp.office365.com",
            "smtp_port": 587,
            "smtp_security": "starttls",
            "authentication": "microsoft",
            "oauth_client_id": "11111111-2222",
            "oauth_client_secret": "very-secret-value",
            "oauth_tenant": "contoso.onmicrosoft.com",
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert "very-secret-value" not in created.content.decode()
    assert body["authentication"] == "microsoft" and body["has_oauth_client_secret"] is True
    assert body["oauth_status"] == "not_connected" and body["has_imap_password"] is False
    assert body["oauth_redirect_uri"] == settings.SITE_URL + "/intake/mailboxes/oauth/callback/"
    mailbox = Mailbox.objects.get()
    assert mailbox.oauth_client_secret == "very-secret-value"

    Mailbox.objects.filter(pk=mailbox.pk).update(
        oauth_refresh_token_encrypted=encrypt_secret("refresh-token-value"),
        oauth_access_token_encrypted=encrypt_secret("access-token-value"),
    )
    read = api.get(f"/channels/email/mailboxes/{mailbox.pk}")
    assert read.json()["oauth_status"] == "connected"
    for secret in ("refresh-token-value", "access-token-value", "very-secret-value"):
        assert secret not in read.content.decode()
        assert secret not in api.get("/channels/email/mailboxes").content.decode()

    bad = api.patch(
        f"/channels/email/mailboxes/{mailbox.pk}",
        {"authentication": "oauth2", "oauth_authorize_url": "http://idp.example.com/a"},
    )
    assert bad.status_code == 422
    fields = {error["field"] for error in bad.json()["errors"]}
    assert {"oauth_authorize_url", "oauth_token_url"} <= fields
    assert Mailbox.objects.get().authentication == "microsoft"  # nothing half-saved


def test_outsiders_cannot_set_oauth_settings_through_the_api(cast, api_as, oauth_mailbox):
    for who in (cast.agent, cast.supervisor, cast.alice):
        answer = api_as(who).patch(
            f"/channels/email/mailboxes/{oauth_mailbox.pk}", {"oauth_client_id": "mine"}
        )
        assert answer.status_code == 404
    assert Mailbox.objects.get().oauth_client_id == "kefu-test-client"


def test_the_test_button_says_an_unconnected_mailbox_must_be_connected(cast, oauth_mailbox):
    response = login(cast.admin).post(f"/intake/mailboxes/{oauth_mailbox.pk}/test/", follow=True)
    assert b"not connected yet: click Connect" in response.content


def test_a_token_the_servers_refuse_before_its_expiry_is_refreshed_and_tried_again(
    cast, fake, dovecot, smtp_listener, oauth_mailbox
):
    _port, listener = smtp_listener
    connect(login(cast.admin), oauth_mailbox)
    mailbox = Mailbox.objects.get()
    with fake.lock:
        fake.access_tokens.clear()  # the provider invalidated the access token, not the grant

    dovecot.drop(build_mail(message_id="<stale@c.example>"))
    poll(mailbox)
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and mailbox.oauth_status == "connected"
    assert Ticket.objects.count() == 1 and len(fake.grants_by("refresh_token")) == 1
    assert len(listener.messages) == 1  # the acknowledgement, with the refreshed token

    with fake.lock:
        fake.access_tokens.clear()
    reply = add_message(cast.agent, Ticket.objects.get(), body="收到")
    run_pending_jobs()
    reply.refresh_from_db()
    assert reply.customer_notified_at is not None and len(fake.grants_by("refresh_token")) == 2


def test_an_unreachable_token_endpoint_is_an_error_to_retry_not_a_lost_connection(
    cast, fake, dovecot, oauth_mailbox
):
    connect(login(cast.admin), oauth_mailbox)
    closed = f"http://127.0.0.1:{free_port()}/token"
    Mailbox.objects.update(
        oauth_token_url=closed,
        oauth_access_token_expires_at=timezone.now() - timedelta(minutes=1),
        oauth_refresh_due_at=timezone.now() - timedelta(minutes=6),
    )
    mailbox = Mailbox.objects.get()
    django_mail.outbox.clear()
    dovecot.drop(build_mail(message_id="<offline@c.example>"))
    poll(mailbox)
    mailbox.refresh_from_db()
    assert "cannot be reached" in mailbox.last_error
    assert mailbox.oauth_status == "connected" and django_mail.outbox == []
    assert Ticket.objects.count() == 0 and dovecot.unseen() == 1
    assert mailbox.oauth_refresh_due_at > timezone.now()  # the tick tries again later


def test_an_expired_client_secret_also_asks_the_administrators_to_reconnect(
    cast, fake, dovecot, oauth_mailbox
):
    from kefu.intake.actions import save_mailbox

    connect(login(cast.admin), oauth_mailbox)
    mailbox = Mailbox.objects.get()
    # At the provider the secret expired; Kefu still has the old one.
    save_mailbox(cast.admin, mailbox, oauth_client_secret="expired-secret")
    Mailbox.objects.update(oauth_access_token_expires_at=timezone.now())
    django_mail.outbox.clear()
    poll(mailbox)
    mailbox.refresh_from_db()
    assert mailbox.oauth_status == "reconnect_needed" and "invalid_client" in mailbox.last_error
    assert len(django_mail.outbox) == 1

    save_mailbox(cast.admin, mailbox, oauth_client_secret=fake.client_secret)
    connect(login(cast.admin), mailbox)
    assert Mailbox.objects.get().oauth_status == "connected"
