from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Role, User
from kefu.audit.labels import OBJECT_TYPE_LABELS
from kefu.audit.privacy import ANONYMISE, PURGE_SPAM


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(
        label=_("Actor"),
        required=False,
        queryset=User.objects.filter(role=Role.ADMIN),
        empty_label=_("Anyone"),
    )
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    action = forms.CharField(label=_("Action"), required=False, max_length=60)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(label=_("Object name"), required=False, max_length=200)

    def __init__(self, *args, object_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Anyone who ever appears in the log, admins or not (roles change).
        self.fields["actor"].queryset = User.objects.filter(
            role__in=[Role.ADMIN, Role.SUPERVISOR, Role.AGENT]
        )
        self.fields["object_type"].choices = [("", _("Any"))] + [
            (value, OBJECT_TYPE_LABELS.get(value, value)) for value in object_types
        ]


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
