"""Forms of the agent console. They only parse input; the actions decide what is allowed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from django import forms
from django.db.models import (
    Case,
    DateTimeField,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.accounts.access import assignable_agents, groups_visible_to, workable_group_ids
from kefu.accounts.models import Group, Role, User
from kefu.customers.models import Asset
from kefu.lib.widgets import use_fast_selects
from kefu.tickets import custom_fields as custom
from kefu.tickets.actions import UploadedFile
from kefu.tickets.filters import NO, UNASSIGNED, YES, TicketCriteria, filter_tickets
from kefu.tickets.models import (
    Category,
    Channel,
    Complexity,
    CustomField,
    CustomFieldKind,
    Priority,
    State,
    Ticket,
    TicketType,
    category_tree,
)

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
    type = forms.ChoiceField(label=_("Type"), required=False)
    customer = forms.CharField(
        label=_("Customer"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, e-mail or id")}),
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    complexity = forms.ChoiceField(
        label=_("Complexity"),
        required=False,
        choices=_blank(_("Any complexity")) + Complexity.choices,
    )
    asset = forms.CharField(
        label=_("Asset"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Serial number")}),
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)

    def __init__(self, user: User, *args, default_sort: str = "-updated", **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.tree = category_tree()
        cast(forms.ChoiceField, self.fields["category"]).choices = _blank(
            _("Any category")
        ) + category_choices(self.tree)
        cast(forms.ChoiceField, self.fields["type"]).choices = _blank(_("Any type")) + [
            (ticket_type.key, ticket_type.name)
            for ticket_type in TicketType.objects.order_by("position", "key")
        ]
        self.custom_fields = list(CustomField.objects.active().order_by("position", "label"))
        for field in self.custom_fields:
            self.fields[CUSTOM_PREFIX + field.key] = custom_filter_field(field)
        self.default_sort = default_sort
        self.fields["sort"].initial = default_sort
        cast(forms.ModelChoiceField, self.fields["group"]).queryset = groups_visible_to(
            user
        ).order_by("name")
        # Kept for the bulk form's assignee menu, so the page lists staff once.
        self.staff = list(User.objects.staff().order_by("name").values_list("pk", "name"))
        staff = self.staff
        cast(forms.ChoiceField, self.fields["assignee"]).choices = (
            _blank(_("Anyone"))
            + [(UNASSIGNED, _("Unassigned"))]
            + [(str(pk), name) for pk, name in staff]
        )
        use_fast_selects(self)

    def filter(self, tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
        return filter_tickets(tickets, self.criteria())

    def criteria(self) -> TicketCriteria:
        data = self.cleaned_data
        customer = (data.get("customer") or "").strip()
        assignee = data.get("assignee") or None
        return TicketCriteria(
            state=data.get("state") or None,
            priority=data.get("priority") or None,
            group_id=data["group"].pk if data.get("group") else None,
            assignee=int(assignee) if assignee and assignee != UNASSIGNED else assignee,
            channel=data.get("channel") or None,
            type_key=data.get("type") or None,
            customer=int(customer) if customer.isdigit() else customer or None,
            category_id=int(data["category"]) if data.get("category") else None,
            complexity=data.get("complexity") or None,
            asset_serial=(data.get("asset") or "").strip(),
            custom={
                field: data.get(CUSTOM_PREFIX + field.key)
                for field in self.custom_fields
                if data.get(CUSTOM_PREFIX + field.key) not in (None, "")
            },
        )

    @property
    def custom_filter_fields(self) -> list[forms.BoundField]:
        return [self[CUSTOM_PREFIX + field.key] for field in self.custom_fields]

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return [bound for bound in self if not bound.name.startswith(CUSTOM_PREFIX)]

    @property
    def sort_order(self) -> str:
        return (
            self.cleaned_data.get("sort") if self.is_bound and self.is_valid() else ""
        ) or self.default_sort


CUSTOM_PREFIX = "cf_"


def category_choices(tree) -> list[tuple[str, str]]:
    """The tree as an indented select: each level two non-breaking spaces deeper."""
    return [
        (str(category.pk), "\u00a0\u00a0" * depth + category.name) for category, depth, _ in tree
    ]


def custom_filter_field(field: CustomField) -> forms.Field:
    label = field.label
    if field.kind in (CustomFieldKind.CHOICE, CustomFieldKind.MULTI_CHOICE):
        return forms.ChoiceField(
            label=label,
            required=False,
            choices=_blank(_("Any")) + [(choice, choice) for choice in field.choices],
        )
    if field.kind == CustomFieldKind.CHECKBOX:
        return forms.ChoiceField(
            label=label, required=False, choices=_blank(_("Any")) + [(YES, _("Yes")), (NO, _("No"))]
        )
    if field.kind == CustomFieldKind.NUMBER:
        return forms.DecimalField(label=label, required=False, max_digits=20, decimal_places=6)
    if field.kind == CustomFieldKind.DATE:
        return forms.DateField(
            label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
        )
    return forms.CharField(
        label=label,
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


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


class TicketFieldsMixin(forms.Form):
    """The fields the new-ticket and ticket-change forms share: group, assignee, tags,
    category, complexity and the custom fields of the ticket's type (``cf_<key>``)."""

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
    category = forms.ChoiceField(label=_("Category"), required=False)
    complexity = forms.ChoiceField(
        label=_("Complexity"), required=False, choices=_blank(_("Not set")) + Complexity.choices
    )

    custom_field_defs: list[CustomField]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        use_fast_selects(self)  # the choices set later by subclasses go to the same widgets

    def setup_shared_fields(
        self, groups: QuerySet[Group], assignees: QuerySet[User], category: Category | None = None
    ) -> None:
        cast(forms.ModelChoiceField, self.fields["group"]).queryset = groups
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = assignees.order_by("name")
        choices = category_choices(category_tree())
        if category is not None and str(category.pk) not in {value for value, _l in choices}:
            choices.append((str(category.pk), str(category)))  # a deactivated current one
        cast(forms.ChoiceField, self.fields["category"]).choices = (
            _blank(_("No category")) + choices
        )
        self.custom_field_defs = []

    def add_custom_fields(self, definitions: list[CustomField], values: dict[str, Any]) -> None:
        self.custom_field_defs = definitions
        for definition in definitions:
            name = CUSTOM_PREFIX + definition.key
            self.fields[name] = custom_form_field(definition)
            if definition.key in values:
                self.initial[name] = values[definition.key]

    @property
    def custom_bound_fields(self) -> list[forms.BoundField]:
        return [self[CUSTOM_PREFIX + d.key] for d in self.custom_field_defs]

    def chosen_category(self) -> Category | None:
        value = self.cleaned_data.get("category")
        return Category.objects.filter(pk=int(value)).first() if value else None

    def custom_values(self, ticket_type_key: str, *, touched: set[str] | None = None) -> dict:
        """``{key: value}`` of the custom fields for the chosen type (only the ``touched``
        ones when given)."""
        chosen = TicketType.objects.filter(key=ticket_type_key).first()
        applicable = {d.key for d in custom.applicable_fields(chosen)}
        values = {}
        for definition in self.custom_field_defs:
            name = CUSTOM_PREFIX + definition.key
            if definition.key not in applicable or (touched is not None and name not in touched):
                continue
            value = self.cleaned_data.get(name)
            values[definition.key] = value if value not in ("", None) else None
        return values

    def custom_field_map(self) -> dict[str, str]:
        """Action error names (``custom_fields.<key>``) → form field names."""
        return {custom.field_key(d.key): CUSTOM_PREFIX + d.key for d in self.custom_field_defs}


