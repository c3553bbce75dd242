"""Every action someone performs leaves a trace: an audit entry (configuration, people, customer
records) or a timeline row (tickets).

The test finds the actions itself — every public function of a Kefu module whose first parameter
is ``actor`` — and calls each with the minimal valid arguments from ``CALLS``. An action missing
from the table fails the test, so a new action cannot slip past it; the few actions that change
only the caller's own state, or keep their own record, are listed in ``NOT_RECORDED`` with the
reason.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pytest

import kefu
from kefu.audit.models import AuditEntry
from kefu.tickets.actions import NewTicket
from kefu.tickets.models import TicketEvent

SKIPPED_PACKAGES = {"tests", "migrations", "management"}


def _action_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(kefu.__path__, prefix="kefu."):
        if SKIPPED_PACKAGES & set(info.name.split(".")):
            continue
        names.append(info.name)
    return names


def discovered_actions() -> dict[str, Callable]:
    """``{"app.module.function": function}`` for every public function taking ``actor`` first,
    counted once where it is defined (packages re-export their modules' actions)."""
    found: dict[str, Callable] = {}
    for module_name in _action_modules():
        module = importlib.import_module(module_name)
        for name, function in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(function):
                continue
            if function.__module__ != module_name:
                continue
            parameters = list(inspect.signature(function).parameters)
            if parameters and parameters[0] == "actor":
                found[f"{module_name}.{name}"] = function
    return found


@dataclass
class World:
    """Objects the calls need, made on first use."""

    cast: Any
    make_ticket: Callable
    counter: list[int] = field(default_factory=lambda: [0])

    def unique(self, prefix: str) -> str:
        self.counter[0] += 1
        return f"{prefix}{self.counter[0]}"

    @cached_property
    def ticket(self):
        return self.make_ticket(actor=self.cast.agent)

    @cached_property
    def other_ticket(self):
        return self.make_ticket(actor=self.cast.agent, subject="Another ticket")

    @cached_property
    def trigger(self):
        from kefu.automation.actions import save_trigger

        return save_trigger(self.cast.admin, **TRIGGER)

    @cached_property
    def time_rule(self):
        from kefu.automation.actions import save_time_rule

        return save_time_rule(self.cast.admin, **TIME_RULE)

    @cached_property
    def macro(self):
        from kefu.automation.actions import save_macro

        return save_macro(self.cast.admin, name="Ask", reply_body="Hi", visibility="everyone")

    @cached_property
    def canned_response(self):
        from kefu.automation.actions import save_canned_response

        return save_canned_response(self.cast.admin, title="Hi", body="Hi", visibility="everyone")

    @cached_property
    def webhook(self):
        from kefu.automation.actions import save_webhook

        return save_webhook(self.cast.admin, name="ERP", url="https://erp.example/hook")

    @cached_property
    def product(self):
        from kefu.customers.actions.catalogue import create_product

        return create_product(self.cast.admin, model_number="P-1", name="Printer")

    @cached_property
    def document(self):
        from kefu.customers.actions.catalogue import add_product_document

        return add_product_document(
            self.cast.admin, self.product, title="Manual", filename="m.txt", content=b"manual"
        )

    @cached_property
    def asset(self):
        from kefu.customers.actions.catalogue import create_asset

        return create_asset(self.cast.admin, serial_number="SN-1", product=self.product)

    @cached_property
    def contact(self):
        from kefu.customers.actions.contacts import create_contact

        return create_contact(self.cast.admin, name="Dave", email="dave@example.com")

    @cached_property
    def rule(self):
        from kefu.routing.actions import save_rule

        return save_rule(self.cast.admin, name="VIP", conditions=[], actions={"priority": "high"})

    @cached_property
    def calendar(self):
        from kefu.sla.actions.config import save_calendar

        return save_calendar(self.cast.admin, name="Office", **CALENDAR)

    @cached_property
    def policy(self):
        from kefu.sla.actions.config import save_policy

        return save_policy(self.cast.admin, name="Walk-through", calendar=self.calendar)

    @cached_property
    def mailbox(self):
        from kefu.intake.actions import save_mailbox

        return save_mailbox(self.cast.admin, **MAILBOX)

    @cached_property
    def tag(self):
        from kefu.tickets.tags import create_tag

        return create_tag(self.cast.admin, "printr")

    @cached_property
    def ticket_type(self):
        from kefu.tickets.models import TicketType

        return TicketType.objects.get_or_create(key="complaint", defaults={"name": "Complaint"})[0]


CALENDAR: dict[str, Any] = {
    "kind": "custom",
    "time_zone": "UTC",
    "working_hours": {"mon": [["09:00", "18:00"]]},
}
TRIGGER: dict[str, Any] = {
    "name": "Note",
    "events": ["created"],
    "actions": [{"type": "add_note", "body": "x"}],
}
TIME_RULE: dict[str, Any] = {
    "name": "Close",
    "state": "resolved",
    "delay": 5,
    "unit": "days",
    "actions": [{"type": "set_state", "value": "closed"}],
}
MAILBOX: dict[str, Any] = {
    "name": "Support",
    "email_address": "support@kefu.example",
    "imap_host": "imap.kefu.example",
    "imap_user": "support",
    "imap_password": "s3cret-imap",
    "smtp_host": "smtp.kefu.example",
}


def _call(
    *args: Any, setup: Callable[[World], Any] | None = None, **kwargs: Any
) -> Callable[[World], tuple[tuple, dict]]:
    """Arguments after ``actor``; a callable argument is given the world first; ``setup`` runs
    before the arguments are built."""

    def build(world: World) -> tuple[tuple, dict]:
        if setup is not None:
            setup(world)
        resolve = lambda value: value(world) if callable(value) else value  # noqa: E731
        return (
            tuple(resolve(a) for a in args),
            {key: resolve(value) for key, value in kwargs.items()},
        )

    return build


def w(path: str) -> Callable[[World], Any]:
    """``w("cast.agent")``: an attribute path of the world, looked up when the call is built."""

    def get(world: World) -> Any:
        value: Any = world
        for part in path.split("."):
            value = getattr(value, part)
        return value

    return get


# action → (actor, arguments). The actor is a cast member who may perform it.
CALLS: dict[str, tuple[str, Callable[[World], tuple[tuple, dict]]]] = {
    # accounts
    "kefu.accounts.actions.get_or_create_group": ("admin", _call("Night shift")),
    "kefu.accounts.actions.set_escalation_group": ("admin", _call(w("cast.cs"), w("cast.tech"))),
    "kefu.accounts.actions.create_user": (
        "admin",
        _call(email="new@kefu.example", name="New", role="agent"),
    ),
    "kefu.accounts.actions.set_membership": ("admin", _call(w("cast.agent"), w("cast.tech"))),
    "kefu.accounts.actions.remove_membership": ("admin", _call(w("cast.agent"), w("cast.cs"))),
    "kefu.accounts.actions.set_password": ("admin", _call(w("cast.agent"), "a new long password")),
    "kefu.accounts.actions.create_api_token": ("admin", _call(w("cast.agent"), "ERP")),
    "kefu.accounts.actions.revoke_api_token": (
        "admin",
        _call(lambda world: _token(world)),
    ),
    "kefu.accounts.actions.update_user": ("admin", _call(w("cast.agent"), name="Agent Smith")),
    "kefu.accounts.actions.deactivate_user": ("admin", _call(w("cast.quality_agent"))),
    "kefu.accounts.actions.reactivate_user": ("admin", _call(lambda world: _inactive(world))),
    "kefu.accounts.actions.invite_user": ("admin", _call(w("cast.agent"))),
    "kefu.accounts.actions.save_group": ("admin", _call(w("cast.tech"), description="Level 2")),
    "kefu.accounts.actions.deactivate_group": ("admin", _call(w("cast.quality"))),
    "kefu.accounts.actions.reactivate_group": (
        "admin",
        _call(lambda world: _inactive_group(world)),
    ),
    # privacy
    "kefu.privacy.actions.erase_contact": ("admin", _call(w("cast.carol.contact"))),
    # automation
    "kefu.automation.actions.config.save_trigger": ("admin", _call(**TRIGGER)),
    "kefu.automation.actions.config.save_time_rule": ("admin", _call(**TIME_RULE)),
    "kefu.automation.actions.config.save_macro": (
        "agent",
        _call(name="Mine", reply_body="Hello"),
    ),
    "kefu.automation.actions.config.save_canned_response": (
        "agent",
        _call(title="Mine", body="Hello"),
    ),
    "kefu.automation.actions.config.save_webhook": (
        "admin",
        _call(name="ERP", url="https://erp.example/hook"),
    ),
    "kefu.automation.actions.macros.apply_macro": ("agent", _call(w("ticket"), w("macro"))),
    # customers
    "kefu.customers.actions.catalogue.create_product": (
        "agent",
        _call(model_number="X-9", name="Scanner"),
    ),
    "kefu.customers.actions.catalogue.update_product": (
        "agent",
        _call(w("product"), name="Laser printer"),
    ),
    "kefu.customers.actions.catalogue.set_product_active": ("agent", _call(w("product"), False)),
    "kefu.customers.actions.catalogue.add_product_document": (
        "agent",
        _call(w("product"), title="Manual", filename="manual.txt", content=b"read me"),
    ),
    "kefu.customers.actions.catalogue.remove_product_document": ("agent", _call(w("document"))),
    "kefu.customers.actions.catalogue.create_asset": (
        "agent",
        _call(serial_number="SN-9", product=w("product")),
    ),
    "kefu.customers.actions.catalogue.update_asset": ("agent", _call(w("asset"), notes="Moved")),
    "kefu.customers.actions.catalogue.create_assets": (
        "agent",
        _call(lambda world: [{"serial_number": "SN-A", "product": world.product}]),
    ),
    "kefu.customers.actions.catalogue.set_asset_active": ("agent", _call(w("asset"), False)),
    "kefu.customers.actions.contacts.create_organization": ("agent", _call(name="Initech")),
    "kefu.customers.actions.contacts.get_or_create_organization": ("agent", _call("Initech")),
    "kefu.customers.actions.contacts.update_organization": (
        "agent",
        _call(w("cast.globex"), notes="Key account"),
    ),
    "kefu.customers.actions.contacts.set_organization_active": (
        "admin",
        _call(w("cast.globex"), False),
    ),
    "kefu.customers.actions.contacts.create_contact": (
        "agent",
        _call(name="Erin", email="erin@example.com"),
    ),
    "kefu.customers.actions.contacts.find_or_create_contact": (
        "agent",
        _call(name="Erin", email="erin@example.com"),
    ),
    "kefu.customers.actions.contacts.update_contact": (
        "agent",
        _call(w("contact"), notes="Prefers phone"),
    ),
    "kefu.customers.actions.contacts.set_contact_active": ("agent", _call(w("contact"), False)),
    "kefu.customers.actions.contacts.merge_contacts": (
        "agent",
        _call(w("contact"), w("cast.carol.contact")),
    ),
    "kefu.customers.actions.contacts.invite_contact": ("agent", _call(w("contact"))),
    "kefu.customers.actions.contacts.create_customer_user": (
        "agent",
        _call(email="frank@example.com", name="Frank"),
    ),
    "kefu.customers.actions.contacts.reset_email_bounce": (
        "agent",
        _call(lambda world: _bounced(world)),
    ),
    # intake
    "kefu.intake.actions.save_mailbox": ("admin", _call(**MAILBOX)),
    "kefu.intake.actions.save_group_mail_settings": (
        "admin",
        _call(w("cast.cs"), send_acknowledgement=False, send_resolution_notice=True),
    ),
    # notifications
    "kefu.notifications.actions.set_group_waiting_minutes": ("admin", _call(w("cast.cs"), 45)),
    # routing
    "kefu.routing.actions.save_rule": (
        "admin",
        _call(name="Urgent", conditions=[], actions={"priority": "urgent"}),
    ),
    "kefu.routing.actions.delete_rule": ("admin", _call(w("rule"))),
    "kefu.routing.actions.move_rule": ("admin", _call(lambda world: _second_rule(world), "up")),
    "kefu.routing.actions.reorder_rules": (
        "admin",
        _call(lambda world: [_second_rule(world).pk, world.rule.pk]),
    ),
    "kefu.routing.actions.save_group_routing": ("admin", _call(w("cast.cs"), strategy="load")),
    "kefu.routing.actions.save_agent_profile": ("admin", _call(w("cast.agent"), capacity=5)),
    "kefu.routing.actions.reassign_open_tickets": (
        "admin",
        _call(lambda world: _assigned_agent(world)),
    ),
    # sla
    "kefu.sla.actions.clock.acknowledge_ticket": (
        "agent",
        _call(lambda world: _assigned_agent(world) and world.ticket),
    ),
    "kefu.sla.actions.clock.escalate_ticket": (
        "agent",
        _call(w("ticket"), reason="Needs firmware", group=w("cast.tech")),
    ),
    "kefu.sla.actions.config.save_calendar": ("admin", _call(name="Berlin", **CALENDAR)),
    "kefu.sla.actions.config.set_calendar_date": (
        "admin",
        _call(w("calendar"), date=datetime.date(2026, 12, 24), kind="holiday"),
    ),
    "kefu.sla.actions.config.remove_calendar_date": (
        "admin",
        _call(lambda world: _calendar_date(world)),
    ),
    "kefu.sla.actions.config.import_calendar_dates": (
        "admin",
        _call(w("calendar"), b"date,kind,name\n2026-12-31,holiday,New Year's Eve\n", "d.csv"),
    ),
    "kefu.sla.actions.config.save_policy": (
        "admin",
        _call(name="Gold", calendar=w("calendar")),
    ),
    "kefu.sla.actions.config.set_target": (
        "admin",
        _call(w("policy"), "high", first_response=60),
    ),
    "kefu.sla.actions.config.save_escalation_level": (
        "admin",
        _call(w("policy"), level=1, minutes=30, notify_assignee=True),
    ),
    "kefu.sla.actions.config.remove_escalation_level": (
        "admin",
        _call(lambda world: _level(world)),
    ),
    "kefu.sla.actions.config.deactivate_policy": ("admin", _call(w("policy"))),
    # tickets
    "kefu.tickets.actions.create_ticket": (
        "agent",
        _call(
            lambda world: NewTicket(
                subject="Paper jam", body="Again.", contact=world.cast.alice.contact
            )
        ),
    ),
    "kefu.tickets.actions.update_ticket": ("agent", _call(w("ticket"), priority="urgent")),
    "kefu.tickets.actions.add_message": ("agent", _call(w("ticket"), body="On it.")),
    "kefu.tickets.bulk.bulk_update_tickets": (
        "agent",
        _call(lambda world: [world.ticket.pk], priority="low"),
    ),
    "kefu.tickets.bulk.take_next_ticket": ("agent", _call(setup=lambda world: world.ticket)),
    "kefu.tickets.categories.save_category": ("admin", _call(name="Printers")),
    "kefu.tickets.custom_fields.save_custom_field": (
        "admin",
        _call(key="serial", label="Serial number", kind="text"),
    ),
    "kefu.tickets.relations.link_child": ("agent", _call(w("ticket"), w("other_ticket"))),
    "kefu.tickets.relations.link_tickets": (
        "agent",
        _call(w("ticket"), w("other_ticket"), "related"),
    ),
    "kefu.tickets.relations.unlink_tickets": (
        "agent",
        _call(w("ticket"), lambda world: _link(world)),
    ),
    "kefu.tickets.relations.merge_ticket": ("agent", _call(w("other_ticket"), w("ticket"))),
    "kefu.tickets.relations.split_ticket": (
        "agent",
        _call(w("ticket"), lambda world: _second_message(world)),
    ),
    "kefu.tickets.tags.create_tag": ("admin", _call("vip")),
    "kefu.tickets.tags.rename_tag": ("admin", _call(w("tag"), "printer")),
    "kefu.tickets.tags.merge_tag": ("admin", _call(w("tag"), lambda world: _other_tag(world))),
    "kefu.tickets.ticket_types.save_ticket_type": ("admin", _call(key="rma", name="Return")),
    # triage
    "kefu.triage.actions.save_config": ("admin", _call(training_hour=4)),
}

# Actions that write neither entry, each with the reason it needs none.
NOT_RECORDED = {
    "kefu.audit.actions.record": "it is the audit entry",
    "kefu.lib.guards.require_admin": "a guard; it writes nothing",
    "kefu.lib.guards.require_staff": "a guard; it writes nothing",
    "kefu.privacy.actions.require_privacy_admin": "a guard; it writes nothing",
    "kefu.intake.oauth.start_connection": (
        "sends the administrator to the provider and writes nothing; the connection is recorded "
        "by finish_connection"
    ),
    "kefu.intake.oauth.finish_connection": (
        "records mailbox.oauth_connected, but needs the provider's token endpoint: the fake "
        "authorisation server of intake/tests/test_oauth.py checks the entry"
    ),
    "kefu.accounts.actions.update_preferences": "the user's own language, zone and signature",
    "kefu.notifications.actions.update_preferences": "the user's own notification switches",
    "kefu.notifications.actions.mark_read": "the user's own inbox",
    "kefu.notifications.actions.mark_all_read": "the user's own inbox",
    "kefu.notifications.actions.mark_ticket_read": "the user's own inbox",
    "kefu.routing.actions.set_availability": (
        "the agent's working state (the hand-over it may start writes timeline rows)"
    ),
    "kefu.automation.actions.macros.use_canned_response": "counts uses; the reply is the record",
    "kefu.automation.actions.webhooks.send_test_delivery": "the delivery row is the record",
    "kefu.customers.actions.import_runs.start_import": "the import run row is the record",
    "kefu.customers.actions.import_runs.confirm_import": "the import run row is the record",
    "kefu.intake.actions.retry_inbound_email": "the stored e-mail's outcome is the record",
    "kefu.tickets.actions.retry_message_delivery": "sends a reply on the timeline once more",
    "kefu.triage.actions.request_training": "the model version row (requested_by) is the record",
    "kefu.triage.actions.train_now": "the model version row (requested_by) is the record",
}


def _token(world: World):
    from kefu.accounts.actions import create_api_token

    return create_api_token(world.cast.admin, world.cast.agent, "old")[0]


def _inactive(world: World):
    world.cast.quality_agent.is_active = False
    world.cast.quality_agent.save(update_fields=["is_active"])
    return world.cast.quality_agent


def _inactive_group(world: World):
    world.cast.quality.is_active = False
    world.cast.quality.save(update_fields=["is_active"])
    return world.cast.quality


def _bounced(world: World):
    from kefu.customers.actions.contacts import flag_email_bounced

    flag_email_bounced(world.contact, "550 no such user")
    world.contact.refresh_from_db()
    return world.contact


def _second_rule(world: World):
    if not hasattr(world, "_second"):
        from kefu.routing.actions import save_rule

        world.rule  # noqa: B018 - the first rule exists before the second
        world._second = save_rule(  # type: ignore[attr-defined]
            world.cast.admin, name="Second", conditions=[], actions={"priority": "low"}
        )
    return world._second  # type: ignore[attr-defined]


def _assigned_agent(world: World):
    from kefu.tickets.actions import update_ticket

    world.ticket = update_ticket(world.cast.admin, world.ticket, assignee=world.cast.agent)
    return world.cast.agent


def _calendar_date(world: World):
    from kefu.sla.actions.config import set_calendar_date

    return set_calendar_date(
        world.cast.admin, world.calendar, date=datetime.date(2026, 12, 25), kind="holiday"
    )


def _level(world: World):
    from kefu.sla.actions.config import save_escalation_level

    return save_escalation_level(
        world.cast.admin, world.policy, level=1, minutes=30, notify_assignee=True
    )


def _link(world: World):
    from kefu.tickets.relations import link_tickets

    return link_tickets(world.cast.agent, world.ticket, world.other_ticket, "related")


def _second_message(world: World):
    from kefu.tickets.actions import add_message

    return add_message(world.cast.agent, world.ticket, body="A second question.")


def _other_tag(world: World):
    from kefu.tickets.tags import create_tag

    return create_tag(world.cast.admin, "printer")


def test_the_table_names_every_action_and_nothing_else():
    actions = set(discovered_actions())
    listed = set(CALLS) | set(NOT_RECORDED)
    assert sorted(actions - listed) == [], "new actions: add them to CALLS (or NOT_RECORDED)"
    assert sorted(listed - actions) == [], "these are no longer actions: remove them"
    assert not set(CALLS) & set(NOT_RECORDED)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_action_leaves_an_audit_entry_or_a_timeline_row(name, cast, make_ticket):
    function = discovered_actions()[name]
    actor_name, build = CALLS[name]
    world = World(cast=cast, make_ticket=make_ticket)
    args, kwargs = build(world)  # set-up may itself write entries: count after it
    audit_before = AuditEntry.objects.count()
    timeline_before = TicketEvent.objects.count()

    function(getattr(cast, actor_name), *args, **kwargs)

    written = (AuditEntry.objects.count() - audit_before) + (
        TicketEvent.objects.count() - timeline_before
    )
    assert written > 0, f"{name} changed something and recorded it nowhere"
