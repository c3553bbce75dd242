"""Every change to tickets and messages. Views, API, CLI, jobs and automation call these.

Each action checks what the actor may do, writes inside one transaction, records the timeline
(``TicketEvent``), enqueues its jobs inside that transaction, publishes the typed domain events
(``kefu.tickets.events``) for higher apps, and sends realtime events after commit.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kefu.accounts.access import can_be_assigned, workable_group_ids
from kefu.accounts.models import Group, Role, User
from kefu.accounts.signatures import signature_for, with_signature
from kefu.customers.models import Asset, Contact
from kefu.lib import config_cache
from kefu.lib.errors import BusinessRuleError
from kefu.lib.html import html_to_text, sanitize_html, text_to_html
from kefu.lib.uploads import UploadedFile, validate_upload
from kefu.realtime.publish import publish as publish_realtime
from kefu.realtime.publish import ticket_group_name, user_group_name
from kefu.tickets import custom_fields as custom
from kefu.tickets import events
from kefu.tickets.access import can_work_ticket
from kefu.tickets.models import (
    CUSTOMER_VISIBLE_FIELDS,
    Attachment,
    Category,
    Channel,
    EventType,
    Message,
    Priority,
    State,
    Tag,
    Ticket,
    TicketEvent,
    TicketType,
)
from kefu.tickets.numbers import next_ticket_number
from kefu.tickets.search import index_new_ticket, index_ticket
from kefu.tickets.validation import (
    normalise_tags,
    validate_asset,
    validate_category,
    validate_complexity,
    validate_subject,
)

REASON_CUSTOMER_REPLIED = gettext_noop("The customer replied")
REASON_AGENT_REPLIED = gettext_noop("An agent replied")
CUSTOM_FIELD_PREFIX = "cf."


# --- helpers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTicket:
    """What ``create_ticket`` opens: the first message and the ticket's fields (``None`` / empty
    means the default). ``type_key`` is a ticket type's key; ``tags`` names;
    ``custom_fields`` ``{key: value}`` (``kefu.tickets.custom_fields``); ``parent`` makes the new
    ticket its child; ``author_contact`` is the customer a channel opens it for (with
    ``actor=None``), and ``message_id`` / ``in_reply_to`` keep the channel's threading ids."""

    subject: str
    body: str
    contact: Contact | None = None
    body_html: str | None = None
    channel: str | None = None
    priority: str | None = None
    type_key: str | None = None
    group: Group | None = None
    assignee: User | None = None
    tags: Iterable[str] = ()
    category: Category | None = None
    complexity: str | None = None
    asset: Asset | None = None
    custom_fields: dict[str, Any] | None = None
    parent: Ticket | None = None
    attachments: Sequence[UploadedFile] = ()
    author_contact: Contact | None = None
    message_id: str = ""
    in_reply_to: str = ""


def _active_groups_and_types() -> tuple[list[Group], list[TicketType]]:
    groups = list(Group.objects.filter(is_active=True).order_by("pk"))
    types = list(TicketType.objects.filter(is_active=True).order_by("position", "pk"))
    return groups, types


def _configured() -> tuple[list[Group], list[TicketType]]:
    """Active groups and ticket types (a per-process snapshot; callers get copies)."""
    return config_cache.snapshot("tickets.groups_and_types", _active_groups_and_types)


def default_group() -> Group:
    groups = _configured()[0]
    group = next((g for g in groups if g.is_default), None) or next(iter(groups), None)
    if group is None:
        raise BusinessRuleError(
            _("No group exists yet; an administrator must create one."), field="group"
        )
    return copy.copy(group)


def ticket_type_by_key(key: str | None) -> TicketType:
    types = _configured()[1]
    if key:
        found = next((t for t in types if t.key == key), None)
        if found is None:
            keys = ", ".join(t.key for t in types)
            raise ValidationError(
                {
                    "type": _("Unknown ticket type %(key)s; use one of: %(keys)s")
                    % {"key": key, "keys": keys}
                }
            )
        return copy.copy(found)
    if types:
        return copy.copy(types[0])
    found, _created = TicketType.objects.get_or_create(
        key="question", defaults={"name": "Question"}
    )
    return found


def _message_bodies(body: str, body_html: str | None) -> tuple[str, str]:
    if body_html:
        safe_html = sanitize_html(body_html)
        text = (body or "").strip() or html_to_text(safe_html)
    else:
        text = (body or "").strip()
        safe_html = text_to_html(text) if text else ""
    if not text:
        raise ValidationError({"body": _("The message must not be empty.")})
    return text, safe_html


