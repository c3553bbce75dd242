"""Administrators shape the category tree in the console and the API; nobody else can."""

from __future__ import annotations

from django.test import Client

from kefu.audit.models import AuditEntry
from kefu.test import PASSWORD
from kefu.tickets.models import Category


def login(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def test_an_admin_builds_the_tree_in_the_console(cast):
    client = login(cast.admin)
    assert (
        client.post(
            "/tickets/categories/new/", {"name": "硬件 Hardware", "position": 0, "is_active": "on"}
        ).status_code
        == 302
    )
    hardware = Category.objects.get(name="硬件 Hardware")
    client.post(
        "/tickets/categories/new/",
        {"name": "显示屏 Display", "parent": hardware.pk, "position": 1, "is_active": "on"},
    )
    display = Category.objects.get(name="显示屏 Display")
    assert display.parent == hardware
    page = client.get("/tickets/categories/").content.decode()
    assert "硬件 Hardware" in page and "显示屏 Display" in page

    # A duplicate name on one level, and a category under its own child, are refused clearly.
    duplicate = client.post(
        "/tickets/categories/new/", {"name": "硬件 hardware", "position": 0, "is_active": "on"}
    )
    assert duplicate.status_code == 400 and "already has a category" in duplicate.content.decode()
    cycle = client.post(
        f"/tickets/categories/{hardware.pk}/",
        {"name": "硬件 Hardware", "parent": display.pk, "position": 0, "is_active": "on"},
    )
    assert cycle.status_code == 400 and "below itself" in cycle.content.decode()
    hardware.refresh_from_db()
    assert hardware.parent is None

    client.post(
        f"/tickets/categories/{display.pk}/",
        {"name": "显示屏 Display", "parent": hardware.pk, "position": 1},
    )
    display.refresh_from_db()
    assert not display.is_active
    assert AuditEntry.objects.filter(action="category.saved").count() == 3


def test_agents_and_customers_cannot_manage_categories(cast):
    assert login(cast.agent).get("/tickets/categories/").status_code == 403
    assert (
        login(cast.agent).post("/tickets/categories/new/", {"name": "X", "position": 0}).status_code
        == 403
    )
    assert login(cast.alice).get("/tickets/categories/").status_code in (302, 403, 404)
    assert not Category.objects.filter(name="X").exists()


def test_the_api_adds_moves_and_deactivates_categories(cast):
    admin = {"Authorization": f"Bearer {cast.token(cast.admin)}"}
    created = Client().post(
        "/api/v1/categories",
        {"name": "软件 Software"},
        content_type="application/json",
        headers=admin,
    )
    assert created.status_code == 201, created.content
    parent_id = created.json()["id"]
    child = (
        Client()
        .post(
            "/api/v1/categories",
            {"name": "固件 Firmware", "parent": parent_id},
            content_type="application/json",
            headers=admin,
        )
        .json()
    )
    assert child["path"] == "软件 Software › 固件 Firmware"
    moved = Client().patch(
        f"/api/v1/categories/{child['id']}",
        {"parent": None, "active": False},
        content_type="application/json",
        headers=admin,
    )
    assert moved.status_code == 200 and moved.json()["parent"] is None
    assert moved.json()["active"] is False
    unknown = Client().post(
        "/api/v1/categories",
        {"name": "Y", "parent": 999999},
        content_type="application/json",
        headers=admin,
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "parent"

    agent = {"Authorization": f"Bearer {cast.token(cast.agent)}"}
    refused = Client().post(
        "/api/v1/categories", {"name": "Z"}, content_type="application/json", headers=agent
    )
    assert refused.status_code == 403
    assert not Category.objects.filter(name="Z").exists()
