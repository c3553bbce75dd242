"""How each predicted field maps to a training label and back (no scikit-learn here).

A label is a string: the group or category id, or the priority/complexity value. Training reads
the *current* value of resolved tickets, so an agent's correction (an override) is what the next
model learns.
"""

from __future__ import annotations

from typing import Any

from kefu.accounts.models import Group
from kefu.tickets.models import Category, Complexity, Priority

# Ticket columns holding each field's label, for ``values()`` queries.
LABEL_COLUMNS = {
    "group": "group_id",
    "category": "category_id",
    "priority": "priority",
    "complexity": "complexity",
}


def label_from_value(field: str, raw: Any) -> str | None:
    """The label of a column value, or None when the ticket is unlabelled for this field."""
    if raw is None or raw == "":
        return None
    return str(raw)


def current_label(ticket, field: str) -> str | None:
    return label_from_value(field, getattr(ticket, LABEL_COLUMNS[field]))


def resolve(field: str, label: str) -> tuple[Any, bool]:
    """``(value for update_ticket, available)``; unavailable: deleted or deactivated."""
    if field == "group":
        group = Group.objects.filter(pk=int(label)).first()
        return group, group is not None and group.is_active
    if field == "category":
        category = Category.objects.filter(pk=int(label)).first()
        return category, category is not None and category.is_active
    if field == "priority":
        return label, label in Priority.values
    return label, label in Complexity.values


def display_names(field: str, labels: list[str]) -> dict[str, str]:
    """Readable names of labels (group and category names, translated choice labels)."""
    if field == "group":
        names = dict(
            Group.objects.filter(pk__in=[int(v) for v in labels]).values_list("pk", "name")
        )
        return {label: names.get(int(label), f"#{label}") for label in labels}
    if field == "category":
        categories = Category.objects.filter(pk__in=[int(v) for v in labels]).select_related(
            "parent"
        )
        found = {c.pk: (f"{c.parent.name} › {c.name}" if c.parent else c.name) for c in categories}
        return {label: found.get(int(label), f"#{label}") for label in labels}
    choices = dict(Priority.choices if field == "priority" else Complexity.choices)
    return {label: str(choices.get(label, label)) for label in labels}
