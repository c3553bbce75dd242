"""Business calendars, SLA policies with targets and escalation levels, and each ticket's SLA
state with its stored deadlines (claimed by the tick through ``check_due_at``)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Group
from kefu.customers.models import Organization, Tier
from kefu.sla import official
from kefu.sla.deadlines import (
    WorkingCalendar,
    format_working_hours,
    parse_working_hours,
)
from kefu.tickets.models import Channel, Priority, Ticket, TicketType

TARGETS = ("first_response", "next_response", "resolution", "acknowledgement")
# Targets that escalation levels and warnings follow; acknowledgement lapses have their own rule.
RESPONSE_TARGETS = ("first_response", "next_response", "resolution")

DEFAULT_WORKING_HOURS = {
    day: [["09:00", "12:00"], ["13:30", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
} | {"sat": [], "sun": []}


def validate_working_hours(value: object) -> None:
    try:
        hours = parse_working_hours(value)  # type: ignore[arg-type]
    except ValueError as error:
        raise ValidationError(str(error)) from None
    if not hours:
        raise ValidationError(_("Enter working hours for at least one weekday."))


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(value)s is not a known time zone (e.g. Asia/Shanghai).") % {"value": value}
        ) from None


class CalendarKind(models.TextChoices):
    CHINA = "china", _("China (State Council holiday schedule)")
    COUNTRY = "country", _("Country public holidays")
    CUSTOM = "custom", _("Custom dates only")
    ALWAYS_OPEN = "24x7", _("24×7 (always open)")


class BusinessCalendar(models.Model):
    """Working hours per weekday in a time zone, plus holidays and make-up working days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=CalendarKind.choices, default=CalendarKind.CHINA
    )
    country_code = models.CharField(
        _("country code"),
        max_length=3,
        blank=True,
        help_text=_("ISO code for country calendars, e.g. DE, US, SG."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    working_hours = models.JSONField(
        _("working hours"),
        default=dict,
        validators=[validate_working_hours],
        help_text=_('Per weekday, half-open intervals: {"mon": [["09:00", "12:00"], …], …}'),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == CalendarKind.COUNTRY:
            if not self.country_code or not official.is_known_country(self.country_code):
                raise ValidationError(
                    {"country_code": _("Enter a country code the holidays package knows.")}
                )
        if self.kind == CalendarKind.ALWAYS_OPEN and not self.working_hours:
            self.working_hours = DEFAULT_WORKING_HOURS

    @property
    def is_always_open(self) -> bool:
        return self.kind == CalendarKind.ALWAYS_OPEN

    def official_dates(self) -> official.OfficialDates | None:
        if self.kind == CalendarKind.CHINA:
            return official.china()
        if self.kind == CalendarKind.COUNTRY and self.country_code:
            return official.country(self.country_code)
        return None

    def missing_years(self, years: list[int]) -> list[int]:
        """Of ``years``, those this China calendar has no official or entered dates for."""
        source = self.official_dates()
        if source is None or source.years is None:
            return []
        entered = {d.date.year for d in self.dates.all()}
        return [y for y in years if y not in source.years and y not in entered]

    def working_calendar(self) -> WorkingCalendar:
        """The pure description ``deadlines`` works on: official dates overridden by entered ones."""
        holidays: set[date] = set()
        working_days: set[date] = set()
        years: frozenset[int] | None = None
        source = self.official_dates()
        if source is not None:
            holidays.update(source.holidays)
            working_days.update(source.working_days)
            years = source.years
        entered = list(self.dates.values_list("date", "kind"))
        for day, kind in entered:
            if kind == CalendarDateKind.HOLIDAY:
                holidays.add(day)
                working_days.discard(day)
            else:
                working_days.add(day)
                holidays.discard(day)
        if years is not None:
            years = years | {day.year for day, _kind in entered}
        return WorkingCalendar(
            time_zone=self.time_zone,
            hours=parse_working_hours(self.working_hours or DEFAULT_WORKING_HOURS),
            holidays=frozenset(holidays),
            extra_working_days=frozenset(working_days),
            always_open=self.is_always_open,
            years_with_data=years,
            name=self.name,
        )

    def hours_by_day(self) -> dict[str, list[list[str]]]:
        return format_working_hours(parse_working_hours(self.working_hours or {}))


class CalendarDateKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday (no work)")
    WORKING_DAY = "working_day", _("Extra working day (Monday's hours)")


class CalendarDate(models.Model):
    """A date an admin entered or imported; it overrides the official schedule."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="dates")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=12, choices=CalendarDateKind.choices)
    name = models.CharField(_("name"), max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar date")
        verbose_name_plural = _("calendar dates")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="one_entry_per_calendar_date")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class SLAPolicy(models.Model):
    """Targets for the tickets its conditions match; the first active match by position wins.

    An empty condition matches anything.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("calendar"),
        on_delete=models.PROTECT,
        related_name="policies",
    )
    priorities = models.JSONField(_("priorities"), default=list, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    tiers = models.JSONField(
        _("organisation tiers"),
        default=list,
        blank=True,
        help_text=_("Customers' organisation tiers (e.g. key account); none: any customer."),
    )
    organizations = models.ManyToManyField(
        Organization, verbose_name=_("organisations"), blank=True, related_name="+"
    )
    ticket_types = models.ManyToManyField(
        TicketType, verbose_name=_("ticket types"), blank=True, related_name="+"
    )
    groups = models.ManyToManyField(Group, verbose_name=_("groups"), blank=True, related_name="+")
    warning_percent = models.PositiveSmallIntegerField(
        _("warning threshold (percent elapsed)"),
        default=75,
        help_text=_("Warn when this share of a target's time has elapsed (1–99)."),
    )
    acknowledgement_lapses_to_escalate = models.PositiveSmallIntegerField(
        _("acknowledgement lapses before escalation"), default=2
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if set(self.priorities or []) - set(Priority.values):
            errors["priorities"] = _("Unknown priority.")
        if set(self.channels or []) - set(Channel.values):
            errors["channels"] = _("Unknown channel.")
        if set(self.tiers or []) - set(Tier.values):
            errors["tiers"] = _("Unknown organisation tier.")
        if not 1 <= (self.warning_percent or 0) <= 99:
            errors["warning_percent"] = _("Enter a percentage between 1 and 99.")
        if errors:
            raise ValidationError(errors)

    def matches(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` meets every condition; M2M conditions must be prefetched."""
        if self.priorities and ticket.priority not in self.priorities:
            return False
        if self.channels and ticket.channel not in self.channels:
            return False
        if self.tiers:
            organization = ticket.organization if ticket.organization_id else None
            if organization is None or organization.tier not in self.tiers:
                return False
        checks = (
            (self.organizations.all(), ticket.organization_id),
            (self.ticket_types.all(), ticket.type_id),
            (self.groups.all(), ticket.group_id),
        )
        return all(not chosen or value in {o.pk for o in chosen} for chosen, value in checks)

    def target_for(self, priority: str) -> SLATarget | None:
        return next((t for t in self.targets.all() if t.priority == priority), None)


class SLATarget(models.Model):
    """A policy's minutes for one priority; an empty target does not apply."""

    policy = models.ForeignKey(SLAPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(
        _("first response (minutes)"), null=True, blank=True
    )
    next_response_minutes = models.PositiveIntegerField(
        _("next response (minutes)"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution (minutes)"), null=True, blank=True
    )
    acknowledgement_minutes = models.PositiveIntegerField(
        _("acknowledgement (minutes)"), null=True, blank=True
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("calendar"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the policy's calendar."),
    )

    class Meta:
        ordering = ["policy", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="one_target_per_priority")
        ]

    def __str__(self) -> str:
        return f"{self.policy} {self.priority}"

    def minutes(self, target: str) -> int | None:
        return getattr(self, f"{target}_minutes")


class EscalationLevel(models.Model):
    """What happens at ``minutes`` relative to the breach of the ticket's nearest target
    (negative: before it), like GLPI's escalation levels."""

    policy = models.ForeignKey(
        SLAPolicy, on_delete=models.CASCADE, related_name="escalation_levels"
    )
    level = models.PositiveSmallIntegerField(_("level"))
    minutes = models.IntegerField(
        _("minutes relative to breach"), help_text=_("Negative: before the breach.")
    )
    notify_assignee = models.BooleanField(_("notify the assignee"), default=True)
    notify_supervisors = models.BooleanField(_("notify the group's supervisors"), default=True)
    notify_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("notify these people"),
        blank=True,
        related_name="+",
    )
    reassign_to_escalation_group = models.BooleanField(
        _("move to the group's escalation group"), default=False
    )
    raise_priority = models.BooleanField(_("raise the priority one step"), default=False)
    add_internal_note = models.BooleanField(_("add an internal note explaining why"), default=True)

    class Meta:
        ordering = ["policy", "level"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "level"], name="one_escalation_level_number")
        ]

    def __str__(self) -> str:
        return f"{self.policy} L{self.level}"


class TicketSLA(models.Model):
    """A ticket's SLA clock: stored due times per target, results, pause bookkeeping.

    A target runs while its ``*_due_at`` is set and its ``*_at`` (achieved) is empty. While the
    ticket waits (pending customer, on hold, resolved) running targets stop: their remaining
    business minutes move to ``remaining_minutes`` and the due time is cleared until the clock
    resumes. ``check_due_at`` is the next instant the tick must look at this row (a warning, a
    breach, an escalation level or an acknowledgement lapse).
    """

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="sla")
    policy = models.ForeignKey(
        SLAPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_breached = models.BooleanField(default=False)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_at = models.DateTimeField(null=True, blank=True)
    next_response_breached = models.BooleanField(default=False)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_at = models.DateTimeField(null=True, blank=True)
    resolution_breached = models.BooleanField(default=False)
    acknowledgement_due_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_breached = models.BooleanField(default=False)
    acknowledgement_lapses = models.PositiveSmallIntegerField(default=0)
    remaining_minutes = models.JSONField(default=dict, blank=True)
    warned = models.JSONField(default=list, blank=True)
    paused_since = models.DateTimeField(null=True, blank=True)
    paused_minutes = models.PositiveIntegerField(default=0)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    next_due_at = models.DateTimeField(null=True, blank=True)
    check_due_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ticket SLA")
        indexes = [
            # The tick's claim query: only rows with work pending are in the index.
            models.Index(
                fields=["check_due_at"],
                name="ticketsla_check_due",
                condition=Q(check_due_at__isnull=False),
            ),
            # The console's "sort by nearest due time" over open targets.
            models.Index(
                fields=["next_due_at"],
                name="ticketsla_next_due",
                condition=Q(next_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"SLA of ticket {self.ticket_id}"

    def due_at(self, target: str) -> datetime | None:
        return getattr(self, f"{target}_due_at")

    def achieved_at(self, target: str) -> datetime | None:
        return getattr(self, f"{target}_at")

    def is_breached(self, target: str) -> bool:
        return getattr(self, f"{target}_breached")

    def is_running(self, target: str) -> bool:
        return self.due_at(target) is not None and self.achieved_at(target) is None

    @property
    def breached_targets(self) -> list[str]:
        return [t for t in TARGETS if self.is_breached(t)]

    @property
    def is_paused(self) -> bool:
        return self.paused_since is not None

    @property
    def due_status(self) -> str:
        """For colouring: "breached", "warning", "ok", or "" when no deadline runs."""
        if self.next_due_at is None:
            return ""
        running = [t for t in TARGETS if self.is_running(t)]
        if self.next_due_at <= timezone.now() or any(self.is_breached(t) for t in running):
            return "breached"
        if any(t in self.warned for t in running):
            return "warning"
        return "ok"