def custom_form_field(definition: CustomField) -> forms.Field:
    options: dict[str, Any] = {
        "label": definition.label,
        "required": False,  # the action decides (a required field must be filled on creation)
        "help_text": definition.help_text,
    }
    kind = definition.kind
    if kind == CustomFieldKind.NUMBER:
        field: forms.Field = forms.DecimalField(max_digits=20, decimal_places=6, **options)
    elif kind == CustomFieldKind.DATE:
        field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **options)
    elif kind == CustomFieldKind.CHOICE:
        field = forms.ChoiceField(
            choices=_blank("—") + [(c, c) for c in definition.choices], **options
        )
    elif kind == CustomFieldKind.MULTI_CHOICE:
        field = forms.MultipleChoiceField(
            choices=[(c, c) for c in definition.choices],
            widget=forms.CheckboxSelectMultiple,
            **options,
        )
    elif kind == CustomFieldKind.CHECKBOX:
        field = forms.BooleanField(**options)
    else:
        field = forms.CharField(max_length=custom.MAX_TEXT_LENGTH, **options)
    if definition.is_required:
        field.widget.attrs["aria-required"] = "true"
        field.label = f"{definition.label} *"
    return field


class TicketUpdateForm(TicketFieldsMixin):
    state = forms.ChoiceField(label=_("State"), choices=State.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    type = forms.ChoiceField(label=_("Type"))
    asset = forms.ModelChoiceField(
        label=_("Asset"), queryset=Asset.objects.none(), required=False, empty_label=_("None")
    )
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=1000)

    EDITABLE = (
        "state",
        "priority",
        "type",
        "group",
        "assignee",
        "tags",
        "category",
        "complexity",
        "asset",
    )
    field_order = ["state", "priority", "type", *EDITABLE[3:], "reason"]

    def __init__(self, user: User, ticket: Ticket, *args, **kwargs):
        values = custom.read_values_fresh(ticket)
        kwargs.setdefault(
            "initial",
            {
                "state": ticket.state,
                "priority": ticket.priority,
                "type": ticket.type.key,
                "group": ticket.group_id,
                "assignee": ticket.assignee_id,
                "tags": _tags_text(tag.name for tag in ticket.tags.all()),
                "category": str(ticket.category_id or ""),
                "complexity": ticket.complexity,
                "asset": ticket.asset_id,
            },
        )
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        assignees = assignable_agents(ticket.group)
        if ticket.assignee_id:
            assignees = assignees | User.objects.filter(pk=ticket.assignee_id)
        self.setup_shared_fields(changeable_groups(user, ticket.group), assignees, ticket.category)
        cast(forms.ModelChoiceField, self.fields["asset"]).queryset = customer_assets(ticket)
        cast(forms.ChoiceField, self.fields["type"]).choices = ticket_type_choices(
            include=ticket.type
        )
        self.add_custom_fields(custom.applicable_fields(ticket.type), values)
        # The form posts back the values it showed, so a field the user left alone is never
        # applied: a stale page must not undo what the customer or a colleague changed meanwhile.
        for name in (*self.EDITABLE, *(CUSTOM_PREFIX + d.key for d in self.custom_field_defs)):
            self.fields[name].show_hidden_initial = True
        custom_names = [CUSTOM_PREFIX + d.key for d in self.custom_field_defs]
        self.order_fields([*self.field_order[:-1], *custom_names, "reason"])

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
            "complexity": ticket.complexity,
            "asset": ticket.asset,
        }
        changes = {
            name: data[name]
            for name, value in current.items()
            if name in touched and data[name] != value
        }
        if "category" in touched and str(ticket.category_id or "") != (data["category"] or ""):
            changes["category"] = self.chosen_category()
        tags = parse_tags(data["tags"])
        current_tags = sorted(tag.name.lower() for tag in ticket.tags.all())
        if "tags" in touched and sorted(tag.lower() for tag in tags) != current_tags:
            changes["tags"] = tags
        values = self.custom_values(data["type"], touched=touched)
        if values:
            changes["custom_fields"] = values
        return changes


