"""``/channels/email``: the inbound webhook for raw mail, and mailbox management (admins only)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kefu.accounts.access import require_admin
from kefu.accounts.models import Group
from kefu.api.auth import current_user
from kefu.api.errors import PayloadTooLarge, TemporarilyUnavailable
from kefu.api.parser import refuse_unsafe_text
from kefu.api.schemas import ERRORS, ErrorOut, Ref, StrictSchema
from kefu.intake.access import get_mailbox_for_user, mailboxes_for
from kefu.intake.actions import (
    MAILBOX_FIELDS,
    IngestDeferred,
    ingest_email,
    save_group_mail_settings,
    save_mailbox,
)
from kefu.intake.models import Authentication, GroupMailSettings, Mailbox, Outcome, Security
from kefu.intake.oauth import redirect_uri

router = Router(tags=["e-mail channel"])
# A transient failure (the database busy or restarting) is usually over within a minute.
INBOUND_RETRY_AFTER_SECONDS = 60


class TicketRef(Schema):
    id: int
    number: int


class InboundOut(Schema):
    outcome: str = Field(description="ticket_created, message_added, automatic, denied or failed.")
    duplicate: bool = Field(
        description="True when this mail was ingested before (same Message-ID)."
    )
    reason: str
    ticket: TicketRef | None


@router.post(
    "/channels/email/inbound",
    response={200: InboundOut, 202: InboundOut, 503: ErrorOut, **ERRORS},
    url_name="email_inbound",
    summary="Ingest one raw e-mail (for MTA webhooks; administrators' tokens)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def inbound(request: HttpRequest):
    user = current_user(request)
    require_admin(user, _("Only administrators' tokens may deliver mail."))
    raw = request.body
    if not raw.strip():
        raise ValidationError({"body": _("Send one raw RFC 5322 message as the request body.")})
    mailbox = None
    address = request.GET.get("mailbox", "").strip()
    refuse_unsafe_text(address, "mailbox")  # read here, not by ninja's parser
    if address:
        mailbox = Mailbox.objects.filter(email_address__iexact=address).first()
        if mailbox is None:
            raise ValidationError(
                {"mailbox": _("No mailbox has the address %(address)s.") % {"address": address}}
            )
    limit = settings.MAX_INBOUND_EMAIL_MB
    if len(raw) > limit * 1024 * 1024:
        raise PayloadTooLarge(
            _("The e-mail is over the limit of %(limit)s MB.") % {"limit": limit}, field="body"
        )
    try:
        result = ingest_email(raw, mailbox)
    except IngestDeferred:
        raise TemporarilyUnavailable(
            _("The e-mail could not be stored just now; deliver it again later."),
            retry_after=INBOUND_RETRY_AFTER_SECONDS,
        ) from None
    record = result.inbound
    ticket = record.ticket
    # A mail that failed for its content is stored (and retried) here: 202, so the MTA does
    # not deliver it again.
    status = 202 if record.outcome == Outcome.FAILED else 200
    return status, {
        "outcome": record.outcome,
        "duplicate": result.duplicate,
        "reason": record.reason,
        "ticket": {"id": ticket.pk, "number": ticket.number} if ticket else None,
    }


class MailboxIn(StrictSchema):
    name: str | None = None
    is_active: bool | None = None
    email_address: str | None = None
    from_name: str | None = None
    imap_host: str | None = None
    imap_port: int | None = None
    imap_security: Security | None = None
    imap_user: str | None = None
    imap_password: str | None = Field(None, description="Write-only; omit to keep the stored one.")
    imap_folder: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_security: Security | None = None
    smtp_user: str | None = None
    smtp_password: str | None = Field(None, description="Write-only; omit to keep the stored one.")
    authentication: Authentication | None = Field(
        None,
        description="password, or OAuth2 (microsoft, google, oauth2 for another provider); "
        "OAuth2 mailboxes are connected in the browser (the mailbox page's Connect button).",
    )
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = Field(
        None, description="Write-only; omit to keep the stored one."
    )
    oauth_tenant: str | None = Field(
        None, description="Microsoft: the directory (tenant) id or domain; empty: organizations."
    )
    oauth_authorize_url: str | None = Field(None, description="Other provider only.")
    oauth_token_url: str | None = Field(None, description="Other provider only.")
    oauth_scopes: str | None = Field(None, description="Other provider only, space-separated.")
    group: int | None = Field(None, description="The target group's id.")
    allowed_senders: list[str] | None = None
    denied_senders: list[str] | None = None
    poll_interval_seconds: int | None = None


class MailboxOut(Schema):
    id: int
    name: str
    is_active: bool
    email_address: str
    from_name: str
    imap_host: str
    imap_port: int
    imap_security: str
    imap_user: str
    imap_folder: str
    has_imap_password: bool
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    has_smtp_password: bool
    authentication: str
    oauth_client_id: str
    has_oauth_client_secret: bool
    oauth_tenant: str
    oauth_authorize_url: str
    oauth_token_url: str
    oauth_scopes: str
    oauth_status: str = Field(
        description="Empty for password login; not_connected, connected or reconnect_needed."
    )
    oauth_account: str = Field(description="The account that consented, when the provider said.")
    oauth_connected_at: datetime | None
    oauth_access_token_expires_at: datetime | None
    oauth_reconnect_needed_at: datetime | None
    oauth_redirect_uri: str = Field(description="The redirect URI to register at the provider.")
    group: Ref | None
    allowed_senders: list[str]
    denied_senders: list[str]
    poll_interval_seconds: int
    next_fetch_at: datetime | None
    last_fetch_at: datetime | None
    last_error: str


class MailboxList(Schema):
    items: list[MailboxOut]


def mailbox_data(mailbox: Mailbox) -> dict:
    return {
        **{
            name: getattr(mailbox, name)
            # The editable fields except those shaped differently below, plus the fetch status.
            for name in (
                *(
                    f
                    for f in MAILBOX_FIELDS
                    if f not in ("group", "allowed_senders", "denied_senders")
                ),
                "next_fetch_at",
                "last_fetch_at",
                "last_error",
                "oauth_status",
                "oauth_account",
                "oauth_connected_at",
                "oauth_access_token_expires_at",
                "oauth_reconnect_needed_at",
            )
        },
        "has_oauth_client_secret": bool(mailbox.oauth_client_secret_encrypted),
        "oauth_redirect_uri": redirect_uri(),
        "id": mailbox.pk,
        "has_imap_password": bool(mailbox.imap_password_encrypted),
        "has_smtp_password": bool(mailbox.smtp_password_encrypted),
        "group": {"id": mailbox.group.pk, "name": mailbox.group.name} if mailbox.group else None,
        "allowed_senders": mailbox.allowed_senders.split(),
        "denied_senders": mailbox.denied_senders.split(),
    }


def _values(payload: MailboxIn) -> dict:
    values = payload.model_dump(exclude_unset=True)
    if "group" in values:
        group_id = values["group"]
        values["group"] = (
            Group.objects.filter(pk=group_id, is_active=True).first() if group_id else None
        )
        if group_id and values["group"] is None:
            raise ValidationError(
                {"group": _("No active group has the id %(id)s.") % {"id": group_id}}
            )
    for name in ("allowed_senders", "denied_senders"):
        if name in values:
            values[name] = "\n".join(entry.strip() for entry in values[name] or [] if entry.strip())
    for name in ("imap_security", "smtp_security", "authentication"):
        if values.get(name) is not None:
            values[name] = str(
                values[name].value if hasattr(values[name], "value") else values[name]
            )
    return {name: value for name, value in values.items() if value is not None or name == "group"}


def _require_admin(request: HttpRequest):
    user = current_user(request)
    require_admin(user, _("Only administrators manage mailboxes."))
    return user


@router.get(
    "/channels/email/mailboxes",
    response={200: MailboxList, **ERRORS},
    url_name="list_mailboxes",
    summary="List mailboxes (administrators)",
)
def list_mailboxes(request: HttpRequest):
    user = _require_admin(request)
    return {"items": [mailbox_data(mailbox) for mailbox in mailboxes_for(user)]}


@router.post(
    "/channels/email/mailboxes",
    response={201: MailboxOut, **ERRORS},
    url_name="create_mailbox",
    summary="Add a mailbox (administrators)",
)
def create_mailbox(request: HttpRequest, payload: MailboxIn):
    user = _require_admin(request)
    mailbox = save_mailbox(user, None, **_values(payload))
    return 201, mailbox_data(mailbox)


@router.get(
    "/channels/email/mailboxes/{int:mailbox_id}",
    response={200: MailboxOut, **ERRORS},
    url_name="get_mailbox",
    summary="One mailbox (administrators)",
)
def get_mailbox(request: HttpRequest, mailbox_id: int):
    return mailbox_data(get_mailbox_for_user(current_user(request), mailbox_id))


@router.patch(
    "/channels/email/mailboxes/{int:mailbox_id}",
    response={200: MailboxOut, **ERRORS},
    url_name="update_mailbox",
    summary="Change a mailbox (administrators; passwords are write-only)",
)
def update_mailbox(request: HttpRequest, mailbox_id: int, payload: MailboxIn):
    user = current_user(request)
    mailbox = get_mailbox_for_user(user, mailbox_id)
    mailbox = save_mailbox(user, mailbox, **_values(payload))
    return mailbox_data(mailbox)


class GroupMailSettingsIn(StrictSchema):
    send_acknowledgement: bool | None = None
    send_resolution_notice: bool | None = None
    sending_mailbox: int | None = Field(
        None,
        description="The id of the mailbox replies go out through; null: the mailbox the "
        "customer wrote to.",
    )


class GroupMailSettingsOut(Schema):
    group: Ref
    send_acknowledgement: bool
    send_resolution_notice: bool
    sending_mailbox: Ref | None


class GroupMailSettingsList(Schema):
    items: list[GroupMailSettingsOut]


def _group_mail_settings_data(group: Group, stored: GroupMailSettings | None) -> dict:
    stored = stored or GroupMailSettings(group=group)
    mailbox = stored.sending_mailbox
    return {
        "group": {"id": group.pk, "name": group.name},
        "send_acknowledgement": stored.send_acknowledgement,
        "send_resolution_notice": stored.send_resolution_notice,
        "sending_mailbox": {"id": mailbox.pk, "name": mailbox.name} if mailbox else None,
    }


@router.get(
    "/channels/email/group-settings",
    response={200: GroupMailSettingsList, **ERRORS},
    url_name="list_group_mail_settings",
    summary="Automatic mail and sender mailbox of every active group (administrators)",
)
def list_group_mail_settings(request: HttpRequest):
    _require_admin(request)
    stored = {
        row.group_id: row for row in GroupMailSettings.objects.select_related("sending_mailbox")
    }
    return {
        "items": [
            _group_mail_settings_data(group, stored.get(group.pk))
            for group in Group.objects.filter(is_active=True).order_by("name")
        ]
    }


@router.patch(
    "/channels/email/group-settings/{int:group_id}",
    response={200: GroupMailSettingsOut, **ERRORS},
    url_name="update_group_mail_settings",
    summary="Change a group's automatic mail switches and sender mailbox (administrators)",
)
def update_group_mail_settings(request: HttpRequest, group_id: int, payload: GroupMailSettingsIn):
    user = _require_admin(request)
    group = Group.objects.filter(pk=group_id, is_active=True).first()
    if group is None:
        raise Http404(_("No active group has the id %(id)s.") % {"id": group_id})
    current = GroupMailSettings.objects.filter(group=group).first() or GroupMailSettings(
        group=group
    )
    values = payload.model_dump(exclude_unset=True)
    mailbox = current.sending_mailbox
    if "sending_mailbox" in values:
        mailbox_id = values["sending_mailbox"]
        mailbox = Mailbox.objects.filter(pk=mailbox_id).first() if mailbox_id else None
        if mailbox_id and mailbox is None:
            raise ValidationError(
                {"sending_mailbox": _("No mailbox has the id %(id)s.") % {"id": mailbox_id}}
            )
    acknowledgement = values.get("send_acknowledgement")
    resolution_notice = values.get("send_resolution_notice")
    saved = save_group_mail_settings(
        user,
        group,
        send_acknowledgement=current.send_acknowledgement
        if acknowledgement is None
        else bool(acknowledgement),
        send_resolution_notice=current.send_resolution_notice
        if resolution_notice is None
        else bool(resolution_notice),
        sending_mailbox=mailbox,
    )
    return _group_mail_settings_data(group, saved)
