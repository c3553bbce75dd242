"""Forms for rules, group strategies, agent profiles and availability.

The rule form is structured, not JSON: one row per kind of condition (keywords, a regular
expression, and "is one of / is not one of" lists) and one field per action. It turns itself into
the ``conditions``/``actions`` the actions validate, and back; conditions it cannot show (several
of one kind, written through the API) are kept unchanged and listed on the page.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Group, User
from kefu.routing.conditions import (
    LIST_FIELDS,
    TEXT_FIELDS,
    field_label,
    list_choices,
    validate_actions,
    validate_condition,
)
from kefu.routing.models import AgentProfile, AssignmentRule, Availability, MatchMode, Strategy
from kefu.sla.models import BusinessCalendar
from kefu.tickets.models import Category, Complexity, Priority, TicketType

WHERE = [
    ("text", _("Subject or body")),
    ("subject", _("Subject")),
    ("body", _("Body")),
]
LIST_OPERATORS = [("in", _("is one of")), ("not_in", _("is not one of"))]
CHECKBOX_FIELDS = {"channel", "tier", "language", "complexity", "type"}


def _lines(value: str) -> list[str]:
    return [w.strip() for w in value.replace("，", ",").replace("\n", ",").split(",") if w.strip()]


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    match_mode = forms.ChoiceField(
        label=_("Match"), choices=MatchMode.choices, widget=forms.RadioSelect, initial="all"
    )
    stop_processing = forms.BooleanField(
        label=_("Stop processing further rules when this one matches"), required=False
    )
    keyword_where = forms.ChoiceField(label=_("Look in"), choices=WHERE, initial="text")
    keywords = forms.CharField(
        label=_("Contains any of these keywords"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Comma or line separated. Chinese keywords match anywhere in the text, English ones "
            "as whole words; case does not matter."
        ),
    )
    excluded_keywords = forms.CharField(
        label=_("Contains none of these keywords"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    regex_where = forms.ChoiceField(label=_("Look in"), choices=WHERE, initial="text")
    regex = forms.CharField(
        label=_("Regular expression"),
        required=False,
        max_length=500,
        help_text=_(r"Case-insensitive, e.g. E\d{2} for error codes."),
    )
    regex_negate = forms.BooleanField(label=_("Must not match"), required=False)
    hours = forms.ChoiceField(
        label=_("Business hours"),
        required=False,
        choices=[
            ("", _("Any time")),
            ("inside", _("Inside business hours")),
            ("outside", _("Outside business hours")),
        ],
    )
    hours_calendar = forms.ModelChoiceField(
        label=_("Calendar"),
        required=False,
        queryset=BusinessCalendar.objects.filter(is_active=True),
        empty_label=_("The ticket's SLA calendar"),
    )
    set_group = forms.ModelChoiceField(
        label=_("Set group"), required=False, queryset=Group.objects.filter(is_active=True)
    )
    set_priority = forms.ChoiceField(
        label=_("Set priority"), required=False, choices=[("", "—"), *Priority.choices]
    )
    set_type = forms.ModelChoiceField(
        label=_("Set type"),
        required=False,
        queryset=TicketType.objects.filter(is_active=True),
        to_field_name="key",
    )
    add_tags = forms.CharField(label=_("Add tags"), required=False, help_text=_("Comma separated."))
    set_complexity = forms.ChoiceField(
        label=_("Set complexity"), required=False, choices=[("", "—"), *Complexity.choices]
    )
    set_category = forms.ModelChoiceField(
        label=_("Set category"), required=False, queryset=Category.objects.filter(is_active=True)
    )
    set_assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        required=False,
        queryset=User.objects.staff(),
        help_text=_("Usually empty: the group's assignment strategy picks the agent."),
    )
    kept_conditions = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, rule: AssignmentRule | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.list_rows = []
        for field in LIST_FIELDS:
            choices = list(list_choices(field).items())
            self.fields[f"{field}_op"] = forms.ChoiceField(
                label=field_label(field), choices=LIST_OPERATORS, initial="in", required=False
            )
            widget = (
                forms.CheckboxSelectMultiple
                if field in CHECKBOX_FIELDS
                else forms.SelectMultiple(attrs={"size": min(6, max(2, len(choices)))})
            )
            self.fields[field] = forms.MultipleChoiceField(
                label=field_label(field), choices=choices, required=False, widget=widget
            )
            self.list_rows.append((self[f"{field}_op"], self[field], bool(choices)))
        if rule is not None and not self.is_bound:
            self.initial.update(self.initial_from(rule))

    @property
    def kept(self) -> list[dict]:
        raw = (
            self.data.get("kept_conditions")
            if self.is_bound
            else self.initial.get("kept_conditions")
        )
        try:
            value = json.loads(raw or "[]")
        except ValueError:
            return []
        return value if isinstance(value, list) else []

    @staticmethod
    def initial_from(rule: AssignmentRule) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": rule.name,
            "is_active": rule.is_active,
            "match_mode": rule.match_mode,
            "stop_processing": rule.stop_processing,
        }
        kept = []
        seen: set[str] = set()
        for condition in rule.conditions or []:
            field, operator, value = condition["field"], condition["operator"], condition["value"]
            slot = operator if field in TEXT_FIELDS else field
            if slot in ("matches", "not_matches"):
                slot = "regex"
            if slot in seen:
                kept.append(condition)
                continue
            seen.add(slot)
            if slot == "contains_any":
                initial.update(keyword_where=field, keywords=", ".join(value))
            elif slot == "contains_none":
                initial["excluded_keywords"] = ", ".join(value)
                if field != initial.get("keyword_where", field):
                    kept.append(condition)
                    initial.pop("excluded_keywords")
                initial.setdefault("keyword_where", field)
            elif slot == "regex":
                initial.update(regex_where=field, regex=value, regex_negate=operator != "matches")
            elif field == "business_hours":
                initial.update(hours=operator, hours_calendar=value)
            else:
                initial[f"{field}_op"] = operator
                initial[field] = [str(v) for v in value]
        actions = rule.actions or {}
        initial.update(
            set_group=actions.get("group"),
            set_priority=actions.get("priority", ""),
            set_type=actions.get("type"),
            add_tags=", ".join(actions.get("tags", [])),
            set_complexity=actions.get("complexity", ""),
            set_category=actions.get("category"),
            set_assignee=actions.get("assignee"),
            kept_conditions=json.dumps(kept, ensure_ascii=False),
        )
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        built: list[tuple[str, dict]] = []
        if data.get("keywords"):
            built.append(
                (
                    "keywords",
                    {
                        "field": data.get("keyword_where") or "text",
                        "operator": "contains_any",
                        "value": _lines(data["keywords"]),
                    },
                )
            )
        if data.get("excluded_keywords"):
            built.append(
                (
                    "excluded_keywords",
                    {
                        "field": data.get("keyword_where") or "text",
                        "operator": "contains_none",
                        "value": _lines(data["excluded_keywords"]),
                    },
                )
            )
        if data.get("regex"):
            built.append(
                (
                    "regex",
                    {
                        "field": data.get("regex_where") or "text",
                        "operator": "not_matches" if data.get("regex_negate") else "matches",
                        "value": data["regex"],
                    },
                )
            )
        for field in LIST_FIELDS:
            if data.get(field):
                operator = data.get(f"{field}_op") or "in"
                built.append((field, {"field": field, "operator": operator, "value": data[field]}))
        if data.get("hours"):
            calendar = data.get("hours_calendar")
            built.append(
                (
                    "hours",
                    {
                        "field": "business_hours",
                        "operator": data["hours"],
                        "value": calendar.pk if calendar else None,
                    },
                )
            )
        conditions = []
        for source, condition in built:
            try:
                conditions.append(validate_condition(condition))
            except ValidationError as error:
                self.add_error(source, error.messages)
        for condition in self.kept:
            try:
                conditions.append(validate_condition(condition))
            except ValidationError as error:
                self.add_error(None, error.messages)
        actions: dict[str, Any] = {}
        if data.get("set_group"):
            actions["group"] = data["set_group"].pk
        if data.get("set_priority"):
            actions["priority"] = data["set_priority"]
        if data.get("set_type"):
            actions["type"] = data["set_type"].key
        if data.get("add_tags"):
            actions["tags"] = _lines(data["add_tags"])
        if data.get("set_complexity"):
            actions["complexity"] = data["set_complexity"]
        if data.get("set_category"):
            actions["category"] = data["set_category"].pk
        if data.get("set_assignee"):
            actions["assignee"] = data["set_assignee"].pk
        if not actions:
            self.add_error(None, _("Choose at least one action."))
        else:
            try:
                actions = validate_actions(actions)
            except ValidationError as error:
                self.add_error("add_tags" if "tags" in actions else None, error.messages)
        data["conditions"], data["actions"] = conditions, actions
        return data

    def rule_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "is_active": data["is_active"],
            "match_mode": data["match_mode"],
            "stop_processing": data["stop_processing"],
            "conditions": data["conditions"],
            "actions": data["actions"],
        }


class GroupRoutingForm(forms.Form):
    strategy = forms.ChoiceField(label=_("Assignment strategy"), choices=Strategy.choices)
    max_in_a_row = forms.IntegerField(
        label=_("At most in a row"),
        min_value=0,
        max_value=100,
        help_text=_("Load and skills strategies; 0: no limit."),
    )


class AgentProfileForm(forms.Form):
    capacity = forms.IntegerField(
        label=_("Capacity"),
        min_value=0,
        max_value=10000,
        help_text=_("Most open tickets; 0: no limit."),
    )
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=100)
    skills = forms.CharField(
        label=_("Skills"),
        required=False,
        help_text=_(
            "Comma separated; matched against ticket tags, category, product and language (zh, en)."
        ),
    )
    time_zone = forms.CharField(
        label=_("Shift time zone"), required=False, help_text=_("Empty: the site's time zone.")
    )
    shift_hours = forms.CharField(
        label=_("Shift hours"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_(
            "One line per weekday, e.g. mon 09:00-12:00 13:00-18:00. Empty: no shift limits."
        ),
    )

    DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    @classmethod
    def initial_from(cls, profile: AgentProfile) -> dict[str, Any]:
        hours = profile.shift_hours or {}
        lines = [
            f"{day} " + " ".join(f"{start}-{end}" for start, end in hours[day])
            for day in cls.DAYS
            if hours.get(day)
        ]
        return {
            "capacity": profile.capacity,
            "weight": profile.weight,
            "skills": ", ".join(profile.skills or []),
            "time_zone": profile.time_zone,
            "shift_hours": "\n".join(lines),
        }

    def clean_shift_hours(self) -> dict[str, list[list[str]]]:
        hours: dict[str, list[list[str]]] = {}
        for number, line in enumerate((self.cleaned_data.get("shift_hours") or "").splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            day = parts[0].lower()[:3]
            if day not in self.DAYS or len(parts) < 2:
                raise ValidationError(
                    _("Line %(n)s: start with a weekday (mon … sun), then ranges like 09:00-18:00.")
                    % {"n": number}
                )
            spans = []
            for span in parts[1:]:
                if "-" not in span:
                    raise ValidationError(
                        _("Line %(n)s: %(span)s is not a range like 09:00-18:00.")
                        % {"n": number, "span": span}
                    )
                start, end = span.split("-", 1)
                spans.append([start, end])
            hours[day] = spans
        return hours

    def profile_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "capacity": data["capacity"],
            "weight": data["weight"],
            "skills": data["skills"],
            "time_zone": data["time_zone"],
            "shift_hours": data["shift_hours"],
        }


class AvailabilityForm(forms.Form):
    availability = forms.ChoiceField(label=_("Availability"), choices=Availability.choices)
    away_until = forms.DateTimeField(
        label=_("Away until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Optional; you become available again automatically."),
    )
    reassign = forms.BooleanField(
        label=_("Hand my open tickets to others in the group"), required=False
    )