def _store_attachments(message: Message, uploads: Sequence[UploadedFile]) -> list[Attachment]:
    stored = []
    for upload in uploads:
        validate_upload(upload)
        name = PurePosixPath(upload.filename.replace("\\", "/")).name[:255]
        attachment = Attachment(
            message=message,
            filename=name,
            content_type=(upload.content_type or "application/octet-stream")[:120],
            size=len(upload.content),
            sha256=hashlib.sha256(upload.content).hexdigest(),
            created_at=timezone.now(),
        )
        attachment.file.save(name, ContentFile(upload.content), save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _record(ticket: Ticket, actor: User | None, type_: str, **fields: Any) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, actor=actor, type=type_, **fields)


def _display(field: str, value: Any) -> str:
    if value is None:
        return ""
    if field == "tags":
        return ", ".join(value)
    if field == "asset":
        return value.serial_number
    if field == "parent":
        return f"#{value.number}"
    if field.startswith(CUSTOM_FIELD_PREFIX):
        return custom.display(value)
    return str(value)


def _notify_live(ticket: Ticket, kind: str, **extra: Any) -> None:
    groups = [ticket_group_name(ticket.pk)]
    if ticket.assignee_id:
        groups.append(user_group_name(ticket.assignee_id))
    publish_realtime(
        groups, {"kind": kind, "ticket_id": ticket.pk, "number": ticket.number, **extra}
    )


def _require_staff_writer(actor: User, ticket: Ticket) -> None:
    if not can_work_ticket(actor, ticket):
        raise PermissionDenied(_("You can read this ticket but not change it."))


# --- tickets --------------------------------------------------------------------------------


@transaction.atomic
def create_ticket(actor: User | None, new: NewTicket) -> Ticket:
    """Open a ticket with its first message (``NewTicket`` says what each field means).

    A customer opens tickets for themselves (``contact`` is their own) and may not set the group,
    assignee, tags, category, complexity, custom fields or parent; staff open them on a
    customer's behalf (``contact`` required), e.g. to log a phone call. A channel (e-mail)
    opens them for a customer without a login: ``actor=None`` and ``author_contact`` set.
    A staff member must fill the required custom fields of the ticket's type.
    """
    contact, group, assignee, parent = new.contact, new.group, new.assignee, new.parent
    channel, priority, category, complexity = (
        new.channel,
        new.priority,
        new.category,
        new.complexity,
    )
    tags, custom_fields, author_contact = new.tags, new.custom_fields, new.author_contact
    subject = validate_subject(new.subject)
    text, safe_html = _message_bodies(new.body, new.body_html)
    if actor is None:
        if author_contact is None:
            raise ValueError("create_ticket without an actor needs author_contact")
        contact = author_contact
    elif actor.role == Role.CUSTOMER:
        own_contact = getattr(actor, "contact", None)
        if own_contact is None:
            raise BusinessRuleError(_("Your login is not linked to a customer record."))
        if contact is not None and contact.pk != own_contact.pk:
            raise PermissionDenied(_("Customers open tickets only for themselves."))
        if group is not None or assignee is not None:
            raise ValidationError({"group": _("Customers cannot choose the group or assignee.")})
        staff_only = {
            "tags": tags,
            "category": category,
            "complexity": complexity,
            "custom_fields": custom_fields,
            "parent": parent,
        }
        refused = sorted(name for name, value in staff_only.items() if value)
        if refused:
            raise ValidationError({name: _("Only staff can set this field.") for name in refused})
        contact = own_contact
    elif not actor.is_staff_member:
        raise PermissionDenied(_("You may not open tickets."))
    if contact is None:
        raise ValidationError({"customer": _("Name the customer this ticket is for.")})
    if not contact.is_active:
        raise BusinessRuleError(_("This customer record is deactivated."), field="customer")
    channel = channel or Channel.WEB
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel %(value)s.") % {"value": channel}})
    priority = priority or Priority.MEDIUM
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Unknown priority %(value)s.") % {"value": priority}})
    ticket_type = ticket_type_by_key(new.type_key)
    group = group or default_group()
    if not group.is_active:
        raise BusinessRuleError(
            _("The group %(group)s is deactivated.") % {"group": group}, field="group"
        )
    if assignee is not None and not can_be_assigned(assignee, group):
        raise ValidationError(
            {
                "assignee": _("%(user)s cannot work tickets of %(group)s.")
                % {"user": assignee, "group": group}
            }
        )
    tag_names = normalise_tags(tags)
    category = validate_category(category)
    complexity = validate_complexity(complexity)
    asset = validate_asset(new.asset, contact)
    is_staff = actor is not None and actor.is_staff_member
    if (custom_fields or parent is not None) and not is_staff:
        raise PermissionDenied(_("Only staff set custom fields and parent tickets."))
    custom_values = custom.clean_values(ticket_type, custom_fields, check_required=is_staff)
    if parent is not None:
        _require_staff_writer(actor, parent)  # type: ignore[arg-type]

    now = timezone.now()
    ticket = Ticket.objects.create(
        number=next_ticket_number(),
        subject=subject,
        state=State.NEW,
        priority=priority,
        type=ticket_type,
        channel=channel,
        contact=contact,
        organization=contact.organization,
        group=group,
        assignee=assignee,
        category=category,
        complexity=complexity,
        asset=asset,
        created_by=actor,
        last_customer_message_at=now,
    )
    if tag_names:
        ticket.tags.set([Tag.objects.get_or_create(name=name)[0] for name in tag_names])
    message = Message.objects.create(
        ticket=ticket,
        author_user=actor,
        author_contact=contact,
        channel=channel,
        body_text=text,
        body_html=safe_html,
        message_id=new.message_id,
        in_reply_to=new.in_reply_to,
    )
    _store_attachments(message, new.attachments)
    custom.write_values(ticket, custom_values)
    if parent is not None:
        from kefu.tickets.relations import link_child

        link_child(actor, parent, ticket)
    # Staff open tickets on a customer's behalf; the timeline names the customer.
    on_behalf_of = str(contact) if actor is not None and actor.role != Role.CUSTOMER else ""
    _record(ticket, actor, EventType.CREATED, message=message, new_value=on_behalf_of)
    index_new_ticket(ticket, message, tag_names)
    events.publish(events.TicketCreated(ticket=ticket, actor=actor, message=message))
    _notify_live(ticket, "ticket_created", group_id=group.pk)
    return ticket


