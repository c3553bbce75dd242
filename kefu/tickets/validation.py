"""What a ticket's fields may hold: the checks ``create_ticket``, ``update_ticket`` and the
other ticket actions share (each raises ``ValidationError`` / ``BusinessRuleError`` with a
message naming the field)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kefu.customers.models import Asset, Contact
from kefu.lib.errors import BusinessRuleError
from kefu.tickets.models import Category, Complexity

MAX_TAGS = 30
MAX_TAG_LENGTH = 60


def normalise_tags(names: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for name in names:
        tag = " ".join(str(name).split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or "," in tag or "，" in tag:
            raise ValidationError(
                {
                    "tags": _("A tag is at most %(n)s characters and has no comma: %(tag)s")
                    % {"n": MAX_TAG_LENGTH, "tag": tag[:80]}
                }
            )
        if tag.lower() not in {t.lower() for t in cleaned}:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": _("At most %(n)s tags per ticket.") % {"n": MAX_TAGS}})
    return cleaned


def validate_complexity(value: str | None) -> str:
    value = value or ""
    if value and value not in Complexity.values:
        raise ValidationError({"complexity": _("Unknown complexity %(value)s.") % {"value": value}})
    return value


def validate_category(category: Category | None) -> Category | None:
    if category is not None and not category.is_active:
        raise BusinessRuleError(
            _("The category %(category)s is deactivated.") % {"category": category},
            field="category",
        )
    return category


def validate_asset(asset: Asset | None, contact: Contact) -> Asset | None:
    """An asset must be active and, when it has an owner, belong to the ticket's customer."""
    if asset is None:
        return None
    if not asset.is_active:
        raise BusinessRuleError(
            _("The asset %(asset)s is deactivated.") % {"asset": asset.serial_number},
            field="asset",
        )
    owned_by_other = (asset.contact_id and asset.contact_id != contact.pk) and (
        not asset.organization_id or asset.organization_id != contact.organization_id
    )
    if owned_by_other or (
        not asset.contact_id
        and asset.organization_id
        and asset.organization_id != contact.organization_id
    ):
        raise ValidationError(
            {
                "asset": _("The asset %(asset)s belongs to another customer.")
                % {"asset": asset.serial_number}
            }
        )
    return asset


def validate_subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    if not subject:
        raise ValidationError({"subject": _("The subject must not be empty.")})
    if len(subject) > 255:
        raise ValidationError({"subject": _("The subject is at most 255 characters.")})
    return subject
