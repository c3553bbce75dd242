"""Assignment rules, per-group assignment strategies and the agents' routing profiles.

A rule's ``conditions`` is a list of ``{"field", "operator", "value"}`` objects and its ``actions`` an
object of field → value; both are validated by ``kefu.routing.conditions`` before they are stored
(``actions.save_rule``), so the engine can trust what it reads.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Group


class MatchMode(models.TextChoices):
    ALL = "all", _("All conditions must match")
    ANY = "any", _("Any condition may match")


class AssignmentRule(models.Model):
    """One ordered rule: when its conditions hold for a new ticket, its actions apply."""

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    match_mode = models.CharField(
        _("match"), max_length=3, choices=MatchMode.choices, default=MatchMode.ALL
    )
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    actions = models.JSONField(_("actions"), default=dict, blank=True)
    stop_processing = models.BooleanField(
        _("stop processing further rules"),
        default=False,
        help_text=_("When this rule matches, later rules are not evaluated."),
    )
    matched_count = models.PositiveIntegerField(_("times matched"), default=0)
    last_matched_at = models.DateTimeField(_("last matched"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")

    def __str__(self) -> str:
        return self.name


class Strategy(models.TextChoices):
    NONE = "none", _("No automatic assignment")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LOAD = "load", _("Least open tickets (load balancing)")
    WEIGHTED = "weighted", _("Weighted round robin")
    SKILLS = "skills", _("Skills-based")


class GroupRouting(models.Model):
    """A group's assignment strategy and its rotation state.

    The row doubles as the group's assignment lock: every automatic assignment in the group reads
    and updates it under ``SELECT … FOR UPDATE``, so two tickets created at the same moment never
    see the same pointer (round robin), the same weights (weighted) or the same open counts (load).
    """

    group = models.OneToOneField(
        Group, on_delete=models.CASCADE, related_name="routing", verbose_name=_("group")
    )
    strategy = models.CharField(
        _("assignment strategy"), max_length=20, choices=Strategy.choices, default=Strategy.NONE
    )
    max_in_a_row = models.PositiveSmallIntegerField(
        _("at most in a row"),
        default=3,
        help_text=_(
            "Load and skills strategies: one agent gets at most this many consecutive tickets "
            "while others are eligible, so an agent coming back with no tickets is not flooded "
            "(0: no limit)."
        ),
    )
    last_assigned_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    streak = models.PositiveIntegerField(default=0)
    # Smooth weighted round robin: user id (as a string) → current weight.
    weights_state = models.JSONField(default=dict, blank=True)
    assigned_count = models.PositiveBigIntegerField(default=0)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("group routing")
        verbose_name_plural = _("group routing")

    def __str__(self) -> str:
        return f"{self.group}: {self.strategy}"


class Availability(models.TextChoices):
    AVAILABLE = "available", _("Available")
    AWAY = "away", _("Away")
    OFF_SHIFT = "off_shift", _("Off shift")


class AgentProfile(models.Model):
    """How automatic assignment treats one staff member (no row: available, no limits)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routing_profile"
    )
    availability = models.CharField(
        _("availability"),
        max_length=20,
        choices=Availability.choices,
        default=Availability.AVAILABLE,
    )
    away_until = models.DateTimeField(
        _("away until"),
        null=True,
        blank=True,
        help_text=_("Empty: away until switched back by hand."),
    )
    shift_hours = models.JSONField(
        _("shift hours"),
        default=dict,
        blank=True,
        help_text=_('Per weekday: {"mon": [["09:00", "18:00"]], …}; empty: no shift limits.'),
    )
    time_zone = models.CharField(_("shift time zone"), max_length=64, blank=True)
    capacity = models.PositiveIntegerField(
        _("capacity"), default=0, help_text=_("Most open tickets at once (0: no limit).")
    )
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, help_text=_("Share of tickets under weighted round robin.")
    )
    skills = models.JSONField(_("skills"), default=list, blank=True)
    last_assigned_at = models.DateTimeField(_("last assigned"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")
        indexes = [
            # The tick's "who comes back now" query reads only profiles with a return time.
            models.Index(
                fields=["away_until"],
                name="routing_profile_away_until",
                condition=models.Q(away_until__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.availability}"

    def is_away(self, now=None) -> bool:
        if self.availability != Availability.AWAY:
            return False
        now = now or timezone.now()
        return self.away_until is None or self.away_until > now
