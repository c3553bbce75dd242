"""Demo data of the ticket workspace: a category tree, custom fields, a parent with a child, and
the units (customers' demo) some demo tickets are about."""

from __future__ import annotations

from kefu.customers.demo import DemoContext
from kefu.customers.models import Asset
from kefu.tickets.actions import update_ticket
from kefu.tickets.custom_fields import save_custom_field
from kefu.tickets.models import Category, Ticket, TicketType
from kefu.tickets.relations import link_tickets

CATEGORIES: dict[str, dict[str, list[str]]] = {
    "硬件 Hardware": {
        "显示 Display": ["无图像 No picture", "花屏 Flicker"],
        "电源 Power": [],
    },
    "软件 Software": {"固件 Firmware": [], "安装 Installation": []},
    "安装与上门 On-site service": {},
}

# Demo ticket subjects (kefu.demo.load.STORIES) and the unit (customers' demo) each one is about.
TICKET_ASSETS = {
    "打印机开机后黑屏报错 E23": "LP3300-2301-0042",
    "空调安装预约": "KFR35-2502-3381",
    "Warranty repair request: dishwasher does not drain": "DW60-4821-0097",
    "冰箱不制冷，食材需要尽快处理": "BCD450-2201-7788",
    "洗衣机脱水时噪音很大": "WM80-2212-0456",
}


def _categories() -> None:
    position = 0
    for top, middle in CATEGORIES.items():
        parent = Category.objects.create(name=top, position=position)
        position += 1
        for name, leaves in middle.items():
            child = Category.objects.create(name=name, parent=parent)
            for leaf in leaves:
                Category.objects.create(name=leaf, parent=child)


def load_demo(context: DemoContext) -> None:
    admin = context.staff["admin"]
    for subject, serial in TICKET_ASSETS.items():
        ticket = Ticket.objects.filter(subject=subject).order_by("pk").first()
        if ticket is not None:
            update_ticket(None, ticket, asset=Asset.objects.get(serial_number=serial))
    _categories()
    incident = TicketType.objects.filter(key="incident").first()
    save_custom_field(
        admin,
        key="purchase_channel",
        label="购买渠道 Purchase channel",
        kind="choice",
        choices=["京东 JD.com", "天猫 Tmall", "门店 Store", "经销商 Dealer"],
        position=1,
    )
    save_custom_field(
        admin,
        key="error_code",
        label="故障代码 Error code",
        kind="text",
        position=2,
        ticket_types=[incident] if incident else [],
    )
    save_custom_field(
        admin, key="onsite_needed", label="需要上门 On-site visit", kind="checkbox", position=3
    )
    # Two open tickets of the first group become parent and child.
    open_tickets = list(
        Ticket.objects.open().filter(group=context.groups["cs"]).order_by("created_at")[:2]
    )
    if len(open_tickets) == 2:
        link_tickets(admin, open_tickets[0], open_tickets[1], "child")
