"""Which channel delivers an agent's public reply to the customer.

``send_reply_to_customer`` asks the registered deliverers in turn; the first that returns True
has sent the reply (a channel app — e-mail through the ticket's mailbox, later WeChat — registers
one in its ``AppConfig.ready()``). When none takes it, the reply goes out as a notification
e-mail from the site's default sender. A deliverer runs inside the job's row lock on the message
and must be idempotent: it is called again when the job is retried.

A deliverer may register a ``message_id`` function too: the reply's Message-ID is fixed (and
committed) before the first attempt, so the channel that will carry it chooses its form (the
mailbox's domain); ``None`` leaves it to the next one, and the default is the site's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Deliverer = Callable[[Any], bool]
MessageIdMaker = Callable[[Any], str | None]

_deliverers: list[Deliverer] = []
_message_id_makers: list[MessageIdMaker] = []


def register_deliverer(deliverer: Deliverer, message_id: MessageIdMaker | None = None) -> None:
    if deliverer not in _deliverers:
        _deliverers.append(deliverer)
    if message_id is not None and message_id not in _message_id_makers:
        _message_id_makers.append(message_id)


def deliver_by_channel(message: Any) -> bool:
    """True when a registered channel delivered ``message``."""
    return any(deliverer(message) for deliverer in list(_deliverers))


def message_id_for(message: Any) -> str:
    """The Message-ID ``message`` will be sent under, by whichever channel carries it."""
    for maker in list(_message_id_makers):
        message_id = maker(message)
        if message_id:
            return message_id
    return f"<kefu-message-{message.pk}@kefu.local>"
