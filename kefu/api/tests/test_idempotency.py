"""Idempotency-Key on POST /tickets and POST /tickets/{id}/messages."""

import json
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from kefu.api.idempotency import purge_expired_idempotency_keys, request_fingerprint
from kefu.api.models import IdempotencyKey
from kefu.api.tests.conftest import error_fields
from kefu.lib.tick import registered_ticks
from kefu.tickets.models import Message, Ticket

PAYLOAD = {"subject": "Screen flickers 屏幕闪烁", "body": "Since the update."}


def test_the_same_key_and_body_replay_the_first_response(cast, api_as):
    client = api_as(cast.alice)
    first = client.post("/tickets", PAYLOAD, headers={"Idempotency-Key": "order-7"})
    second = client.post("/tickets", PAYLOAD, headers={"Idempotency-Key": "order-7"})

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1


def test_key_order_and_whitespace_do_not_make_a_different_body(cast, api_as):
    client = api_as(cast.alice)
    client.post("/tickets", PAYLOAD, headers={"Idempotency-Key": "k"})
    reordered = '{ "body": "Since the update.",\n "subject": "Screen flickers 屏幕闪烁" }'
    assert client.post("/tickets", reordered, headers={"Idempotency-Key": "k"}).status_code == 201
    assert Ticket.objects.count() == 1


def test_the_same_key_with_a_different_body_is_422(cast, api_as):
    client = api_as(cast.alice)
    client.post("/tickets", PAYLOAD, headers={"Idempotency-Key": "order-7"})
    response = client.post(
        "/tickets", {**PAYLOAD, "body": "other"}, headers={"Idempotency-Key": "order-7"}
    )

    assert response.status_code == 422
    assert error_fields(response) == ["Idempotency-Key"]
    assert Ticket.objects.count() == 1


def test_a_key_still_in_flight_is_409(cast, api_as):
    IdempotencyKey.objects.create(
        user=cast.alice,
        method="POST",
        path="/api/v1/tickets",
        key="busy",
        request_hash=request_fingerprint(b"{}"),
    )
    response = api_as(cast.alice).post("/tickets", PAYLOAD, headers={"Idempotency-Key": "busy"})
    assert response.status_code == 409
    assert response.json()["detail"]
    assert not Ticket.objects.exists()


def test_an_abandoned_in_flight_key_is_taken_over(cast, api_as):
    with time_machine.travel(timezone.now() - timedelta(minutes=30)):
        IdempotencyKey.objects.create(
            user=cast.alice,
            method="POST",
            path="/api/v1/tickets",
            key="crashed",
            request_hash="x",
        )
    response = api_as(cast.alice).post("/tickets", PAYLOAD, headers={"Idempotency-Key": "crashed"})
    assert response.status_code == 201


