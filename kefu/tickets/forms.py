"""Forms of the agent console. They only parse input; the actions decide what is allowed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from django import forms
from django.db.models import Case, DateTimeField, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.accounts.access import assignable_agents, groups_visible_to, workable_group_ids
from kefu.accounts.models import Group, Role, User
from kefu.tickets.actions import UploadedFile
from kefu.tickets.models import Channel, Priority, State, Ticket, TicketType

# --- the ticket list ------------------------------------------------------------------------

LIST_VIEWS = {
    "mine": _("My open tickets"),
    "unassigned": _("Unassigned in my groups"),
    "open": _("All open"),
    "recent": _("Recently updated"),
}
DEFAULT_LIST_VIEW = "open"

# Sort name → the column (or annotation) keyset pagination walks, with ``id`` as tie-breaker.
SORT_COLUMNS = {
    "created": "created_at",
    "updated": "updated_at",
    "priority": "priority_weight",
    "number": "number",
    "due": "sla_due_at",
}
# Tickets without a running SLA deadline sort after every real one.
NO_DUE_TIME = datetime(9999, 12, 31, tzinfo=UTC)
SORT_CHOICES = [
    ("-updated", _("Updated, newest first")),
    ("updated", _("Updated, oldest first")),
    ("-created", _("Created, newest first")),
    ("created", _("Created, oldest first")),
    ("-priority", _("Priority, most urgent first")),
    ("priority", _("Priority, least urgent first")),
    ("-number", _("Number, highest first")),
    ("number", _("Number, lowest first")),
    ("due", _("SLA due time, soonest first")),
    ("-due", _("SLA due time, latest first")),
]
UNASSIGNED = "none"


def with_priority_weight(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Priority as a number (urgent highest) and the nearest SLA due time (``sla_due_at``, from
    the sla app's table) so both can be sorted and compared in a keyset."""
    weights = {Priority.URGENT: 4, Priority.HIGH: 3, Priority.MEDIUM: 2, Priority.LOW: 1}
    return tickets.annotate(
        priority_weight=Case(
            *(When(priority=value, then=Value(weight)) for value, weight in weights.items()),
            default=Value(0),
            output_field=IntegerField(),
        ),
        sla_due_at=Coalesce("sla__next_due_at", Value(NO_DUE_TIME, output_field=DateTimeField())),
    )


def _blank(label) -> list[tuple[str, Any]]:
    return [("", label)]


