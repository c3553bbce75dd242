"""The live WebSocket: subscriptions follow the access rules; events arrive after commit."""

import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from kefu.realtime.consumers import LiveConsumer
from kefu.tickets.actions import add_message

pytestmark = pytest.mark.django_db(transaction=True)


class Socket(ApplicationCommunicator):
    """A minimal WebSocket client over the ASGI protocol (channels.testing needs daphne)."""

    async def connect(self):
        await self.send_input({"type": "websocket.connect"})
        answer = await self.receive_output(timeout=5)
        return answer["type"] == "websocket.accept", answer.get("code")

    async def send_json_to(self, data):
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json_from(self, timeout=5):
        return json.loads((await self.receive_output(timeout=timeout))["text"])

    async def disconnect(self):
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(timeout=5)


def _connect(user):
    scope = {
        "type": "websocket",
        "path": "/ws/live/",
        "headers": [],
        "subprotocols": [],
        "user": user,
    }
    return Socket(LiveConsumer.as_asgi(), scope)


async def _subscribe(communicator, ticket_id):
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"subscribe": "ticket", "id": ticket_id})
    return await communicator.receive_json_from(timeout=5)


def test_agent_receives_a_reply_on_a_ticket_they_watch(cast, make_ticket):
    ticket = make_ticket()

    async def scenario():
        communicator = _connect(cast.agent)
        assert await _subscribe(communicator, ticket.pk) == {"subscribed": ticket.pk}
        from channels.db import database_sync_to_async

        await database_sync_to_async(add_message)(cast.alice, ticket, body="any news?")
        event = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return event

    event = async_to_sync(scenario)()
    assert event["kind"] == "message_added" and event["ticket_id"] == ticket.pk


def test_outsider_cannot_subscribe_to_a_ticket(cast, make_ticket):
    ticket = make_ticket()

    async def scenario():
        communicator = _connect(cast.bob)
        answer = await _subscribe(communicator, ticket.pk)
        await communicator.disconnect()
        return answer

    assert async_to_sync(scenario)() == {"error": "not found", "id": ticket.pk}


def test_customer_does_not_hear_about_internal_notes(cast, make_ticket):
    ticket = make_ticket()

    async def scenario():
        communicator = _connect(cast.alice)
        await _subscribe(communicator, ticket.pk)
        from channels.db import database_sync_to_async

        await database_sync_to_async(add_message)(cast.agent, ticket, body="secret", internal=True)
        nothing = await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()
        return nothing

    assert async_to_sync(scenario)() is True


def test_anonymous_socket_is_refused(db):
    from django.contrib.auth.models import AnonymousUser

    async def scenario():
        communicator = _connect(AnonymousUser())
        connected, code = await communicator.connect()
        return connected, code

    connected, code = async_to_sync(scenario)()
    assert not connected and code == 4401


def test_with_redis_down_a_socket_is_closed_to_retry_later(cast, private_redis, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": private_redis.url, "socket_connect_timeout": 1}]},
        }
    }
    private_redis.stop()

    async def scenario():
        return await _connect(cast.agent).connect()

    connected, code = async_to_sync(scenario)()
    assert not connected and code == 1013
