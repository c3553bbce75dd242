"""Forms of the automation pages. Conditions and actions are rows (a formset), each checked on
its own so an error appears next to the row that caused it."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kefu.accounts.access import groups_visible_to
from kefu.accounts.models import Group, User
from kefu.automation.models import (
    DelayUnit,
    Match,
    Trigger,
    TriggerEvent,
    Visibility,
    WebhookEvent,
)
from kefu.automation.placeholders import placeholder_help
from kefu.automation.rules import (
    ACTION_LABELS,
    FIELD_ACTIONS,
    FIELDS,
    OPERATORS,
    RULE_ACTIONS,
    normalise_action,
    normalise_condition,
)
from kefu.tickets.models import State

BLANK = [("", "—")]


def _error_text(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [m for messages in error.message_dict.values() for m in messages]
    return list(error.messages)


class ConditionRowForm(forms.Form):
    field = forms.ChoiceField(label=_("Field"), required=False)
    operator = forms.ChoiceField(label=_("Operator"), required=False)
    value = forms.CharField(label=_("Value"), required=False, max_length=500)

    def __init__(self, *args: Any, with_changes: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.with_changes = with_changes
        cast(forms.ChoiceField, self.fields["field"]).choices = BLANK + [
            (k, s.label) for k, s in FIELDS.items()
        ]
        operators = (
            OPERATORS
            if with_changes
            else {k: v for k, v in OPERATORS.items() if not k.startswith("changed")}
        )
        cast(forms.ChoiceField, self.fields["operator"]).choices = BLANK + list(operators.items())
        self.fields["value"].widget.attrs["list"] = "automation-values"

    def clean(self) -> dict:
        data = super().clean() or {}
        if not data.get("field") or data.get("DELETE"):
            return data
        try:
            data["row"] = normalise_condition(data, with_changes=self.with_changes)
        except ValidationError as error:
            raise ValidationError(_error_text(error)) from None
        return data


class ActionRowForm(forms.Form):
    type = forms.ChoiceField(label=_("Action"), required=False)
    value = forms.CharField(label=_("Value"), required=False, max_length=500)
    subject = forms.CharField(label=_("E-mail subject"), required=False, max_length=255)
    body = forms.CharField(
        label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, allowed: tuple[str, ...] = RULE_ACTIONS, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.allowed = allowed
        cast(forms.ChoiceField, self.fields["type"]).choices = BLANK + [
            (k, ACTION_LABELS[k]) for k in allowed
        ]
        self.fields["value"].widget.attrs["list"] = "automation-values"

    def clean(self) -> dict:
        data = super().clean() or {}
        if not data.get("type") or data.get("DELETE"):
            return data
        try:
            data["row"] = normalise_action(
                data, allowed=self.allowed, allow_me=self.allowed == MACRO_ACTIONS
            )
        except ValidationError as error:
            raise ValidationError(_error_text(error)) from None
        return data


ConditionFormSet = forms.formset_factory(ConditionRowForm, extra=3, can_delete=True)
ActionFormSet = forms.formset_factory(ActionRowForm, extra=2, can_delete=True)


def condition_formset(data=None, rows=None, *, with_changes: bool = True):
    return ConditionFormSet(
        data,
        initial=rows or [],
        prefix="conditions",
        form_kwargs={"with_changes": with_changes},
    )


def action_formset(data=None, rows=None, *, allowed: tuple[str, ...] = RULE_ACTIONS):
    return ActionFormSet(
        data, initial=rows or [], prefix="actions", form_kwargs={"allowed": allowed}
    )


def formset_rows(formset) -> list[dict]:
    return [
        form.cleaned_data["row"]
        for form in formset.forms
        if form.cleaned_data.get("row") and not form.cleaned_data.get("DELETE")
    ]


class TriggerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    events = forms.MultipleChoiceField(
        label=_("Runs when"), choices=TriggerEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    match = forms.ChoiceField(label=_("Conditions"), choices=Match.choices, initial=Match.ALL)
    position = forms.IntegerField(
        label=_("Position"), min_value=0, initial=0, help_text=_("Lower runs first.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @staticmethod
    def initial_for(trigger: Trigger) -> dict:
        return {
            f: getattr(trigger, f)
            for f in ("name", "description", "events", "match", "position", "is_active")
        }


class TimeRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    state = forms.ChoiceField(label=_("When a ticket is in state"), choices=State.choices)
    delay = forms.IntegerField(label=_("for"), min_value=1, max_value=10000)
    unit = forms.ChoiceField(label=_("Unit"), choices=DelayUnit.choices, initial="days")
    position = forms.IntegerField(label=_("Position"), min_value=0, initial=0)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class SharingFields(forms.Form):
    visibility = forms.ChoiceField(label=_("Who can use it"), choices=Visibility.choices)
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=Group.objects.none(),
        required=False,
        help_text=_("For “Members of a group”."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, user: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["group"]).queryset = groups_visible_to(user)


class MacroForm(SharingFields):
    name = forms.CharField(label=_("Name"), max_length=120)
    reply_body = forms.CharField(
        label=_("Reply text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Placeholders: %(list)s") % {"list": placeholder_help()},
    )
    reply_internal = forms.BooleanField(label=_("Add as internal note"), required=False)

    field_order = ["name", "reply_body", "reply_internal", "visibility", "group", "is_active"]


class CannedResponseForm(SharingFields):
    title = forms.CharField(label=_("Title"), max_length=160)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Placeholders: %(list)s") % {"list": placeholder_help()},
    )

    field_order = ["title", "body", "visibility", "group", "is_active"]


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    url = forms.CharField(label=_("URL"), max_length=500)
    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Signs every delivery (HMAC-SHA256). Empty: keep the current one (a new webhook "
            "gets a random secret)."
        ),
    )
    events = forms.MultipleChoiceField(
        label=_("Send on"),
        choices=WebhookEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None: only triggers call it."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


MACRO_ACTIONS = FIELD_ACTIONS
