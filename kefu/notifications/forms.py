"""Forms of the notifications app: one person's choices, and a group's waiting threshold."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.notifications.models import Kind


class PreferencesForm(forms.Form):
    """Two checkboxes per kind: ``<kind>__in_app`` and ``<kind>__email``."""

    def __init__(self, *args, current: dict[str, tuple[bool, bool]], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in Kind:
            in_app, email = current[kind.value]
            self.fields[f"{kind.value}__in_app"] = forms.BooleanField(
                label=_("In the app"), required=False, initial=in_app
            )
            self.fields[f"{kind.value}__email"] = forms.BooleanField(
                label=_("By e-mail"), required=False, initial=email
            )

    def rows(self):
        """(label, in-app field, e-mail field) per kind, for the table."""
        return [
            (kind.label, self[f"{kind.value}__in_app"], self[f"{kind.value}__email"])
            for kind in Kind
        ]

    def choices(self) -> dict[str, dict[str, bool]]:
        data = self.cleaned_data
        return {
            kind.value: {
                "in_app": data[f"{kind.value}__in_app"],
                "email": data[f"{kind.value}__email"],
            }
            for kind in Kind
        }


class GroupWaitingForm(forms.Form):
    waiting_after_minutes = forms.IntegerField(
        label=_("Notify the group after (minutes)"),
        required=False,
        min_value=0,
        max_value=60 * 24 * 30,
        help_text=_(
            "An unassigned ticket nobody has answered notifies the group's agents after this "
            "long. Empty: the site default. 0: never."
        ),
    )