CUSTOMER_CHANGEABLE_STATES = (State.CLOSED,)


@dataclass
class _Update:
    """One ``update_ticket`` call: the locked ticket, what was asked, what really changed."""

    actor: User | None
    ticket: Ticket
    changes: dict[str, Any]
    diff: dict[str, tuple[Any, Any]]

    def assign(self, name: str, new: Any) -> None:
        """Set a plain field, noting it in the diff when the value differs."""
        old = getattr(self.ticket, name)
        if new != old:
            self.diff[name] = (old, new)
            setattr(self.ticket, name, new)

    def assign_related(self, name: str, new: Any) -> None:
        """Set a foreign key (compared by id), noting it in the diff when it differs."""
        if (new.pk if new is not None else None) != getattr(self.ticket, f"{name}_id"):
            self.diff[name] = (getattr(self.ticket, name), new)
            setattr(self.ticket, name, new)


def _change_subject(update: _Update) -> None:
    update.assign("subject", validate_subject(update.changes["subject"]))


def _change_priority(update: _Update) -> None:
    priority = update.changes["priority"]
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Unknown priority %(value)s.") % {"value": priority}})
    update.assign("priority", priority)


def _change_type(update: _Update) -> None:
    update.assign_related("type", ticket_type_by_key(update.changes["type"]))


def _change_group(update: _Update) -> None:
    new_group, ticket, actor = update.changes["group"], update.ticket, update.actor
    if new_group is None:
        raise ValidationError({"group": _("Every ticket belongs to a group.")})
    if new_group.pk == ticket.group_id:
        return
    if not new_group.is_active:
        raise BusinessRuleError(
            _("The group %(group)s is deactivated.") % {"group": new_group}, field="group"
        )
    allowed = workable_group_ids(actor) if actor is not None else None
    is_agent = actor is not None and actor.role == Role.AGENT
    if is_agent and allowed is not None and new_group.pk not in allowed:
        raise PermissionDenied(
            _("Agents move tickets only to groups they work in; ask a supervisor.")
        )
    update.assign_related("group", new_group)
    # An assignee who cannot work the new group lets go (the assignee change runs next).
    if (
        "assignee" not in update.changes
        and ticket.assignee is not None
        and not can_be_assigned(ticket.assignee, new_group)
    ):
        update.changes["assignee"] = None


