"""Forms of the SLA pages: calendars, dates, import, policies with targets, escalation levels,
the ticket's escalate form and the compliance filter."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Group, User
from kefu.customers.models import Organization, Tier
from kefu.sla.deadlines import WEEKDAY_KEYS, format_clock, parse_clock, parse_working_hours
from kefu.sla.models import (
    TARGETS,
    BusinessCalendar,
    CalendarDate,
    CalendarKind,
    EscalationLevel,
    SLAPolicy,
)
from kefu.tickets.models import Channel, Priority, TicketType

WEEKDAY_LABELS = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}
TARGET_FIELD_LABELS = {
    "first_response": _("First response"),
    "next_response": _("Next response"),
    "resolution": _("Resolution"),
    "acknowledgement": _("Acknowledgement"),
}


def hours_text(intervals: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals)


def parse_hours_text(text: str) -> list[list[str]]:
    """``"09:00-12:00, 13:30-18:00"`` → ``[["09:00", "12:00"], ["13:30", "18:00"]]``."""
    intervals = []
    for part in text.replace("，", ",").split(","):
        part = part.strip().replace("–", "-")
        if not part:
            continue
        start, sep, end = part.partition("-")
        if not sep:
            raise ValueError(part)
        intervals.append([format_clock(parse_clock(start)), format_clock(parse_clock(end))])
    return intervals


class CalendarForm(forms.ModelForm):
    """Working hours as one line per weekday ("09:00-12:00, 13:30-18:00")."""

    class Meta:
        model = BusinessCalendar
        fields = ["name", "kind", "country_code", "time_zone", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        current = self.instance.hours_by_day() if self.instance.working_hours else {}
        for key in WEEKDAY_KEYS:
            self.fields[f"hours_{key}"] = forms.CharField(
                label=WEEKDAY_LABELS[key],
                required=False,
                initial=hours_text(current.get(key, [])) if current else "",
                help_text=_("e.g. 09:00-12:00, 13:30-18:00; empty: no work"),
            )
        if not self.instance.pk and not self.is_bound:
            for key in ("mon", "tue", "wed", "thu", "fri"):
                self.fields[f"hours_{key}"].initial = "09:00-12:00, 13:30-18:00"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours: dict[str, list[list[str]]] = {}
        for key in WEEKDAY_KEYS:
            try:
                hours[key] = parse_hours_text(data.get(f"hours_{key}") or "")
            except ValueError:
                self.add_error(f"hours_{key}", _("Write intervals like 09:00-12:00, 13:30-18:00."))
        if not self.errors:
            try:
                parsed = parse_working_hours(hours)
            except ValueError as error:
                self.add_error(None, str(error))
            else:
                if not parsed and data.get("kind") != CalendarKind.ALWAYS_OPEN:
                    self.add_error(None, _("Enter working hours for at least one weekday."))
        data["working_hours"] = hours
        return data

    def calendar_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {name: data[name] for name in self.Meta.fields}
        fields["working_hours"] = data["working_hours"]
        if data["kind"] == CalendarKind.ALWAYS_OPEN and not any(data["working_hours"].values()):
            fields["working_hours"] = {key: [["00:00", "24:00"]] for key in WEEKDAY_KEYS}
        return fields

    def _post_clean(self) -> None:
        # The action validates the model (with the working hours); don't half-validate here.
        pass


class CalendarDateForm(forms.ModelForm):
    class Meta:
        model = CalendarDate
        fields = ["date", "kind", "name"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}

    def _post_clean(self) -> None:
        pass


class CalendarImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or iCalendar file"),
        help_text=_("CSV rows: date,kind,name — kind is holiday or working_day (休/班)."),
    )


class ChoicesFromQuerysets:
    fields: dict[str, forms.Field]

    def _choices_field(self, name: str) -> forms.ModelChoiceField:
        return cast(forms.ModelChoiceField, self.fields[name])


class PolicyForm(ChoicesFromQuerysets, forms.ModelForm):
    priorities = forms.MultipleChoiceField(
        label=_("Priorities"),
        choices=Priority.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any priority."),
    )
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any channel."),
    )
    tiers = forms.MultipleChoiceField(
        label=_("Organisation tiers"),
        choices=Tier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any customer; ticked: only customers of these tiers."),
    )

    class Meta:
        model = SLAPolicy
        fields = [
            "name",
            "position",
            "is_active",
            "calendar",
            "priorities",
            "channels",
            "tiers",
            "organizations",
            "ticket_types",
            "groups",
            "warning_percent",
            "acknowledgement_lapses_to_escalate",
        ]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._choices_field("calendar").queryset = BusinessCalendar.objects.filter(is_active=True)
        self._choices_field("organizations").queryset = Organization.objects.order_by("name")
        self._choices_field("ticket_types").queryset = TicketType.objects.filter(is_active=True)
        self._choices_field("groups").queryset = Group.objects.filter(is_active=True)
        targets = {t.priority: t for t in self.instance.targets.all()} if self.instance.pk else {}
        calendars = BusinessCalendar.objects.filter(is_active=True)
        self.target_rows = []
        for priority, label in Priority.choices:
            target = targets.get(priority)
            names = []
            for name in TARGETS:
                field_name = f"{priority}_{name}"
                self.fields[field_name] = forms.IntegerField(
                    label=f"{label} · {TARGET_FIELD_LABELS[name]}",
                    required=False,
                    min_value=1,
                    initial=target.minutes(name) if target else None,
                )
                names.append(field_name)
            calendar_field = f"{priority}_calendar"
            self.fields[calendar_field] = forms.ModelChoiceField(
                label=f"{label} · {_('calendar')}",
                queryset=calendars,
                required=False,
                empty_label=_("The policy's calendar"),
                initial=target.calendar_id if target else None,
            )
            self.target_rows.append((label, [self[n] for n in names], self[calendar_field]))

    def policy_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.Meta.fields]

    def _post_clean(self) -> None:
        pass

    def policy_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {name: data[name] for name in self.Meta.fields}
        for name in ("organizations", "ticket_types", "groups"):
            fields[name] = [obj.pk for obj in data[name]]
        return fields

    def targets(self) -> dict[str, dict[str, Any]]:
        data = self.cleaned_data
        return {
            priority: {
                **{name: data.get(f"{priority}_{name}") for name in TARGETS},
                "calendar": data.get(f"{priority}_calendar"),
            }
            for priority in Priority.values
        }


class EscalationLevelForm(ChoicesFromQuerysets, forms.ModelForm):
    class Meta:
        model = EscalationLevel
        fields = [
            "level",
            "minutes",
            "notify_assignee",
            "notify_supervisors",
            "notify_users",
            "reassign_to_escalation_group",
            "raise_priority",
            "add_internal_note",
        ]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._choices_field("notify_users").queryset = User.objects.staff()
        self.fields["notify_users"].required = False

    def _post_clean(self) -> None:
        pass

    def level_fields(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name] for name in self.Meta.fields if name != "notify_users"
        }


class EscalateForm(forms.Form):
    group = forms.ModelChoiceField(
        label=_("To group"),
        queryset=Group.objects.filter(is_active=True),
        required=False,
        empty_label=_("The group's escalation group"),
    )
    assignee = forms.ModelChoiceField(
        label=_("To person"), queryset=User.objects.staff(), required=False
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


PERIOD_CHOICES = [
    ("7", _("Last 7 days")),
    ("30", _("Last 30 days")),
    ("90", _("Last 90 days")),
    ("365", _("Last 12 months")),
]
GROUPING_CHOICES = [
    ("priority", _("Priority")),
    ("group", _("Group")),
    ("agent", _("Agent")),
]


class ComplianceForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)
    by = forms.ChoiceField(label=_("Per"), choices=GROUPING_CHOICES, required=False)

    def since(self):
        days = int(self.cleaned_data.get("period") or 30) if self.is_valid() else 30
        return timezone.now() - timedelta(days=days)

    def grouping(self) -> str:
        return (self.cleaned_data.get("by") if self.is_valid() else "") or "priority"
