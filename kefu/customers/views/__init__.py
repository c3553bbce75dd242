"""Staff-side customer views: the contact picker and portal invitations here; contacts,
organisations, products, assets, imports and exports in the modules of this package."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.customers.access import get_contact_for_user, search_contacts
from kefu.customers.actions import invite_contact
from kefu.lib.console import staff_console_view


@staff_console_view
def contact_search(request):
    """The htmx contact picker: matching contacts as choices for the new-ticket form."""
    query = request.GET.get("q") or request.GET.get("contact_query") or ""
    context = {"contacts": search_contacts(request.user, query), "query": query}
    return render(request, "customers/_contact_results.html", context)


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return redirect(target)
    return redirect("home")


@staff_console_view
@require_POST
def contact_invite(request, pk: int):
    contact = get_contact_for_user(request.user, pk)
    try:
        invite_contact(request.user, contact)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": contact.email})
    return _back(request)
