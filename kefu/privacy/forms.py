from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.privacy.actions import ANONYMISE, PURGE_SPAM


class ContactLookupForm(forms.Form):
    identifier = forms.CharField(
        label=_("Customer e-mail, phone, WeChat id or contact number"), max_length=200
    )


class ErasureForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("What to do"),
        widget=forms.RadioSelect,
        choices=[
            (
                ANONYMISE,
                _(
                    "Erase personal data: anonymise the customer, blank their messages, delete "
                    "attachments; tickets stay for reporting"
                ),
            ),
            (PURGE_SPAM, _("Purge spam: delete the customer's tickets entirely")),
        ],
        initial=ANONYMISE,
    )
    confirmation = forms.CharField(label=_("Type the customer's identifier to confirm"))

    def __init__(self, *args, expected: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirmation(self):
        typed = self.cleaned_data["confirmation"].strip()
        if typed.lower() != self.expected.lower():
            raise forms.ValidationError(
                _("Type %(expected)s exactly to confirm.") % {"expected": self.expected}
            )
        return typed
