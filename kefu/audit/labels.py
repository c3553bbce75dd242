"""Readable names of the audit actions; an action without a label is shown by its key."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "user.created": _("User created"),
    "user.updated": _("User changed"),
    "user.role_changed": _("Role changed"),
    "user.deactivated": _("User deactivated"),
    "user.reactivated": _("User reactivated"),
    "user.invited": _("Invitation sent"),
    "user.password_set": _("Password set by an administrator"),
    "membership.set": _("Group membership set"),
    "membership.removed": _("Group membership removed"),
    "group.created": _("Group created"),
    "group.updated": _("Group changed"),
    "group.deactivated": _("Group deactivated"),
    "group.reactivated": _("Group reactivated"),
    "token.created": _("API token created"),
    "token.revoked": _("API token revoked"),
    "contact.deactivated": _("Contact deactivated"),
    "contact.reactivated": _("Contact reactivated"),
    "contact.bounce_cleared": _("Bounce flag cleared"),
    "category.saved": _("Category saved"),
    "contact.anonymised": _("Personal data erased"),
    "contact.purged_spam": _("Spam purged"),
    "organization.deactivated": _("Organisation deactivated"),
    "organization.reactivated": _("Organisation reactivated"),
    "sla_calendar.saved": _("Business calendar saved"),
    "sla_calendar.date_set": _("Calendar date set"),
    "sla_calendar.date_removed": _("Calendar date removed"),
    "sla_calendar.imported": _("Calendar dates imported"),
    "sla_policy.saved": _("SLA policy saved"),
    "sla_policy.deactivated": _("SLA policy deactivated"),
    "sla_target.set": _("SLA target set"),
    "sla_escalation.saved": _("Escalation level saved"),
    "sla_escalation.removed": _("Escalation level removed"),
    "mailbox.created": _("Mailbox created"),
    "mailbox.updated": _("Mailbox changed"),
    "mailbox.oauth_connected": _("Mailbox connected (OAuth2)"),
    "group_mail.updated": _("Group e-mail settings changed"),
}

OBJECT_TYPE_LABELS = {
    "accounts.user": _("user"),
    "accounts.group": _("group"),
    "accounts.apitoken": _("API token"),
    "customers.contact": _("contact"),
    "customers.organization": _("organisation"),
    "sla.businesscalendar": _("business calendar"),
    "sla.slapolicy": _("SLA policy"),
    "sla.escalationlevel": _("escalation level"),
    "intake.mailbox": _("mailbox"),
    "intake.groupmailsettings": _("group e-mail settings"),
    "sla.calendardate": _("calendar date"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def object_type_label(object_type: str) -> str:
    return str(OBJECT_TYPE_LABELS.get(object_type, object_type))