def _change_assignee(update: _Update) -> None:
    new_assignee, ticket = update.changes["assignee"], update.ticket
    if new_assignee is not None and not can_be_assigned(new_assignee, ticket.group):
        raise ValidationError(
            {
                "assignee": _("%(user)s cannot work tickets of %(group)s.")
                % {"user": new_assignee, "group": ticket.group}
            }
        )
    update.assign_related("assignee", new_assignee)


def _change_state(update: _Update) -> None:
    new_state, ticket = update.changes["state"], update.ticket
    if new_state not in State.values:
        raise ValidationError({"state": _("Unknown state %(value)s.") % {"value": new_state}})
    if new_state == ticket.state:
        return
    if new_state in (State.RESOLVED, State.CLOSED):
        _check_children_done(ticket)
    update.diff["state"] = (ticket.state, new_state)
    _apply_state(ticket, new_state)


def _change_category(update: _Update) -> None:
    update.assign_related("category", validate_category(update.changes["category"]))


def _change_complexity(update: _Update) -> None:
    update.assign("complexity", validate_complexity(update.changes["complexity"]))


def _change_asset(update: _Update) -> None:
    new_asset = validate_asset(update.changes["asset"], update.ticket.contact)
    update.assign_related("asset", new_asset)


def _change_tags(update: _Update) -> None:
    """``tags`` replaces the list; ``add_tags`` / ``remove_tags`` apply to the tags read under
    the row lock, so two concurrent additions both survive."""
    changes, ticket = update.changes, update.ticket
    current = list(ticket.tags.order_by("name").values_list("name", flat=True))
    wanted = list(changes["tags"] or []) if "tags" in changes else list(current)
    removed = {name.lower() for name in normalise_tags(changes.get("remove_tags") or [])}
    wanted = [name for name in wanted if name.lower() not in removed]
    names = normalise_tags(wanted + list(changes.get("add_tags") or []))
    if sorted(n.lower() for n in names) != sorted(n.lower() for n in current):
        ticket.tags.set([Tag.objects.get_or_create(name=name)[0] for name in names])
        update.diff["tags"] = (current, sorted(names))


def _change_custom_fields(update: _Update) -> None:
    ticket = update.ticket
    cleaned = custom.clean_values(
        ticket.type,
        update.changes["custom_fields"],
        current=custom.read_values_fresh(ticket),
        check_required=False,
    )
    for key, change in custom.write_values(ticket, cleaned).items():
        update.diff[CUSTOM_FIELD_PREFIX + key] = change


def _change_parent(update: _Update) -> None:
    from kefu.tickets.relations import current_parent, link_child, unlink_parent

    ticket, actor, new_parent = update.ticket, update.actor, update.changes["parent"]
    old_parent = current_parent(ticket)
    if (new_parent.pk if new_parent else None) == (old_parent.pk if old_parent else None):
        return
    if old_parent is not None:
        unlink_parent(ticket)
    if new_parent is not None:
        if actor is not None:
            _require_staff_writer(actor, new_parent)
        link_child(actor, new_parent, ticket, record=False)
    update.diff["parent"] = (old_parent, new_parent)


# The per-field changes of ``update_ticket``, in the order they apply (a group change may
# unassign, so the assignee follows it): the keywords that start each, and its handler, which
# validates the value and applies it to the locked ticket, noting the real change in the diff.
# Every diff entry then becomes one timeline row and part of the ``TicketChanged`` event.
FIELD_CHANGES: tuple[tuple[tuple[str, ...], Callable[[_Update], None]], ...] = (
    (("subject",), _change_subject),
    (("priority",), _change_priority),
    (("type",), _change_type),
    (("group",), _change_group),
    (("assignee",), _change_assignee),
    (("state",), _change_state),
    (("category",), _change_category),
    (("complexity",), _change_complexity),
    (("asset",), _change_asset),
    (("tags", "add_tags", "remove_tags"), _change_tags),
    (("custom_fields",), _change_custom_fields),
    (("parent",), _change_parent),
)
TRACKED_FIELDS = tuple(name for names, _handler in FIELD_CHANGES for name in names)


