"""Automation over the API: triggers, time rules, macros, canned responses and webhooks (create,
read, change, deactivate — ``DELETE`` deactivates, nothing disappears), webhook deliveries, and
applying a macro to a ticket. Staff read rules; administrators change them and own webhooks;
macros and canned responses follow their sharing (personal, a group's, everyone's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kefu.accounts.access import groups_visible_to, require_admin, require_staff
from kefu.api.auth import current_user
from kefu.api.schemas import ERRORS, Ref, StrictSchema, TicketOut, ref, ticket_data
from kefu.api.tickets import with_relations
from kefu.automation import actions
from kefu.automation.access import (
    get_canned_response_for_user,
    get_macro_for_user,
    get_time_rule_for_user,
    get_trigger_for_user,
    get_usable_macro,
    get_webhook_for_user,
    listable,
)
from kefu.automation.models import (
    CannedResponse,
    DelayUnit,
    Macro,
    Match,
    TimeRule,
    Trigger,
    Visibility,
    Webhook,
    WebhookDelivery,
)
from kefu.tickets.access import get_ticket_for_user
from kefu.tickets.models import State, Ticket

router = Router(tags=["automation"])

NO_CONTENT = {204: None, **ERRORS}
PREFIX = "/automation"


class ConditionRow(StrictSchema):
    field: str = Field(
        description="state, priority, type, group, assignee, channel, tags, category, "
        "complexity, organization, organization_tier, subject or body."
    )
    operator: str = Field(
        description="is, is_not, contains, not_contains, changed, changed_to, changed_from."
    )
    value: str = Field(
        "",
        description="A key, an id, a name or e-mail (resolved and stored as an id), a tag "
        "or text; empty for `changed` and for 'none'.",
    )


class ActionRow(StrictSchema):
    type: str = Field(
        description="set_state, set_priority, set_type, set_group, set_assignee, set_category, "
        "set_complexity, add_tags, remove_tags, add_note, add_reply, notify, webhook."
    )
    value: str = Field(
        "",
        description="The new value; for notify: customer, assignee or group; for webhook: "
        "its id or name; for macros' set_assignee also `me`.",
    )
    subject: str = Field("", description="notify: the e-mail subject (placeholders allowed).")
    body: str = Field("", description="add_note, add_reply, notify: the text (placeholders).")


def _rows(rows: list | None) -> list[dict] | None:
    return None if rows is None else [row.model_dump() for row in rows]


def _fields(payload: StrictSchema) -> dict[str, Any]:
    fields = payload.model_dump(exclude_unset=True)
    for name in ("conditions", "actions"):
        if name in fields:
            fields[name] = _rows(getattr(payload, name))
    return fields


# --- triggers -------------------------------------------------------------------------------


class TriggerIn(StrictSchema):
    name: str | None = None
    description: str | None = None
    events: list[Literal["created", "updated", "customer_replied", "agent_replied"]] | None = None
    match: Match | None = None
    conditions: list[ConditionRow] | None = None
    actions: list[ActionRow] | None = None
    position: int | None = Field(None, ge=0)
    is_active: bool | None = None


class TriggerOut(Schema):
    id: int
    name: str
    description: str
    events: list[str]
    match: str
    conditions: list[ConditionRow]
    actions: list[ActionRow]
    position: int
    is_active: bool
    fired_count: int
    last_fired_at: datetime | None
    last_error: str
    created_at: datetime
    updated_at: datetime


class TriggerList(Schema):
    items: list[TriggerOut]


@router.get(f"{PREFIX}/triggers", response={200: TriggerList, **ERRORS}, url_name="list_triggers")
def list_triggers(request: HttpRequest):
    require_staff(current_user(request))
    return {"items": list(Trigger.objects.all())}


@router.post(f"{PREFIX}/triggers", response={201: TriggerOut, **ERRORS}, url_name="create_trigger")
def create_trigger(request: HttpRequest, payload: TriggerIn):
    return 201, actions.save_trigger(current_user(request), **_fields(payload))


@router.get(
    f"{PREFIX}/triggers/{{int:trigger_id}}",
    response={200: TriggerOut, **ERRORS},
    url_name="read_trigger",
)
def read_trigger(request: HttpRequest, trigger_id: int):
    return get_trigger_for_user(current_user(request), trigger_id)


@router.patch(
    f"{PREFIX}/triggers/{{int:trigger_id}}",
    response={200: TriggerOut, **ERRORS},
    url_name="change_trigger",
)
def change_trigger(request: HttpRequest, trigger_id: int, payload: TriggerIn):
    user = current_user(request)
    trigger = get_trigger_for_user(user, trigger_id, write=True)
    return actions.save_trigger(user, trigger, **_fields(payload))


@router.delete(
    f"{PREFIX}/triggers/{{int:trigger_id}}", response=NO_CONTENT, url_name="deactivate_trigger"
)
def deactivate_trigger(request: HttpRequest, trigger_id: int):
    user = current_user(request)
    actions.save_trigger(user, get_trigger_for_user(user, trigger_id, write=True), is_active=False)
    return 204, None


# --- time rules -----------------------------------------------------------------------------


class TimeRuleIn(StrictSchema):
    name: str | None = None
    state: State | None = None
    delay: int | None = Field(None, ge=1, le=10000)
    unit: DelayUnit | None = None
    conditions: list[ConditionRow] | None = Field(
        None, description="Further conditions, checked when the time has come (no `changed`)."
    )
    actions: list[ActionRow] | None = None
    position: int | None = Field(None, ge=0)
    is_active: bool | None = None


class TimeRuleOut(Schema):
    id: int
    name: str
    state: str
    delay: int
    unit: str
    conditions: list[ConditionRow]
    actions: list[ActionRow]
    position: int
    is_active: bool
    fired_count: int
    last_fired_at: datetime | None
    last_error: str


class TimeRuleList(Schema):
    items: list[TimeRuleOut]


@router.get(
    f"{PREFIX}/time-rules", response={200: TimeRuleList, **ERRORS}, url_name="list_time_rules"
)
def list_time_rules(request: HttpRequest):
    require_staff(current_user(request))
    return {"items": list(TimeRule.objects.all())}


@router.post(
    f"{PREFIX}/time-rules", response={201: TimeRuleOut, **ERRORS}, url_name="create_time_rule"
)
def create_time_rule(request: HttpRequest, payload: TimeRuleIn):
    return 201, actions.save_time_rule(current_user(request), **_fields(payload))


@router.get(
    f"{PREFIX}/time-rules/{{int:rule_id}}",
    response={200: TimeRuleOut, **ERRORS},
    url_name="read_time_rule",
)
def read_time_rule(request: HttpRequest, rule_id: int):
    return get_time_rule_for_user(current_user(request), rule_id)


@router.patch(
    f"{PREFIX}/time-rules/{{int:rule_id}}",
    response={200: TimeRuleOut, **ERRORS},
    url_name="change_time_rule",
)
def change_time_rule(request: HttpRequest, rule_id: int, payload: TimeRuleIn):
    user = current_user(request)
    rule = get_time_rule_for_user(user, rule_id, write=True)
    return actions.save_time_rule(user, rule, **_fields(payload))


@router.delete(
    f"{PREFIX}/time-rules/{{int:rule_id}}", response=NO_CONTENT, url_name="deactivate_time_rule"
)
def deactivate_time_rule(request: HttpRequest, rule_id: int):
    user = current_user(request)
    actions.save_time_rule(user, get_time_rule_for_user(user, rule_id, write=True), is_active=False)
    return 204, None


# --- macros and canned responses ------------------------------------------------------------


class SharingIn(StrictSchema):
    visibility: Visibility | None = Field(
        None, description="personal (only you), group (its members), everyone (all staff)."
    )
    group: int | None = Field(None, description="A group id, for visibility=group.")
    is_active: bool | None = None


def _sharing_fields(user, payload: SharingIn) -> dict[str, Any]:
    fields = _fields(payload)
    if fields.get("group") is not None:
        group = groups_visible_to(user).filter(pk=fields["group"]).first()
        if group is None:
            raise ValidationError({"group": _("No such group: %(id)s") % {"id": fields["group"]}})
        fields["group"] = group
    return fields


def _shared_data(item: Macro | CannedResponse) -> dict[str, Any]:
    return {
        "visibility": item.visibility,
        "owner": ref(item.owner),
        "group": ref(item.group),
        "is_active": item.is_active,
        "used_count": item.used_count,
    }


class MacroIn(SharingIn):
    name: str | None = None
    actions: list[ActionRow] | None = Field(
        None, description="Field changes only (set_*, add_tags, remove_tags)."
    )
    reply_body: str | None = Field(None, description="A reply with placeholders, or empty.")
    reply_internal: bool | None = Field(None, description="Add the text as an internal note.")


class MacroOut(Schema):
    id: int
    name: str
    actions: list[ActionRow]
    reply_body: str
    reply_internal: bool
    visibility: str
    owner: Ref | None
    group: Ref | None
    is_active: bool
    used_count: int


class MacroList(Schema):
    items: list[MacroOut]


def macro_data(macro: Macro) -> dict[str, Any]:
    return {
        "id": macro.pk,
        "name": macro.name,
        "actions": macro.actions,
        "reply_body": macro.reply_body,
        "reply_internal": macro.reply_internal,
        **_shared_data(macro),
    }


@router.get(f"{PREFIX}/macros", response={200: MacroList, **ERRORS}, url_name="list_macros")
def list_macros(request: HttpRequest):
    user = current_user(request)
    require_staff(user)
    return {"items": [macro_data(m) for m in listable(Macro, user).order_by("name", "pk")]}


@router.post(f"{PREFIX}/macros", response={201: MacroOut, **ERRORS}, url_name="create_macro")
def create_macro(request: HttpRequest, payload: MacroIn):
    user = current_user(request)
    return 201, macro_data(actions.save_macro(user, **_sharing_fields(user, payload)))


@router.get(
    f"{PREFIX}/macros/{{int:macro_id}}", response={200: MacroOut, **ERRORS}, url_name="read_macro"
)
def read_macro(request: HttpRequest, macro_id: int):
    return macro_data(get_macro_for_user(current_user(request), macro_id))


@router.patch(
    f"{PREFIX}/macros/{{int:macro_id}}",
    response={200: MacroOut, **ERRORS},
    url_name="change_macro",
)
def change_macro(request: HttpRequest, macro_id: int, payload: MacroIn):
    user = current_user(request)
    macro = get_macro_for_user(user, macro_id, write=True)
    return macro_data(actions.save_macro(user, macro, **_sharing_fields(user, payload)))


@router.delete(
    f"{PREFIX}/macros/{{int:macro_id}}", response=NO_CONTENT, url_name="deactivate_macro"
)
def deactivate_macro(request: HttpRequest, macro_id: int):
    user = current_user(request)
    actions.save_macro(user, get_macro_for_user(user, macro_id, write=True), is_active=False)
    return 204, None


@router.post(
    "/tickets/{int:ticket_id}/macros/{int:macro_id}/apply",
    response={200: TicketOut, **ERRORS},
    url_name="apply_macro",
    summary="Apply a macro to a ticket (its reply and changes, in one step)",
)
def apply_macro(request: HttpRequest, ticket_id: int, macro_id: int):
    user = current_user(request)
    ticket = get_ticket_for_user(user, ticket_id, write=True)
    macro = get_usable_macro(user, macro_id)
    actions.apply_macro(user, ticket, macro)
    # The macro may have moved the ticket to a group the caller does not see.
    return ticket_data(with_relations(Ticket.objects.all(), user).get(pk=ticket.pk), user)


class CannedResponseIn(SharingIn):
    title: str | None = None
    body: str | None = Field(None, description="The text, with placeholders.")


class CannedResponseOut(Schema):
    id: int
    title: str
    body: str
    visibility: str
    owner: Ref | None
    group: Ref | None
    is_active: bool
    used_count: int


class CannedResponseList(Schema):
    items: list[CannedResponseOut]


def canned_data(item: CannedResponse) -> dict[str, Any]:
    return {"id": item.pk, "title": item.title, "body": item.body, **_shared_data(item)}


@router.get(
    f"{PREFIX}/canned-responses",
    response={200: CannedResponseList, **ERRORS},
    url_name="list_canned_responses",
)
def list_canned_responses(request: HttpRequest, q: str = ""):
    """All you may use or manage; with ``q``, the active ones whose title or text contains every
    word of it (Chinese or English), the most used first."""
    user = current_user(request)
    require_staff(user)
    if q:
        items = actions.search_canned_responses(user, q[:100], limit=50)
    else:
        items = listable(CannedResponse, user).order_by("title", "pk")
    return {"items": [canned_data(item) for item in items]}


@router.post(
    f"{PREFIX}/canned-responses",
    response={201: CannedResponseOut, **ERRORS},
    url_name="create_canned_response",
)
def create_canned_response(request: HttpRequest, payload: CannedResponseIn):
    user = current_user(request)
    item = actions.save_canned_response(user, **_sharing_fields(user, payload))
    return 201, canned_data(item)


@router.get(
    f"{PREFIX}/canned-responses/{{int:item_id}}",
    response={200: CannedResponseOut, **ERRORS},
    url_name="read_canned_response",
)
def read_canned_response(request: HttpRequest, item_id: int):
    return canned_data(get_canned_response_for_user(current_user(request), item_id))


@router.patch(
    f"{PREFIX}/canned-responses/{{int:item_id}}",
    response={200: CannedResponseOut, **ERRORS},
    url_name="change_canned_response",
)
def change_canned_response(request: HttpRequest, item_id: int, payload: CannedResponseIn):
    user = current_user(request)
    item = get_canned_response_for_user(user, item_id, write=True)
    return canned_data(actions.save_canned_response(user, item, **_sharing_fields(user, payload)))


@router.delete(
    f"{PREFIX}/canned-responses/{{int:item_id}}",
    response=NO_CONTENT,
    url_name="deactivate_canned_response",
)
def deactivate_canned_response(request: HttpRequest, item_id: int):
    user = current_user(request)
    item = get_canned_response_for_user(user, item_id, write=True)
    actions.save_canned_response(user, item, is_active=False)
    return 204, None


# --- webhooks -------------------------------------------------------------------------------


class WebhookIn(StrictSchema):
    name: str | None = None
    url: str | None = Field(None, description="http(s); non-public addresses are refused.")
    secret: str | None = Field(
        None, description="At least 16 characters; omitted on create: a random one is returned."
    )
    events: (
        list[
            Literal[
                "ticket.created",
                "ticket.updated",
                "ticket.customer_replied",
                "ticket.agent_replied",
            ]
        ]
        | None
    ) = None
    is_active: bool | None = None


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    is_active: bool
    secret: str | None = Field(
        None, description="Only in the answer that created or changed the secret."
    )
    created_at: datetime


class WebhookList(Schema):
    items: list[WebhookOut]


class AttemptOut(Schema):
    number: int
    status_code: int | None
    error: str
    duration_ms: int
    created_at: datetime


class DeliveryOut(Schema):
    id: int
    uuid: str
    event: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]
    log: list[AttemptOut]


class DeliveryList(Schema):
    items: list[DeliveryOut]


def webhook_data(hook: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
    return {
        "id": hook.pk,
        "name": hook.name,
        "url": hook.url,
        "events": hook.events,
        "is_active": hook.is_active,
        "secret": hook.secret if with_secret else None,
        "created_at": hook.created_at,
    }


def delivery_data(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "uuid": str(delivery.uuid),
        "event": delivery.event,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
        "payload": delivery.payload,
        "log": list(delivery.log.all()),
    }


@router.get(f"{PREFIX}/webhooks", response={200: WebhookList, **ERRORS}, url_name="list_webhooks")
def list_webhooks(request: HttpRequest):
    require_admin(current_user(request))
    return {"items": [webhook_data(hook) for hook in Webhook.objects.all()]}


@router.post(f"{PREFIX}/webhooks", response={201: WebhookOut, **ERRORS}, url_name="create_webhook")
def create_webhook(request: HttpRequest, payload: WebhookIn):
    hook = actions.save_webhook(current_user(request), **_fields(payload))
    return 201, webhook_data(hook, with_secret=True)


@router.get(
    f"{PREFIX}/webhooks/{{int:webhook_id}}",
    response={200: WebhookOut, **ERRORS},
    url_name="read_webhook",
)
def read_webhook(request: HttpRequest, webhook_id: int):
    return webhook_data(get_webhook_for_user(current_user(request), webhook_id))


@router.patch(
    f"{PREFIX}/webhooks/{{int:webhook_id}}",
    response={200: WebhookOut, **ERRORS},
    url_name="change_webhook",
)
def change_webhook(request: HttpRequest, webhook_id: int, payload: WebhookIn):
    user = current_user(request)
    hook = actions.save_webhook(user, get_webhook_for_user(user, webhook_id), **_fields(payload))
    return webhook_data(hook, with_secret=bool(payload.secret))


@router.delete(
    f"{PREFIX}/webhooks/{{int:webhook_id}}", response=NO_CONTENT, url_name="deactivate_webhook"
)
def deactivate_webhook(request: HttpRequest, webhook_id: int):
    user = current_user(request)
    actions.save_webhook(user, get_webhook_for_user(user, webhook_id), is_active=False)
    return 204, None


@router.get(
    f"{PREFIX}/webhooks/{{int:webhook_id}}/deliveries",
    response={200: DeliveryList, **ERRORS},
    url_name="list_webhook_deliveries",
)
def list_deliveries(request: HttpRequest, webhook_id: int):
    """The latest 100 deliveries with every attempt."""
    hook = get_webhook_for_user(current_user(request), webhook_id)
    deliveries = hook.deliveries.prefetch_related("log")[:100]
    return {"items": [delivery_data(d) for d in deliveries]}


@router.post(
    f"{PREFIX}/webhooks/{{int:webhook_id}}/test",
    response={202: DeliveryOut, **ERRORS},
    url_name="test_webhook",
)
def test_webhook(request: HttpRequest, webhook_id: int):
    user = current_user(request)
    delivery = actions.send_test_delivery(user, get_webhook_for_user(user, webhook_id))
    return 202, delivery_data(delivery)
