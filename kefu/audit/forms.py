from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kefu.audit.labels import OBJECT_TYPE_LABELS
from kefu.audit.models import AuditEntry


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(
        label=_("Actor"),
        required=False,
        queryset=get_user_model().objects.none(),
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
        self.fields["actor"].queryset = get_user_model().objects.filter(
            pk__in=AuditEntry.objects.filter(actor__isnull=False).values("actor")
        )
        self.fields["object_type"].choices = [("", _("Any"))] + [
            (value, OBJECT_TYPE_LABELS.get(value, value)) for value in object_types
        ]