@transaction.atomic
def update_ticket(
    actor: User | None, ticket: Ticket, *, reason: str = "", **changes: Any
) -> Ticket:
    """Change ticket fields: ``subject``, ``state``, ``priority``, ``type`` (key), ``group``
    (Group), ``assignee`` (User or None), ``tags`` (list of names), ``add_tags`` /
    ``remove_tags`` (names, applied to the tags under the row lock), ``category`` (Category or
    None), ``complexity`` (a ``Complexity`` value or ""), ``asset`` (Asset or None),
    ``custom_fields`` (a partial ``{key: value}``) and ``parent`` (Ticket or None).
    Unchanged values are ignored; each real change becomes one timeline row (custom fields as
    ``cf.<key>``). Each field is one handler in ``FIELD_CHANGES``.

    A parent cannot be resolved or closed while a child is open when
    ``settings.CHILDREN_BLOCK_PARENT_RESOLVE`` is on (the default).

    ``actor=None`` is the system (SLA escalation, routing): no permission check, and the
    timeline shows "System"; only trusted code (tick functions, event handlers) passes it.
    """
    unknown = set(changes) - set(TRACKED_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be changed.") for name in sorted(unknown)}
        )
    # of=("self",): PostgreSQL cannot lock the nullable side of the assignee outer join.
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("group", "assignee", "type", "category", "asset", "contact")
        .get(pk=ticket.pk)
    )

    if actor is None:
        pass
    elif actor.role == Role.CUSTOMER:
        if set(changes) - {"state"} or changes.get("state") not in CUSTOMER_CHANGEABLE_STATES:
            raise PermissionDenied(_("Customers can only close their tickets."))
    else:
        _require_staff_writer(actor, ticket)

    update = _Update(actor, ticket, changes, diff={})
    for names, handler in FIELD_CHANGES:
        if any(name in update.changes for name in names):
            handler(update)

    diff = update.diff
    if not diff:
        return ticket
    if ticket.merged_into_id and set(diff) - {"state", "tags"}:
        raise BusinessRuleError(
            _("This ticket was merged into #%(number)s; change that one instead.")
            % {"number": ticket.merged_into.number}  # type: ignore[union-attr]
        )
    ticket.save()
    for field, (old, new) in diff.items():
        _record(
            ticket,
            actor,
            EventType.CHANGED,
            field=field,
            old_value=_display(field, old),
            new_value=_display(field, new),
            reason=reason,
            is_internal=field not in CUSTOMER_VISIBLE_FIELDS,
        )
    if "subject" in diff or "tags" in diff:
        index_ticket(ticket)
    events.publish(events.TicketChanged(ticket=ticket, actor=actor, changes=diff))
    if "state" in diff:
        old_state, new_state = diff["state"]
        events.publish(
            events.TicketStateChanged(
                ticket=ticket, actor=actor, old_state=old_state, new_state=new_state
            )
        )
    if (
        "assignee" in diff
        and ticket.assignee_id
        and (actor is None or ticket.assignee_id != actor.pk)
    ):
        publish_realtime(
            [user_group_name(ticket.assignee_id)],
            {"kind": "assigned", "ticket_id": ticket.pk, "number": ticket.number},
        )
    _notify_live(ticket, "ticket_changed", fields=sorted(diff))
    return ticket


def _check_children_done(ticket: Ticket) -> None:
    if not settings.CHILDREN_BLOCK_PARENT_RESOLVE:
        return
    from kefu.tickets.models import OPEN_STATES, LinkKind

    numbers = list(
        Ticket.objects.filter(
            links_in__source=ticket, links_in__kind=LinkKind.CHILD, state__in=OPEN_STATES
        )
        .order_by("number")
        .values_list("number", flat=True)[:10]
    )
    if numbers:
        raise BusinessRuleError(
            _("This ticket has open child tickets (%(numbers)s); resolve or close them first.")
            % {"numbers": ", ".join(f"#{n}" for n in numbers)},
            field="state",
        )


def _apply_state(ticket: Ticket, new_state: str) -> None:
    now = timezone.now()
    ticket.state = new_state
    if new_state == State.RESOLVED:
        ticket.resolved_at = now
        ticket.closed_at = None
    elif new_state == State.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    else:
        ticket.resolved_at = None
        ticket.closed_at = None


# --- messages -------------------------------------------------------------------------------


