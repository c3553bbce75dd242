"""Custom field values: checking input against the definitions, storing and reading them.

``create_ticket`` and ``update_ticket`` call ``clean_values`` and ``write_values`` inside their
transaction; nothing else writes ``CustomFieldValue`` rows. Values are exchanged as plain Python
(``{key: value}``): text → ``str``, number → ``int``/``float``, date → ``date`` (ISO string in
JSON), choice → ``str``, multiple choice → ``list[str]``, checkbox → ``bool``. ``None``, ``""``
and ``[]`` clear a value; a checkbox that is not ticked has no row.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from kefu.accounts.access import require_admin
from kefu.audit.actions import changes_since, record, snapshot
from kefu.lib import config_cache
from kefu.tickets.models import (
    CHOICE_KINDS,
    CustomField,
    CustomFieldKind,
    CustomFieldValue,
    Ticket,
    TicketType,
)

MAX_TEXT_LENGTH = 1000
MAX_NUMBER = Decimal("1e14")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,29}$")

Values = dict[str, Any]


def field_key(name: str) -> str:
    """The error field name of a custom field in forms and the API."""
    return f"custom_fields.{name}"


def _active_fields() -> list[tuple[CustomField, frozenset[int]]]:
    fields = CustomField.objects.active().prefetch_related("ticket_types")
    return [
        (field, frozenset(t.pk for t in field.ticket_types.all()))
        for field in fields.order_by("position", "label", "pk")
    ]


def applicable_fields(ticket_type: TicketType | None) -> list[CustomField]:
    """The active fields for ``ticket_type``: those naming it and those naming no type
    (``CustomFieldQuerySet.for_type``), from a per-process snapshot."""
    type_id = ticket_type.pk if ticket_type is not None else None
    return [
        copy.copy(field)
        for field, type_ids in config_cache.snapshot("tickets.custom_fields", _active_fields)
        if not type_ids or type_id in type_ids
    ]


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def coerce(field: CustomField, value: Any) -> Any:
    """``value`` in the field's Python type, or ``None`` for "no value"; raises ValidationError
    (keyed ``custom_fields.<key>``) for anything that does not fit the field."""

    def invalid(message: str) -> ValidationError:
        return ValidationError({field_key(field.key): message})

    kind = field.kind
    if kind == CustomFieldKind.CHECKBOX:
        if value in (None, ""):
            return None
        if not isinstance(value, bool):
            raise invalid(_("Give true or false."))
        return True if value else None
    if isinstance(value, bool):
        raise invalid(_("This field does not take true or false."))
    if _is_empty(value):
        return None
    if kind == CustomFieldKind.TEXT:
        if not isinstance(value, str):
            raise invalid(_("Give a text."))
        text = value.strip()
        if len(text) > MAX_TEXT_LENGTH:
            raise invalid(_("At most %(n)s characters.") % {"n": MAX_TEXT_LENGTH})
        return text or None
    if kind == CustomFieldKind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise invalid(_("Give a number."))
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise invalid(_("Give a number.")) from None
        if not number.is_finite() or abs(number) >= MAX_NUMBER:
            raise invalid(_("Give a number."))
        if number != number.quantize(Decimal("0.000001")):
            raise invalid(_("At most six decimal places."))
        return number
    if kind == CustomFieldKind.DATE:
        if isinstance(value, date):
            return value
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            raise invalid(_("Give a date as YYYY-MM-DD."))
        return parsed
    if kind == CustomFieldKind.CHOICE:
        if not isinstance(value, str) or value not in field.choices:
            raise invalid(_("Choose one of: %(choices)s") % {"choices": ", ".join(field.choices)})
        return value
    if kind == CustomFieldKind.MULTI_CHOICE:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
            raise invalid(_("Give a list of options."))
        unknown = [item for item in items if item not in field.choices]
        if unknown:
            raise invalid(
                _("Unknown options %(unknown)s; choose from: %(choices)s")
                % {"unknown": ", ".join(unknown), "choices": ", ".join(field.choices)}
            )
        chosen = [choice for choice in field.choices if choice in items]
        return chosen or None
    raise invalid(_("This field has an unknown kind."))


def clean_values(
    ticket_type: TicketType,
    values: dict[str, Any] | None,
    *,
    current: Values | None = None,
    check_required: bool,
) -> dict[CustomField, Any]:
    """Check ``values`` (a partial ``{key: value}``) for a ticket of ``ticket_type``.

    Returns the coerced values by field. Every problem is collected, so a form or API client
    sees all of them at once. ``check_required`` (a staff member creating a ticket) demands every
    required field; a required field can never be cleared once set.
    """
    values = values or {}
    if not isinstance(values, dict):
        raise ValidationError({"custom_fields": _("Give an object of field keys and values.")})
    fields = {field.key: field for field in CustomField.objects.filter(key__in=list(values))}
    applicable = {field.key: field for field in applicable_fields(ticket_type)}
    errors: dict[str, list[str]] = {}
    cleaned: dict[CustomField, Any] = {}
    for key, raw in values.items():
        field = fields.get(key)
        if field is None:
            errors[field_key(key)] = [_("There is no custom field %(key)s.") % {"key": key}]
            continue
        if key not in applicable:
            if not field.is_active:
                message = _("This field is deactivated.")
            else:
                message = _("This field does not apply to tickets of type %(type)s.") % {
                    "type": ticket_type
                }
            errors[field_key(key)] = [message]
            continue
        try:
            value = coerce(field, raw)
        except ValidationError as error:
            errors.update(error.message_dict)
            continue
        if value is None and field.is_required and (current or {}).get(key) not in (None, False):
            errors[field_key(key)] = [_("This field is required.")]
            continue
        cleaned[field] = value
    if check_required:
        for key, field in applicable.items():
            given = cleaned.get(field) if field in cleaned else (current or {}).get(key)
            if field.is_required and _is_empty(given) and field_key(key) not in errors:
                errors[field_key(key)] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def read_values(ticket: Ticket) -> Values:
    """``{key: value}`` of a ticket, including unticked checkboxes (``False``) of its fields.

    Uses ``ticket.custom_values`` as prefetched by ``prefetch_values`` when it was.
    """
    values: Values = {}
    for row in ticket.custom_values.all():
        field = row.field
        if field.kind == CustomFieldKind.MULTI_CHOICE:
            values.setdefault(field.key, []).append(row.text)
        else:
            values[field.key] = _row_value(field, row)
    return values


def prefetch_values():
    from django.db.models import Prefetch

    return Prefetch(
        "custom_values",
        queryset=CustomFieldValue.objects.select_related("field").order_by("field_id", "id"),
    )


def _row_value(field: CustomField, row: CustomFieldValue) -> Any:
    if field.kind == CustomFieldKind.NUMBER:
        return row.number
    if field.kind == CustomFieldKind.DATE:
        return row.date
    if field.kind == CustomFieldKind.CHECKBOX:
        return bool(row.flag)
    return row.text


def json_value(value: Any) -> Any:
    """A value as JSON shows it: numbers as int or float, dates as ISO strings."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def display(value: Any) -> str:
    """A value as the timeline stores it."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value)
    if value is True:
        return "✓"
    return str(json_value(value))


def write_values(ticket: Ticket, cleaned: dict[CustomField, Any]) -> dict[str, tuple[Any, Any]]:
    """Store ``cleaned`` (from ``clean_values``) on ``ticket``; returns ``{key: (old, new)}`` for
    real changes. Must run inside the caller's transaction, with the ticket row locked."""
    if not cleaned:
        return {}
    current = read_values_fresh(ticket)
    diff: dict[str, tuple[Any, Any]] = {}
    with transaction.atomic():
        for field, value in cleaned.items():
            old = current.get(field.key)
            if _same(old, value):
                continue
            CustomFieldValue.objects.filter(ticket=ticket, field=field).delete()
            CustomFieldValue.objects.bulk_create(_rows(ticket, field, value))
            diff[field.key] = (old, value)
    return diff


