"""Who may see customer records: staff see every contact (they serve them all); customers see
none through the console (they use the portal), so a customer gets a 404 like for anything else.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from kefu.accounts.access import require_staff_page
from kefu.accounts.models import User
from kefu.customers.models import (
    Asset,
    Contact,
    ContactQuerySet,
    ImportRun,
    Organization,
    Product,
    ProductDocument,
)
from kefu.lib.text import clean_line


def contacts_visible_to(user: User) -> ContactQuerySet:
    if not user.is_authenticated or not user.is_active or not user.is_staff_member:
        return Contact.objects.none()
    return Contact.objects.all()


def get_contact_for_user(user: User, pk: int | str) -> Contact:
    try:
        return contacts_visible_to(user).select_related("organization", "user").get(pk=pk)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404("No such customer") from None


def contact_search_condition(query: str, *, prefix: str = "") -> Q | None:
    """The one rule for finding contacts by words: name, e-mail, phone (spaces ignored), WeChat id
    or organisation name contains them. ``prefix`` reaches the contact through a relation
    (``"contact__"`` for tickets). ``None`` for a blank query (everything matches)."""
    query = " ".join(clean_line(query or "").split())
    if not query:
        return None
    return (
        Q(**{f"{prefix}name__icontains": query})
        | Q(**{f"{prefix}email__icontains": query})
        | Q(**{f"{prefix}phone__contains": "".join(query.split())})
        | Q(**{f"{prefix}wechat_id__icontains": query})
        | Q(**{f"{prefix}organization__name__icontains": query})
    )


def matching_contacts(contacts: QuerySet[Contact], query: str) -> QuerySet[Contact]:
    """``contacts`` narrowed to those the words find (all of them for a blank query)."""
    condition = contact_search_condition(query)
    return contacts if condition is None else contacts.filter(condition)


def search_contacts(user: User, query: str, *, limit: int = 10) -> list[Contact]:
    """The contact picker: active visible contacts the words find, by name."""
    if contact_search_condition(query) is None:
        return []
    matches = matching_contacts(contacts_visible_to(user).active(), query)
    return list(matches.select_related("organization").order_by("name", "pk")[:limit])


def get_organization_for_user(user: User, pk: int | str) -> Organization:
    require_staff_page(user)
    try:
        return Organization.objects.get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404("No such organisation") from None


def get_product_for_user(user: User, pk: int | str) -> Product:
    require_staff_page(user)
    try:
        return Product.objects.get(pk=pk)
    except (Product.DoesNotExist, ValueError, TypeError):
        raise Http404("No such product") from None


def get_document_for_user(user: User, pk: int | str) -> ProductDocument:
    require_staff_page(user)
    try:
        return ProductDocument.objects.select_related("product").get(pk=pk, is_active=True)
    except (ProductDocument.DoesNotExist, ValueError, TypeError):
        raise Http404("No such document") from None


def assets_visible_to(user: User) -> QuerySet[Asset]:
    """Staff: every asset. A customer: their own units, plus their organisation's when its
    members share tickets (the same rule as for tickets). Anyone else: none."""
    if not user.is_authenticated or not user.is_active:
        return Asset.objects.none()
    if user.is_staff_member:
        return Asset.objects.all()
    contact = getattr(user, "contact", None) if user.is_customer else None
    if contact is None:
        return Asset.objects.none()
    condition = Q(contact=contact)
    if contact.organization_id and contact.organization.members_share_tickets:
        condition |= Q(organization_id=contact.organization_id)
    return Asset.objects.filter(condition, is_active=True)


def get_asset_for_user(user: User, pk: int | str) -> Asset:
    try:
        return (
            assets_visible_to(user).select_related("product", "organization", "contact").get(pk=pk)
        )
    except (Asset.DoesNotExist, ValueError, TypeError):
        raise Http404("No such asset") from None


def contacts_readable_by(user: User) -> QuerySet[Contact]:
    """For the API: staff read every contact, a customer only their own."""
    if not user.is_authenticated or not user.is_active:
        return Contact.objects.none()
    if user.is_staff_member:
        return Contact.objects.all()
    contact = getattr(user, "contact", None) if user.is_customer else None
    return Contact.objects.filter(pk=contact.pk) if contact is not None else Contact.objects.none()


def get_import_for_user(user: User, pk: int | str) -> ImportRun:
    require_staff_page(user)
    if not (user.is_admin or user.is_supervisor):
        raise Http404("No such import")
    try:
        return ImportRun.objects.get(pk=pk)
    except (ImportRun.DoesNotExist, ValueError, TypeError):
        raise Http404("No such import") from None