@transaction.atomic
def add_message(
    actor: User | None,
    ticket: Ticket,
    *,
    body: str,
    body_html: str | None = None,
    internal: bool = False,
    attachments: Sequence[UploadedFile] = (),
    channel: str | None = None,
    author_contact: Contact | None = None,
    message_id: str = "",
    in_reply_to: str = "",
) -> Message:
    """Add a public reply or an internal note.

    A customer reply reopens a resolved (or waiting) ticket; an agent's first public reply stamps
    ``first_response_at``. Internal notes are staff-only. ``actor=None`` is the system (an
    automatic message or an SLA note): never a response, never permission-checked.
    ``actor=None`` with ``author_contact`` is a customer writing through a channel (e-mail)
    without a login; ``message_id``/``in_reply_to`` keep the channel's threading identifiers.
    """
    ticket = Ticket.objects.select_for_update().select_related("contact", "group").get(pk=ticket.pk)
    text, safe_html = _message_bodies(body, body_html)
    from_customer = author_contact is not None or (
        actor is not None and actor.role == Role.CUSTOMER
    )
    if from_customer:
        if internal:
            raise PermissionDenied(_("Customers cannot write internal notes."))
        if ticket.state == State.CLOSED:
            raise BusinessRuleError(_("This ticket is closed; please open a new one."))
    elif actor is not None:
        _require_staff_writer(actor, ticket)
        if not internal:  # the stored reply is what the customer gets (portal, e-mail, API)
            text, safe_html = with_signature(text, safe_html, signature_for(actor, ticket.group))

    if author_contact is None and from_customer:
        author_contact = getattr(actor, "contact", None)
    message = Message.objects.create(
        ticket=ticket,
        is_internal=internal,
        author_user=actor,
        author_contact=author_contact,
        channel=channel or Channel.WEB,
        body_text=text,
        body_html=safe_html,
        message_id=message_id,
        in_reply_to=in_reply_to,
    )
    _store_attachments(message, attachments)
    now = timezone.now()
    old_state = ticket.state
    if from_customer:
        ticket.last_customer_message_at = now
        if ticket.state in (State.RESOLVED, State.PENDING_CUSTOMER):
            _apply_state(ticket, State.OPEN)
        _record(ticket, actor, EventType.CUSTOMER_REPLIED, message=message)
    elif internal:
        _record(ticket, actor, EventType.NOTE_ADDED, message=message, is_internal=True)
    else:
        if ticket.first_response_at is None and actor is not None:
            ticket.first_response_at = now
        if ticket.state == State.NEW:
            _apply_state(ticket, State.OPEN)
        _record(ticket, actor, EventType.REPLIED, message=message)
        from kefu.tickets.tasks import send_reply_to_customer

        send_reply_to_customer.enqueue(message.pk)
    ticket.save()
    if ticket.state != old_state:
        _record(
            ticket,
            actor,
            EventType.REOPENED if old_state in (State.RESOLVED,) else EventType.CHANGED,
            field="state",
            old_value=old_state,
            new_value=ticket.state,
            # Stored in English and translated when shown (see the timeline templates).
            reason=REASON_CUSTOMER_REPLIED if from_customer else REASON_AGENT_REPLIED,
        )
        events.publish(
            events.TicketStateChanged(
                ticket=ticket, actor=actor, old_state=old_state, new_state=ticket.state
            )
        )
    index_ticket(ticket)
    events.publish(events.MessageAdded(ticket=ticket, actor=actor, message=message))
    _notify_live(ticket, "message_added", message_id=message.pk, internal=internal)
    return message


@transaction.atomic
def retry_message_delivery(actor: User, message: Message) -> Message:
    """Send a public reply again whose delivery failed (``delivery_error`` set, not yet sent).

    The send job is idempotent (``customer_notified_at`` under a row lock), so a retry racing a
    still-scheduled automatic retry cannot send the mail twice.
    """
    ticket = message.ticket
    _require_staff_writer(actor, ticket)
    if message.is_internal or message.author_contact_id is not None:
        raise BusinessRuleError(_("Only replies to the customer are sent."))
    if message.customer_notified_at is not None:
        raise BusinessRuleError(_("This reply has already been delivered."))
    Message.objects.filter(pk=message.pk).update(delivery_error="")
    message.delivery_error = ""
    from kefu.tickets.tasks import send_reply_to_customer

    send_reply_to_customer.enqueue(message.pk)
    _notify_live(ticket, "message_changed", message_id=message.pk)
    return message
