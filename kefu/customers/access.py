"""Who may see customer records: staff see every contact (they serve them all); customers see
none through the console (they use the portal), so a customer gets a 404 like for anything else.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404

from kefu.accounts.models import User
from kefu.customers.models import Contact, ContactQuerySet


def staff_console_view(view: Callable) -> Callable:
    """Console pages: anonymous users go to the login page, customers get a 404."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff_member:
            raise Http404("No such page")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def contacts_visible_to(user: User) -> ContactQuerySet:
    if not user.is_authenticated or not user.is_active or not user.is_staff_member:
        return Contact.objects.none()
    return Contact.objects.all()


def get_contact_for_user(user: User, pk: int | str) -> Contact:
    try:
        return contacts_visible_to(user).select_related("organization", "user").get(pk=pk)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404("No such customer") from None


def search_contacts(user: User, query: str, *, limit: int = 10) -> list[Contact]:
    """Active contacts whose name, e-mail, phone or WeChat id contains ``query``."""
    query = " ".join((query or "").split())
    if not query:
        return []
    phone_digits = "".join(query.split())
    matches = (
        contacts_visible_to(user)
        .active()
        .filter(
            Q(name__icontains=query)
            | Q(email__icontains=query)
            | Q(phone__contains=phone_digits)
            | Q(wechat_id__icontains=query)
        )
    )
    return list(matches.select_related("organization").order_by("name", "pk")[:limit])
