"""The single entry point for realtime events: sent after commit, to explicit recipients."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from kefu.realtime.topics import topic_group_name

logger = logging.getLogger(__name__)


def ticket_group_name(ticket_id: int) -> str:
    return topic_group_name("ticket", ticket_id)


def user_group_name(user_id: int) -> str:
    return f"user.{user_id}"


def publish(group_names: list[str], event: dict[str, Any]) -> None:
    """Queue ``event`` for the channel-layer groups once the surrounding transaction commits."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        for name in group_names:
            try:
                async_to_sync(layer.group_send)(name, {"type": "kefu.event", "event": event})
            except Exception:  # a lost live update must never break the write that caused it
                logger.warning("realtime publish to %s failed", name, exc_info=True)

    transaction.on_commit(send)
