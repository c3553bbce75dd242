"""The demo: a Chinese product-fault ticket lands in 售后服务部 on an available agent, with the
rule and the strategy on its timeline."""

from __future__ import annotations

import pytest

from kefu.demo import load as demo
from kefu.routing.demo import load_demo as load_routing_demo
from kefu.tickets.actions import NewTicket, create_ticket
from kefu.tickets.models import EventType


@pytest.fixture
def demo_data(db, monkeypatch):
    monkeypatch.setattr(demo, "LOADERS", (load_routing_demo,))
    assert demo.load_demo()


def test_a_chinese_fault_ticket_lands_on_an_available_after_sales_agent(demo_data):
    from kefu.accounts.models import Group, User
    from kefu.customers.models import Contact

    admin = User.objects.get(email=demo.ADMIN_EMAIL)
    contact = Contact.objects.filter(is_active=True).first()
    away = User.objects.get(email="zhou@demo.kefu")
    assignees = set()
    for n in range(4):
        ticket = create_ticket(
            admin,
            NewTicket(
                subject=f"空调显示屏黑屏 {n}",
                body="开机后报错 E23，无法开机，需要上门维修",
                contact=contact,
            ),
        )
        ticket.refresh_from_db()
        assert ticket.group == Group.objects.get(name=demo.GROUPS["aftersales"])
        assert ticket.priority == "high"
        assert ticket.assignee not in (None, away)
        assignees.add(ticket.assignee)
        reasons = dict(ticket.events.filter(type=EventType.CHANGED).values_list("field", "reason"))
        assert (
            "Rule '产品故障 Product faults → 售后服务部' matched: keyword 黑屏" in reasons["group"]
        )
        assert "Least open tickets (load balancing)" in reasons["assignee"]
        assert "周婷 Zhou Ting (away until" in reasons["assignee"]
    assert len(assignees) == 2  # load-balanced between the two available agents
