"""Outgoing webhooks: signed deliveries to a real loopback server, retries, the delivery log,
and the SSRF guard."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from kefu.automation import outgoing
from kefu.automation.actions import save_trigger, save_webhook, send_test_delivery
from kefu.automation.models import DeliveryStatus, WebhookDelivery
from kefu.lib.jobs import run_pending_jobs
from kefu.tickets.actions import add_message, update_ticket

SECRET = "s3cret-s3cret-s3cret"


class Receiver:
    """A loopback HTTP server that records requests and answers with queued status codes."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook?x=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    server = Receiver()
    yield server
    server.close()


def test_it_delivers_signed_json_for_subscribed_events(cast, make_ticket, receiver):
    save_webhook(
        cast.admin,
        name="ERP",
        url=receiver.url,
        secret=SECRET,
        events=["ticket.created", "ticket.updated", "ticket.customer_replied"],
    )
    ticket = make_ticket(subject="黑屏")
    update_ticket(cast.agent, ticket, priority="urgent")
    add_message(cast.alice, ticket, body="Any news?")
    add_message(cast.agent, ticket, body="Not subscribed")
    run_pending_jobs()
    events = [json.loads(r["body"])["event"] for r in receiver.requests]
    # The agent's reply is not subscribed, but it opened the ticket: an update.
    assert events == [
        "ticket.created",
        "ticket.updated",
        "ticket.customer_replied",
        "ticket.updated",
    ]
    first = receiver.requests[0]
    headers = first["headers"]
    expected = hmac.new(
        SECRET.encode(), headers["X-Kefu-Timestamp"].encode() + b"." + first["body"], hashlib.sha256
    ).hexdigest()
    assert headers["X-Kefu-Signature"] == f"sha256={expected}"
    assert headers["X-Kefu-Event"] == "ticket.created"
    payload = json.loads(first["body"])
    assert payload["ticket"]["subject"] == "黑屏"
    assert payload["ticket"]["group"] == {"id": cast.cs.pk, "name": cast.cs.name}
    assert json.loads(receiver.requests[1]["body"])["changes"] == {
        "priority": {"from": "medium", "to": "urgent"}
    }
    delivery = WebhookDelivery.objects.get(event="ticket.created")
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert headers["X-Kefu-Delivery"] == str(delivery.uuid)


def test_the_webhook_ticket_is_the_apis_ticket_object(cast, make_ticket, receiver, api_as):
    from kefu.api.schemas import TicketOut

    save_webhook(cast.admin, name="ERP", url=receiver.url, secret=SECRET, events=["ticket.updated"])
    ticket = make_ticket(subject="黑屏")
    update_ticket(cast.agent, ticket, priority="urgent", tags=["打印机"])
    run_pending_jobs()
    [request] = receiver.requests
    payload = json.loads(request["body"])
    TicketOut.model_validate(payload["ticket"])  # raises on another shape
    assert payload["ticket_url"].endswith(f"/tickets/{ticket.pk}/")
    from_api = api_as(cast.admin).get(f"/tickets/{ticket.pk}").json()
    for volatile in ("updated_at", "sla"):
        from_api.pop(volatile), payload["ticket"].pop(volatile)
    assert payload["ticket"] == json.loads(json.dumps(from_api))


def test_a_trigger_calls_a_webhook(cast, make_ticket, receiver):
    hook = save_webhook(cast.admin, name="Chat", url=receiver.url, events=[])
    save_trigger(
        cast.admin,
        name="urgent to chat",
        events=["created"],
        conditions=[{"field": "priority", "operator": "is", "value": "urgent"}],
        actions=[{"type": "webhook", "value": "Chat"}],
    )
    make_ticket(priority="low")
    make_ticket(priority="urgent")
    run_pending_jobs()
    assert len(receiver.requests) == 1
    payload = json.loads(receiver.requests[0]["body"])
    assert payload["event"] == "trigger" and payload["rule"] == "Trigger: urgent to chat"
    assert hook.deliveries.count() == 1


def test_a_failed_delivery_is_retried_and_every_attempt_logged(cast, receiver):
    hook = save_webhook(cast.admin, name="Flaky", url=receiver.url)
    receiver.statuses = [503, 500]
    delivery = send_test_delivery(cast.admin, hook)
    with mock.patch("kefu.lib.jobs.backoff_seconds", return_value=0):
        run_pending_jobs()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 3)
    log = list(delivery.log.values_list("number", "status_code"))
    assert log == [(1, 503), (2, 500), (3, 200)]
    assert "HTTP 503" in delivery.log.first().error
    # The same delivery id on every attempt, so the receiver can de-duplicate.
    assert len({r["headers"]["X-Kefu-Delivery"] for r in receiver.requests}) == 1


def test_a_delivery_gives_up_after_the_last_attempt(cast, receiver, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    hook = save_webhook(cast.admin, name="Down", url=receiver.url)
    receiver.statuses = [500, 500, 500]
    delivery = send_test_delivery(cast.admin, hook)
    with mock.patch("kefu.lib.jobs.backoff_seconds", return_value=0):
        run_pending_jobs()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)


def test_a_client_error_is_not_retried(cast, receiver):
    hook = save_webhook(cast.admin, name="Gone", url=receiver.url)
    receiver.statuses = [410]
    delivery = send_test_delivery(cast.admin, hook)
    run_pending_jobs()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 410)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://192.168.1.1/",
        "http://172.16.0.5/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://100.64.0.1/",
        "ftp://example.com/",
        "http://user:pw@example.com/",
    ],
)
def test_it_refuses_private_and_odd_targets_when_saving(cast, url):
    with pytest.raises(ValidationError) as error:
        save_webhook(cast.admin, name="Bad", url=url)
    assert "url" in error.value.message_dict


def test_an_allowed_host_may_be_private(cast, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["10.1.2.3"]
    assert save_webhook(cast.admin, name="ERP", url="http://10.1.2.3/hook").pk


def test_a_name_that_turns_private_at_delivery_is_refused_and_not_retried(cast):
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))]
    private = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))]
    with mock.patch("socket.getaddrinfo", return_value=public):
        hook = save_webhook(cast.admin, name="Rebind", url="http://rebind.example/hook")
    delivery = send_test_delivery(cast.admin, hook)
    with mock.patch("socket.getaddrinfo", return_value=private):
        run_pending_jobs()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "non-public address 127.0.0.1" in delivery.last_error


def test_it_connects_to_the_checked_address_not_a_second_lookup(receiver, settings):
    """DNS rebinding: the name is resolved once, and the socket goes to that address."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["rebind.example"]
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["127.0.0.1", "10.9.9.9"])

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    port = receiver.server.server_port
    with mock.patch("socket.getaddrinfo", side_effect=fake_getaddrinfo):
        response = outgoing.post(
            f"http://rebind.example:{port}/x", b"{}", secret="k" * 16, headers={}
        )
    assert response.status == 200
    assert receiver.requests[0]["headers"]["Host"] == f"rebind.example:{port}"


def test_the_signature_covers_timestamp_and_body():
    signature = outgoing.sign("key", "1700000000", b'{"a":1}')
    expected = hmac.new(b"key", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert signature == "sha256=" + expected
    assert outgoing.sign("key", "1700000001", b'{"a":1}') != signature
