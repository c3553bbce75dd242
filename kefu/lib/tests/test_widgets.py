"""FastSelect gives the markup of Django's select template without rendering a template."""

import re

import pytest
from django import forms

from kefu.lib.widgets import FastSelect, use_fast_selects

CHOICES = [
    ("", "Any"),
    ("Hardware", [("1", "Printer <laser>"), ("2", "打印机")]),
    ("3", 'Quotes " & ampersands'),
]


def _normalised(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize("value", ["", "2", "3", None, "missing"])
def test_the_markup_is_django_s(value):
    attrs = {"id": "id_group", "class": "wide", "required": True, "disabled": False}
    django_select = forms.Select(choices=CHOICES).render("group", value, attrs)
    fast = FastSelect(choices=CHOICES).render("group", value, attrs)
    assert _normalised(fast) == _normalised(django_select)
    assert "&lt;laser&gt;" in fast and "<laser>" not in fast


def test_only_plain_selects_of_a_form_are_swapped():
    class Filters(forms.Form):
        state = forms.ChoiceField(choices=[("open", "Open")])
        tags = forms.MultipleChoiceField(choices=[("a", "A")])
        radio = forms.ChoiceField(choices=[("x", "X")], widget=forms.RadioSelect)

    form = Filters()
    use_fast_selects(form)
    assert type(form.fields["state"].widget) is FastSelect
    assert type(form.fields["tags"].widget) is forms.SelectMultiple
    assert type(form.fields["radio"].widget) is forms.RadioSelect
    assert '<option value="open">Open</option>' in str(form["state"])
