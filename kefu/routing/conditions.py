"""Rule conditions and actions: their vocabulary, validation, and evaluation against a ticket.

A condition is ``{"field": …, "operator": …, "value": …}``:

- text fields ``text`` (subject and body), ``subject``, ``body`` with ``contains_any`` /
  ``contains_none`` (a list of keywords) or ``matches`` / ``not_matches`` (a regular expression).
  Keywords are case-insensitive; a keyword with Chinese, Japanese or Korean characters matches as a
  substring (CJK text has no spaces between words), any other keyword as a whole word (``E23``
  matches "E23报错" and "error E23", not "E230").
- list fields (``channel``, ``mailbox``, ``organization``, ``tier``, ``product``,
  ``product_category``, ``type``, ``language``, ``complexity``) with ``in`` / ``not_in`` and a list.
- ``business_hours`` with ``inside`` / ``outside`` and a calendar id (``null``: the ticket's SLA
  calendar, else the first active calendar).

Actions are an object: ``group`` (id), ``priority``, ``type`` (key), ``tags`` (list, added),
``complexity``, ``category`` (id), ``assignee`` (user id).
"""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.tickets.models import Channel, Complexity, Priority, Ticket

TEXT_FIELDS = ("text", "subject", "body")
TEXT_OPERATORS = ("contains_any", "contains_none", "matches", "not_matches")
LIST_FIELDS = (
    "channel",
    "mailbox",
    "organization",
    "tier",
    "product",
    "product_category",
    "type",
    "language",
    "complexity",
)
LIST_OPERATORS = ("in", "not_in")
HOURS_OPERATORS = ("inside", "outside")
ID_FIELDS = {"mailbox", "organization", "product"}
LANGUAGES = ("zh", "en")
ACTION_FIELDS = ("group", "priority", "type", "tags", "complexity", "category", "assignee")
MAX_PATTERN = 500
MAX_KEYWORDS = 200
# Rules look at the start of long bodies only: enough for routing, bounded for regexes.
MAX_TEXT = 20_000

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
LATIN = re.compile(r"[A-Za-z]")


def has_cjk(value: str) -> bool:
    return bool(CJK.search(value))


@lru_cache(maxsize=1024)
def keyword_pattern(keyword: str) -> re.Pattern[str]:
    escaped = re.escape(keyword.strip())
    if has_cjk(keyword):
        return re.compile(escaped, re.IGNORECASE)
    # \b would treat CJK characters as word characters, so "E23" would not match "E23报错".
    return re.compile(rf"(?<![A-Za-z0-9_]){escaped}(?![A-Za-z0-9_])", re.IGNORECASE)


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def detect_language(text: str, fallback: str = "") -> str:
    """``zh`` when at least a third of the letters are CJK, ``en`` for Latin text, else the
    contact's language (``zh-hans``/``zh-hant`` → ``zh``)."""
    sample = text[:MAX_TEXT]
    cjk = len(CJK.findall(sample))
    latin = len(LATIN.findall(sample))
    if cjk + latin >= 4:
        return "zh" if cjk * 3 >= cjk + latin else "en"
    if fallback.startswith("zh"):
        return "zh"
    if fallback.startswith("en"):
        return "en"
    return ""


# --- validation -----------------------------------------------------------------------------


def _keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[\n,，、;；]", value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Keywords must be a list of words."))
    words: list[str] = []
    for word in value:
        word = " ".join(word.split())
        if word and word.lower() not in {w.lower() for w in words}:
            words.append(word[:100])
    if not words:
        raise ValidationError(_("Enter at least one keyword."))
    if len(words) > MAX_KEYWORDS:
        raise ValidationError(_("At most %(n)s keywords per condition.") % {"n": MAX_KEYWORDS})
    return words


def validate_pattern(pattern: Any) -> str:
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValidationError(_("Enter a regular expression."))
    if len(pattern) > MAX_PATTERN:
        raise ValidationError(
            _("A regular expression is at most %(n)s characters.") % {"n": MAX_PATTERN}
        )
    try:
        compile_pattern(pattern)
    except re.error as error:
        raise ValidationError(
            _("Invalid regular expression %(pattern)s: %(error)s")
            % {"pattern": pattern, "error": error}
        ) from None
    return pattern


