from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from kefu.accounts import throttle
from kefu.accounts.models import STAFF_ROLES, Access, Group, Role, User
from kefu.lib.client_address import client_ip


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
        ip = client_ip(self.request)
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
    signature = forms.CharField(
        label=_("Signature"),
        required=False,
        max_length=2000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Added below your public replies, above your group's signature."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is None or not user.is_staff_member:
            del self.fields["signature"]  # customers do not sign


# --- administration -------------------------------------------------------------------------


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What uses it, e.g. “ERP integration”."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The last day it works. Empty: until revoked."),
    )

    def expires_at(self):
        from datetime import datetime, time

        from django.utils import timezone

        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time.max))


class UserCreateForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    name = forms.CharField(label=_("Name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"))
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=Group.objects.none(),
        required=False,
        empty_label=_("No group yet"),
    )
    access = forms.ChoiceField(label=_("Access"), initial="full")
    send_invitation = forms.BooleanField(
        label=_("E-mail an invitation to choose a password"), required=False, initial=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in Role if r in STAFF_ROLES]
        self.fields["role"].initial = Role.AGENT
        self.fields["group"].queryset = Group.objects.filter(is_active=True)
        self.fields["access"].choices = Access.choices


class UserEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"))
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Browser default"))] + list(settings.LANGUAGES),
    )
    time_zone = forms.CharField(label=_("Time zone"), required=False, max_length=64)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        roles = [r for r in Role if (r in STAFF_ROLES) == (user.role in STAFF_ROLES)]
        self.fields["role"].choices = [(r.value, r.label) for r in roles]


class MembershipForm(forms.Form):
    group = forms.ModelChoiceField(label=_("Group"), queryset=Group.objects.none())
    access = forms.ChoiceField(label=_("Access"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = Group.objects.filter(is_active=True)
        self.fields["access"].choices = Access.choices


class DeactivateUserForm(forms.Form):
    KEEP = "keep"
    GROUP = "group"
    AGENT = "agent"
    handover = forms.ChoiceField(
        label=_("Their open tickets"),
        widget=forms.RadioSelect,
        choices=[
            (GROUP, _("Unassign them into a group")),
            (AGENT, _("Assign them to another agent")),
            (KEEP, _("Leave them assigned to the deactivated user (not recommended)")),
        ],
        initial=GROUP,
    )
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=Group.objects.none(),
        required=False,
        empty_label=_("Keep each ticket's group"),
    )
    agent = forms.ModelChoiceField(label=_("Agent"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = Group.objects.filter(is_active=True)
        self.fields["agent"].queryset = User.objects.staff().exclude(pk=user.pk)

    def clean(self):
        cleaned = super().clean()
        handover = cleaned.get("handover")
        if handover == self.GROUP and not cleaned.get("group"):
            self.add_error("group", _("Choose the group that takes the tickets."))
        if handover == self.AGENT and not cleaned.get("agent"):
            self.add_error("agent", _("Choose the agent who takes the tickets."))
        return cleaned


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    escalation_group = forms.ModelChoiceField(
        label=_("Escalation group"),
        queryset=Group.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("Where SLA escalations move this group's tickets (e.g. senior support)."),
    )
    signature = forms.CharField(
        label=_("Signature"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Added below the agent's signature on public replies of this group."),
    )
    is_default = forms.BooleanField(
        label=_("Default group"),
        required=False,
        help_text=_("Receives every ticket that no other rule places."),
    )

    def __init__(self, *args, group=None, **kwargs):
        super().__init__(*args, **kwargs)
        others = Group.objects.filter(is_active=True)
        if group is not None:
            others = others.exclude(pk=group.pk)
        self.fields["escalation_group"].queryset = others
