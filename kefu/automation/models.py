"""Triggers, time rules (with their stored due times), macros, canned responses, outgoing
webhooks (with every delivery and attempt) and the notification e-mails automation sends.

Conditions and actions are stored as lists of small dicts (``{"field", "operator", "value"}``,
``{"type", "value", "subject", "body"}``), validated and normalised by ``kefu.automation.rules``
before they are saved; admins edit them as rows in the console, never as raw JSON.
"""

from __future__ import annotations

import uuid

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Group
from kefu.tickets.models import State, Ticket


class TriggerEvent(models.TextChoices):
    CREATED = "created", _("Ticket created")
    UPDATED = "updated", _("Ticket updated")
    CUSTOMER_REPLIED = "customer_replied", _("Customer replied")
    AGENT_REPLIED = "agent_replied", _("Agent replied")


class Match(models.TextChoices):
    ALL = "all", _("All conditions must match")
    ANY = "any", _("Any condition may match")


class Trigger(models.Model):
    """Runs its actions when a ticket event happens and its conditions match."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    events = models.JSONField(_("when"), default=list)
    match = models.CharField(_("match"), max_length=5, choices=Match.choices, default=Match.ALL)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    actions = models.JSONField(_("actions"), default=list)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    fired_count = models.PositiveIntegerField(default=0)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("trigger")
        verbose_name_plural = _("triggers")

    def __str__(self) -> str:
        return self.name


class DelayUnit(models.TextChoices):
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")


class TimeRule(models.Model):
    """Acts on tickets that have been in ``state`` for a given time (calendar time)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    state = models.CharField(_("in state"), max_length=20, choices=State.choices)
    delay = models.PositiveIntegerField(_("for"))
    unit = models.CharField(_("unit"), max_length=5, choices=DelayUnit.choices, default="days")
    conditions = models.JSONField(_("further conditions"), default=list, blank=True)
    actions = models.JSONField(_("actions"), default=list)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    fired_count = models.PositiveIntegerField(default=0)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("time rule")
        verbose_name_plural = _("time rules")
        indexes = [models.Index(fields=["state", "is_active"], name="timerule_state")]

    def __str__(self) -> str:
        return self.name

    @property
    def delay_hours(self) -> int:
        return self.delay * (24 if self.unit == DelayUnit.DAYS else 1)


class ScheduleOutcome(models.TextChoices):
    WAITING = "", _("Waiting")
    DONE = "done", _("Actions run")
    SKIPPED = "skipped", _("Skipped: conditions no longer met")
    FAILED = "failed", _("Failed")


class TimeRuleSchedule(models.Model):
    """When a time rule is due for one ticket: written when the ticket enters the rule's state,
    claimed by the tick (``due_at`` set to NULL with a conditional UPDATE), so the tick reads only
    due rows through the partial index."""

    rule = models.ForeignKey(TimeRule, on_delete=models.CASCADE, related_name="schedules")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    entered_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=ScheduleOutcome.choices, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "ticket"], name="one_schedule_per_rule_ticket")
        ]
        indexes = [
            # The tick's only query: due rows, oldest first.
            models.Index(fields=["due_at"], name="timerule_due", condition=Q(due_at__isnull=False)),
            models.Index(fields=["ticket"], name="timerule_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.ticket_id} due {self.due_at}"


class Visibility(models.TextChoices):
    PERSONAL = "personal", _("Only me")
    GROUP = "group", _("Members of a group")
    EVERYONE = "everyone", _("All staff")


class SharedItem(models.Model):
    """Macros and canned responses: personal (``owner``), a group's, or everyone's."""

    visibility = models.CharField(
        _("who can use it"), max_length=10, choices=Visibility.choices, default=Visibility.PERSONAL
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    group = models.ForeignKey(
        Group,
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Macro(SharedItem):
    """One click on a ticket: several field changes plus an optional reply or note."""

    name = models.CharField(_("name"), max_length=120)
    actions = models.JSONField(_("changes"), default=list, blank=True)
    reply_body = models.TextField(_("reply"), blank=True)
    reply_internal = models.BooleanField(
        _("as internal note"), default=False, help_text=_("Add the text as an internal note.")
    )
    used_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")

    def __str__(self) -> str:
        return self.name


class CannedResponse(SharedItem):
    title = models.CharField(_("title"), max_length=160)
    body = models.TextField(_("text"))
    used_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self) -> str:
        return self.title


class WebhookEvent(models.TextChoices):
    CREATED = "ticket.created", _("Ticket created")
    UPDATED = "ticket.updated", _("Ticket updated")
    CUSTOMER_REPLIED = "ticket.customer_replied", _("Customer replied")
    AGENT_REPLIED = "ticket.agent_replied", _("Agent replied")


def _fernet() -> Fernet:
    return Fernet(settings.ENCRYPTION_KEY.encode())


class Webhook(models.Model):
    """An outgoing HTTP callback: signed JSON to ``url`` on subscribed events or trigger actions."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    secret_encrypted = models.TextField(blank=True)
    events = models.JSONField(_("events"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name

    @property
    def secret(self) -> str:
        if not self.secret_encrypted:
            return ""
        try:
            return _fernet().decrypt(self.secret_encrypted.encode()).decode()
        except InvalidToken:
            return ""

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = _fernet().encrypt(value.encode()).decode() if value else ""


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one webhook; its payload is fixed when enqueued, its attempts logged."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=40)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["webhook", "-created_at"], name="delivery_webhook")]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number", "pk"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"


class MailStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    NOT_SENT = "not_sent", _("Not sent")


class AutomationMail(models.Model):
    """A notification e-mail a trigger or time rule sends, rendered when it fired.

    The Message-ID is stored before the first attempt and ``sent_at`` stamped under a row lock,
    so a retried job never sends it twice.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=200)
    to_address = models.EmailField()
    language = models.CharField(max_length=10, blank=True)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    message_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=MailStatus.choices, default="pending")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_address}"
