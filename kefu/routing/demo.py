"""Demo routing: product-fault rules (Chinese and English) sending tickets to 售后服务部 with high
priority, a load-balanced after-sales group, round robin in 客服部, agent skills and capacities,
and one agent away — so a new Chinese fault ticket on a fresh ``make run`` lands on a person with
the reasons on its timeline."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from kefu.accounts.actions import create_user
from kefu.accounts.models import Access, Role
from kefu.customers.demo import DemoContext
from kefu.routing.actions import (
    save_agent_profile,
    save_group_routing,
    save_rule,
    set_availability,
)
from kefu.routing.models import Availability, Strategy

FAULT_WORDS_ZH = ["黑屏", "报错", "无法开机", "不开机", "上门维修", "故障", "死机", "花屏", "E23"]
FAULT_WORDS_EN = ["black screen", "error code", "won't turn on", "does not start", "E23", "fault"]


def load_demo(context: DemoContext) -> None:
    admin = context.staff["admin"]
    aftersales, cs, quality = (
        context.groups["aftersales"],
        context.groups["cs"],
        context.groups["quality"],
    )
    chen = create_user(
        None,
        email="chen@demo.kefu",
        name="陈刚 Chen Gang",
        role=Role.AGENT,
        password="kefu-demo-agent",  # noqa: S106 - published demo login
        groups=[(aftersales, Access.FULL)],
        language="zh-hans",
    )
    zhou = create_user(
        None,
        email="zhou@demo.kefu",
        name="周婷 Zhou Ting",
        role=Role.AGENT,
        password="kefu-demo-agent",  # noqa: S106 - published demo login
        groups=[(aftersales, Access.FULL)],
        language="zh-hans",
    )
    save_rule(
        admin,
        name="产品故障 Product faults → 售后服务部",
        match_mode="all",
        conditions=[
            {"field": "text", "operator": "contains_any", "value": FAULT_WORDS_ZH},
            {"field": "language", "operator": "in", "value": ["zh"]},
        ],
        actions={"group": aftersales.pk, "priority": "high", "tags": ["产品故障"]},
        stop_processing=True,
    )
    save_rule(
        admin,
        name="Product faults (English) → After-sales",
        conditions=[
            {"field": "text", "operator": "contains_any", "value": FAULT_WORDS_EN},
            {"field": "language", "operator": "in", "value": ["en"]},
        ],
        actions={"group": aftersales.pk, "priority": "high", "tags": ["product fault"]},
        stop_processing=True,
    )
    save_rule(
        admin,
        name="投诉 Complaints → 质量管理部",
        match_mode="any",
        conditions=[
            {"field": "text", "operator": "contains_any", "value": ["投诉", "complaint"]},
            {"field": "type", "operator": "in", "value": ["complaint"]},
        ],
        actions={"group": quality.pk, "type": "complaint"},
    )
    save_group_routing(admin, aftersales, strategy=Strategy.LOAD, max_in_a_row=3)
    save_group_routing(admin, cs, strategy=Strategy.ROUND_ROBIN)
    lina = context.staff["lina"]
    save_agent_profile(admin, lina, capacity=8, skills=["产品故障", "zh", "display"])
    save_agent_profile(admin, chen, capacity=6, skills=["product fault", "en", "E23"])
    save_agent_profile(admin, zhou, capacity=8, skills=["产品故障", "zh"])
    save_agent_profile(admin, context.staff["wang"], capacity=20, skills=["zh", "billing"])
    set_availability(
        admin,
        zhou,
        Availability.AWAY,
        away_until=timezone.now() + timedelta(days=1),
    )
