"""Which channel delivers an agent's public reply to the customer.

``send_reply_to_customer`` asks the registered deliverers in turn; the first that returns True
has sent the reply (a channel app — e-mail through the ticket's mailbox, later WeChat — registers
one in its ``AppConfig.ready()``). When none takes it, the reply goes out as a notification
e-mail from the site's default sender. A deliverer runs inside the job's row lock on the message
and must be idempotent: it is called again when the job is retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Deliverer = Callable[[Any], bool]

_deliverers: list[Deliverer] = []


def register_deliverer(deliverer: Deliverer) -> None:
    if deliverer not in _deliverers:
        _deliverers.append(deliverer)


def deliver_by_channel(message: Any) -> bool:
    """True when a registered channel delivered ``message``."""
    return any(deliverer(message) for deliverer in list(_deliverers))
