"""``{% warranty asset %}``: the asset's warranty status as a badge (used by the console, the
portal and the ticket page)."""

from __future__ import annotations

from django import template

from kefu.customers.models import Asset

register = template.Library()


@register.inclusion_tag("customers/_warranty.html")
def warranty(asset: Asset) -> dict:
    return {"asset": asset, "status": asset.warranty_status()}
