"""Request and response shapes of API v1, and the functions that build responses from models.

Requests refer to related objects by id (ticket types by key); responses embed ``{id, name}``.
Input schemas forbid unknown fields, so a typo is a ``422`` naming it rather than silently ignored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Schema
from pydantic import ConfigDict

from kefu.accounts.models import User
from kefu.tickets import serialise
from kefu.tickets.models import (
    Attachment,
    Channel,
    Complexity,
    CustomField,
    CustomFieldKind,
    Message,
    Priority,
    State,
    Ticket,
    TicketEvent,
)
from kefu.tickets.serialise import ref, ticket_ref  # noqa: F401  (the API modules use them)


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


# --- shared ---------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class ErrorItem(Schema):
    field: str | None
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem]


# Every error status an endpoint may answer, for the OpenAPI document.
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 422, 429)}


# --- input ----------------------------------------------------------------------------------


class CustomerIn(StrictSchema):
    email: str | None = None
    phone: str | None = None
    wechat_id: str | None = None
    name: str | None = None


class AttachmentIn(StrictSchema):
    filename: str
    content_type: str = "application/octet-stream"
    content_base64: str = Field(description="The file's bytes, base64-encoded.")


class TicketCreateIn(StrictSchema):
    subject: str
    body: str
    priority: Priority | None = None
    type: str | None = Field(None, description="A ticket type key, see GET /ticket-types.")
    channel: Channel | None = Field(None, description="Defaults to api.")
    group: int | None = Field(
        None, description="A group id (staff only); defaults to the default group."
    )
    customer: CustomerIn | None = Field(
        None, description="Required for staff tokens; customers may omit it or name themselves."
    )
    tags: list[str] = Field(default_factory=list, description="Staff only.")
    attachments: list[AttachmentIn] = Field(default_factory=list)
    asset: int | None = Field(None, description="An asset id; it must belong to the customer.")
    category: int | None = Field(None, description="A category id (staff only).")
    complexity: Complexity | None = Field(None, description="Staff only.")
    custom_fields: dict[str, Any] = Field(
        default_factory=dict,
        description="Staff only: `{key: value}`, see GET /custom-fields. Required fields of "
        "the ticket's type must be given.",
    )
    parent: int | None = Field(None, description="A parent ticket id (staff only).")


class TicketUpdateIn(StrictSchema):
    subject: str | None = None
    state: State | None = None
    priority: Priority | None = None
    type: str | None = None
    group: int | None = None
    assignee: int | None = Field(None, description="A user id, or null to unassign.")
    tags: list[str] | None = None
    asset: int | None = Field(None, description="An asset id, or null to clear.")
    category: int | None = Field(None, description="A category id, or null to clear.")
    complexity: Complexity | Literal[""] | None = Field(
        None, description='A complexity, or "" / null to clear.'
    )
    custom_fields: dict[str, Any] | None = Field(
        None, description="The custom fields to change, `{key: value}`; null or [] clears one."
    )
    parent: int | None = Field(None, description="A parent ticket id, or null to detach.")
    reason: str = Field("", description="Recorded on the timeline with each change.")


class MessageIn(StrictSchema):
    body: str
    body_html: str | None = Field(None, description="Optional HTML; it is sanitised.")
    internal: bool = Field(False, description="An internal note (staff only).")
    attachments: list[AttachmentIn] = Field(default_factory=list)


# --- output ---------------------------------------------------------------------------------


class TicketSLAOut(Schema):
    policy: Ref | None
    calendar: Ref | None
    first_response_due_at: datetime | None
    first_response_at: datetime | None
    next_response_due_at: datetime | None
    next_response_at: datetime | None
    resolution_due_at: datetime | None
    resolution_at: datetime | None
    acknowledgement_due_at: datetime | None
    acknowledgement_at: datetime | None
    breached: list[str] = Field(description="Names of the targets that were missed.")
    paused_minutes: int = Field(description="Business minutes the clock was paused.")
    escalation_level: int


class TicketRef(Schema):
    id: int
    number: int
    subject: str
    state: str


class LinkOut(Schema):
    id: int
    kind: str = Field(description="related, duplicate or child (as stored).")
    role: str = Field(
        description="What the other ticket is to this one: related, duplicate_of, "
        "duplicated_by, parent or child."
    )
    ticket: TicketRef


class AssetRef(Schema):
    id: int
    name: str
    serial_number: str
    product: Ref
    warranty_status: str = Field(description="in_warranty, expired or unknown.")
    warranty_ends_at: date | None


class TicketOut(Schema):
    id: int
    number: int
    subject: str
    state: str
    priority: str
    type: str
    channel: str
    group: Ref
    assignee: Ref | None
    customer: Ref
    organization: Ref | None
    tags: list[str] | None = Field(description="Staff only; null for customers.")
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    asset: AssetRef | None
    category: Ref | None = Field(description="The category (GET /categories has the tree).")
    complexity: str = Field(description='simple, standard, complex, or "" when not set.')
    custom_fields: dict[str, Any] | None = Field(
        description="Staff only: `{key: value}`; null for customers."
    )
    links: list[LinkOut] | None = Field(description="Staff only; null for customers.")
    parent: TicketRef | None = Field(description="Staff only; null for customers.")
    merged_into: TicketRef | None = Field(
        description="The ticket this one was merged into (it is then closed)."
    )
    sla: TicketSLAOut | None = Field(
        description="Staff only: SLA targets' due and achieved times (docs/sla.md); null for "
        "customers. A due time is null while the clock is paused or the target does not apply."
    )


class LinkIn(StrictSchema):
    ticket: int = Field(description="The other ticket's id.")
    kind: Literal["related", "duplicate", "child"] = Field(
        description="related; duplicate (this ticket duplicates the other); child (the other "
        "ticket becomes a child of this one)."
    )


class MergeIn(StrictSchema):
    into: int = Field(description="The id of the ticket that survives.")
    comment: str = Field(
        "", description="The public reply telling the customer; a default text when empty."
    )
    notify_customer: bool = True


class SplitIn(StrictSchema):
    message: int = Field(description="The id of the message that becomes a new ticket.")
    subject: str = Field("", description="The new ticket's subject; defaults to the original's.")


class BulkIn(StrictSchema):
    tickets: list[int] = Field(description="Ticket ids (at most 500).")
    state: State | None = None
    priority: Priority | None = None
    group: int | None = None
    assignee: int | None = Field(None, description="A user id, or null to unassign.")
    add_tags: list[str] | None = None
    remove_tags: list[str] | None = None
    merge_into: int | None = Field(
        None, description="Merge every ticket into this one (alone, without other changes)."
    )
    reason: str = ""


class BulkFailureOut(Schema):
    ticket: int
    number: int | None
    message: str


class BulkOut(Schema):
    succeeded: list[int]
    failed: list[BulkFailureOut]


class CustomFieldIn(StrictSchema):
    key: str = Field(description="Lower-case letters, digits and _, starting with a letter.")
    label: str
    kind: CustomFieldKind
    choices: list[str] = Field(default_factory=list, description="Options of choice fields.")
    ticket_types: list[str] = Field(
        default_factory=list, description="Ticket type keys; empty: every type."
    )
    help_text: str = ""
    required: bool = False
    position: int = Field(0, ge=0, le=32767)
    active: bool = True


class CustomFieldUpdateIn(StrictSchema):
    label: str | None = None
    kind: CustomFieldKind | None = Field(None, description="Only while no ticket has a value.")
    choices: list[str] | None = None
    ticket_types: list[str] | None = None
    help_text: str | None = None
    required: bool | None = None
    position: int | None = Field(None, ge=0, le=32767)
    active: bool | None = None


class CustomFieldOut(Schema):
    id: int
    key: str
    label: str
    kind: str
    choices: list[str]
    ticket_types: list[str]
    help_text: str
    required: bool
    position: int
    active: bool


class CustomFieldList(Schema):
    items: list[CustomFieldOut]


class CategoryOut(Schema):
    id: int
    name: str
    path: str
    parent: int | None
    active: bool


class CategoryList(Schema):
    items: list[CategoryOut]


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class AttachmentOut(Schema):
    id: int
    filename: str
    size: int
    content_type: str
    url: str


class AuthorOut(Schema):
    id: int
    name: str
    kind: str = Field(description="user (a login) or contact (a customer without one).")


class MessageOut(Schema):
    id: int
    body: str
    body_html: str
    internal: bool
    author: AuthorOut | None
    created_at: datetime
    attachments: list[AttachmentOut]


class MessageList(Schema):
    items: list[MessageOut]


class EventOut(Schema):
    type: str
    actor: Ref | None
    created_at: datetime
    field: str | None = None
    old: str | None = None
    new: str | None = None
    reason: str | None = None
    message_id: int | None = None


class EventList(Schema):
    items: list[EventOut]


class GroupList(Schema):
    items: list[Ref]


class TicketTypeOut(Schema):
    key: str
    name: str
    position: int
    active: bool


class TicketTypeList(Schema):
    items: list[TicketTypeOut]


# --- building responses ---------------------------------------------------------------------


def ticket_data(ticket: Ticket, user: User) -> dict[str, Any]:
    """A ticket as the API (and every webhook) shows it to ``user``: ``kefu.tickets.serialise``.
    Expects the relations of ``serialise.with_relations`` (``kefu.api.tickets``)."""
    return serialise.ticket_data(ticket, for_staff=user.is_staff_member)


def custom_field_data(field: CustomField) -> dict[str, Any]:
    """Expects ``ticket_types`` prefetched."""
    return {
        "id": field.pk,
        "key": field.key,
        "label": field.label,
        "kind": field.kind,
        "choices": list(field.choices or []),
        "ticket_types": sorted(t.key for t in field.ticket_types.all()),
        "help_text": field.help_text,
        "required": field.is_required,
        "position": field.position,
        "active": field.is_active,
    }


def attachment_data(request: HttpRequest, attachment: Attachment) -> dict[str, Any]:
    url = reverse("api:download_attachment", kwargs={"attachment_id": attachment.pk})
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "url": request.build_absolute_uri(url),
    }


def _author(message: Message) -> dict[str, Any] | None:
    if message.author_user_id:
        return {"id": message.author_user_id, "name": str(message.author_user), "kind": "user"}
    if message.author_contact_id:
        return {
            "id": message.author_contact_id,
            "name": str(message.author_contact),
            "kind": "contact",
        }
    return None


def message_data(request: HttpRequest, message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "body": message.body_text,
        "body_html": message.body_html,
        "internal": message.is_internal,
        "author": _author(message),
        "created_at": message.created_at,
        "attachments": [attachment_data(request, a) for a in message.attachments.all()],
    }


def event_data(event: TicketEvent) -> dict[str, Any]:
    return {
        "type": event.type,
        "actor": ref(event.actor),
        "created_at": event.created_at,
        "field": event.field or None,
        "old": event.old_value or None,
        "new": event.new_value or None,
        "reason": event.reason or None,
        "message_id": event.message_id,
    }


def dump(schema: type[Schema], data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``data`` against ``schema`` (for responses built outside ninja's serialiser)."""
    return schema.model_validate(data).model_dump()
