"""Demo data of the ticket workspace: a category tree, custom fields, a parent with a child."""

from __future__ import annotations

from kefu.lib.demo import DemoContext
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