def list_choices(field: str) -> dict[str, str]:
    """The allowed values of a list field → their labels (ids as strings for models)."""
    from kefu.customers.models import Organization, Product, Tier
    from kefu.intake.models import Mailbox
    from kefu.tickets.models import TicketType

    if field == "channel":
        return {value: str(label) for value, label in Channel.choices}
    if field == "tier":
        return {value: str(label) for value, label in Tier.choices}
    if field == "complexity":
        return {value: str(label) for value, label in Complexity.choices}
    if field == "language":
        return {"zh": _("Chinese"), "en": _("English")}
    if field == "type":
        return {t.key: str(t) for t in TicketType.objects.filter(is_active=True)}
    if field == "mailbox":
        return {str(m.pk): str(m) for m in Mailbox.objects.all()}
    if field == "organization":
        return {str(o.pk): o.name for o in Organization.objects.filter(is_active=True)}
    if field == "product":
        return {str(p.pk): str(p) for p in Product.objects.filter(is_active=True)}
    if field == "product_category":
        categories = Product.objects.exclude(category="").values_list("category", flat=True)
        return {c: c for c in sorted(set(categories))}
    raise KeyError(field)


def _list_value(field: str, value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Choose at least one value."))
    allowed = list_choices(field)
    cleaned: list = []
    for item in value:
        key = str(item)
        if key not in allowed:
            raise ValidationError(_("Unknown value %(value)s.") % {"value": item})
        cleaned.append(int(key) if field in ID_FIELDS else key)
    return list(dict.fromkeys(cleaned))


def validate_condition(condition: Any) -> dict:
    if not isinstance(condition, dict):
        raise ValidationError(_("A condition is an object with field, operator and value."))
    field, operator = condition.get("field"), condition.get("operator")
    value = condition.get("value")
    if field in TEXT_FIELDS:
        if operator in ("contains_any", "contains_none"):
            return {"field": field, "operator": operator, "value": _keywords(value)}
        if operator in ("matches", "not_matches"):
            return {"field": field, "operator": operator, "value": validate_pattern(value)}
        raise ValidationError(
            _("Unknown operator %(operator)s for %(field)s.")
            % {"operator": operator, "field": field}
        )
    if field in LIST_FIELDS:
        if operator not in LIST_OPERATORS:
            raise ValidationError(
                _("Unknown operator %(operator)s for %(field)s.")
                % {"operator": operator, "field": field}
            )
        return {"field": field, "operator": operator, "value": _list_value(field, value)}
    if field == "business_hours":
        from kefu.sla.models import BusinessCalendar

        if operator not in HOURS_OPERATORS:
            raise ValidationError(
                _("Unknown operator %(operator)s for %(field)s.")
                % {"operator": operator, "field": field}
            )
        if value is not None and not BusinessCalendar.objects.filter(pk=value).exists():
            raise ValidationError(_("No such calendar: %(id)s") % {"id": value})
        return {"field": field, "operator": operator, "value": value}
    raise ValidationError(_("Unknown condition field %(field)s.") % {"field": field})


def validate_conditions(conditions: Any) -> list[dict]:
    if not isinstance(conditions, list):
        raise ValidationError({"conditions": _("Conditions must be a list.")})
    cleaned = []
    for index, condition in enumerate(conditions, start=1):
        try:
            cleaned.append(validate_condition(condition))
        except ValidationError as error:
            raise ValidationError(
                {
                    "conditions": _("Condition %(n)s: %(error)s")
                    % {"n": index, "error": "; ".join(error.messages)}
                }
            ) from None
    return cleaned


def validate_actions(actions: Any) -> dict:
    from kefu.accounts.models import Group, User
    from kefu.tickets.actions import normalise_tags
    from kefu.tickets.models import Category, TicketType

    if not isinstance(actions, dict):
        raise ValidationError({"actions": _("Actions must be an object.")})
    unknown = sorted(set(actions) - set(ACTION_FIELDS))
    if unknown:
        raise ValidationError(
            {"actions": _("Unknown action %(name)s.") % {"name": ", ".join(unknown)}}
        )
    cleaned: dict[str, Any] = {}
    for name, value in actions.items():
        if value in (None, "", []):
            continue
        ok = True
        if name == "group":
            ok = Group.objects.filter(pk=_int(value), is_active=True).exists()
        elif name == "assignee":
            ok = User.objects.staff().filter(pk=_int(value)).exists()
        elif name == "category":
            ok = Category.objects.filter(pk=_int(value), is_active=True).exists()
        elif name == "priority":
            ok = value in Priority.values
        elif name == "complexity":
            ok = value in Complexity.values
        elif name == "type":
            ok = TicketType.objects.filter(key=value, is_active=True).exists()
        elif name == "tags":
            if not isinstance(value, list):
                value = [v for v in re.split(r"[\n,，]", str(value))]
            try:
                value = normalise_tags(value)
            except ValidationError as error:
                raise ValidationError({"actions": error.messages}) from None
        if not ok:
            raise ValidationError(
                {
                    "actions": _("The action %(name)s has an unknown value %(value)s.")
                    % {"name": name, "value": value}
                }
            )
        cleaned[name] = _int(value) if name in ("group", "assignee", "category") else value
    return cleaned


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# --- evaluation -----------------------------------------------------------------------------


class TicketFacts:
    """What conditions look at, each computed on first use (most rules never ask for the mailbox
    or the language, so a ticket created with no such rules costs no extra queries)."""

    def __init__(self, ticket: Ticket, body: str | None = None):
        self.ticket = ticket
        self._body = body

    @cached_property
    def body(self) -> str:
        body = self._body
        if body is None:
            first = self.ticket.messages.order_by("created_at", "pk").first()
            body = first.body_text if first is not None else ""
        return (body or "")[:MAX_TEXT]

    @property
    def subject(self) -> str:
        return self.ticket.subject

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.body}"

    def field_text(self, field: str) -> str:
        return {"subject": self.subject, "body": self.body}.get(field, self.text)

    @cached_property
    def language(self) -> str:
        contact = self.ticket.contact if self.ticket.contact_id else None
        return detect_language(self.text, (contact.language if contact else "") or "")

    @cached_property
    def mailbox_id(self) -> int | None:
        return mailbox_of(self.ticket)

    @property
    def product(self):
        asset = self.ticket.asset if self.ticket.asset_id else None
        return asset.product if asset is not None else None

    @property
    def product_id(self) -> int | None:
        product = self.product
        return product.pk if product is not None else None

    @property
    def product_category(self) -> str:
        product = self.product
        return product.category if product is not None else ""


