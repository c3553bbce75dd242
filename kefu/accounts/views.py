from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlencode, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts import actions
from kefu.accounts.forms import (
    ChoosePasswordForm,
    LoginForm,
    PasswordResetRequestForm,
    PreferencesForm,
)
from kefu.accounts.models import User
from kefu.lib.client_address import client_ip


def home(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if request.user.is_customer:
        return redirect("portal:tickets")
    return redirect("tickets:list")


def login_view(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = LoginForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user, backend="django.contrib.auth.backends.ModelBackend")
        next_url = request.POST.get("next") or request.GET.get("next")
        if next_url and url_has_allowed_host_and_scheme(
            next_url, {request.get_host()}, request.is_secure()
        ):
            return redirect(next_url)
        return redirect("home")
    return render(
        request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")}
    )


def admin_login(request):
    """The Django admin's login page is the console login (its throttle, its form)."""
    next_url = request.GET.get("next") or reverse("admin:index")
    return redirect(f"{reverse('accounts:login')}?{urlencode({'next': next_url})}")


@require_POST
def logout_view(request):
    logout(request)
    return redirect("accounts:login")


def password_reset_request(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.request_password_reset(form.cleaned_data["email"], ip=client_ip(request))
        messages.info(
            request,
            _("If an account uses this address, we have sent it a link to choose a new password."),
        )
        return redirect("accounts:login")
    return render(request, "accounts/password_reset.html", {"form": form})


def _user_from_link(uidb64: str, token: str) -> User | None:
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)), is_active=True)
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        return None
    return user if default_token_generator.check_token(user, token) else None


def set_password_view(request, uidb64: str, token: str):
    """Invitation and reset links land here: choose a password, then you are logged in."""
    user = _user_from_link(uidb64, token)
    if user is None:
        return render(request, "accounts/link_invalid.html", status=400)
    form = ChoosePasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_password(user, user, form.cleaned_data["new_password1"])
        except ValidationError as error:
            form.add_error("new_password1", error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Your password is set. Welcome!"))
            return redirect("home")
    return render(request, "accounts/set_password.html", {"form": form, "target_user": user})


@login_required
def preferences(request):
    user = request.user
    form = PreferencesForm(
        request.POST or None,
        initial={
            "language": user.language,
            "time_zone": user.time_zone,
            "signature": user.signature,
        },
        user=user,
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_preferences(user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Your preferences are saved."))
            return redirect("accounts:preferences")
    return render(request, "accounts/preferences.html", {"form": form})


@require_POST
def switch_language(request):
    """The top-bar language switcher: remembered in the profile of a logged-in user (which
    outranks the browser's language) and in the language cookie for everyone."""
    from django.conf import settings
    from django.views.i18n import set_language

    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("Unknown language."))
        return redirect(request.POST.get("next") or "home")
    if request.user.is_authenticated:
        actions.update_preferences(request.user, language=language)
    return set_language(request)
