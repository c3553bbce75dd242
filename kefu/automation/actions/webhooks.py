"""Outgoing webhook deliveries: the payload, enqueueing, and one delivery attempt."""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.access import require_admin
from kefu.accounts.models import User
from kefu.automation import outgoing
from kefu.automation.models import (
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from kefu.lib import config_cache
from kefu.tickets import serialise
from kefu.tickets.models import Message, Ticket


def _value(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    if hasattr(value, "pk"):
        return serialise.ref(value)
    return str(value)


def ticket_payload(ticket: Ticket) -> dict[str, Any]:
    """The API's ticket object as staff see it (``kefu.tickets.serialise``), as JSON values."""
    tickets = serialise.with_relations(Ticket.objects.filter(pk=ticket.pk), for_staff=True)
    data = serialise.ticket_data(tickets.get(), for_staff=True)
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def enqueue_delivery(
    hook: Webhook,
    event: str,
    ticket: Ticket | None,
    *,
    changes: dict[str, tuple[Any, Any]] | None = None,
    message: Message | None = None,
    extra: dict[str, Any] | None = None,
) -> WebhookDelivery:
    """Store the delivery with its payload and enqueue the job, inside the caller's transaction."""
    from kefu.automation.tasks import deliver_webhook

    delivery = WebhookDelivery(webhook=hook, event=event, ticket=ticket, payload={})
    payload: dict[str, Any] = {
        "event": event,
        "delivery": str(delivery.uuid),
        "occurred_at": timezone.now().isoformat(),
        "ticket": ticket_payload(ticket) if ticket is not None else None,
        "ticket_url": (
            settings.SITE_URL + reverse("tickets:detail", args=[ticket.pk])
            if ticket is not None
            else None
        ),
    }
    if changes:
        payload["changes"] = {
            name: {"from": _value(old), "to": _value(new)} for name, (old, new) in changes.items()
        }
    if message is not None:
        payload["message"] = {
            "id": message.pk,
            "internal": message.is_internal,
            "author": message.author_name,
            "from_customer": message.is_from_customer,
            "text": message.body_text,
        }
    payload.update(extra or {})
    delivery.payload = payload
    delivery.save()
    deliver_webhook.enqueue(delivery.pk)
    return delivery


def deliver_to_subscribers(
    event: str,
    ticket: Ticket,
    *,
    changes: dict[str, tuple[Any, Any]] | None = None,
    message: Message | None = None,
) -> int:
    hooks = [
        h
        for h in config_cache.snapshot(
            "automation.webhooks", lambda: list(Webhook.objects.filter(is_active=True))
        )
        if event in h.events
    ]
    for hook in hooks:
        enqueue_delivery(hook, event, ticket, changes=changes, message=message)
    return len(hooks)


@transaction.atomic
def send_test_delivery(actor: User, hook: Webhook) -> WebhookDelivery:
    require_admin(actor, _("Only administrators manage webhooks."))
    return enqueue_delivery(hook, "ping", None, extra={"webhook": serialise.ref(hook)})


PERMANENT_STATUSES = frozenset(range(400, 500)) - {408, 409, 425, 429}


def attempt_delivery(delivery_id: int) -> str:
    """One attempt, logged. Raises on a failure worth retrying (network, 5xx, 429) so the job
    retries with backoff; a refused target or other 4xx ends the delivery as failed."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return "nothing to do"
    hook = delivery.webhook
    number = delivery.attempts + 1
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "X-Kefu-Event": delivery.event,
        "X-Kefu-Delivery": str(delivery.uuid),
        "X-Kefu-Attempt": str(number),
    }
    started = time.monotonic()
    status_code: int | None = None
    error = ""
    excerpt = ""
    permanent = False
    try:
        response = outgoing.post(hook.url, body, secret=hook.secret, headers=headers)
    except outgoing.WebhookRefused as refused:
        error, permanent = str(refused), True
    except Exception as failure:  # network errors, timeouts, TLS
        error = f"{type(failure).__name__}: {failure}"
    else:
        status_code, excerpt = response.status, response.excerpt
        if not 200 <= status_code < 300:
            error = _("The receiver answered HTTP %(status)s.") % {"status": status_code}
            permanent = status_code in PERMANENT_STATUSES
    duration = int((time.monotonic() - started) * 1000)
    succeeded = not error
    last = permanent or number >= settings.JOB_MAX_ATTEMPTS
    status = (
        DeliveryStatus.SUCCEEDED
        if succeeded
        else DeliveryStatus.FAILED
        if last
        else DeliveryStatus.PENDING
    )
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            status_code=status_code,
            error=error[:2000],
            response_excerpt=excerpt,
            duration_ms=duration,
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=number,
            last_status_code=status_code,
            last_error=error[:2000],
            status=status,
            delivered_at=timezone.now() if succeeded else None,
        )
    if succeeded:
        return f"delivered: HTTP {status_code}"
    if status == DeliveryStatus.FAILED:
        return f"failed: {error}"
    raise ConnectionError(error)
