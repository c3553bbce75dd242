"""The triage settings form (administrators, on the triage page)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.triage.models import FIELDS, TriageConfig


class TriageConfigForm(forms.ModelForm):
    class Meta:
        model = TriageConfig
        fields = [
            "is_enabled",
            "min_examples_per_class",
            "training_hour",
            *(f"{name}_{suffix}" for name in FIELDS for suffix in ("enabled", "threshold")),
        ]
        widgets = {
            **{
                f"{name}_threshold": forms.NumberInput(
                    attrs={"step": "0.01", "min": "0.01", "max": "1"}
                )
                for name in FIELDS
            },
            "training_hour": forms.NumberInput(attrs={"min": "0", "max": "23"}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in FIELDS:
            value = data.get(f"{name}_threshold")
            if value is not None and not 0 < value <= 1:
                self.add_error(f"{name}_threshold", _("A threshold is between 0 and 1."))
        hour = data.get("training_hour")
        if hour is not None and hour > 23:
            self.add_error("training_hour", _("The hour is between 0 and 23."))
        minimum = data.get("min_examples_per_class")
        if minimum is not None and minimum < 2:
            self.add_error("min_examples_per_class", _("At least 2 examples per value are needed."))
        return data

    def config_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
