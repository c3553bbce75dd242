"""``/notifications``: the caller's notifications, reading them, and their delivery choices."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kefu.accounts.access import require_staff
from kefu.accounts.models import User
from kefu.api.auth import current_user
from kefu.api.pagination import keyset_page
from kefu.api.schemas import ERRORS, Ref, StrictSchema
from kefu.notifications import actions
from kefu.notifications.access import get_notification_for_user
from kefu.notifications.models import Kind, Notification

router = Router(tags=["notifications"])


class TicketRef(Schema):
    id: int
    number: int
    subject: str


class NotificationOut(Schema):
    id: int
    kind: Kind
    text: str = Field(description="What happened, in the caller's language.")
    ticket: TicketRef | None = Field(description="None when it concerns no ticket.")
    summary: str = Field(description="For a notification without a ticket: what it is about.")
    link: str = Field(description="For a notification without a ticket: the page to look at.")
    actor: Ref | None
    message_id: int | None = Field(description="The reply or note it is about, if any.")
    created_at: str
    read_at: str | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread_count: int


class NotificationFilters(Schema):
    unread: bool = Field(False, description="Only unread notifications.")
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")


class ReadAllOut(Schema):
    marked: int
    unread_count: int


class PreferenceOut(Schema):
    kind: Kind
    label: str
    in_app: bool
    email: bool


class PreferenceList(Schema):
    items: list[PreferenceOut]


class PreferenceIn(StrictSchema):
    in_app: bool | None = None
    email: bool | None = None


class PreferencesIn(StrictSchema):
    """Only the kinds (and channels) given change."""

    assigned: PreferenceIn | None = None
    customer_replied: PreferenceIn | None = None
    mentioned: PreferenceIn | None = None
    group_waiting: PreferenceIn | None = None
    escalated: PreferenceIn | None = None


def _staff(request: HttpRequest) -> User:
    user = current_user(request)
    require_staff(user, _("Only staff receive notifications."))
    return user


def notification_data(notification: Notification) -> dict:
    ticket = notification.ticket
    actor = notification.actor
    text = render_to_string("notifications/_sentence.html", {"notification": notification})
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "text": " ".join(text.split()),
        "ticket": (
            {"id": ticket.pk, "number": ticket.number, "subject": ticket.subject}
            if ticket is not None
            else None
        ),
        "summary": notification.summary,
        "link": notification.link,
        "actor": {"id": actor.pk, "name": actor.name} if actor else None,
        "message_id": notification.message_id,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }


def preference_data(user: User) -> dict:
    chosen = actions.preferences_for(user)
    return {
        "items": [
            {"kind": kind.value, "label": str(kind.label), "in_app": in_app, "email": email}
            for kind in Kind
            for in_app, email in [chosen[kind.value]]
        ]
    }


@router.get(
    "/notifications",
    response={200: NotificationPage, **ERRORS},
    url_name="list_notifications",
    summary="The caller's notifications, newest first",
)
def list_notifications(request: HttpRequest, filters: Query[NotificationFilters]):
    user = _staff(request)
    rows = Notification.objects.inbox(user).select_related(
        "ticket__contact", "ticket__group", "actor", "event"
    )
    if filters.unread:
        rows = rows.unread()
    page, next_cursor = keyset_page(rows, limit=filters.limit, cursor=filters.cursor)
    return {
        "items": [notification_data(row) for row in page],
        "next_cursor": next_cursor,
        "unread_count": actions.unread_count(user),
    }


@router.post(
    "/notifications/read-all",
    response={200: ReadAllOut, **ERRORS},
    url_name="read_all_notifications",
    summary="Mark all of the caller's notifications as read",
)
def read_all(request: HttpRequest):
    user = _staff(request)
    return {"marked": actions.mark_all_read(user), "unread_count": 0}


@router.get(
    "/notifications/preferences",
    response={200: PreferenceList, **ERRORS},
    url_name="notification_preferences",
    summary="Which notifications the caller gets in the app and by e-mail",
)
def get_preferences(request: HttpRequest):
    return preference_data(_staff(request))


@router.patch(
    "/notifications/preferences",
    response={200: PreferenceList, **ERRORS},
    url_name="update_notification_preferences",
    summary="Change the caller's notification choices",
)
def patch_preferences(request: HttpRequest, payload: PreferencesIn):
    user = _staff(request)
    choices = {
        kind: {name: value for name, value in choice.items() if value is not None}
        for kind, choice in payload.model_dump(exclude_none=True).items()
    }
    actions.update_preferences(user, choices)
    return preference_data(user)


@router.post(
    "/notifications/{int:notification_id}/read",
    response={200: NotificationOut, **ERRORS},
    url_name="read_notification",
    summary="Mark one notification as read",
)
def read_one(request: HttpRequest, notification_id: int):
    user = _staff(request)
    notification = get_notification_for_user(user, notification_id)
    actions.mark_read(user, notification)
    return notification_data(notification)