def _same(old: Any, new: Any) -> bool:
    return (None if old is False else old) == new


def read_values_fresh(ticket: Ticket) -> Values:
    rows = CustomFieldValue.objects.filter(ticket=ticket).select_related("field")
    values: Values = {}
    for row in rows.order_by("field_id", "id"):
        if row.field.kind == CustomFieldKind.MULTI_CHOICE:
            values.setdefault(row.field.key, []).append(row.text)
        else:
            values[row.field.key] = _row_value(row.field, row)
    return values


def _rows(ticket: Ticket, field: CustomField, value: Any) -> Iterable[CustomFieldValue]:
    if value is None:
        return []
    if field.kind == CustomFieldKind.MULTI_CHOICE:
        return [CustomFieldValue(ticket=ticket, field=field, text=item) for item in value]
    row = CustomFieldValue(ticket=ticket, field=field)
    if field.kind == CustomFieldKind.NUMBER:
        row.number = value
    elif field.kind == CustomFieldKind.DATE:
        row.date = value
    elif field.kind == CustomFieldKind.CHECKBOX:
        row.flag = True
    else:
        row.text = value
    return [row]


def clean_choices(kind: str, choices: Any) -> list[str]:
    """The options of a field definition: non-empty, unique, only for choice kinds."""
    if kind not in CHOICE_KINDS:
        return []
    if not isinstance(choices, list | tuple) or not all(isinstance(c, str) for c in choices):
        raise ValidationError({"choices": _("Give the options as a list of texts.")})
    cleaned: list[str] = []
    for choice in choices:
        choice = " ".join(choice.split())
        if not choice:
            continue
        if len(choice) > 200:
            raise ValidationError({"choices": _("An option is at most 200 characters.")})
        if choice not in cleaned:
            cleaned.append(choice)
    if not cleaned:
        raise ValidationError({"choices": _("A choice field needs at least one option.")})
    return cleaned


