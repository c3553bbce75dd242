"""Notifications for staff: what happened to them, each person's choices, and waiting tickets.

A ``Notification`` row exists for every delivery a person wants: it is shown in the app when
``is_in_app`` and e-mailed (once, keyed by ``emailed_at``) when ``is_by_email``. ``WaitingAlert``
holds the stored due time of "a ticket in my group waits", claimed by the tick.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Group
from kefu.tickets.models import Message, Ticket, TicketEvent


class Kind(models.TextChoices):
    ASSIGNED = "assigned", _("A ticket is assigned to me")
    CUSTOMER_REPLIED = "customer_replied", _("The customer replied on my ticket")
    MENTIONED = "mentioned", _("Someone mentions me in an internal note")
    GROUP_WAITING = "group_waiting", _("A ticket in my group waits for an answer")
    ESCALATED = "escalated", _("A ticket is escalated to my group, or its escalation names me")
    SLA_WARNING = "sla_warning", _("A ticket of mine or my group is close to missing its SLA")
    SLA_BREACHED = "sla_breached", _("A ticket of mine or my group missed its SLA")
    MAIL_FAILED = "mail_failed", _("An inbound e-mail failed after every automatic retry")


# In the app everything is on; by e-mail what concerns the person directly. "Waiting" mails
# would repeat what the group's list already shows, so they are opt-in.
DEFAULT_IN_APP = dict.fromkeys(Kind, True)
DEFAULT_EMAIL = {
    Kind.ASSIGNED: True,
    Kind.CUSTOMER_REPLIED: True,
    Kind.MENTIONED: True,
    Kind.GROUP_WAITING: False,
    Kind.ESCALATED: True,
    Kind.SLA_WARNING: True,
    Kind.SLA_BREACHED: True,
    Kind.MAIL_FAILED: True,
}


class NotificationQuerySet(models.QuerySet["Notification"]):
    def inbox(self, user) -> NotificationQuerySet:
        """What ``user`` sees in the app (their own, in-app ones)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user, is_in_app=True)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    # None for what concerns no ticket (a failed inbound mail): ``summary`` and ``link`` say
    # what happened and where to look.
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    summary = models.CharField(max_length=300, blank=True)
    link = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The timeline row told about (an SLA warning or breach, an escalation): its reason is
    # the notification's detail.
    event = models.ForeignKey(
        TicketEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    is_in_app = models.BooleanField(default=True)
    is_by_email = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # The mail's Message-ID is stored before sending and ``emailed_at`` after, under a row lock:
    # a retried job sends nothing twice.
    email_message_id = models.CharField(max_length=255, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The notifications page and dropdown: a person's newest first.
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                condition=Q(is_in_app=True),
                name="notification_inbox",
            ),
            # The badge: count of unread ones, on every console page.
            models.Index(
                fields=["recipient"],
                condition=Q(is_in_app=True, read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id} on {self.ticket_id}"


class NotificationPreference(models.Model):
    """One person's choice for one kind; a missing row means the defaults above."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    is_in_app = models.BooleanField(_("in the app"))
    is_by_email = models.BooleanField(_("by e-mail"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class GroupWaitingSetting(models.Model):
    """How long a group's unassigned, unanswered ticket may wait before the group hears of it."""

    group = models.OneToOneField(
        Group, on_delete=models.CASCADE, primary_key=True, related_name="waiting_setting"
    )
    waiting_after_minutes = models.PositiveIntegerField(
        _("notify after (minutes)"),
        null=True,
        blank=True,
        help_text=_("Empty: the site default. 0: never."),
    )

    def __str__(self) -> str:
        return f"{self.group} waits {self.waiting_after_minutes}"


class WaitingAlert(models.Model):
    """An unassigned ticket waiting for an answer since ``waiting_since``; its group is told at
    ``due_at`` by the tick (``notified_at`` marks the claim). Deleted when someone takes or
    answers the ticket."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    waiting_since = models.DateTimeField()
    due_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The tick's only query: due rows not yet claimed.
            models.Index(
                fields=["due_at"], condition=Q(notified_at__isnull=True), name="waiting_alert_due"
            )
        ]

    def __str__(self) -> str:
        return f"ticket {self.ticket_id} due {self.due_at}"
