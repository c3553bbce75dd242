"""The demo: a labelled history, a first model trained while loading, and a Chinese product-fault
ticket that lands in 售后服务部 with the model's reason — or, when the routing rule matched first,
a prediction that says the rule decided."""

from __future__ import annotations

import pytest

from kefu.demo import load as demo
from kefu.lib.jobs import run_pending_jobs
from kefu.tickets.actions import NewTicket, create_ticket
from kefu.tickets.models import EventType, Ticket
from kefu.triage.demo import DEMO_COUNTS, load_triage_demo
from kefu.triage.models import Outcome, TicketPrediction, TriageConfig


@pytest.fixture
def triage_demo(db, monkeypatch):
    monkeypatch.setattr(demo, "LOADERS", (load_triage_demo,))
    assert demo.load_demo()


def _fault_ticket():
    from kefu.customers.models import Contact

    return create_ticket(
        None,
        NewTicket(
            subject="打印机黑屏，报错 E05",
            body="打印机无法开机，一直报错，请安排上门维修。",
            author_contact=Contact.objects.get(email="zhoujie@mail.example"),
            channel="email",
        ),
    )


def test_the_demo_trains_a_first_model_on_its_history(triage_demo):
    version = TriageConfig.load().active_version
    assert version is not None and version.version == 1
    assert version.ticket_count >= sum(DEMO_COUNTS.values())
    assert all(version.metrics[name]["trained"] for name in ("group", "category"))
    assert version.metrics["group"]["accuracy"] >= 0.9


def test_a_chinese_fault_ticket_lands_in_aftersales_with_the_models_reason(triage_demo):
    ticket = _fault_ticket()
    run_pending_jobs()  # also the demo's own new ticket
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.group.name == demo.GROUPS["aftersales"]
    reason = ticket.events.get(type=EventType.CHANGED, field="group").reason
    assert reason.startswith("Triage model v1: 售后服务部 After-sales Service (0.")
    assert {"黑屏", "报错", "无法开机", "开机", "上门维修", "E05"} & set(
        reason.split(" — ")[1].split(", ")
    )
    showcase = Ticket.objects.get(subject="热水器显示屏黑屏，报错 E23")
    assert showcase.group.name == demo.GROUPS["aftersales"]


def test_a_routing_rule_wins_over_the_model(db, monkeypatch):
    from kefu.routing.demo import load_demo as load_routing_demo

    monkeypatch.setattr(demo, "LOADERS", (load_routing_demo, load_triage_demo))
    assert demo.load_demo()
    ticket = _fault_ticket()
    run_pending_jobs()
    prediction = TicketPrediction.objects.get(ticket=ticket, field="group")
    assert prediction.outcome == Outcome.DECIDED
    assert "Rule '产品故障 Product faults → 售后服务部' matched" in prediction.detail
    assert "(the model agrees)" in prediction.detail