# --- definitions (administrators) -----------------------------------------------------------


AUDITED_FIELDS = (
    "key",
    "label",
    "kind",
    "choices",
    "help_text",
    "is_required",
    "position",
    "is_active",
)


@transaction.atomic
def save_custom_field(
    actor,
    field: CustomField | None = None,
    *,
    ticket_types: Iterable[TicketType] | None = None,
    **data: Any,
) -> CustomField:
    """Create (``field=None``) or change a custom field definition; administrators only.

    ``data``: ``key`` (only when creating), ``label``, ``kind`` (only when creating, or while no
    ticket has a value), ``choices``, ``help_text``, ``is_required``, ``position``, ``is_active``.
    Fields are deactivated, never deleted: tickets keep their values.
    """
    require_admin(actor, _("Only administrators define custom fields."))
    allowed = {
        "key",
        "label",
        "kind",
        "choices",
        "help_text",
        "is_required",
        "position",
        "is_active",
    }
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    creating = field is None
    before = snapshot(field or CustomField(), AUDITED_FIELDS)
    if field is None:
        key = str(data.get("key") or "").strip()
        if not KEY_PATTERN.match(key):
            raise ValidationError(
                {
                    "key": _(
                        "A key starts with a letter and has at most 30 lower-case letters, "
                        "digits and _."
                    )
                }
            )
        if CustomField.objects.filter(key=key).exists():
            raise ValidationError({"key": _("A custom field with this key exists already.")})
        field = CustomField(key=key)
    elif "key" in data and data["key"] != field.key:
        raise ValidationError({"key": _("The key of a field cannot change.")})
    if "kind" in data and data["kind"] != field.kind:
        if data["kind"] not in CustomFieldKind.values:
            raise ValidationError({"kind": _("Unknown kind %(value)s.") % {"value": data["kind"]}})
        if not creating and field.values.exists():
            raise ValidationError(
                {"kind": _("Tickets have values for this field; its kind cannot change.")}
            )
        field.kind = data["kind"]
    if not field.kind:
        raise ValidationError({"kind": _("Choose the kind of field.")})
    if "label" in data or creating:
        label = " ".join(str(data.get("label") or "").split())
        if not label or len(label) > 100:
            raise ValidationError({"label": _("Give a label of at most 100 characters.")})
        field.label = label
    if "choices" in data or creating or "kind" in data:
        field.choices = clean_choices(field.kind, data.get("choices", field.choices))
    for name in ("help_text", "is_required", "position", "is_active"):
        if name in data and data[name] is not None:
            setattr(field, name, data[name])
    field.help_text = (field.help_text or "")[:255]
    field.save()
    changes = changes_since(before, field)
    if ticket_types is not None:
        old_types = [] if creating else [kind.key for kind in field.ticket_types.all()]
        field.ticket_types.set(list(ticket_types))
        new_types = [kind.key for kind in ticket_types]
        if sorted(old_types) != sorted(new_types):
            changes["ticket_types"] = [old_types, new_types]
    record(actor, "custom_field.created" if creating else "custom_field.updated", field, changes)
    return field
