"""One WebSocket per browser tab: the user's own events, plus the topics (tickets, …) they
subscribe to."""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from kefu.realtime.publish import user_group_name
from kefu.realtime.topics import topic_check, topic_group_name

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
        kind = content.get("subscribe")
        may_subscribe = topic_check(kind) if isinstance(kind, str) else None
        if may_subscribe is None:
            return
        object_id = content.get("id")
        if isinstance(object_id, int) and await self._may_subscribe(may_subscribe, object_id):
            name = topic_group_name(kind, object_id)
            self.joined.add(name)
            await self.channel_layer.group_add(name, self.channel_name)
            await self.send_json({"subscribed": object_id})
        else:
            await self.send_json({"error": "not found", "id": object_id})

    @database_sync_to_async
    def _may_subscribe(self, may_subscribe, object_id: int) -> bool:
        return may_subscribe(self.user, object_id)

    async def kefu_event(self, message):
        event = message["event"]
        # Internal-note events never reach customers' sockets.
        if event.get("internal") and not await self._is_staff():
            return
        await self.send_json(event)

    @database_sync_to_async
    def _is_staff(self) -> bool:
        return bool(self.user.is_staff_member)
