"""The audit log page and the personal-data erasure pages (administrators only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from kefu.audit import privacy
from kefu.audit.access import require_admin_page
from kefu.audit.forms import AuditFilterForm, ContactLookupForm, ErasureForm
from kefu.audit.labels import action_label, object_type_label
from kefu.audit.queries import filter_entries, object_types
from kefu.lib.console import add_action_error, render_console
from kefu.lib.errors import BusinessRuleError

PAGE_SIZE = 50


@login_required
def log(request):
    require_admin_page(request.user)
    form = AuditFilterForm(request.GET or None, object_types=object_types())
    filters = form.cleaned_data if form.is_valid() else {}
    entries = filter_entries(
        actor_id=filters["actor"].pk if filters.get("actor") else None,
        object_type=filters.get("object_type") or "",
        action=filters.get("action") or "",
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        q=filters.get("q") or "",
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [
        {
            "entry": entry,
            "action": action_label(entry.action),
            "object_type": object_type_label(entry.object_type),
            "changes": _change_lines(entry.changes),
        }
        for entry in page
    ]
    context = {"form": form, "page": page, "rows": rows, "query": query.urlencode()}
    return render_console(request, "audit/log.html", context)


def _change_lines(changes) -> list[tuple[str, object, object, bool]]:
    """(field, old, new, is_pair) for the template."""
    lines = []
    for name, value in (changes or {}).items():
        if isinstance(value, list) and len(value) == 2:
            lines.append((name, value[0], value[1], True))
        else:
            lines.append((name, None, value, False))
    return lines


def _find_contact(identifier: str):
    from kefu.customers.models import Contact

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
            return redirect("audit:erase_contact", pk=contact.pk)
        form.add_error("identifier", _("No customer has this e-mail, phone, WeChat id or number."))
    return render_console(request, "audit/privacy_lookup.html", {"form": form})


@login_required
def erase_contact(request, pk: int):
    """The confirm page: what will go, and the identifier typed again to proceed."""
    from kefu.customers.access import get_contact_for_user
    from kefu.tickets.models import Attachment, Ticket

    require_admin_page(request.user)
    contact = get_contact_for_user(request.user, pk)
    expected = contact.identifier or str(contact.pk)
    form = ErasureForm(request.POST or None, expected=expected)
    if request.method == "POST" and form.is_valid():
        try:
            result = privacy.erase_contact(request.user, contact, mode=form.cleaned_data["mode"])
        except (ValidationError, BusinessRuleError, PermissionDenied) as error:
            add_action_error(form, error)
        else:
            if result.mode == privacy.PURGE_SPAM:
                text = _("Spam purged: %(n)s tickets deleted.") % {"n": result.tickets_deleted}
            else:
                text = _("Personal data erased from %(n)s tickets.") % {
                    "n": result.tickets_anonymised
                }
            messages.success(request, text)
            return redirect("audit:privacy")
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
    return render_console(request, "audit/erase_contact.html", context, status=status)
