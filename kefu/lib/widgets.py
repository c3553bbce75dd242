"""Form widgets."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict[str, Any]) -> SafeString:
    """Django's ``attrs.html``: ``True`` gives a bare attribute, ``False`` leaves it out."""
    return format_html_join(
        "",
        " {}{}",
        (
            (name, "" if value is True else format_html('="{}"', value))
            for name, value in attrs.items()
            if value is not False
        ),
    )


class FastSelect(forms.Select):
    """``forms.Select`` with the markup of Django's template, built in Python.

    Django renders every ``<option>`` through a template include; the ticket list's filter and
    bulk forms hold a few hundred options, which cost more than all of the page's queries.
    """

    def render(self, name: str, value: Any, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group_name, options, _index in widget["optgroups"]:
            rendered = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((str(o["value"]), _attrs(o["attrs"]), o["label"]) for o in options),
            )
            if group_name:
                rendered = format_html('<optgroup label="{}">{}</optgroup>', group_name, rendered)
            parts.append(rendered)
        return format_html(
            '<select name="{}"{}>{}</select>',
            widget["name"],
            _attrs(widget["attrs"]),
            mark_safe("".join(parts)),  # noqa: S308 - each part was escaped by format_html
        )


def use_fast_selects(form: forms.BaseForm) -> None:
    """Render the form's plain single selects with ``FastSelect`` (same markup, no includes)."""
    for field in form.fields.values():
        if type(field.widget) is forms.Select:
            # Same state (choices bound to a queryset, attrs, required); only render differs.
            field.widget.__class__ = FastSelect
