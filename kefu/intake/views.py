"""Mailbox administration: list, add, change, test the connection (administrators only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.intake.access import get_mailbox_for_user, mailboxes_for
from kefu.intake.actions import save_mailbox
from kefu.intake.email.check import check_connection
from kefu.intake.forms import MailboxForm
from kefu.intake.models import InboundEmail, Outcome

RECENT_FAILURES = 20


def _require_admin(request) -> None:
    if not request.user.is_admin:
        raise Http404("No such page")


@login_required
def mailbox_list(request):
    _require_admin(request)
    failed = InboundEmail.objects.filter(outcome=Outcome.FAILED).select_related("mailbox")
    return render(
        request,
        "intake/mailbox_list.html",
        {"mailboxes": mailboxes_for(request.user), "failed": failed[:RECENT_FAILURES]},
    )


@login_required
def mailbox_edit(request, pk: int | None = None):
    _require_admin(request)
    mailbox = get_mailbox_for_user(request.user, pk) if pk is not None else None
    form = MailboxForm(request.POST or None, instance=mailbox)
    if request.method == "POST" and form.is_valid():
        values = {**form.cleaned_data}
        try:
            saved = save_mailbox(request.user, mailbox, **values)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Mailbox %(name)s saved.") % {"name": saved.name})
            return redirect("intake:mailboxes")
    return render(request, "intake/mailbox_form.html", {"form": form, "mailbox": mailbox})


@login_required
@require_POST
def mailbox_test(request, pk: int):
    _require_admin(request)
    mailbox = get_mailbox_for_user(request.user, pk)
    problems = check_connection(mailbox)
    if problems:
        for problem in problems:
            messages.error(request, problem)
    else:
        messages.success(request, _("IMAP and SMTP logins of %(name)s work.") % {"name": mailbox})
    return redirect("intake:mailboxes")
