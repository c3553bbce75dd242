"""Intake under concurrency and faults, against a real deployment on loopback (live_stack.py):
two uvicorn web processes, a separate worker and tick, on SQLite or PostgreSQL (+ Redis).

Issue 24: mails (and API tickets) from one new customer arriving together lost the race for the
contact's unique e-mail index — "failed: Database error" and no ticket, or a 500.
"""

from __future__ import annotations

import email
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from email import policy

import httpx
import pytest

from kefu.conftest import _free_port
from kefu.intake.tests.conftest import build_mail
from kefu.intake.tests.live_stack import LiveStack

PARALLEL = 50


class SmtpSink:
    """Every message Kefu sends, by Message-ID (aiosmtpd on loopback)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def message_ids_to(self, domain: str) -> list[str]:
        with self.lock:
            return [
                str(m["Message-ID"]).strip()
                for m in self.messages
                if str(m["To"]).rstrip(">").endswith("@" + domain)
            ]


@pytest.fixture(scope="module")
def smtp_sink():
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, sink
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, smtp_sink):
    with LiveStack(tmp_path_factory.mktemp("stack"), smtp_port=smtp_sink[0]) as live:
        yield live


def deliver(stack: LiveStack, raw: bytes, client: httpx.Client | None = None) -> httpx.Response:
    if client is None:
        with httpx.Client(base_url=stack.url, timeout=120) as own:
            return deliver(stack, raw, own)
    return client.post(
        f"{stack.url}/api/v1/channels/email/inbound",
        content=raw,
        headers={"Authorization": f"Bearer {stack.token}", "Content-Type": "message/rfc822"},
    )


def test_50_parallel_mails_from_one_new_sender_become_50_tickets_of_one_contact(stack):
    sender = "first.time@parallel-mail.example"
    mails = [
        build_mail(
            sender=f"First Time <{sender}>",
            subject=f"并发来信 parallel mail {n}",
            message_id=f"<parallel-mail-{n}@parallel-mail.example>",
        )
        for n in range(PARALLEL)
    ]
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        responses = list(pool.map(lambda raw: deliver(stack, raw), mails))

    assert [(r.status_code, r.text[:300]) for r in responses if r.status_code != 200] == []
    assert [(r.status_code, r.json()["outcome"]) for r in responses] == [
        (200, "ticket_created")
    ] * PARALLEL
    assert len({r.json()["ticket"]["number"] for r in responses}) == PARALLEL
    assert stack.contacts_with_email(sender) == 1
    assert stack.tickets_of(sender) == PARALLEL
    assert stack.count("select count(*) from intake_inboundemail where outcome = 'failed'") == 0

    # Replies, in parallel too, thread into the tickets they answer.
    replies = [
        build_mail(
            sender=f"First Time <{sender}>",
            subject=f"Re: 并发来信 parallel mail {n}",
            in_reply_to=f"<parallel-mail-{n}@parallel-mail.example>",
        )
        for n in range(10)
    ]
    with ThreadPoolExecutor(max_workers=10) as pool:
        answered = list(pool.map(lambda raw: deliver(stack, raw), replies))
    assert [(r.status_code, r.json()["outcome"]) for r in answered] == [(200, "message_added")] * 10
    originals = {r.json()["ticket"]["number"] for r in responses[:10]}
    assert {r.json()["ticket"]["number"] for r in answered} == originals
    assert stack.contacts_with_email(sender) == 1
    assert stack.tickets_of(sender) == PARALLEL


def test_50_parallel_api_tickets_for_one_new_customer_share_one_contact(stack):
    customer = "first.time@parallel-api.example"

    def create(n: int) -> httpx.Response:
        with httpx.Client(base_url=stack.url, timeout=120) as client:
            return client.post(
                "/api/v1/tickets",
                json={
                    "subject": f"并发工单 parallel ticket {n}",
                    "body": "created concurrently",
                    "customer": {"email": customer, "name": "First Time"},
                },
                headers={"Authorization": f"Bearer {stack.token}"},
            )

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        responses = list(pool.map(create, range(PARALLEL)))

    assert [(r.status_code, r.text[:200]) for r in responses if r.status_code != 201] == []
    assert len({r.json()["customer"]["id"] for r in responses}) == 1
    assert stack.contacts_with_email(customer) == 1
    assert stack.tickets_of(customer) == PARALLEL


# --- the chaos test -----------------------------------------------------------------------------

CHAOS_MAILS = 300
CHAOS_SENDERS = 50
CHAOS_CLI_MAILS = 8  # each `kefu mail ingest` is a Python start-up: two CPU-seconds
CHAOS_DOMAIN = "chaos.example"
# The test's hard bound (it stops waiting and fails after it). The burst takes well under 90 s on
# 2 idle CPUs; 240 s leaves room for a CI machine shared with other jobs.
CHAOS_SECONDS = 240
MTA_RETRY_SECONDS = 1  # an MTA waits longer (Retry-After), but the promise is the same


def chaos_mail(n: int) -> bytes:
    sender = n % CHAOS_SENDERS
    return build_mail(
        sender=f"Chaos {sender} <chaos{sender}@{CHAOS_DOMAIN}>",
        subject=f"混沌测试 chaos burst {n}",
        body=f"Mail {n} of the burst. 第 {n} 封。",
        message_id=f"<chaos-{n}@{CHAOS_DOMAIN}>",
    )


def test_a_burst_of_300_mails_survives_concurrent_delivery_and_a_worker_killed_twice(
    stack, smtp_sink
):
    """Issue 24's probe, replayed: 300 mails from 50 unknown senders, through the webhook (two
    web processes) and `kefu mail ingest` at once, while the worker is SIGKILLed twice and
    restarted. Every mail is stored once, as its own ticket with an SLA clock, each ticket is
    acknowledged once, and nothing is left failed. A deferred delivery (503 / exit 75) is
    delivered again, as an MTA would."""
    _port, sink = smtp_sink
    started = time.monotonic()
    deadline = started + CHAOS_SECONDS
    by_cli = set(range(0, CHAOS_MAILS, CHAOS_MAILS // CHAOS_CLI_MAILS)[:CHAOS_CLI_MAILS])
    cli_slots = threading.Semaphore(4)
    client = httpx.Client(timeout=120, limits=httpx.Limits(max_connections=24))
    deferred = Counter()

    def through_webhook(n: int) -> tuple[int, str]:
        while True:
            response = deliver(stack, chaos_mail(n), client)
            if response.status_code != 503 or time.monotonic() > deadline:
                return response.status_code, response.json().get("outcome", response.text)
            deferred["webhook"] += 1
            time.sleep(MTA_RETRY_SECONDS)

    def through_cli(n: int) -> tuple[int, str]:
        while True:
            with cli_slots:
                done = stack.kefu("mail", "ingest", "-", input=chaos_mail(n), check=False)
            if done.returncode != 75 or time.monotonic() > deadline:
                return done.returncode, (done.stdout + done.stderr).decode()[-300:]
            deferred["cli"] += 1
            time.sleep(MTA_RETRY_SECONDS)

    def acks_received() -> int:
        return len(sink.message_ids_to(CHAOS_DOMAIN))

    kills = 0

    def kill_the_worker_twice() -> None:
        nonlocal kills
        for threshold in (CHAOS_MAILS // 10, CHAOS_MAILS // 2):
            while acks_received() < threshold and time.monotonic() < deadline:
                time.sleep(0.05)
            stack.kill("worker")
            kills += 1
            time.sleep(0.5)
            stack.start("worker")

    chaos = threading.Thread(target=kill_the_worker_twice, daemon=True)
    chaos.start()
    with ThreadPoolExecutor(max_workers=24) as pool:
        outcomes = list(
            pool.map(
                lambda n: through_cli(n) if n in by_cli else through_webhook(n), range(CHAOS_MAILS)
            )
        )
    chaos.join(timeout=max(1, deadline - time.monotonic()))
    client.close()
    delivered_after = time.monotonic() - started

    assert [
        o for n, o in enumerate(outcomes) if n not in by_cli and o != (200, "ticket_created")
    ] == []
    assert [o for n, o in enumerate(outcomes) if n in by_cli and o[0] != 0] == []
    assert kills == 2

    # The worker (restarted twice, its lost jobs reaped by the tick) sends every acknowledgement.
    sent = (
        "select count(*) from intake_automaticmail where recipient like %s"
        " and kind = 'acknowledgement' and sent_at is not null"
    )
    while stack.count(sent, f"%@{CHAOS_DOMAIN}") < CHAOS_MAILS and time.monotonic() < deadline:
        time.sleep(0.5)
    acknowledged_after = time.monotonic() - started

    domain = f"%@{CHAOS_DOMAIN}"
    chaos_tickets = (
        "select t.id from tickets_ticket t join customers_contact c on c.id = t.contact_id"
        " where c.email like %s"
    )
    assert stack.count("select count(*) from customers_contact where email like %s", domain) == 50
    # S608: the query is built from the constant chaos_tickets, the value is a parameter.
    assert stack.count(f"select count(*) from ({chaos_tickets}) c", domain) == CHAOS_MAILS  # noqa: S608
    stored = stack.rows(
        "select message_id, count(*) from tickets_message where message_id like %s"
        " group by message_id",
        f"<chaos-%@{CHAOS_DOMAIN}>",
    )
    assert len(stored) == CHAOS_MAILS and {count for _id, count in stored} == {1}
    assert stack.count("select count(*) from intake_inboundemail where outcome = 'failed'") == 0
    with_clock = f"select count(*) from sla_ticketsla where policy_id is not null and ticket_id in ({chaos_tickets})"  # noqa: S608, E501
    assert stack.count(with_clock, domain) == CHAOS_MAILS

    acknowledgements = stack.rows(
        "select ticket_id, message_id, sent_at from intake_automaticmail"
        " where kind = 'acknowledgement' and recipient like %s",
        domain,
    )
    assert len({ticket for ticket, _id, _sent in acknowledgements}) == CHAOS_MAILS
    assert len(acknowledgements) == CHAOS_MAILS
    assert [a for a in acknowledgements if a[2] is None] == []
    received = Counter(sink.message_ids_to(CHAOS_DOMAIN))
    assert set(received) == {message_id for _ticket, message_id, _sent in acknowledgements}
    # A worker killed between the SMTP server's "250 OK" and its commit sends that one mail
    # again under the same Message-ID (exactly-once across that gap is issue 24's send-once
    # helper); at most one such repeat per kill.
    assert sum(count - 1 for count in received.values()) <= kills
    timing = {"delivered": delivered_after, "acknowledged": acknowledged_after, **deferred}
    assert time.monotonic() - started < CHAOS_SECONDS, timing
