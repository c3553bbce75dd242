"""Mailbox administration (administrators only) and the download of an original inbound mail."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.access import require_admin_page
from kefu.accounts.models import Group
from kefu.intake.access import (
    get_failed_email_for_user,
    get_mailbox_for_user,
    get_raw_mail_for_message,
    mailboxes_for,
)
from kefu.intake.actions import (
    IngestDeferred,
    retry_inbound_email,
    save_group_mail_settings,
    save_mailbox,
)
from kefu.intake.email.check import check_connection
from kefu.intake.forms import GroupMailSettingsForm, MailboxForm
from kefu.intake.models import GroupMailSettings, InboundEmail, Outcome
from kefu.intake.oauth import finish_connection, read_state, redirect_uri, start_connection
from kefu.lib.errors import BusinessRuleError

RECENT_FAILURES = 20


def _require_admin(request) -> None:
    require_admin_page(request.user, _("Only administrators manage mailboxes."))


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
            if saved.oauth_status == "not_connected":  # the next step is Connect, on its page
                return redirect("intake:mailbox_edit", pk=saved.pk)
            return redirect("intake:mailboxes")
    return render(
        request,
        "intake/mailbox_form.html",
        {"form": form, "mailbox": mailbox, "redirect_uri": redirect_uri()},
    )


@login_required
@require_POST
def mailbox_connect(request, pk: int):
    """ "Connect": off to the provider's consent page; it comes back to ``oauth_callback``."""
    _require_admin(request)
    mailbox = get_mailbox_for_user(request.user, pk)
    try:
        return redirect(start_connection(request.user, mailbox, request.session))
    except BusinessRuleError as error:
        messages.error(request, error.message)
        return redirect("intake:mailbox_edit", pk=mailbox.pk)


@login_required
def oauth_callback(request):
    """The provider sends the administrator back here with a code (or an error) and the state."""
    _require_admin(request)
    try:
        mailbox_pk, verifier = read_state(request.session, request.GET.get("state", ""))
    except BusinessRuleError as error:
        messages.error(request, error.message)
        return redirect("intake:mailboxes")
    mailbox = get_mailbox_for_user(request.user, mailbox_pk)
    code = request.GET.get("code", "")
    if not code:
        reason = request.GET.get("error_description") or request.GET.get("error") or "-"
        messages.error(
            request, _("The provider did not connect the mailbox: %(reason)s") % {"reason": reason}
        )
        return redirect("intake:mailbox_edit", pk=mailbox.pk)
    try:
        finish_connection(request.user, mailbox, code=code, code_verifier=verifier)
    except BusinessRuleError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(name)s is connected as %(account)s.")
            % {"name": mailbox.name, "account": mailbox.oauth_account or mailbox.imap_user},
        )
    return redirect("intake:mailbox_edit", pk=mailbox.pk)


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


@login_required
@require_POST
def inbound_retry(request, pk: int):
    _require_admin(request)
    inbound = get_failed_email_for_user(request.user, pk)
    try:
        result = retry_inbound_email(request.user, inbound)
    except BusinessRuleError as error:
        messages.error(request, error.message)
    except IngestDeferred:
        messages.error(request, _("The database is busy or unreachable; try again in a minute."))
    else:
        if result.outcome == Outcome.FAILED:
            messages.error(
                request, _("The mail failed again: %(reason)s") % {"reason": result.inbound.reason}
            )
        else:
            messages.success(
                request,
                _("The mail was ingested: %(outcome)s.")
                % {"outcome": result.inbound.get_outcome_display()},
            )
    return redirect("intake:mailboxes")


@login_required
def automatic_mail_settings(request):
    """Per group: acknowledge new e-mail tickets, announce resolution (both on by default)."""
    _require_admin(request)
    groups = list(Group.objects.filter(is_active=True).order_by("name"))
    stored = {row.group_id: row for row in GroupMailSettings.objects.all()}
    if request.method == "POST":
        group = next((g for g in groups if str(g.pk) == request.POST.get("group")), None)
        form = GroupMailSettingsForm(request.POST)
        if group is None:
            raise Http404("No such group")
        if form.is_valid():
            save_group_mail_settings(request.user, group, **form.cleaned_data)
            messages.success(
                request, _("Automatic mail of %(group)s saved.") % {"group": group.name}
            )
            return redirect("intake:automatic_mail")
    rows = [
        (group, GroupMailSettingsForm(instance=stored.get(group.pk) or GroupMailSettings()))
        for group in groups
    ]
    return render(request, "intake/automatic_mail.html", {"rows": rows})


@login_required
def message_eml(request, message_pk: int):
    """The original mail a message came from, as received (staff only)."""
    inbound = get_raw_mail_for_message(request.user, message_pk)
    try:
        handle = inbound.raw.open("rb")
    except FileNotFoundError:
        raise Http404("The original mail is missing from storage") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"message-{message_pk}.eml",
        content_type="message/rfc822",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
