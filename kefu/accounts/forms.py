from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from kefu.accounts import throttle


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        email = (cleaned.get("email") or "").strip().lower()
        password = cleaned.get("password", "")
        ip = self.request.META.get("REMOTE_ADDR", "")
        if email and password:
            if throttle.is_locked_out(email, ip):
                raise forms.ValidationError(
                    _("Too many failed attempts. Try again in %(minutes)s minutes.")
                    % {"minutes": settings.LOGIN_LOCKOUT_SECONDS // 60}
                )
            self.user = authenticate(self.request, email=email, password=password)
            if self.user is None or not self.user.is_active:
                throttle.record_failure(email, ip)
                raise forms.ValidationError(_("The e-mail address or password is not correct."))
            throttle.clear_failures(email, ip)
        return cleaned


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))


class ChoosePasswordForm(SetPasswordForm):
    pass


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Browser default"))] + list(settings.LANGUAGES),
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        required=False,
        max_length=64,
        help_text=_("For example Asia/Shanghai or Europe/Berlin."),
    )
