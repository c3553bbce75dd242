"""The category tree in the console (administrators)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.access import require_admin_page
from kefu.lib.console import ACTION_ERRORS, add_action_error, render_console, staff_console_view
from kefu.tickets.categories import save_category
from kefu.tickets.models import Category, category_tree


class CategoryForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    parent = forms.TypedChoiceField(
        label=gettext_lazy("Parent category"), required=False, coerce=int, empty_value=None
    )
    position = forms.IntegerField(label=gettext_lazy("Position"), min_value=0, initial=0)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, current: Category | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        choices: list[tuple[str | int, str]] = [("", _("— top level —"))]
        for category, depth, _path in category_tree(active_only=False):
            if current is not None and category.pk == current.pk:
                continue
            label = "\u00a0\u00a0" * depth + category.name
            if not category.is_active:
                label += " " + _("(deactivated)")
            choices.append((category.pk, label))
        parent_field = self.fields["parent"]
        assert isinstance(parent_field, forms.TypedChoiceField)  # noqa: S101 - narrows the type
        parent_field.choices = choices


def _require_admin(request) -> None:
    require_admin_page(request.user, _("Only administrators manage categories."))


@staff_console_view
def category_list(request):
    _require_admin(request)
    return render_console(
        request, "tickets/categories.html", {"tree": category_tree(active_only=False)}
    )


@staff_console_view
def category_edit(request, pk: int | None = None):
    _require_admin(request)
    category = None
    if pk is not None:
        category = Category.objects.select_related("parent").filter(pk=pk).first()
        if category is None:
            raise Http404("No such category")
    initial = (
        {
            "name": category.name,
            "parent": category.parent_id,
            "position": category.position,
            "is_active": category.is_active,
        }
        if category
        else None
    )
    form = CategoryForm(request.POST or None, initial=initial, current=category)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        parent = Category.objects.filter(pk=data["parent"]).first() if data["parent"] else None
        try:
            category = save_category(
                request.user,
                category,
                name=data["name"],
                parent=parent,
                position=data["position"],
                is_active=data["is_active"],
            )
        except ACTION_ERRORS as error:
            add_action_error(form, error)
        else:
            messages.success(request, _("Category %(name)s saved.") % {"name": category.name})
            return redirect("tickets:categories")
    status = 400 if form.errors else 200
    return render_console(
        request, "tickets/category_form.html", {"form": form, "category": category}, status=status
    )
