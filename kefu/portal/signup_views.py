"""Self sign-up pages: the form, "check your inbox" with resend, and the verification link.

All 404 unless ``KEFU_PORTAL_SIGNUP`` is ``on`` or ``domain``. Writes go through
``kefu.portal.signup``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.lib.client_address import client_ip
from kefu.portal import signup as signups
from kefu.portal.forms import ChoosePasswordForm, ResendForm, SignupForm

SESSION_KEY = "portal_signup"


def _require_enabled() -> None:
    if not signups.is_enabled():
        raise Http404("Sign-up is off")


def _send(request, form, email: str, name: str) -> bool:
    try:
        signups.request_signup(
            email=email, name=name, ip=client_ip(request), language=translation.get_language()
        )
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    except PermissionDenied as error:
        form.add_error(None, str(error))
        return False
    request.session[SESSION_KEY] = {"email": email, "name": name}
    return True


def signup(request):
    _require_enabled()
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _send(request, form, form.cleaned_data["email"], form.cleaned_data["name"]):
            return redirect("portal:signup_sent")
    context = {"form": form, "domain_only": signups.signup_mode() == "domain"}
    return render(request, "portal/signup.html", context)


def signup_sent(request):
    _require_enabled()
    pending = request.session.get(SESSION_KEY)
    if not pending:
        return redirect("portal:signup")
    form = ResendForm(initial=pending)
    return render(request, "portal/signup_sent.html", {"email": pending["email"], "form": form})


@require_POST
def signup_resend(request):
    _require_enabled()
    form = ResendForm(request.POST)
    if form.is_valid() and _send(
        request, form, form.cleaned_data["email"], form.cleaned_data["name"]
    ):
        messages.success(request, _("We have sent the link again."))
        return redirect("portal:signup_sent")
    problems = [error for errors in form.errors.values() for error in errors]
    for error in problems or [_("The link could not be sent again.")]:
        messages.error(request, error)
    return redirect("portal:signup_sent" if request.session.get(SESSION_KEY) else "portal:signup")


def signup_verify(request, token: str):
    """The link from the e-mail: choose a password, and the account exists (and is logged in)."""
    _require_enabled()
    try:
        claim = signups.read_token(token)
    except signups.LinkExpired as expired:
        resend = ResendForm(initial={"email": expired.claim.email, "name": expired.claim.name})
        return render(request, "portal/signup_expired.html", {"form": resend}, status=400)
    if claim is None:
        return render(request, "accounts/link_invalid.html", status=400)
    if signups.account_exists(claim.email):
        messages.info(request, _("Your account already exists; please log in."))
        return redirect("accounts:login")
    form = ChoosePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = signups.complete_signup(
                claim, password=form.cleaned_data["password1"], language=translation.get_language()
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):  # the address (taken, refused)
                form.add_error(None, [m for ms in error.message_dict.values() for m in ms])
            else:  # the password validators
                form.add_error("password1", error.messages)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            request.session.pop(SESSION_KEY, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Your address is confirmed. Welcome!"))
            return redirect("portal:tickets")
    return render(request, "portal/signup_verify.html", {"form": form, "claim": claim})
