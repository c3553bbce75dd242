"""Changes to triggers, time rules, webhooks, macros and canned responses are in the audit log;
a webhook's secret is recorded as changed, never by value."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kefu.audit.actions import MASK
from kefu.audit.models import AuditEntry
from kefu.automation.actions import save_macro, save_trigger, save_webhook

OLD_SECRET = "old-secret-0123456789"
NEW_SECRET = "new-secret-9876543210"


def test_a_webhook_url_and_secret_change_is_recorded_without_the_secret(cast):
    hook = save_webhook(cast.admin, name="ERP", url="https://erp.example/hook", secret=OLD_SECRET)
    save_webhook(cast.admin, hook, url="https://erp.example/v2", secret=NEW_SECRET)

    created, updated = AuditEntry.objects.filter(object_type="automation.webhook").order_by("id")
    assert created.action == "webhook.created" and updated.action == "webhook.updated"
    assert updated.changes["url"] == ["https://erp.example/hook", "https://erp.example/v2"]
    assert updated.changes["secret"] == [MASK, MASK]
    assert created.changes["secret"] == ["", MASK]
    logged = str(list(AuditEntry.objects.values_list("changes", flat=True)))
    assert OLD_SECRET not in logged and NEW_SECRET not in logged


def test_keeping_the_secret_records_no_secret_change(cast):
    hook = save_webhook(cast.admin, name="ERP", url="https://erp.example/hook")
    save_webhook(cast.admin, hook, name="ERP system", secret="")
    updated = AuditEntry.objects.filter(action="webhook.updated").get()
    assert updated.changes == {"name": ["ERP", "ERP system"]}


def test_deactivating_a_trigger_is_recorded_with_the_actor(cast):
    trigger = save_trigger(
        cast.admin, name="Note", events=["created"], actions=[{"type": "add_note", "body": "x"}]
    )
    save_trigger(cast.admin, trigger, is_active=False)
    entry = AuditEntry.objects.filter(action="trigger.updated").get()
    assert entry.actor == cast.admin and entry.changes == {"is_active": [True, False]}


def test_a_refused_change_leaves_no_entry(cast):
    macro = save_macro(cast.agent, name="Mine", reply_body="Hello")
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError):
        save_macro(cast.agent, macro, name="")
    assert AuditEntry.objects.count() == before