def facts_for(ticket: Ticket, body: str | None = None) -> TicketFacts:
    return TicketFacts(ticket, body)


def mailbox_of(ticket: Ticket) -> int | None:
    """The mailbox of the ticket's first inbound mail. During e-mail ingest the inbound record is
    linked to the ticket only after ``create_ticket`` returns, so it is found by the first
    message's Message-ID then."""
    from kefu.intake.models import InboundEmail

    found = (
        InboundEmail.objects.filter(ticket=ticket)
        .order_by("created_at", "pk")
        .values_list("mailbox_id", flat=True)
        .first()
    )
    if found is not None:
        return found
    first = ticket.messages.order_by("created_at", "pk").first()
    if first is not None and first.message_id:
        return (
            InboundEmail.objects.filter(message_id=first.message_id, ticket=None)
            .order_by("-created_at")
            .values_list("mailbox_id", flat=True)
            .first()
        )
    return None


def _list_actual(field: str, facts: TicketFacts) -> Any:
    ticket = facts.ticket
    if field == "channel":
        return ticket.channel
    if field == "mailbox":
        return facts.mailbox_id
    if field == "organization":
        return ticket.organization_id
    if field == "tier":
        return ticket.organization.tier if ticket.organization is not None else None
    if field == "product":
        return facts.product_id
    if field == "product_category":
        return facts.product_category or None
    if field == "type":
        return ticket.type.key
    if field == "language":
        return facts.language or None
    if field == "complexity":
        return ticket.complexity or None
    raise KeyError(field)


def _in_business_hours(calendar_id: int | None, facts: TicketFacts) -> bool:
    from kefu.sla.actions import working_calendar
    from kefu.sla.deadlines import is_working_time
    from kefu.sla.models import BusinessCalendar

    calendar = None
    if calendar_id is not None:
        calendar = BusinessCalendar.objects.filter(pk=calendar_id).first()
    if calendar is None:
        sla = getattr(facts.ticket, "sla", None)
        calendar = sla.calendar if sla is not None and sla.calendar_id else None
    if calendar is None:
        calendar = BusinessCalendar.objects.filter(is_active=True).order_by("pk").first()
    if calendar is None:
        return True
    return is_working_time(timezone.now(), working_calendar(calendar))


