from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Group
from kefu.intake.actions import MAILBOX_FIELDS
from kefu.intake.models import GroupMailSettings, Mailbox


class MailboxForm(forms.ModelForm):
    imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Often an app password or authorisation code; leave empty to keep it."),
    )
    smtp_password = forms.CharField(
        label=_("SMTP password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored one."),
    )

    class Meta:
        model = Mailbox
        fields = list(MAILBOX_FIELDS)
        widgets = {
            "allowed_senders": forms.Textarea(attrs={"rows": 3}),
            "denied_senders": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = Group.objects.filter(is_active=True)


class GroupMailSettingsForm(forms.ModelForm):
    class Meta:
        model = GroupMailSettings
        fields = ["send_acknowledgement", "send_resolution_notice", "sending_mailbox"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sending_mailbox"].queryset = Mailbox.objects.filter(is_active=True)
        self.fields["sending_mailbox"].empty_label = _("The mailbox the customer wrote to")
