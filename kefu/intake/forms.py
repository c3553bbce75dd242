from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Group
from kefu.intake.actions import MAILBOX_FIELDS
from kefu.intake.models import GroupMailSettings, Mailbox


class HttpsURLField(forms.URLField):
    def __init__(self, **kwargs):
        super().__init__(assume_scheme="https", **kwargs)


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
    oauth_client_secret = forms.CharField(
        label=_("OAuth2 client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored one."),
    )

    class Meta:
        model = Mailbox
        fields = list(MAILBOX_FIELDS)
        field_classes = {"oauth_authorize_url": HttpsURLField, "oauth_token_url": HttpsURLField}
        widgets = {
            "allowed_senders": forms.Textarea(attrs={"rows": 3}),
            "denied_senders": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = Group.objects.filter(is_active=True)
        # Omitted (a client that predates OAuth2): the mailbox keeps how it logs in.
        self.fields["authentication"].required = False
        # How the mailbox logs in before the accounts; each secret beside its account.
        order = [name for name in MAILBOX_FIELDS if name != "authentication"]
        order.insert(order.index("from_name") + 1, "authentication")
        order.insert(order.index("imap_folder"), "imap_password")
        order.insert(order.index("smtp_user") + 1, "smtp_password")
        order.insert(order.index("oauth_tenant"), "oauth_client_secret")
        self.order_fields(order)

    def clean_authentication(self) -> str:
        return self.cleaned_data.get("authentication") or self.instance.authentication

    OAUTH_FIELDS = (
        "oauth_client_id",
        "oauth_client_secret",
        "oauth_tenant",
        "oauth_authorize_url",
        "oauth_token_url",
        "oauth_scopes",
    )

    def general_fields(self):
        return [field for field in self if field.name not in self.OAUTH_FIELDS]

    def oauth_fields(self):
        return [field for field in self if field.name in self.OAUTH_FIELDS]


class GroupMailSettingsForm(forms.ModelForm):
    class Meta:
        model = GroupMailSettings
        fields = ["send_acknowledgement", "send_resolution_notice", "sending_mailbox"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sending_mailbox"].queryset = Mailbox.objects.filter(is_active=True)
        self.fields["sending_mailbox"].empty_label = _("The mailbox the customer wrote to")
