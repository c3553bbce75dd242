"""The audit log: ``record`` (masking, diffs, the request's address), the admin page with its
filters and pages, and the audit entries other apps' admin actions write."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from kefu.audit.actions import MASK, changes_for, record
from kefu.audit.models import AuditEntry
from kefu.audit.views import PAGE_SIZE

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_it_masks_secret_looking_fields(cast):
    entry = record(
        cast.admin,
        "mailbox.updated",
        cast.cs,
        {"imap_password": ["", "hunter2"], "api_token": "kefu_abc", "name": ["a", "b"]},
    )
    assert entry.changes == {
        "imap_password": ["", MASK],
        "api_token": MASK,
        "name": ["a", "b"],
    }
    assert "hunter2" not in str(AuditEntry.objects.get().changes)


def test_changes_for_lists_only_what_differs(cast):
    assert changes_for(cast.cs, {"name": cast.cs.name, "email": "cs@kefu.example"}) == {
        "email": ["", "cs@kefu.example"]
    }
    assert changes_for(cast.cs, {"escalation_group": cast.tech}) == {
        "escalation_group": [None, cast.tech]
    }
    assert changes_for(None, {"name": "x"}) == {"name": [None, "x"]}


def test_it_keeps_the_object_and_actor_as_they_were_named(cast):
    entry = record(cast.admin, "group.updated", cast.cs, {"name": ["a", "b"]})
    cast.cs.name = "Renamed"
    cast.cs.save()
    entry.refresh_from_db()
    assert entry.object_type == "accounts.group" and entry.object_id == str(cast.cs.pk)
    assert entry.object_repr == "客服部 Customer Service"
    assert entry.actor_repr == "Ada Admin <admin@kefu.example>"


@pytest.mark.parametrize("user", ["agent", "supervisor", "tech_agent"])
def test_staff_other_than_admins_cannot_see_the_audit_page(client, cast, user):
    client.force_login(getattr(cast, user))
    assert client.get(reverse("audit:log")).status_code == 403


def test_customers_and_anonymous_users_get_no_audit_page(client, cast):
    assert client.get(reverse("audit:log")).status_code == 302
    client.force_login(cast.alice)
    assert client.get(reverse("audit:log")).status_code == 404


def test_the_admin_page_shows_changes_with_actor_and_address(client, cast):
    client.force_login(cast.admin)
    client.post(
        reverse("accounts:group", args=[cast.quality.pk]),
        {"name": "质量部 QA", "description": "", "email": "", "signature": ""},
        REMOTE_ADDR="10.1.2.3",
    )
    page = client.get(reverse("audit:log"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "质量部 QA" in html and "10.1.2.3" in html and "Group changed" in html
    entry = AuditEntry.objects.get(action="group.updated")
    assert entry.ip == "10.1.2.3"
    assert entry.changes == {"name": ["质量管理部 Quality Management", "质量部 QA"]}


def test_the_audit_page_filters_by_actor_object_type_and_date(client, cast):
    with time_machine.travel(datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI)):
        record(cast.admin, "group.updated", cast.cs)
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)):
        record(cast.supervisor, "user.updated", cast.agent)
        record(cast.admin, "token.revoked", None)
    client.force_login(cast.admin)

    def listed(**params):
        response = client.get(reverse("audit:log"), params)
        return [row["entry"].action for row in response.context["rows"]]

    assert listed(actor=cast.supervisor.pk) == ["user.updated"]
    assert listed(object_type="accounts.group") == ["group.updated"]
    assert listed(date_from="2026-11-15") == ["token.revoked", "user.updated"]
    assert listed(date_to="2026-11-01") == ["group.updated"]
    assert listed(q="王小明") == ["user.updated"]


def test_the_audit_page_is_paginated(client, cast):
    AuditEntry.objects.bulk_create(
        AuditEntry(action="group.updated", object_repr=f"g{n}") for n in range(PAGE_SIZE + 5)
    )
    client.force_login(cast.admin)
    first = client.get(reverse("audit:log"))
    second = client.get(reverse("audit:log"), {"page": 2})
    assert len(first.context["rows"]) == PAGE_SIZE
    assert len(second.context["rows"]) == 5


def test_sla_configuration_changes_are_audited(cast):
    from kefu.sla.actions import save_calendar
    from kefu.sla.models import BusinessCalendar

    calendar = BusinessCalendar.objects.first()
    save_calendar(cast.admin, calendar, name="Shanghai office")
    entry = AuditEntry.objects.get(action="sla_calendar.saved")
    assert entry.changes["name"][1] == "Shanghai office"
    assert entry.object_type == "sla.businesscalendar"


def test_mailbox_changes_are_audited_without_the_password(cast):
    from kefu.intake.actions import save_mailbox

    mailbox = save_mailbox(
        cast.admin,
        name="Support",
        email_address="support@kefu.example",
        imap_host="imap.kefu.example",
        imap_user="support",
        imap_password="s3cret-imap",
        smtp_host="smtp.kefu.example",
        group=cast.cs,
    )
    save_mailbox(cast.admin, mailbox, imap_password="another-s3cret", poll_interval_seconds=300)
    created, updated = AuditEntry.objects.filter(object_type="intake.mailbox").order_by("id")
    assert created.action == "mailbox.created" and updated.action == "mailbox.updated"
    assert "s3cret" not in str(created.changes) + str(updated.changes)
    assert updated.changes["imap_password"] == ["", MASK]
    assert updated.changes["poll_interval_seconds"][1] == 300


def test_entries_are_written_inside_the_action_transaction(cast):
    from kefu.accounts.actions import create_user

    with pytest.raises(Exception):  # noqa: B017, PT011 - the duplicate e-mail refusal
        create_user(cast.admin, email=cast.agent.email, name="Again", role="agent")
    assert not AuditEntry.objects.filter(action="user.created").exists()


def test_nobody_edits_the_log_in_the_django_admin(client, cast):
    entry = record(cast.admin, "group.updated", cast.cs)
    client.force_login(cast.admin)
    url = reverse("admin:audit_auditentry_change", args=[entry.pk])
    assert client.get(url).status_code == 200  # read-only view
    client.post(reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"})
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_old_entries_stay_in_time_order(cast):
    start = datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI)
    for n in range(3):
        with time_machine.travel(start + timedelta(minutes=n)):
            record(cast.admin, "group.updated", cast.cs, {"n": n})
    assert [e.changes["n"] for e in AuditEntry.objects.all()] == [2, 1, 0]


@pytest.mark.django_db(transaction=True)
def test_the_address_is_recorded_under_asgi_too(cast):
    """``kefu run`` serves through ASGI: the middleware's context must reach the sync action."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    async def change_group() -> int:
        client = AsyncClient()
        await client.aforce_login(cast.admin)
        response = await client.post(
            reverse("accounts:group", args=[cast.quality.pk]),
            {"name": "QA 部", "description": "", "email": "", "signature": ""},
        )
        return response.status_code

    assert async_to_sync(change_group)() == 302
    assert AuditEntry.objects.get(action="group.updated").ip == "127.0.0.1"