class TicketFilterForm(forms.Form):
    """The list's filters, sorting and cursor; invalid values are reported, never ignored."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=500,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _('Words, "a phrase", -word, #number')}
        ),
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=_blank(_("Any state")) + State.choices
    )
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=_blank(_("Any priority")) + Priority.choices
    )
    group = forms.ModelChoiceField(
        label=_("Group"), required=False, queryset=Group.objects.none(), empty_label=_("Any group")
    )
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=_blank(_("Any channel")) + Channel.choices
    )
    customer = forms.CharField(
        label=_("Customer"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, e-mail or id")}),
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)

    def __init__(self, user: User, *args, default_sort: str = "-updated", **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.default_sort = default_sort
        self.fields["sort"].initial = default_sort
        cast(forms.ModelChoiceField, self.fields["group"]).queryset = groups_visible_to(
            user
        ).order_by("name")
        staff = User.objects.staff().order_by("name").values_list("pk", "name")
        cast(forms.ChoiceField, self.fields["assignee"]).choices = (
            _blank(_("Anyone"))
            + [(UNASSIGNED, _("Unassigned"))]
            + [(str(pk), name) for pk, name in staff]
        )

    def filter(self, tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
        data = self.cleaned_data
        if data.get("state"):
            tickets = tickets.filter(state=data["state"])
        if data.get("priority"):
            tickets = tickets.filter(priority=data["priority"])
        if data.get("group"):
            tickets = tickets.filter(group=data["group"])
        if data.get("assignee") == UNASSIGNED:
            tickets = tickets.filter(assignee__isnull=True)
        elif data.get("assignee"):
            tickets = tickets.filter(assignee_id=int(data["assignee"]))
        if data.get("channel"):
            tickets = tickets.filter(channel=data["channel"])
        customer = (data.get("customer") or "").strip()
        if customer.isdigit():
            tickets = tickets.filter(contact_id=int(customer))
        elif customer:
            tickets = tickets.filter(
                Q(contact__name__icontains=customer) | Q(contact__email__icontains=customer)
            )
        return tickets

    @property
    def sort_order(self) -> str:
        return (
            self.cleaned_data.get("sort") if self.is_bound and self.is_valid() else ""
        ) or self.default_sort


# --- the ticket page ------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several uploads in one input; the actions check size and type."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


def uploaded_files(files) -> list[UploadedFile]:
    return [
        UploadedFile(filename=item.name, content=item.read(), content_type=item.content_type or "")
        for item in files
    ]


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}), strip=True)
    attachments = MultipleFileField(label=_("Attachments"))
    # Set by the button pressed ("Send reply" / "Add internal note"); never guessed.
    kind = forms.ChoiceField(
        choices=[("reply", _("Public reply")), ("note", _("Internal note"))],
        widget=forms.HiddenInput,
        error_messages={"required": _("Choose between a public reply and an internal note.")},
    )


def _tags_text(names) -> str:
    return ", ".join(names)


def parse_tags(text: str) -> list[str]:
    # Chinese input methods type the full-width comma; both separate tags.
    return [part.strip() for part in (text or "").replace("，", ",").split(",") if part.strip()]


def changeable_groups(user: User, current: Group | None = None) -> QuerySet[Group]:
    """Groups ``user`` may move a ticket to: agents only their full groups; supervisors and admins any."""
    active = Group.objects.filter(is_active=True)
    if user.role in (Role.ADMIN, Role.SUPERVISOR):
        return active.order_by("name")
    ids = set(workable_group_ids(user) or set())
    if current is not None:
        ids.add(current.pk)
    return active.filter(pk__in=ids).order_by("name")


class TicketUpdateForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=State.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    type = forms.ChoiceField(label=_("Type"))
    group = forms.ModelChoiceField(
        label=_("Group"), queryset=Group.objects.none(), empty_label=None
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Unassigned"),
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=2000, help_text=_("Separate tags with commas.")
    )
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=1000)

    EDITABLE = ("state", "priority", "type", "group", "assignee", "tags")

    def __init__(self, user: User, ticket: Ticket, *args, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "state": ticket.state,
                "priority": ticket.priority,
                "type": ticket.type.key,
                "group": ticket.group_id,
                "assignee": ticket.assignee_id,
                "tags": _tags_text(tag.name for tag in ticket.tags.all()),
            },
        )
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        # The form posts back the values it showed, so a field the user left alone is never
        # applied: a stale page must not undo what the customer or a colleague changed meanwhile.
        for name in self.EDITABLE:
            self.fields[name].show_hidden_initial = True
        cast(forms.ChoiceField, self.fields["type"]).choices = ticket_type_choices(
            include=ticket.type
        )
        cast(forms.ModelChoiceField, self.fields["group"]).queryset = changeable_groups(
            user, ticket.group
        )
        assignees = assignable_agents(ticket.group)
        if ticket.assignee_id:
            assignees = assignees | User.objects.filter(pk=ticket.assignee_id)
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = assignees.order_by("name")

    def changes(self) -> dict:
        """The fields the user changed that still differ from the ticket, as ``update_ticket``
        keywords."""
        data, ticket = self.cleaned_data, self.ticket
        touched = set(self.changed_data)
        current = {
            "state": ticket.state,
            "priority": ticket.priority,
            "type": ticket.type.key,
            "group": ticket.group,
            "assignee": ticket.assignee,
        }
        changes = {
            name: data[name]
            for name, value in current.items()
            if name in touched and data[name] != value
        }
        tags = parse_tags(data["tags"])
        current_tags = sorted(tag.name.lower() for tag in ticket.tags.all())
        if "tags" in touched and sorted(tag.lower() for tag in tags) != current_tags:
            changes["tags"] = tags
        return changes


def ticket_type_choices(include: TicketType | None = None) -> list[tuple[str, str]]:
    types = TicketType.objects.filter(Q(is_active=True) | Q(pk=include.pk if include else None))
    return [(item.key, str(item)) for item in types.order_by("position", "key")]


# --- a ticket on a customer's behalf --------------------------------------------------------


class NewTicketForm(forms.Form):
    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact_query = forms.CharField(
        label=_("Find a customer"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Name, e-mail or phone"),
            }
        ),
    )
    new_name = forms.CharField(label=_("Name"), required=False, max_length=200)
    new_email = forms.CharField(label=_("E-mail"), required=False, max_length=254)
    new_phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    new_wechat_id = forms.CharField(label=_("WeChat id"), required=False, max_length=100)
    subject = forms.CharField(label=_("Subject"), max_length=255)
    body = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 8}))
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.MEDIUM
    )
    type = forms.ChoiceField(label=_("Type"))
    group = forms.ModelChoiceField(
        label=_("Group"), queryset=Group.objects.none(), empty_label=None
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Unassigned"),
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=2000, help_text=_("Separate tags with commas.")
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, user: User, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["type"]).choices = ticket_type_choices()
        self.fields["contact_query"].widget.attrs.update(
            {
                "hx-get": reverse("customers:search"),
                "hx-target": "#contact-results",
                "hx-swap": "outerHTML",
                "hx-trigger": "input changed delay:300ms, search",
            }
        )
        groups = changeable_groups(user)
        cast(forms.ModelChoiceField, self.fields["group"]).queryset = groups
        # Start in the default group when the user works there, else in their first group.
        default = groups.filter(is_default=True).first() or groups.first()
        self.fields["group"].initial = default.pk if default else None
        cast(
            forms.ModelChoiceField, self.fields["assignee"]
        ).queryset = User.objects.staff().order_by("name")

    @property
    def new_contact_details(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            "name": data.get("new_name", ""),
            "email": data.get("new_email", ""),
            "phone": data.get("new_phone", ""),
            "wechat_id": data.get("new_wechat_id", ""),
        }

    def wants_new_contact(self) -> bool:
        details = self.new_contact_details
        return any(details[key] for key in ("email", "phone", "wechat_id"))
