"""Conditions and actions of triggers, time rules and macros: what exists, how an admin's input
is validated and normalised, how a condition is evaluated, how rows are described.

A condition is ``{"field", "operator", "value"}``; an action ``{"type", "value", "subject",
"body"}``. Values are stored canonically as strings (choice keys, object ids, tag names), so a
renamed group keeps its rules. Admins may type names instead of ids; ``normalise_*`` resolves them
and raises a ``ValidationError`` that says what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.models import Group, User
from kefu.automation.placeholders import validate_template
from kefu.customers.models import Organization, Tier
from kefu.tickets.models import (
    Category,
    Channel,
    Complexity,
    Message,
    Priority,
    State,
    Ticket,
    TicketType,
)

# --- fields ---------------------------------------------------------------------------------

CHOICE, REF, TAGS, TEXT = "choice", "ref", "tags", "text"


@dataclass(frozen=True)
class FieldSpec:
    label: Any
    kind: str
    choices: Any = None  # a TextChoices class for CHOICE fields
    model: type[Model] | None = None  # for REF fields
    nullable: bool = False
    tracked: bool = True  # may be used with the "changed" operators


FIELDS: dict[str, FieldSpec] = {
    "state": FieldSpec(gettext_lazy("State"), CHOICE, State),
    "priority": FieldSpec(gettext_lazy("Priority"), CHOICE, Priority),
    "type": FieldSpec(gettext_lazy("Type"), REF, model=TicketType),
    "group": FieldSpec(gettext_lazy("Group"), REF, model=Group),
    "assignee": FieldSpec(gettext_lazy("Assignee"), REF, model=User, nullable=True),
    "channel": FieldSpec(gettext_lazy("Channel"), CHOICE, Channel, tracked=False),
    "tags": FieldSpec(gettext_lazy("Tags"), TAGS),
    "category": FieldSpec(gettext_lazy("Category"), REF, model=Category, nullable=True),
    "complexity": FieldSpec(gettext_lazy("Complexity"), CHOICE, Complexity, nullable=True),
    "organization": FieldSpec(
        gettext_lazy("Organisation"), REF, model=Organization, nullable=True, tracked=False
    ),
    "organization_tier": FieldSpec(
        gettext_lazy("Organisation tier"), CHOICE, Tier, nullable=True, tracked=False
    ),
    "subject": FieldSpec(gettext_lazy("Subject"), TEXT),
    "body": FieldSpec(gettext_lazy("Message text"), TEXT, tracked=False),
}

OPERATORS: dict[str, Any] = {
    "is": gettext_lazy("is"),
    "is_not": gettext_lazy("is not"),
    "contains": gettext_lazy("contains"),
    "not_contains": gettext_lazy("does not contain"),
    "changed": gettext_lazy("changed"),
    "changed_to": gettext_lazy("changed to"),
    "changed_from": gettext_lazy("changed from"),
}
CHANGE_OPERATORS = ("changed", "changed_to", "changed_from")
NO_VALUE_OPERATORS = ("changed",)


def operators_for(spec: FieldSpec, *, with_changes: bool = True) -> list[str]:
    if spec.kind in (TAGS, TEXT):
        names = ["contains", "not_contains"]
    else:
        names = ["is", "is_not"]
    if with_changes and spec.tracked:
        names += ["changed"] if spec.kind in (TAGS, TEXT) else list(CHANGE_OPERATORS)
    return names


def _ref_queryset(name: str) -> QuerySet:
    spec = FIELDS.get(name) or ACTION_FIELDS[name]
    if spec.model is User:
        return User.objects.staff()
    if spec.model is None:
        raise ValueError(f"{name} is not a reference field")
    return spec.model._default_manager.all()


def _ref_label(obj: Any) -> str:
    return str(obj)


def resolve_value(name: str, raw: Any, *, allow_me: bool = False) -> str:
    """The canonical stored value for what an admin typed (a key, label, id, name or e-mail)."""
    spec = FIELDS.get(name) or ACTION_FIELDS[name]
    text = " ".join(str(raw if raw is not None else "").split())
    if spec.kind in (TEXT, TAGS):
        if not text:
            raise ValidationError(_("Enter a value."))
        return text
    if not text or text.lower() in ("none", "-"):
        if spec.nullable:
            return ""
        raise ValidationError(_("Choose a value."))
    if spec.kind == CHOICE:
        for value, label in spec.choices.choices:
            if text.lower() in (str(value).lower(), str(label).lower()):
                return str(value)
        allowed = ", ".join(str(v) for v in spec.choices.values if v)
        raise ValidationError(
            _("Unknown value %(value)s; use one of: %(allowed)s")
            % {"value": text, "allowed": allowed}
        )
    if allow_me and text.lower() in ("me", "@me"):
        return "me"
    queryset = _ref_queryset(name)
    found = None
    if text.isdigit():
        found = queryset.filter(pk=int(text)).first()
    if found is None:
        if spec.model is TicketType:
            lookup = Q(key__iexact=text) | Q(name__iexact=text)
        elif spec.model is User:
            lookup = Q(email__iexact=text) | Q(name__iexact=text)
        else:
            lookup = Q(name__iexact=text)
        matches = list(queryset.filter(lookup)[:2])
        if len(matches) > 1:
            raise ValidationError(
                _("%(value)s is ambiguous; use the id instead.") % {"value": text}
            )
        found = matches[0] if matches else None
    if found is None:
        raise ValidationError(
            _("No %(field)s named %(value)s.") % {"field": str(spec.label).lower(), "value": text}
        )
    return found.key if spec.model is TicketType else str(found.pk)


def display_value(name: str, value: str) -> str:
    spec = FIELDS.get(name) or ACTION_FIELDS.get(name)
    if spec is None or spec.kind in (TEXT, TAGS):
        return value
    if value == "":
        return str(_("none"))
    if value == "me":
        return str(_("the agent applying it"))
    if spec.kind == CHOICE:
        return str(dict(spec.choices.choices).get(value, value))
    queryset = _ref_queryset(name)
    found = (
        queryset.filter(key=value).first()
        if spec.model is TicketType
        else queryset.filter(pk=int(value)).first()
        if value.isdigit()
        else None
    )
    return _ref_label(found) if found is not None else f"#{value}"


# --- conditions -----------------------------------------------------------------------------


def normalise_condition(row: dict, *, with_changes: bool = True) -> dict:
    name = row.get("field") or ""
    operator = row.get("operator") or ""
    spec = FIELDS.get(name)
    if spec is None:
        raise ValidationError(_("Unknown field %(field)s.") % {"field": name})
    allowed = operators_for(spec, with_changes=with_changes)
    if operator not in allowed:
        raise ValidationError(
            _("%(field)s cannot be combined with %(operator)s; use one of: %(allowed)s")
            % {
                "field": spec.label,
                "operator": OPERATORS.get(operator, operator),
                "allowed": ", ".join(str(OPERATORS[o]) for o in allowed),
            }
        )
    value = "" if operator in NO_VALUE_OPERATORS else resolve_value(name, row.get("value"))
    return {"field": name, "operator": operator, "value": value}


def normalise_conditions(rows: Iterable[dict], *, with_changes: bool = True) -> list[dict]:
    cleaned, errors = [], []
    for index, row in enumerate(rows, start=1):
        try:
            cleaned.append(normalise_condition(row, with_changes=with_changes))
        except ValidationError as error:
            errors.append(_("Condition %(n)s: %(error)s") % {"n": index, "error": _msg(error)})
    if errors:
        raise ValidationError({"conditions": errors})
    return cleaned


def describe_condition(row: dict) -> str:
    spec = FIELDS.get(row["field"])
    label = spec.label if spec else row["field"]
    operator = OPERATORS.get(row["operator"], row["operator"])
    if row["operator"] in NO_VALUE_OPERATORS:
        return f"{label} {operator}"
    return f"{label} {operator} {display_value(row['field'], row['value'])}"


def _canonical(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, TicketType):
        return value.key
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, list | tuple):
        return ",".join(str(v).lower() for v in value)
    return str(value)


@dataclass
class Situation:
    """What a condition looks at: the ticket, the event, its changes and its message."""

    ticket: Ticket
    event: str = ""
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    message: Message | None = None

    @cached_property
    def tag_names(self) -> set[str]:
        return {name.lower() for name in self.ticket.tags.values_list("name", flat=True)}

    @cached_property
    def body(self) -> str:
        if self.message is not None:
            return self.message.body_text
        latest = self.ticket.messages.filter(is_internal=False).order_by("-created_at", "-pk")
        return latest.values_list("body_text", flat=True).first() or ""

    def value(self, name: str) -> str:
        ticket = self.ticket
        if name == "type":
            return ticket.type.key
        if name in ("group", "assignee", "category", "organization"):
            pk = getattr(ticket, f"{name}_id")
            return str(pk) if pk else ""
        if name == "organization_tier":
            return ticket.organization.tier if ticket.organization is not None else ""
        return str(getattr(ticket, name) or "")


def condition_holds(row: dict, situation: Situation) -> bool:
    name, operator, wanted = row["field"], row["operator"], row["value"]
    if operator in CHANGE_OPERATORS:
        if name not in situation.changes:
            return False
        old, new = (_canonical(name, v) for v in situation.changes[name])
        if operator == "changed":
            return True
        return (new if operator == "changed_to" else old) == wanted
    spec = FIELDS[name]
    if spec.kind == TAGS:
        has = wanted.lower() in situation.tag_names
        return has if operator == "contains" else not has
    if spec.kind == TEXT:
        haystack = situation.ticket.subject if name == "subject" else situation.body
        found = wanted.casefold() in haystack.casefold()
        return found if operator == "contains" else not found
    equal = situation.value(name) == wanted
    return equal if operator == "is" else not equal


def conditions_hold(conditions: list[dict], situation: Situation, match: str = "all") -> bool:
    if not conditions:
        return True
    results = (condition_holds(row, situation) for row in conditions)
    return any(results) if match == "any" else all(results)


# --- actions --------------------------------------------------------------------------------

ACTION_FIELDS: dict[str, FieldSpec] = {
    "set_state": FIELDS["state"],
    "set_priority": FIELDS["priority"],
    "set_type": FIELDS["type"],
    "set_group": FieldSpec(gettext_lazy("Group"), REF, model=Group),
    "set_assignee": FIELDS["assignee"],
    "set_category": FIELDS["category"],
    "set_complexity": FIELDS["complexity"],
    "add_tags": FieldSpec(gettext_lazy("Add tags"), TAGS),
    "remove_tags": FieldSpec(gettext_lazy("Remove tags"), TAGS),
}
ACTION_LABELS: dict[str, Any] = {
    "set_state": gettext_lazy("Set state"),
    "set_priority": gettext_lazy("Set priority"),
    "set_type": gettext_lazy("Set type"),
    "set_group": gettext_lazy("Set group"),
    "set_assignee": gettext_lazy("Assign to"),
    "set_category": gettext_lazy("Set category"),
    "set_complexity": gettext_lazy("Set complexity"),
    "add_tags": gettext_lazy("Add tags"),
    "remove_tags": gettext_lazy("Remove tags"),
    "add_note": gettext_lazy("Add internal note"),
    "add_reply": gettext_lazy("Reply to the customer"),
    "notify": gettext_lazy("Send e-mail"),
    "webhook": gettext_lazy("Call webhook"),
}
FIELD_ACTIONS = tuple(ACTION_FIELDS)
RULE_ACTIONS = tuple(ACTION_LABELS)


class Recipient:
    CUSTOMER, ASSIGNEE, GROUP = "customer", "assignee", "group"
    LABELS = {
        "customer": gettext_lazy("the customer"),
        "assignee": gettext_lazy("the assignee"),
        "group": gettext_lazy("the group's members"),
    }


def _msg(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(m for messages in error.message_dict.values() for m in messages)
    return " ".join(error.messages)


def normalise_action(
    row: dict, *, allowed: Iterable[str] = RULE_ACTIONS, allow_me: bool = False
) -> dict:
    """``allow_me``: "me" is a valid assignee (macros: the agent applying it)."""
    kind = row.get("type") or ""
    if kind not in allowed:
        raise ValidationError(_("Unknown action %(action)s.") % {"action": kind})
    value = row.get("value") or ""
    subject = " ".join(str(row.get("subject") or "").split())
    body = str(row.get("body") or "").strip()
    if kind in ACTION_FIELDS:
        if kind in ("add_tags", "remove_tags"):
            from kefu.tickets.actions import normalise_tags

            names = normalise_tags(str(value).replace("，", ",").split(","))
            if not names:
                raise ValidationError(_("Enter at least one tag."))
            value = ", ".join(names)
        else:
            value = resolve_value(kind, value, allow_me=allow_me and kind == "set_assignee")
        return {"type": kind, "value": value, "subject": "", "body": ""}
    if kind in ("add_note", "add_reply"):
        if not body:
            raise ValidationError(_("Write the text."))
        return {"type": kind, "value": "", "subject": "", "body": validate_template(body)}
    if kind == "notify":
        if value not in Recipient.LABELS:
            raise ValidationError(
                _("Send the e-mail to one of: %(allowed)s")
                % {"allowed": ", ".join(Recipient.LABELS)}
            )
        if not subject or not body:
            raise ValidationError(_("An e-mail needs a subject and a text."))
        return {
            "type": kind,
            "value": value,
            "subject": validate_template(subject)[:255],
            "body": validate_template(body),
        }
    # webhook
    from kefu.automation.models import Webhook

    text = str(value).strip()
    hook = (
        Webhook.objects.filter(pk=int(text)).first()
        if text.isdigit()
        else Webhook.objects.filter(name__iexact=text).first()
    )
    if hook is None:
        raise ValidationError(_("No webhook named %(value)s.") % {"value": text})
    return {"type": kind, "value": str(hook.pk), "subject": "", "body": ""}


def normalise_actions(
    rows: Iterable[dict],
    *,
    allowed: Iterable[str] = RULE_ACTIONS,
    required: bool = True,
    allow_me: bool = False,
) -> list[dict]:
    allowed = tuple(allowed)
    cleaned, errors = [], []
    for index, row in enumerate(rows, start=1):
        try:
            cleaned.append(normalise_action(row, allowed=allowed, allow_me=allow_me))
        except ValidationError as error:
            errors.append(_("Action %(n)s: %(error)s") % {"n": index, "error": _msg(error)})
    if not errors and required and not cleaned:
        errors.append(_("Add at least one action."))
    if errors:
        raise ValidationError({"actions": errors})
    return cleaned


def describe_action(row: dict) -> str:
    kind = row["type"]
    label = ACTION_LABELS.get(kind, kind)
    if kind in ACTION_FIELDS:
        return f"{label}: {display_value(kind, row['value'])}"
    if kind == "notify":
        return f"{label} → {Recipient.LABELS.get(row['value'], row['value'])}: {row['subject']}"
    if kind == "webhook":
        from kefu.automation.models import Webhook

        hook = Webhook.objects.filter(pk=int(row["value"] or 0)).first()
        return f"{label}: {hook or '#' + row['value']}"
    excerpt = row["body"] if len(row["body"]) <= 60 else row["body"][:59] + "…"
    return f"{label}: {excerpt}"


def field_changes(actions: list[dict], ticket: Ticket, agent: User | None = None) -> dict:
    """The ``update_ticket`` keyword arguments for the field actions among ``actions``."""
    changes: dict[str, Any] = {}
    tags: list[str] | None = None
    for row in actions:
        kind, value = row["type"], row["value"]
        if kind in ("set_state", "set_priority", "set_complexity", "set_type"):
            changes[kind.removeprefix("set_")] = value
        elif kind == "set_group":
            changes["group"] = Group.objects.get(pk=int(value))
        elif kind == "set_assignee":
            if value == "me":
                changes["assignee"] = agent
            else:
                changes["assignee"] = User.objects.get(pk=int(value)) if value else None
        elif kind == "set_category":
            changes["category"] = Category.objects.get(pk=int(value)) if value else None
        elif kind in ("add_tags", "remove_tags"):
            if tags is None:
                tags = list(ticket.tags.order_by("name").values_list("name", flat=True))
            names = [n.strip() for n in value.split(",") if n.strip()]
            if kind == "add_tags":
                tags += [n for n in names if n.lower() not in {t.lower() for t in tags}]
            else:
                drop = {n.lower() for n in names}
                tags = [t for t in tags if t.lower() not in drop]
    if tags is not None:
        changes["tags"] = tags
    return changes


def value_suggestions() -> dict[str, list[str]]:
    """What the console's value boxes suggest, per field (choice keys and object names)."""
    suggestions: dict[str, list[str]] = {}
    for name, spec in FIELDS.items():
        if spec.kind == CHOICE:
            suggestions[name] = [str(v) for v in spec.choices.values if v]
        elif spec.kind == REF:
            queryset = _ref_queryset(name)[:200]
            if spec.model is TicketType:
                suggestions[name] = [t.key for t in queryset]
            elif spec.model is User:
                suggestions[name] = [u.email for u in queryset]
            else:
                suggestions[name] = [str(o) for o in queryset]
    return suggestions


def editable_value(name: str, value: str) -> str:
    """What the console's value box shows for a stored value: a name an admin recognises and
    ``resolve_value`` turns back into the same id (e-mail for people, key for types)."""
    spec = FIELDS.get(name) or ACTION_FIELDS.get(name)
    if spec is None or spec.kind != REF or not value or value == "me" or not value.isdigit():
        return value
    found = _ref_queryset(name).filter(pk=int(value)).first()
    if found is None:
        return value
    if spec.model is User:
        return found.email
    name_matches = _ref_queryset(name).filter(name__iexact=str(found)).count()
    return str(found) if name_matches == 1 else value


def editable_rows(rows: list[dict], *, actions: bool = False) -> list[dict]:
    edited = []
    for row in rows:
        row = dict(row)
        if actions:
            if row["type"] == "webhook":
                from kefu.automation.models import Webhook

                hook = Webhook.objects.filter(pk=int(row["value"] or 0)).first()
                row["value"] = hook.name if hook else row["value"]
            else:
                row["value"] = editable_value(row["type"], row["value"])
        else:
            row["value"] = editable_value(row["field"], row["value"])
        edited.append(row)
    return edited
