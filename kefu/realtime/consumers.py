"""One WebSocket per browser tab: the user's own events, plus tickets they subscribe to."""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from kefu.realtime.publish import ticket_group_name, user_group_name

logger = logging.getLogger(__name__)

# "Try again later": the browser reconnects after a pause (static/kefu/kefu.js).
CLOSE_TRY_AGAIN_LATER = 1013


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def __call__(self, scope, receive, send):
        # With Redis down the channel layer fails on every socket; close it with one log line
        # instead of a traceback per browser tab every few seconds (docs/administration.md).
        try:
            await super().__call__(scope, receive, send)
        except (RedisError, OSError) as error:
            logger.warning("live updates unavailable: channel layer unreachable (%s)", error)
            try:
                await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
            except Exception:  # noqa: S110 - the socket may already be gone
                pass

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        self.joined: set[str] = {user_group_name(user.pk)}
        await self.channel_layer.group_add(user_group_name(user.pk), self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for name in getattr(self, "joined", set()):
            await self.channel_layer.group_discard(name, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("subscribe") == "ticket":
            ticket_id = content.get("id")
            if isinstance(ticket_id, int) and await self._can_see(ticket_id):
                name = ticket_group_name(ticket_id)
                self.joined.add(name)
                await self.channel_layer.group_add(name, self.channel_name)
                await self.send_json({"subscribed": ticket_id})
            else:
                await self.send_json({"error": "not found", "id": ticket_id})

    @database_sync_to_async
    def _can_see(self, ticket_id: int) -> bool:
        from kefu.tickets.models import Ticket

        return Ticket.objects.visible_to(self.user).filter(pk=ticket_id).exists()

    async def kefu_event(self, message):
        event = message["event"]
        # Internal-note events never reach customers' sockets.
        if event.get("internal") and not await self._is_staff():
            return
        await self.send_json(event)

    @database_sync_to_async
    def _is_staff(self) -> bool:
        return bool(self.user.is_staff_member)
