"""The Django admin is read only: no registered admin (or inline) may add, change or delete rows,
because every write goes through the actions, which keep the rules and write the audit log."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from kefu.accounts.models import Role
from kefu.lib.admin import ReadOnlyModelAdmin


def _admin_request(cast):
    request = RequestFactory().get("/admin/")
    request.user = cast.admin
    return request


def _write_permissions(model_admin, request) -> list[str]:
    allowed = []
    for name in ("add", "change", "delete"):
        check = getattr(model_admin, f"has_{name}_permission")
        if name == "add" and not isinstance(model_admin, admin.options.InlineModelAdmin):
            granted = check(request)
        else:
            granted = check(request, None)
        if granted:
            allowed.append(name)
    return allowed


def test_it_lets_no_registered_admin_write(cast):
    request = _admin_request(cast)
    assert cast.admin.is_superuser  # the one user the admin would let write
    editable = {}
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        allowed = _write_permissions(model_admin, request)
        for inline in model_admin.get_inline_instances(request):
            allowed += [
                f"{type(inline).__name__}.{name}" for name in _write_permissions(inline, request)
            ]
        if allowed or model_admin.list_editable or model_admin.actions:
            editable[label] = (
                allowed + list(model_admin.list_editable) + list(model_admin.actions or [])
            )
    assert editable == {}, (
        "Every Django admin derives from kefu.lib.admin.ReadOnlyModelAdmin (inlines from "
        f"ReadOnlyInline); these can write: {editable}"
    )


def test_it_covers_every_kefu_model_admin_with_the_shared_base(cast):
    kefu_admins = [
        model_admin
        for model, model_admin in admin.site._registry.items()
        if model.__module__.startswith("kefu.")
    ]
    assert kefu_admins  # the registry was filled
    assert [a for a in kefu_admins if not isinstance(a, ReadOnlyModelAdmin)] == []


def test_every_registered_admin_still_lists_its_rows(client, cast):
    client.force_login(cast.admin)
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url


def test_an_admin_cannot_change_a_role_through_the_django_admin(client, cast):
    client.force_login(cast.admin)
    url = reverse("admin:accounts_user_change", args=[cast.agent.pk])
    assert client.get(url).status_code == 200  # readable
    response = client.post(url, {"email": cast.agent.email, "name": "x", "role": Role.CUSTOMER})
    assert response.status_code == 403
    cast.agent.refresh_from_db()
    assert cast.agent.role == Role.AGENT


def test_an_admin_cannot_add_a_group_through_the_django_admin(client, cast):
    client.force_login(cast.admin)
    response = client.post(reverse("admin:accounts_group_add"), {"name": "Shadow group"})
    assert response.status_code == 403


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.AGENT, Role.CUSTOMER])
def test_nobody_but_administrators_reads_the_django_admin(client, cast, role):
    user = {
        Role.SUPERVISOR: cast.supervisor,
        Role.AGENT: cast.agent,
        Role.CUSTOMER: cast.alice,
    }[role]
    client.force_login(user)
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