def test_keys_are_scoped_to_the_user_and_path(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    assert (
        api_as(cast.alice)
        .post("/tickets", PAYLOAD, headers={"Idempotency-Key": "same"})
        .status_code
        == 201
    )
    assert (
        api_as(cast.alan).post("/tickets", PAYLOAD, headers={"Idempotency-Key": "same"}).status_code
        == 201
    )
    reply = api_as(cast.alice).post(
        f"/tickets/{ticket.pk}/messages", {"body": "hi"}, headers={"Idempotency-Key": "same"}
    )
    assert reply.status_code == 201
    assert Ticket.objects.count() == 3


def test_messages_replay_too(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    client = api_as(cast.agent)
    path = f"/tickets/{ticket.pk}/messages"
    first = client.post(path, {"body": "On our way"}, headers={"Idempotency-Key": "reply-1"})
    second = client.post(path, {"body": "On our way"}, headers={"Idempotency-Key": "reply-1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Message.objects.filter(body_text="On our way").count() == 1
    changed = client.post(path, {"body": "Changed"}, headers={"Idempotency-Key": "reply-1"})
    assert changed.status_code == 422


def test_a_client_error_is_stored_and_replayed(cast, api_as):
    client = api_as(cast.alice)
    payload = {"subject": "x", "body": "y", "customer": {"email": "bob@globex.example"}}
    first = client.post("/tickets", payload, headers={"Idempotency-Key": "bad"})
    second = client.post("/tickets", payload, headers={"Idempotency-Key": "bad"})
    assert first.status_code == second.status_code == 403
    assert second.content == first.content
    assert IdempotencyKey.objects.get(key="bad").state == IdempotencyKey.State.DONE


def test_a_server_error_frees_the_key_for_a_retry(cast, api_as, monkeypatch):
    from kefu.api import tickets

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    client = api_as(cast.alice)
    with monkeypatch.context() as patch:
        patch.setattr(tickets, "create_ticket", broken)
        failed = client.post("/tickets", PAYLOAD, headers={"Idempotency-Key": "retry-me"})
    assert failed.status_code == 500
    assert not IdempotencyKey.objects.exists()
    assert (
        client.post("/tickets", PAYLOAD, headers={"Idempotency-Key": "retry-me"}).status_code == 201
    )


def test_it_rejects_an_overlong_key(cast, api_as):
    response = api_as(cast.alice).post("/tickets", PAYLOAD, headers={"Idempotency-Key": "k" * 300})
    assert response.status_code == 422
    assert error_fields(response) == ["Idempotency-Key"]


def test_keys_expire_after_their_time_to_live(cast, api_as, settings):
    client = api_as(cast.alice)
    client.post("/tickets", PAYLOAD, headers={"Idempotency-Key": "day-old"})
    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS + 60)
    ):
        again = client.post("/tickets", PAYLOAD, headers={"Idempotency-Key": "day-old"})
    assert again.status_code == 201
    assert Ticket.objects.count() == 2


@pytest.mark.django_db
def test_the_tick_purges_expired_keys(cast, settings):
    with time_machine.travel(
        timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS + 60)
    ):
        IdempotencyKey.objects.create(
            user=cast.alice, method="POST", path="/p", key="old", request_hash="h"
        )
    IdempotencyKey.objects.create(
        user=cast.alice, method="POST", path="/p", key="new", request_hash="h"
    )

    assert "purge_idempotency_keys" in registered_ticks()
    assert purge_expired_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def _hold_key_in_open_transaction(user, key: str, *, path: str = "/api/v1/tickets"):
    """Another process's request that claimed ``key`` and has not committed yet (PostgreSQL)."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    holder = psycopg.connect(
        **{k: v for k, v in params.items() if k in {"dbname", "user", "password", "host", "port"}}
    )
    holder.execute(
        "INSERT INTO api_idempotencykey (user_id, method, path, key, request_hash, state, "
        "response_body, created_at) VALUES (%s, 'POST', %s, %s, %s, 'in_flight', '', now())",
        [user.pk, path, key, request_fingerprint(json.dumps(PAYLOAD).encode())],
    )
    return holder


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_duplicate_waits_for_the_first_request_then_replays_it(cast, api_as):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-only test (set KEFU_DATABASE_URL)")
    holder = _hold_key_in_open_transaction(cast.alice, "slow")

    def first_request_finishes() -> None:
        time.sleep(1)
        holder.execute(
            "UPDATE api_idempotencykey SET state = 'done', response_status = 201, "
            "response_body = '{\"id\": 7}' WHERE key = 'slow'"
        )
        holder.commit()
        holder.close()

    finisher = threading.Thread(target=first_request_finishes)
    finisher.start()
    response = api_as(cast.alice).post("/tickets", PAYLOAD, headers={"Idempotency-Key": "slow"})
    finisher.join()

    assert response.status_code == 201
    assert response.json() == {"id": 7} and response["Idempotent-Replayed"] == "true"
    assert not Ticket.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_duplicate_of_a_request_still_running_gets_409_after_a_short_wait(
    cast, api_as, monkeypatch
):
    from django.db import connection

    from kefu.api import idempotency

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-only test (set KEFU_DATABASE_URL)")
    monkeypatch.setattr(idempotency, "CLAIM_WAIT_SECONDS", 1)
    holder = _hold_key_in_open_transaction(cast.alice, "stuck")
    try:
        started = time.monotonic()
        response = api_as(cast.alice).post(
            "/tickets", PAYLOAD, headers={"Idempotency-Key": "stuck"}
        )
        assert response.status_code == 409
        assert 0.9 < time.monotonic() - started < 10
        # The outsider: another user's same key is not held up by it.
        other = api_as(cast.bob).post("/tickets", PAYLOAD, headers={"Idempotency-Key": "stuck"})
        assert other.status_code == 201
    finally:
        holder.rollback()
        holder.close()
    # The holder died without committing: the key is free at once.
    assert (
        api_as(cast.alice)
        .post("/tickets", PAYLOAD, headers={"Idempotency-Key": "stuck"})
        .status_code
        == 201
    )