def evaluate(condition: dict, facts: TicketFacts) -> str | None:
    """The condition's evidence (e.g. ``keyword 黑屏``) when it holds, else ``None``."""
    field, operator, value = condition["field"], condition["operator"], condition["value"]
    if field in TEXT_FIELDS:
        text = facts.field_text(field)
        if operator in ("contains_any", "contains_none"):
            hit = next((k for k in value if keyword_pattern(k).search(text)), None)
            if operator == "contains_any":
                return _("keyword %(keyword)s") % {"keyword": hit} if hit else None
            return (
                None
                if hit
                else _("none of the keywords %(keywords)s") % {"keywords": ", ".join(value)}
            )
        found = compile_pattern(value).search(text)
        if operator == "matches":
            return (
                _("pattern %(pattern)s (%(found)s)")
                % {"pattern": value, "found": found.group(0)[:60]}
                if found
                else None
            )
        return None if found else _("pattern %(pattern)s absent") % {"pattern": value}
    if field in LIST_FIELDS:
        actual = _list_actual(field, facts)
        inside = actual is not None and actual in value
        if inside != (operator == "in"):
            return None
        shown = _shown(field, actual)
        return _("%(field)s %(value)s") % {"field": field_label(field), "value": shown}
    if field == "business_hours":
        inside = _in_business_hours(value, facts)
        if inside != (operator == "inside"):
            return None
        return _("inside business hours") if inside else _("outside business hours")
    raise KeyError(field)


def _shown(field: str, actual: Any) -> str:
    if actual is None:
        return "—"
    try:
        return list_choices(field).get(str(actual), str(actual))
    except KeyError:
        return str(actual)


def field_label(field: str) -> str:
    labels = {
        "text": _("subject or body"),
        "subject": _("subject"),
        "body": _("body"),
        "channel": _("channel"),
        "mailbox": _("mailbox"),
        "organization": _("organisation"),
        "tier": _("organisation tier"),
        "product": _("product"),
        "product_category": _("product category"),
        "type": _("ticket type"),
        "language": _("language"),
        "complexity": _("complexity"),
        "business_hours": _("business hours"),
    }
    return labels.get(field, field)


def rule_matches(rule, facts: TicketFacts) -> list[str] | None:
    """The evidence list when ``rule`` matches (empty conditions match everything), else None."""
    conditions = rule.conditions or []
    if not conditions:
        return [_("no conditions")]
    evidence = []
    for condition in conditions:
        found = evaluate(condition, facts)
        if found is None and rule.match_mode == "all":
            return None
        if found is not None:
            evidence.append(found)
            if rule.match_mode == "any":
                return evidence
    return evidence or None


def describe_rule(rule) -> tuple[list[str], list[str]]:
    """(conditions, actions) of a rule as short readable lines for the rule list."""
    from kefu.accounts.models import Group, User
    from kefu.tickets.models import Category

    operators = {
        "contains_any": _("contains any of"),
        "contains_none": _("contains none of"),
        "matches": _("matches"),
        "not_matches": _("does not match"),
        "in": _("is one of"),
        "not_in": _("is not one of"),
    }
    conditions = []
    for condition in rule.conditions or []:
        field, operator, value = condition["field"], condition["operator"], condition["value"]
        if field == "business_hours":
            conditions.append(
                _("inside business hours") if operator == "inside" else _("outside business hours")
            )
            continue
        if field in LIST_FIELDS:
            choices = list_choices(field)
            shown = ", ".join(choices.get(str(v), str(v)) for v in value)
        elif isinstance(value, list):
            shown = ", ".join(value)
        else:
            shown = str(value)
        conditions.append(f"{field_label(field)} {operators.get(operator, operator)} {shown}")
    actions = []
    for name, value in (rule.actions or {}).items():
        if name == "group":
            value = Group.objects.filter(pk=value).first() or value
            actions.append(_("group → %(value)s") % {"value": value})
        elif name == "assignee":
            value = User.objects.filter(pk=value).first() or value
            actions.append(_("assignee → %(value)s") % {"value": value})
        elif name == "category":
            value = Category.objects.filter(pk=value).first() or value
            actions.append(_("category → %(value)s") % {"value": value})
        elif name == "priority":
            actions.append(_("priority → %(value)s") % {"value": Priority(value).label})
        elif name == "complexity":
            actions.append(_("complexity → %(value)s") % {"value": Complexity(value).label})
        elif name == "type":
            actions.append(_("type → %(value)s") % {"value": value})
        elif name == "tags":
            actions.append(_("add tags %(value)s") % {"value": ", ".join(value)})
    return conditions, actions
