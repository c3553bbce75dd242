"""Tickets, their messages, attachments, tags and the append-only timeline."""

from __future__ import annotations

from pathlib import PurePosixPath
from uuid import uuid4

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Group
from kefu.customers.models import Asset, Contact, Organization


class State(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING_CUSTOMER = "pending_customer", _("Waiting for customer")
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATES = (State.NEW, State.OPEN, State.PENDING_CUSTOMER, State.ON_HOLD)
DONE_STATES = (State.RESOLVED, State.CLOSED)


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    API = "api", _("API")
    WECHAT = "wechat", _("WeChat")
    WECOM = "wecom", _("WeCom")


class Complexity(models.TextChoices):
    SIMPLE = "simple", _("Simple")
    STANDARD = "standard", _("Standard")
    COMPLEX = "complex", _("Complex")


class Category(models.Model):
    """A node of the category tree (e.g. Hardware › Display › No picture)."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="unique_category_per_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(parent=None), name="unique_top_category"
            ),
        ]

    def __str__(self) -> str:
        return self.name


def category_tree(*, active_only: bool = True) -> list[tuple[Category, int, str]]:
    """Every category as ``(category, depth, "Parent › Child")`` in tree order, from one query.

    A child of a deactivated category is left out with it when ``active_only``.
    """
    rows = Category.objects.all() if not active_only else Category.objects.filter(is_active=True)
    children: dict[int | None, list[Category]] = {}
    for category in rows.order_by("position", "name"):
        children.setdefault(category.parent_id, []).append(category)
    tree: list[tuple[Category, int, str]] = []

    def walk(parent_id: int | None, depth: int, prefix: str) -> None:
        if depth > 20:  # the admin form forbids cycles; this only guards bad data
            return
        for category in children.get(parent_id, []):
            path = f"{prefix} › {category.name}" if prefix else category.name
            tree.append((category, depth, path))
            walk(category.pk, depth + 1, path)

    walk(None, 0, "")
    return tree


class TicketType(models.Model):
    """An entry of the configurable list of ticket types (question, incident, complaint, …)."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = _("ticket type")
        verbose_name_plural = _("ticket types")

    def __str__(self) -> str:
        return str(_(self.name))


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TicketNumberCounter(models.Model):
    """A single row whose ``UPDATE … SET value = value + 1`` hands out ticket numbers.

    The row lock serialises concurrent creators, so numbers are unique and never reused even when
    a transaction that took one rolls back (a gap is harmless; a duplicate is not).
    """

    name = models.CharField(max_length=20, unique=True)
    value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class TicketQuerySet(models.QuerySet["Ticket"]):
    def visible_to(self, user) -> TicketQuerySet:
        """Tickets ``user`` may see; the one place the access table's "sees" column lives."""
        from kefu.accounts.models import Role

        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.role == Role.ADMIN:
            return self.all()
        if user.role in (Role.SUPERVISOR, Role.AGENT):
            return self.filter(group__memberships__user=user)
        if user.role == Role.CUSTOMER:
            contact = getattr(user, "contact", None)
            if contact is None:
                return self.none()
            condition = Q(contact=contact)
            if contact.organization_id and contact.organization.members_share_tickets:
                condition |= Q(organization_id=contact.organization_id)
            return self.filter(condition)
        return self.none()

    def open(self) -> TicketQuerySet:
        return self.filter(state__in=OPEN_STATES)


class Ticket(models.Model):
    number = models.BigIntegerField(_("number"), unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=255)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.NEW)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM
    )
    type = models.ForeignKey(
        TicketType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="tickets"
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.WEB
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="tickets"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    group = models.ForeignKey(
        Group, verbose_name=_("group"), on_delete=models.PROTECT, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    complexity = models.CharField(
        _("complexity"), max_length=10, choices=Complexity.choices, blank=True
    )
    asset = models.ForeignKey(
        Asset,
        verbose_name=_("asset"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_tickets",
        help_text=_("Set when this ticket was merged into another one (then it is closed)."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    first_response_at = models.DateTimeField(_("first agent response"), null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # Serve the console's views: open tickets per group / assignee, newest or recently updated.
            models.Index(
                fields=["group", "state", "-created_at", "-id"], name="ticket_group_state"
            ),
            models.Index(
                fields=["assignee", "state", "-created_at", "-id"], name="ticket_assignee_state"
            ),
            # The open-tickets views, newest first: one index range per group / assignee instead
            # of one per open state merged and sorted (they stay small as history grows).
            models.Index(
                fields=["group", "-created_at", "-id"],
                name="ticket_group_open",
                condition=Q(state__in=OPEN_STATES),
            ),
            models.Index(
                fields=["assignee", "-created_at", "-id"],
                name="ticket_assignee_open",
                condition=Q(state__in=OPEN_STATES),
            ),
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created"),
            # A customer's other tickets, newest first (ticket page, customer page): the id
            # completes the order, so a customer with thousands of tickets needs no sort.
            models.Index(fields=["contact", "-created_at", "-id"], name="ticket_contact_recent"),
            models.Index(fields=["organization", "-created_at"], name="ticket_organization"),
            models.Index(fields=["asset", "-created_at"], name="ticket_asset"),
            models.Index(fields=["category", "-created_at"], name="ticket_category"),
            # "Take next": the oldest unassigned ticket of a group.
            models.Index(
                fields=["group", "created_at", "id"],
                name="ticket_unassigned",
                condition=Q(assignee=None, state__in=["new", "open"]),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


def attachment_path(instance: Attachment, filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()[:16]
    return f"attachments/{instance.created_at:%Y/%m}/{uuid4().hex}{suffix}"


class Message(models.Model):
    """A public reply or an internal note on a ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    is_internal = models.BooleanField(_("internal note"), default=False)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True, help_text=_("Sanitised with nh3."))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    customer_notified_at = models.DateTimeField(null=True, blank=True)
    # E-mail threading: the RFC 5322 Message-ID of an inbound mail, or the one an outgoing reply
    # was (or will be) sent with — stored before sending so a retried job reuses it.
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    delivery_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket")]

    def __str__(self) -> str:
        return f"{self.ticket} message {self.pk}"

    @property
    def is_from_customer(self) -> bool:
        return self.author_contact_id is not None

    @property
    def author_name(self) -> str:
        if self.author_user_id:
            return str(self.author_user)
        if self.author_contact_id:
            return str(self.author_contact)
        return str(_("System"))


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class EventType(models.TextChoices):
    CREATED = "created", _("Created")
    CHANGED = "changed", _("Changed")
    REPLIED = "replied", _("Replied")
    NOTE_ADDED = "note_added", _("Internal note added")
    CUSTOMER_REPLIED = "customer_replied", _("Customer replied")
    REOPENED = "reopened", _("Reopened")
    SLA_WARNING = "sla_warning", _("SLA warning")
    SLA_BREACHED = "sla_breached", _("SLA target breached")
    ESCALATED = "escalated", _("Escalated")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    LINKED = "linked", _("Linked")
    UNLINKED = "unlinked", _("Unlinked")
    MERGED = "merged", _("Merged")
    SPLIT = "split", _("Split")


# Fields whose changes customers see on their timeline; everything else is staff-only.
CUSTOMER_VISIBLE_FIELDS = frozenset({"state", "subject"})


class TicketEventQuerySet(models.QuerySet["TicketEvent"]):
    def visible_to(self, user) -> TicketEventQuerySet:
        if user.is_staff_member:
            return self
        return self.filter(is_internal=False)


class TicketEvent(models.Model):
    """One append-only row on a ticket's timeline: who changed what, when and why."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=30, choices=EventType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    field = models.CharField(max_length=40, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    is_internal = models.BooleanField(
        default=False, help_text=_("Hidden from customers (staff-only fields, internal notes).")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.type} {self.field}"


class TicketSearchDocument(models.Model):
    """A ticket's search terms (``kefu.search.tokens``), rewritten by ``kefu.tickets.search``.

    The columns are what the full-text index covers (FTS5 table on SQLite, a ``tsvector`` column
    with a GIN index on PostgreSQL; see ``kefu.search.backends``). Internal notes and tags have a
    column of their own so that a customer's search, which only looks at the first two, can never
    match on text the customer may not read.
    """

    ticket = models.OneToOneField(
        Ticket, primary_key=True, on_delete=models.CASCADE, related_name="search_document"
    )
    subject_terms = models.TextField(default="", help_text="Number and subject.")
    public_terms = models.TextField(
        default="", help_text="Public messages, customer and organisation."
    )
    staff_terms = models.TextField(default="", help_text="Internal notes and tags.")
    indexed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"search document of ticket {self.ticket_id}"


# --- custom fields ----------------------------------------------------------------------------


class CustomFieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    CHECKBOX = "checkbox", _("Checkbox")


CHOICE_KINDS = (CustomFieldKind.CHOICE, CustomFieldKind.MULTI_CHOICE)


class CustomFieldQuerySet(models.QuerySet["CustomField"]):
    def active(self) -> CustomFieldQuerySet:
        return self.filter(is_active=True)

    def for_type(self, ticket_type: TicketType | None) -> CustomFieldQuerySet:
        """Fields that apply to ``ticket_type``: those naming it and those naming no type."""
        if ticket_type is None:
            return self.filter(ticket_types=None)
        return self.filter(Q(ticket_types=None) | Q(ticket_types=ticket_type)).distinct()


class CustomField(models.Model):
    """An administrator-defined ticket field (e.g. "Meter reading", "Purchase channel").

    Values live in ``CustomFieldValue`` rows rather than a JSON column so that the list can filter
    on them with ordinary indexed comparisons on both SQLite and PostgreSQL (number and date
    ranges, one row per chosen option of a multiple choice).
    """

    key = models.SlugField(
        _("key"),
        max_length=30,
        unique=True,
        help_text=_("Used by the API and in filters; lower-case letters, digits and _."),
    )
    label = models.CharField(_("label"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=CustomFieldKind.choices)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("Options of a choice field.")
    )
    ticket_types = models.ManyToManyField(
        TicketType,
        verbose_name=_("ticket types"),
        blank=True,
        related_name="custom_fields",
        help_text=_("Empty: every ticket type."),
    )
    help_text = models.CharField(_("help text"), max_length=255, blank=True)
    is_required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CustomFieldQuerySet.as_manager()

    class Meta:
        ordering = ["position", "label", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label

    @property
    def is_multiple(self) -> bool:
        return self.kind == CustomFieldKind.MULTI_CHOICE


class CustomFieldValue(models.Model):
    """One value of a custom field on a ticket; a multiple choice has one row per option.

    Exactly one of the typed columns is used, chosen by the field's kind: ``text`` for text,
    choice and multiple choice; ``number``; ``date``; ``flag`` for a checkbox (only ticked boxes
    are stored).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="custom_values")
    field = models.ForeignKey(CustomField, on_delete=models.PROTECT, related_name="values")
    text = models.CharField(max_length=1000, blank=True, default="")
    number = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    date = models.DateField(null=True, blank=True)
    flag = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["field__position", "field_id", "id"]
        indexes = [
            # The list's filters: WHERE EXISTS (… field = ? AND text/number/date …).
            models.Index(fields=["field", "text"], name="custom_value_text"),
            models.Index(fields=["field", "number"], name="custom_value_number"),
            models.Index(fields=["field", "date"], name="custom_value_date"),
            models.Index(fields=["ticket", "field"], name="custom_value_ticket"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "field", "text"], name="unique_custom_value"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.field_id}"


# --- links between tickets --------------------------------------------------------------------


class LinkKind(models.TextChoices):
    RELATED = "related", _("Related")
    DUPLICATE = "duplicate", _("Duplicate of")
    CHILD = "child", _("Child")


class TicketLink(models.Model):
    """A link from ``source`` to ``target``.

    ``related``: symmetric, stored once. ``duplicate``: ``source`` duplicates ``target``.
    ``child``: ``target`` is a child of ``source`` (the parent); a ticket has at most one parent.
    """

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=20, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="one_link_per_pair"),
            models.UniqueConstraint(
                fields=["target"], condition=Q(kind="child"), name="one_parent_per_ticket"
            ),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="no_self_link"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"