def customer_assets(ticket: Ticket) -> QuerySet[Asset]:
    """Assets a ticket of this customer may name: their own and their organisation's."""
    contact = ticket.contact
    condition = Q(contact=contact, is_active=True)
    if contact.organization_id:
        condition |= Q(organization_id=contact.organization_id, is_active=True)
    if ticket.asset_id:
        condition |= Q(pk=ticket.asset_id)
    return Asset.objects.filter(condition).select_related("product").order_by("serial_number")


def ticket_type_choices(include: TicketType | None = None) -> list[tuple[str, str]]:
    types = TicketType.objects.filter(Q(is_active=True) | Q(pk=include.pk if include else None))
    return [(item.key, str(item)) for item in types.order_by("position", "key")]


# --- a ticket on a customer's behalf --------------------------------------------------------


class NewTicketForm(TicketFieldsMixin):
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
    asset_serial = forms.CharField(
        label=_("Asset"),
        required=False,
        max_length=100,
        help_text=_("Serial number of the customer's unit, if the request is about one."),
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
        self.setup_shared_fields(groups, User.objects.staff())
        # Start in the default group when the user works there, else in their first group.
        default = groups.filter(is_default=True).first() or groups.first()
        self.fields["group"].initial = default.pk if default else None
        # Every active field: the type is chosen in this form; only the chosen type's are used.
        definitions = list(CustomField.objects.active().prefetch_related("ticket_types"))
        self.add_custom_fields(definitions, {})
        for definition in definitions:
            types = ", ".join(str(kind) for kind in definition.ticket_types.all())
            if types:
                field = self.fields[CUSTOM_PREFIX + definition.key]
                field.help_text = _("Only for: %(types)s") % {"types": types}

    def chosen_asset(self) -> Asset | None:
        serial = (self.cleaned_data.get("asset_serial") or "").strip()
        if not serial:
            return None
        asset = Asset.objects.filter(serial_number__iexact=serial).first()
        if asset is None:
            from django.core.exceptions import ValidationError

            raise ValidationError(
                {
                    "asset_serial": _("No asset has the serial number %(serial)s.")
                    % {"serial": serial}
                }
            )
        return asset

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
