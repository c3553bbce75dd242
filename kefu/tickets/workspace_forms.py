"""Forms of the workspace views (links, merge, split, bulk actions, custom field definitions).

They only parse input; the actions decide what is allowed.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import User
from kefu.lib.widgets import use_fast_selects
from kefu.tickets.bulk import MAX_BULK_TICKETS
from kefu.tickets.forms import parse_tags
from kefu.tickets.models import (
    CustomField,
    CustomFieldKind,
    LinkKind,
    Priority,
    State,
    Ticket,
    TicketType,
)

LINK_CHOICES = [
    (LinkKind.RELATED, _("Related")),
    (LinkKind.DUPLICATE, _("This ticket duplicates it")),
    (LinkKind.CHILD, _("It is a child of this ticket")),
]


class LinkForm(forms.Form):
    prefix = "link"  # the ticket page has several forms with a number field
    number = forms.IntegerField(label=_("Ticket number"), min_value=1)
    kind = forms.ChoiceField(label=_("Link as"), choices=LINK_CHOICES)


class MergeForm(forms.Form):
    prefix = "merge"
    number = forms.IntegerField(label=_("Merge into ticket number"), min_value=1)
    comment = forms.CharField(
        label=_("Message to the customer"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Leave empty for the standard notice in the customer's language."),
    )
    notify_customer = forms.BooleanField(label=_("Tell the customer"), required=False, initial=True)


class SplitForm(forms.Form):
    subject = forms.CharField(label=_("Subject of the new ticket"), required=False, max_length=255)


KEEP = ""
UNASSIGN = "none"


class BulkForm(forms.Form):
    """The list's bulk toolbar: empty choices leave a field alone."""

    prefix = "bulk"  # the list's filter form has fields of the same names

    tickets = forms.TypedMultipleChoiceField(
        coerce=int, error_messages={"required": _("Select at least one ticket.")}
    )
    assignee = forms.ChoiceField(label=_("Assign to"), required=False)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[(KEEP, _("Keep state")), *State.choices]
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[(KEEP, _("Keep priority")), *Priority.choices],
    )
    add_tags = forms.CharField(label=_("Add tags"), required=False, max_length=2000)
    remove_tags = forms.CharField(label=_("Remove tags"), required=False, max_length=2000)
    merge_into = forms.IntegerField(
        label=_("Merge all into ticket number"), required=False, min_value=1
    )
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=1000)

    def __init__(self, user: User, *args, staff: list[tuple[int, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if staff is None:
            staff = list(User.objects.staff().order_by("name").values_list("pk", "name"))
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            (KEEP, _("Keep assignee")),
            (UNASSIGN, _("Unassigned")),
            *((str(pk), name) for pk, name in staff),
        ]
        # Any id may be posted; the action reports those the user cannot see or change.
        name = self.add_prefix("tickets")
        raw = self.data.getlist(name) if hasattr(self.data, "getlist") else []
        cast(forms.ChoiceField, self.fields["tickets"]).choices = [
            (value, value) for value in raw if str(value).isdigit()
        ][:MAX_BULK_TICKETS]
        use_fast_selects(self)

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        changes: dict[str, Any] = {}
        if data["state"]:
            changes["state"] = data["state"]
        if data["priority"]:
            changes["priority"] = data["priority"]
        if data["assignee"] == UNASSIGN:
            changes["assignee"] = None
        elif data["assignee"]:
            changes["assignee"] = User.objects.staff().get(pk=int(data["assignee"]))
        if parse_tags(data["add_tags"]):
            changes["add_tags"] = parse_tags(data["add_tags"])
        if parse_tags(data["remove_tags"]):
            changes["remove_tags"] = parse_tags(data["remove_tags"])
        return changes

    def merge_target(self) -> Ticket | None:
        """The survivor of a bulk merge; ``Http404`` when the user cannot see it."""
        number = self.cleaned_data.get("merge_into")
        if not number:
            return None
        ticket = Ticket.objects.visible_to(self.user).filter(number=number).first()
        if ticket is None:
            raise Http404
        return ticket


class CustomFieldForm(forms.ModelForm):
    """An administrator's definition of a custom field; options one per line."""

    choices_text = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For choice fields: one option per line."),
    )
    ticket_types = forms.ModelMultipleChoiceField(
        label=_("Ticket types"),
        queryset=TicketType.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every ticket type."),
    )

    class Meta:
        model = CustomField
        fields = ["key", "label", "kind", "help_text", "is_required", "position", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["key"].disabled = True
            self.fields["choices_text"].initial = "\n".join(self.instance.choices or [])
            self.fields["ticket_types"].initial = list(self.instance.ticket_types.all())
        self.fields["kind"].choices = CustomFieldKind.choices

    def validate_unique(self) -> None:
        """The action checks the key; the form only parses."""

    def action_data(self) -> dict[str, Any]:
        data = {
            name: self.cleaned_data[name]
            for name in ("label", "kind", "help_text", "is_required", "position", "is_active")
        }
        if not self.instance.pk:
            data["key"] = self.cleaned_data["key"]
        data["choices"] = [
            line.strip() for line in self.cleaned_data["choices_text"].splitlines() if line.strip()
        ]
        return data
