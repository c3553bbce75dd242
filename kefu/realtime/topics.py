"""What a browser may subscribe to beyond its own events: one topic per kind of object.

``realtime`` sits below every app, so it cannot know who may see a ticket: the app that owns a kind
registers the check in ``AppConfig.ready()`` (tickets registers ``"ticket"`` with ticket visibility).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MaySubscribe = Callable[[Any, int], bool]
_topics: dict[str, MaySubscribe] = {}


def register_topic(kind: str, may_subscribe: MaySubscribe) -> None:
    """``may_subscribe(user, object_id)`` decides, in a database thread, whether the user's
    socket may join the group of that object (``topic_group_name``)."""
    _topics[kind] = may_subscribe


def topic_check(kind: str) -> MaySubscribe | None:
    return _topics.get(kind)


def topic_group_name(kind: str, object_id: int) -> str:
    return f"{kind}.{object_id}"
