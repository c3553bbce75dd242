"""Writes to products, their documents and assets (installed units)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.audit.actions import changes_since, record, snapshot
from kefu.customers.actions.contacts import _require_staff
from kefu.customers.models import (
    Asset,
    AssetStatus,
    Product,
    ProductDocument,
    default_warranty_end,
)
from kefu.lib.unique import insert_new
from kefu.lib.uploads import UploadedFile, validate_upload

# --- products and their documents ------------------------------------------------------------

PRODUCT_FIELDS = {"model_number", "name", "category", "description", "warranty_months"}


@transaction.atomic
def create_product(actor: User | None, **fields: Any) -> Product:
    _require_staff(actor)
    before = snapshot(Product(), PRODUCT_FIELDS)
    product = _save_product(Product(), fields, creating=True)
    record(actor, "product.created", product, changes_since(before, product))
    return product


@transaction.atomic
def update_product(actor: User | None, product: Product, **fields: Any) -> Product:
    _require_staff(actor)
    before = snapshot(product, PRODUCT_FIELDS)
    product = _save_product(product, fields, creating=False)
    record(actor, "product.updated", product, changes_since(before, product))
    return product


def _save_product(product: Product, fields: dict[str, Any], *, creating: bool) -> Product:
    unknown = set(fields) - PRODUCT_FIELDS
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    if creating or "model_number" in fields:
        model_number = " ".join((fields.get("model_number") or "").split())
        if not model_number:
            raise ValidationError({"model_number": _("The model number must not be empty.")})
        clash = Product.objects.filter(model_number__iexact=model_number).exclude(pk=product.pk)
        if clash.exists():
            raise ValidationError(
                {
                    "model_number": _("A product with model number %(value)s exists already.")
                    % {"value": model_number}
                }
            )
        product.model_number = model_number[:100]
    if creating or "name" in fields:
        name = " ".join((fields.get("name") or "").split())
        if not name:
            raise ValidationError({"name": _("The product needs a name.")})
        product.name = name[:200]
    if "category" in fields:
        product.category = " ".join((fields["category"] or "").split())[:100]
    if "description" in fields:
        product.description = fields["description"] or ""
    if "warranty_months" in fields:
        months = fields["warranty_months"]
        if months is not None and not (0 <= int(months) <= 600):
            raise ValidationError(
                {"warranty_months": _("The warranty is between 0 and 600 months.")}
            )
        product.warranty_months = months
    if not creating:
        product.save()
        return product
    # The clash check above may race a concurrent creation of the same model number.
    return insert_new(
        product,
        lambda: Product.objects.filter(model_number__iexact=product.model_number).first(),
        ValidationError(
            {
                "model_number": _("A product with model number %(value)s exists already.")
                % {"value": product.model_number}
            }
        ),
    )


@transaction.atomic
def set_product_active(actor: User | None, product: Product, active: bool) -> Product:
    _require_staff(actor)
    was_active, product.is_active = product.is_active, active
    product.save(update_fields=["is_active"])
    if was_active != active:
        verb = "reactivated" if active else "deactivated"
        record(actor, f"product.{verb}", product, {"is_active": [was_active, active]})
    return product


@transaction.atomic
def add_product_document(
    actor: User | None,
    product: Product,
    *,
    title: str,
    filename: str,
    content: bytes,
    content_type: str = "application/octet-stream",
) -> ProductDocument:
    """Attach a manual or datasheet; the same size and type limits as ticket attachments."""
    _require_staff(actor)
    upload = UploadedFile(filename=filename, content=content, content_type=content_type)
    validate_upload(upload)
    name = filename.replace("\\", "/").rsplit("/", 1)[-1][:255]
    document = ProductDocument(
        product=product,
        title=" ".join((title or "").split())[:200] or name,
        filename=name,
        content_type=(content_type or "application/octet-stream")[:120],
        size=len(content),
        uploaded_by=actor,
    )
    document.file.save(name, ContentFile(content), save=False)
    document.save()
    record(actor, "product.document_added", product, {"document": [None, document.title]})
    return document


@transaction.atomic
def remove_product_document(actor: User | None, document: ProductDocument) -> ProductDocument:
    """Hide a document from the product page (the file stays, like everything else)."""
    _require_staff(actor)
    document.is_active = False
    document.save(update_fields=["is_active"])
    record(
        actor, "product.document_removed", document.product, {"document": [document.title, None]}
    )
    return document


# --- assets ----------------------------------------------------------------------------------

ASSET_FIELDS = {
    "serial_number",
    "product",
    "organization",
    "contact",
    "installed_at",
    "warranty_ends_at",
    "installation_address",
    "status",
    "notes",
}


@transaction.atomic
def create_asset(actor: User | None, **fields: Any) -> Asset:
    """A new installed unit. Without ``warranty_ends_at`` the warranty runs from ``installed_at``
    for the product's warranty months; without ``organization`` it is the contact's."""
    _require_staff(actor)
    before = snapshot(Asset(), ASSET_FIELDS)
    asset = _save_asset(Asset(), fields, creating=True)
    record(actor, "asset.created", asset, changes_since(before, asset))
    return asset


@transaction.atomic
def update_asset(actor: User | None, asset: Asset, **fields: Any) -> Asset:
    _require_staff(actor)
    before = snapshot(asset, ASSET_FIELDS)
    asset = _save_asset(asset, fields, creating=False)
    record(actor, "asset.updated", asset, changes_since(before, asset))
    return asset


@transaction.atomic
def create_assets(actor: User | None, rows: list[dict[str, Any]]) -> list[Asset]:
    """Many new units at once (a spreadsheet import): each checked like ``create_asset``, the
    serial numbers in one query, and written with one bulk insert per 500 rows."""
    _require_staff(actor)
    serials = ["".join((row.get("serial_number") or "").split()) for row in rows]
    lowered = [serial.lower() for serial in serials]
    if len(set(lowered)) != len(lowered):
        raise ValidationError({"serial_number": _("A serial number appears twice.")})
    taken = (
        Asset.objects.annotate(serial_lower=Lower("serial_number"))
        .filter(serial_lower__in=lowered)
        .values_list("serial_number", flat=True)
        .first()
    )
    if taken:
        raise ValidationError(
            {
                "serial_number": _("An asset with serial number %(value)s exists already.")
                % {"value": taken}
            }
        )
    assets = [_prepare_asset(Asset(), row, creating=True, serial_checked=True) for row in rows]
    created = Asset.objects.bulk_create(assets, batch_size=500)
    # One entry for the whole import: a row per unit would bury the log.
    record(actor, "asset.imported", None, {"count": len(created)})
    return created


def _save_asset(asset: Asset, fields: dict[str, Any], *, creating: bool) -> Asset:
    asset = _prepare_asset(asset, fields, creating=creating)
    if not creating:
        asset.save()
        return asset
    # The serial check in _prepare_asset may race a concurrent creation of the same unit.
    return insert_new(
        asset,
        lambda: Asset.objects.filter(serial_number__iexact=asset.serial_number).first(),
        ValidationError(
            {
                "serial_number": _("An asset with serial number %(value)s exists already.")
                % {"value": asset.serial_number}
            }
        ),
    )


def _prepare_asset(
    asset: Asset, fields: dict[str, Any], *, creating: bool, serial_checked: bool = False
) -> Asset:
    """Validate ``fields`` and set them on ``asset`` (not saved)."""
    unknown = set(fields) - ASSET_FIELDS
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    if creating or "serial_number" in fields:
        serial = "".join((fields.get("serial_number") or "").split())
        if not serial:
            raise ValidationError({"serial_number": _("The serial number must not be empty.")})
        if (
            not serial_checked
            and Asset.objects.filter(serial_number__iexact=serial).exclude(pk=asset.pk).exists()
        ):
            raise ValidationError(
                {
                    "serial_number": _("An asset with serial number %(value)s exists already.")
                    % {"value": serial}
                }
            )
        asset.serial_number = serial[:100]
    if creating or "product" in fields:
        product = fields.get("product")
        if product is None:
            raise ValidationError({"product": _("Choose the product.")})
        if not product.is_active and product.pk != asset.product_id:
            raise ValidationError(
                {"product": _("The product %(product)s is deactivated.") % {"product": product}}
            )
        asset.product = product
    if "contact" in fields:
        asset.contact = fields["contact"]
    if "organization" in fields:
        asset.organization = fields["organization"]
    if creating and not fields.get("organization") and asset.contact is not None:
        asset.organization = asset.contact.organization
    if "installation_address" in fields:
        asset.installation_address = (fields["installation_address"] or "").strip()
    if "notes" in fields:
        asset.notes = fields["notes"] or ""
    if "status" in fields:
        if fields["status"] not in AssetStatus.values:
            raise ValidationError(
                {"status": _("Unknown status %(value)s.") % {"value": fields["status"]}}
            )
        asset.status = fields["status"]
    old_default = default_warranty_end(
        asset.product if asset.product_id else None, asset.installed_at
    )
    if "installed_at" in fields:
        asset.installed_at = fields["installed_at"]
    if "warranty_ends_at" in fields and fields["warranty_ends_at"] is not None:
        asset.warranty_ends_at = fields["warranty_ends_at"]
    elif "warranty_ends_at" in fields or asset.warranty_ends_at in (None, old_default):
        # Unset, or still the computed default: follow the installation date and product.
        asset.warranty_ends_at = default_warranty_end(asset.product, asset.installed_at)
    if (
        asset.installed_at
        and asset.warranty_ends_at
        and asset.warranty_ends_at < asset.installed_at
    ):
        raise ValidationError(
            {"warranty_ends_at": _("The warranty cannot end before the installation date.")}
        )
    return asset


@transaction.atomic
def set_asset_active(actor: User | None, asset: Asset, active: bool) -> Asset:
    _require_staff(actor)
    was_active, asset.is_active = asset.is_active, active
    asset.save(update_fields=["is_active"])
    if was_active != active:
        verb = "reactivated" if active else "deactivated"
        record(actor, f"asset.{verb}", asset, {"is_active": [was_active, active]})
    return asset
