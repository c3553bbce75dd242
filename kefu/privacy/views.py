"""The personal-data erasure pages (administrators only): find the customer, then confirm."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from kefu.audit.access import require_admin_page
from kefu.customers.access import get_contact_for_user
from kefu.customers.models import Contact
from kefu.lib.console import ACTION_ERRORS, add_action_error, render_console
from kefu.privacy import actions as privacy
from kefu.privacy.forms import ContactLookupForm, ErasureForm
from kefu.tickets.models import Attachment, Ticket


def _find_contact(identifier: str):
    identifier = identifier.strip()
    condition = (
        Q(email__iexact=identifier) | Q(phone="".join(identifier.split())) | Q(wechat_id=identifier)
    )
    if identifier.isdigit():
        condition |= Q(pk=int(identifier))
    return Contact.objects.filter(condition).order_by("pk").first()


@login_required
def privacy_lookup(request):
    require_admin_page(request.user)
    form = ContactLookupForm(request.GET or None)
    if form.is_valid():
        contact = _find_contact(form.cleaned_data["identifier"])
        if contact is not None:
            return redirect("privacy:erase_contact", pk=contact.pk)
        form.add_error("identifier", _("No customer has this e-mail, phone, WeChat id or number."))
    return render_console(request, "privacy/lookup.html", {"form": form})


@login_required
def erase_contact(request, pk: int):
    """The confirm page: what will go, and the identifier typed again to proceed."""
    require_admin_page(request.user)
    contact = get_contact_for_user(request.user, pk)
    expected = contact.identifier or str(contact.pk)
    form = ErasureForm(request.POST or None, expected=expected)
    if request.method == "POST" and form.is_valid():
        try:
            result = privacy.erase_contact(request.user, contact, mode=form.cleaned_data["mode"])
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            if result.mode == privacy.PURGE_SPAM:
                text = _("Spam purged: %(n)s tickets deleted.") % {"n": result.tickets_deleted}
            else:
                text = _("Personal data erased from %(n)s tickets.") % {
                    "n": result.tickets_anonymised
                }
            messages.success(request, text)
            return redirect("privacy:lookup")
    tickets = Ticket.objects.filter(contact=contact)
    context = {
        "contact": contact,
        "form": form,
        "expected": expected,
        "ticket_count": tickets.count(),
        "open_count": tickets.open().count(),
        "attachment_count": Attachment.objects.filter(message__ticket__in=tickets).count(),
        "recent_tickets": tickets.order_by("-created_at")[:10],
    }
    status = 400 if form.errors else 200
    return render_console(request, "privacy/erase_contact.html", context, status=status)
