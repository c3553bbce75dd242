"""``/audit``: the audit log of administrative changes (administrators only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kefu.accounts.access import require_admin
from kefu.api.auth import current_user
from kefu.api.pagination import keyset_page
from kefu.api.schemas import ERRORS, Ref
from kefu.audit.labels import action_label
from kefu.audit.models import AuditEntry
from kefu.audit.queries import filter_entries

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    id: int
    created_at: datetime
    actor: Ref | None = Field(description="null: the command line or the system.")
    action: str = Field(description='"<object>.<verb>", e.g. user.deactivated')
    action_label: str
    object_type: str = Field(description='"<app>.<model>", e.g. accounts.user')
    object_id: str
    object_repr: str
    changes: dict[str, Any] = Field(
        description="{field: [old, new]} or {key: value}; secrets masked"
    )
    ip: str | None


class AuditFilters(Schema):
    actor: int | None = Field(None, description="A user id.")
    object_type: str = Field("", description='e.g. "accounts.user", "customers.contact"')
    object_id: str = ""
    action: str = Field("", description='An action or its prefix, e.g. "user." or "token.revoked"')
    date_from: date | None = None
    date_to: date | None = None
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")


class AuditPage(Schema):
    items: list[AuditEntryOut]
    next_cursor: str | None


def entry_data(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "created_at": entry.created_at,
        "actor": {"id": entry.actor_id, "name": entry.actor_repr} if entry.actor_id else None,
        "action": entry.action,
        "action_label": action_label(entry.action),
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "changes": entry.changes or {},
        "ip": entry.ip,
    }


@router.get("/audit", response={200: AuditPage, **ERRORS}, url_name="list_audit_entries")
def list_entries(request: HttpRequest, filters: Query[AuditFilters]):
    """Newest first; ``next_cursor`` fetches the next page. Dates are whole days, inclusive."""
    require_admin(current_user(request), _("Only administrators see the audit log."))
    entries = filter_entries(
        actor_id=filters.actor,
        object_type=filters.object_type,
        object_id=filters.object_id,
        action=filters.action,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    rows, next_cursor = keyset_page(entries, limit=filters.limit, cursor=filters.cursor)
    return {"items": [entry_data(entry) for entry in rows], "next_cursor": next_cursor}
