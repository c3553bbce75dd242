"""Demo data for ``kefu run --demo`` and ``kefu demo load``: departments, staff, customers and
about twenty after-sales tickets in Chinese and English, each with its history.

Everything is written through the actions, exactly as the console and portal would write it, so
the demo also exercises the real rules (who may move or answer what). Loading is all-or-nothing
and happens once: the demo administrator's account marks a database that has it.

This module sits at the top of the import order: it creates the base data (departments, staff,
customers, tickets with their stories), then runs each app's own ``demo.py`` loader (``LOADERS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from kefu.accounts.actions import create_user, get_or_create_group, set_escalation_group
from kefu.accounts.models import Access, Group, Role, User
from kefu.automation import demo as automation_demo
from kefu.customers import demo as customers_demo
from kefu.customers.actions import (
    create_contact,
    create_customer_user,
    get_or_create_organization,
    update_organization,
)
from kefu.customers.demo import DemoContext
from kefu.customers.models import Contact, Organization
from kefu.intake import demo as intake_demo
from kefu.notifications import demo as notifications_demo
from kefu.routing import demo as routing_demo
from kefu.tickets import demo as tickets_demo
from kefu.tickets.actions import NewTicket, add_message, create_ticket, update_ticket
from kefu.tickets.models import Message, Ticket
from kefu.triage import demo as triage_demo

ADMIN_EMAIL = "admin@demo.kefu"

GROUPS = {
    # The first one becomes the default group on an empty database.
    "cs": "客服部 Customer Service",
    "aftersales": "售后服务部 After-sales Service",
    "tech": "技术支持部 Technical Support",
    "quality": "质量管理部 Quality Management",
}


@dataclass(frozen=True)
class StaffMember:
    key: str
    email: str
    name: str
    role: str
    password: str
    memberships: tuple[tuple[str, str], ...] = ()
    language: str = ""


STAFF = (
    StaffMember("admin", ADMIN_EMAIL, "管理员 Ada Admin", Role.ADMIN, "kefu-demo-admin"),
    StaffMember(
        "supervisor",
        "supervisor@demo.kefu",
        "苏丽 Su Li",
        Role.SUPERVISOR,
        "kefu-demo-supervisor",
        (("cs", Access.FULL), ("aftersales", Access.FULL)),
        "zh-hans",
    ),
    StaffMember(
        "wang",
        "wang@demo.kefu",
        "王小明 Wang Xiaoming",
        Role.AGENT,
        "kefu-demo-agent",
        (("cs", Access.FULL),),
        "zh-hans",
    ),
    StaffMember(
        "lina",
        "lina@demo.kefu",
        "李娜 Li Na",
        Role.AGENT,
        "kefu-demo-agent",
        (("aftersales", Access.FULL), ("cs", Access.READ)),
        "zh-hans",
    ),
    StaffMember(
        "tom",
        "tom@demo.kefu",
        "Tom Baker",
        Role.AGENT,
        "kefu-demo-agent",
        (("tech", Access.FULL), ("aftersales", Access.READ)),
        "en",
    ),
    StaffMember(
        "zhao",
        "zhao@demo.kefu",
        "赵敏 Zhao Min",
        Role.AGENT,
        "kefu-demo-agent",
        (("quality", Access.FULL), ("cs", Access.FULL)),
        "zh-hans",
    ),
)

ORGANIZATIONS = {
    # key: (name, members see each other's tickets)
    "huadong": ("华东电器有限公司", True),
    "northwind": ("Northwind Trading Ltd.", False),
    "bluesky": ("蓝天酒店 Blue Sky Hotel", False),
}

CUSTOMER_PASSWORD = "kefu-demo-customer"  # noqa: S105 - published demo login


@dataclass(frozen=True)
class Customer:
    key: str
    name: str
    email: str | None = None
    phone: str | None = None
    wechat_id: str | None = None
    organization: str | None = None
    language: str = ""
    has_login: bool = False


CUSTOMERS = (
    Customer(
        "zhangwei",
        "张伟 Zhang Wei",
        "zhangwei@huadong.example",
        organization="huadong",
        language="zh-hans",
        has_login=True,
    ),
    Customer(
        "liuyang",
        "刘洋 Liu Yang",
        "liuyang@huadong.example",
        organization="huadong",
        language="zh-hans",
        has_login=True,
    ),
    Customer(
        "emma",
        "Emma Clarke",
        "emma.clarke@northwind.example",
        organization="northwind",
        language="en",
        has_login=True,
    ),
    Customer(
        "james",
        "James Wong",
        "james.wong@northwind.example",
        phone="+852 9123 4567",
        organization="northwind",
        language="en",
    ),
    Customer(
        "chenjing",
        "陈静 Chen Jing",
        phone="138 1234 5678",
        organization="bluesky",
        language="zh-hans",
    ),
    Customer(
        "zhoujie", "周杰 Zhou Jie", "zhoujie@mail.example", language="zh-hans", has_login=True
    ),
    Customer("sarah", "Sarah Miller", "sarah.miller@mail.example", language="en"),
    Customer(
        "xiaolin",
        "小林 Xiao Lin",
        phone="139 8765 4321",
        wechat_id="xiaolin_88",
        language="zh-hans",
    ),
)

# Steps of a ticket's history, applied in order:
#   ("reply", staff, text)  public reply      ("note", staff, text)  internal note
#   ("customer", text)      customer's reply  ("update", staff, {field: value})
# In updates, "group" names a GROUPS key and "assignee" a STAFF key.
Step = tuple[Any, ...]


@dataclass(frozen=True)
class Story:
    customer: str
    subject: str
    body: str
    opened_by: str  # "customer" (portal) or the STAFF key of who logged it on their behalf
    channel: str
    priority: str
    type: str
    group: str = "cs"
    tags: tuple[str, ...] = ()
    steps: tuple[Step, ...] = field(default=())


STORIES = (
    Story(
        "zhangwei",
        "打印机开机后黑屏报错 E23",
        "办公室的激光打印机今天早上开机后屏幕全黑，只显示错误代码 E23，无法打印。型号 LP-3300，去年 5 月购买。",
        "customer",
        "web",
        "high",
        "incident",
        tags=("打印机", "保修"),
        steps=(
            ("update", "wang", {"assignee": "wang", "state": "open"}),
            (
                "reply",
                "wang",
                "张先生您好，E23 通常表示定影单元温度异常。请先关机并拔掉电源 10 分钟后再开机试试，如果仍然报错请告诉我们。",
            ),
            ("customer", "按您说的重启了两次，还是黑屏报 E23。"),
            (
                "note",
                "wang",
                "Likely a failed fuser unit. Still under warranty — needs an on-site engineer, handing over to after-sales.",
            ),
            ("update", "supervisor", {"group": "aftersales", "assignee": "lina"}),
            (
                "reply",
                "lina",
                "张先生您好，已为您安排工程师明天上午 9:00–12:00 上门更换定影组件，费用在保修范围内。",
            ),
            ("update", "lina", {"state": "pending_customer"}),
        ),
    ),
    Story(
        "liuyang",
        "空调安装预约",
        "新买的格力挂机（KFR-35GW）想预约本周六上午安装，地址：上海市浦东新区张江路 88 号 3 楼。",
        "customer",
        "web",
        "medium",
        "request",
        tags=("安装",),
        steps=(
            ("update", "supervisor", {"group": "aftersales", "assignee": "lina"}),
            (
                "reply",
                "lina",
                "刘先生您好，已为您预约周六（本周）9:00–12:00 上门安装，师傅出发前会电话联系您。",
            ),
            ("customer", "好的，谢谢！"),
            ("update", "lina", {"state": "resolved"}),
        ),
    ),
    Story(
        "emma",
        "Warranty repair request: dishwasher does not drain",
        "Our DW-60 dishwasher in the office kitchen stopped draining last week. Water stays at the bottom after every cycle. It was bought in March 2024, so it should still be under warranty.",
        "customer",
        "web",
        "medium",
        "repair",
        tags=("warranty",),
        steps=(
            (
                "reply",
                "wang",
                "Hello Emma, sorry to hear that. Could you send us the serial number (on the inside of the door) and a copy of the receipt?",
            ),
            (
                "customer",
                "Serial number DW60-4821-0097; the receipt is from Northwind's purchase order PO-2024-031.",
            ),
            (
                "note",
                "wang",
                "Purchased 2024-03-12, within the 2-year warranty. Drain pump probably blocked or broken.",
            ),
            ("update", "supervisor", {"group": "aftersales", "assignee": "lina"}),
            (
                "reply",
                "lina",
                "Hello Emma, the repair is covered by the warranty. We have ordered a new drain pump; an engineer will call you as soon as it arrives.",
            ),
            ("update", "lina", {"state": "on_hold"}),
        ),
    ),
    Story(
        "james",
        "Invoice question: wrong company name on VAT invoice",
        "James called: the VAT invoice for order 2024-1187 shows 'Northwind Trade' instead of 'Northwind Trading Ltd.'. He needs a corrected invoice for their accounts.",
        "wang",
        "phone",
        "low",
        "question",
        tags=("invoice",),
        steps=(
            ("update", "wang", {"assignee": "wang"}),
            (
                "reply",
                "wang",
                "Dear Mr Wong, we have cancelled the invoice and issued a corrected one to Northwind Trading Ltd.; you will receive it by e-mail within two working days.",
            ),
            ("update", "wang", {"state": "resolved"}),
        ),
    ),
    Story(
        "sarah",
        "Complaint about late delivery",
        "I ordered a coffee machine on the 2nd with guaranteed 3-day delivery. It is now nine days later and nothing has arrived. Nobody answers the phone. This is unacceptable.",
        "wang",
        "email",
        "high",
        "complaint",
        tags=("delivery", "complaint"),
        steps=(
            (
                "reply",
                "wang",
                "Dear Ms Miller, we apologise for the delay. We are checking with the courier right now and will update you today.",
            ),
            (
                "note",
                "wang",
                "Courier confirms the parcel was lost in transit. Reshipping from the Suzhou warehouse, express.",
            ),
            ("update", "wang", {"assignee": "zhao", "priority": "urgent"}),
            (
                "reply",
                "zhao",
                "Dear Ms Miller, a replacement has been sent by express (tracking SF1234567890) and we have refunded the delivery fee. Please let us know when it arrives.",
            ),
            ("update", "zhao", {"state": "pending_customer"}),
        ),
    ),
    Story(
        "chenjing",
        "冰箱不制冷，食材需要尽快处理",
        "酒店后厨的双门冰箱从昨晚开始不制冷，温度显示 15°C，里面有大量食材，希望今天能派人上门。",
        "wang",
        "phone",
        "urgent",
        "incident",
        tags=("上门维修",),
        steps=(
            ("note", "wang", "酒店客户，后厨冰箱，影响营业。已建议客户先把食材转移到冷库。"),
            ("update", "supervisor", {"group": "aftersales", "assignee": "lina"}),
            ("note", "lina", "已联系浦东网点，工程师下午 2 点前到达。"),
            ("update", "lina", {"state": "open"}),
        ),
    ),
    Story(
        "zhoujie",
        "洗衣机脱水时噪音很大",
        "滚筒洗衣机用了两年，最近脱水的时候声音特别大，整台机器都在晃。",
        "customer",
        "web",
        "medium",
        "repair",
        steps=(
            ("update", "wang", {"assignee": "wang"}),
            (
                "reply",
                "wang",
                "周先生您好，请检查洗衣机底部的四个脚是否放平，以及运输螺栓是否已经拆除。",
            ),
            ("customer", "脚是平的，运输螺栓买的时候就拆了。"),
            ("note", "wang", "可能是减震器或轴承问题，需要上门检测。"),
        ),
    ),
    Story(
        "emma",
        "API integration: order sync returns HTTP 500",
        "Since this morning our ERP's order sync gets HTTP 500 from your order API for about one request in ten. Request ids attached below: 7f3c9a, 81b2e0.",
        "customer",
        "api",
        "high",
        "problem",
        tags=("api",),
        steps=(
            ("update", "admin", {"group": "tech", "assignee": "tom"}),
            (
                "reply",
                "tom",
                "Hi Emma, thanks for the request ids. We found a timeout in the inventory service and deployed a fix an hour ago. Could you check whether the errors are gone?",
            ),
            (
                "note",
                "tom",
                "Root cause: connection pool exhausted under the morning batch. Pool size raised from 10 to 30.",
            ),
            ("update", "tom", {"state": "pending_customer"}),
        ),
    ),
    Story(
        "xiaolin",
        "请问保修期是多久？",
        "你好，我在你们天猫店买的电饭煲，保修期是一年还是两年？",
        "wang",
        "phone",
        "low",
        "question",
        steps=(
            (
                "reply",
                "wang",
                "您好，电饭煲整机保修一年，内胆涂层保修两年，凭订单号即可享受保修服务。",
            ),
            ("update", "wang", {"state": "closed"}),
        ),
    ),
    Story(
        "sarah",
        "Request for the user manual of model KF-200",
        "Could you send me the user manual of the KF-200 air purifier as a PDF? I lost the printed one.",
        "wang",
        "email",
        "low",
        "question",
        steps=(
            (
                "reply",
                "wang",
                "Dear Ms Miller, you can download the KF-200 manual from our help centre under Downloads → Air purifiers. We have also attached the link to this e-mail.",
            ),
            ("update", "wang", {"state": "resolved"}),
        ),
    ),
    Story(
        "liuyang",
        "产品质量投诉：新买的电热水壶漏水",
        "上周买的电热水壶，第一次烧水底部就漏水，差点烫伤，要求退换并说明原因。",
        "customer",
        "web",
        "high",
        "complaint",
        tags=("质量问题",),
        steps=(
            ("update", "admin", {"group": "quality", "assignee": "zhao"}),
            ("note", "zhao", "批次 B2406 已有 3 起同类投诉，已提交质量分析。"),
            (
                "reply",
                "zhao",
                "刘先生您好，非常抱歉给您带来不便。我们会为您免费更换新品，旧壶请交给上门的快递员，检测结果出来后会告知您。",
            ),
            ("update", "zhao", {"state": "on_hold"}),
        ),
    ),
    Story(
        "zhoujie",
        "会员积分没有到账",
        "上个月 15 号的订单确认收货后积分一直没有到账，订单号 20240615-8812。",
        "customer",
        "web",
        "low",
        "question",
    ),
    Story(
        "james",
        "Replacement remote control for the air conditioner",
        "James needs a replacement remote for the KFR-50 units in their Hong Kong office (lost during office move).",
        "lina",
        "phone",
        "low",
        "request",
        group="aftersales",
        steps=(
            ("update", "lina", {"assignee": "lina"}),
            (
                "reply",
                "lina",
                "Dear Mr Wong, a replacement remote (model RC-50) is on its way; it costs HKD 120, which we will add to your next invoice.",
            ),
            ("update", "lina", {"state": "resolved"}),
        ),
    ),
    Story(
        "zhangwei",
        "电视遥控器失灵，已更换电池",
        "会议室电视的遥控器按键没有反应，已经换过新电池了。",
        "customer",
        "web",
        "low",
        "incident",
    ),
    Story(
        "emma",
        "Wrong item delivered: ordered white, received black",
        "We ordered 4 white KF-200 air purifiers (order 2024-1302) and received black ones. They don't match the office.",
        "customer",
        "web",
        "medium",
        "complaint",
        steps=(
            (
                "reply",
                "wang",
                "Hello Emma, sorry for the mix-up. We will collect the black units and deliver white ones this Thursday.",
            ),
            ("update", "wang", {"assignee": "wang", "state": "resolved"}),
            ("customer", "Thursday is a public holiday here, could you come on Friday instead?"),
            (
                "reply",
                "wang",
                "Of course — Friday morning it is. The driver will call 30 minutes ahead.",
            ),
        ),
    ),
    Story(
        "chenjing",
        "上门维修后仍然漏水，要求退货",
        "冰箱维修后第二天又开始漏水，已经是第二次了，要求直接退货。",
        "zhao",
        "phone",
        "urgent",
        "complaint",
        tags=("退货", "投诉"),
        steps=(
            (
                "note",
                "zhao",
                "Second repair on the same unit within 30 days. Escalating to the supervisor for a return decision.",
            ),
            ("update", "zhao", {"assignee": "supervisor"}),
            ("note", "supervisor", "同意退货，按三包规定处理。"),
        ),
    ),
    Story(
        "sarah",
        "Firmware update failed on smart thermostat",
        "The app said a firmware update was available for my ST-10 thermostat. It stopped at 60% and now the display only shows 'Er 7'.",
        "tom",
        "email",
        "medium",
        "incident",
        group="tech",
        steps=(
            ("update", "tom", {"assignee": "tom"}),
            (
                "reply",
                "tom",
                "Hi Sarah, please hold the mode button for 15 seconds to start the recovery mode, then retry the update from the app. Does it get past 60% now?",
            ),
            ("update", "tom", {"state": "pending_customer"}),
        ),
    ),
    Story(
        "liuyang",
        "能否开具增值税专用发票？",
        "公司采购的 5 台空气净化器，需要开增值税专用发票，请问需要提供哪些资料？",
        "customer",
        "web",
        "low",
        "question",
        tags=("发票",),
        steps=(
            (
                "reply",
                "wang",
                "刘先生您好，请提供公司名称、税号、地址电话、开户行及账号，我们会在 3 个工作日内开具。",
            ),
            ("customer", "资料已通过邮件发送给财务，谢谢。"),
            ("close",),
        ),
    ),
    Story(
        "zhangwei",
        "商用冷柜上门安装（3 台）",
        "新门店需要安装 3 台商用立式冷柜，希望下周一到周三之间安装。",
        "customer",
        "web",
        "high",
        "request",
        tags=("安装", "商用"),
        steps=(
            ("update", "supervisor", {"group": "aftersales", "assignee": "lina"}),
            (
                "reply",
                "lina",
                "张先生您好，安装已排在下周二上午，需要提前确认门店的电源是 380V 还是 220V。",
            ),
            ("note", "lina", "需要两位师傅，带搬运设备。"),
        ),
    ),
    Story(
        "xiaolin",
        "Engineer was very professional — thank you",
        "上周来修热水器的师傅非常专业，还帮我们检查了燃气管道，特别感谢！",
        "zhao",
        "phone",
        "low",
        "question",
        group="quality",
        tags=("表扬",),
        steps=(
            ("reply", "zhao", "感谢您的反馈！我们已将表扬转达给工程师和所在网点。"),
            ("update", "zhao", {"state": "closed"}),
        ),
    ),
)


def demo_logins() -> list[tuple[str, str, str]]:
    """(role, e-mail, password) of the demo's logins, or nothing if this database has no demo."""
    if not User.objects.filter(email=ADMIN_EMAIL).exists():
        return []
    logins = [(str(Role(member.role).label), member.email, member.password) for member in STAFF]
    customer = next(c for c in CUSTOMERS if c.has_login)
    logins.append((str(Role.CUSTOMER.label), customer.email or "", CUSTOMER_PASSWORD))
    return logins


# Each app's demo, after the base data, inside its transaction: customers' units first (tickets
# link to them), then in the order the apps' event handlers run (INSTALLED_APPS).
LOADERS: tuple[Callable[[DemoContext], None], ...] = (
    customers_demo.load,
    tickets_demo.load_demo,
    intake_demo.load_demo,
    routing_demo.load_demo,
    automation_demo.load_demo,
    triage_demo.load_triage_demo,
    notifications_demo.load_demo,
)


def load_demo() -> bool:
    """Load the demo data; returns False (and changes nothing) if it is already there."""
    if User.objects.filter(email=ADMIN_EMAIL).exists():
        return False
    with transaction.atomic():
        groups = {key: get_or_create_group(None, name) for key, name in GROUPS.items()}
        # Overdue 客服部 tickets escalate to senior technical support (the SLA engine).
        set_escalation_group(None, groups["cs"], groups["tech"])
        staff = {member.key: _create_staff(member, groups) for member in STAFF}
        organizations = _create_organizations()
        contacts = {
            customer.key: _create_customer(customer, organizations) for customer in CUSTOMERS
        }
        for story in STORIES:
            _tell(story, staff, contacts, groups)
        context = DemoContext(
            groups=groups, staff=staff, organizations=organizations, contacts=contacts
        )
        for loader in LOADERS:
            loader(context)
        # The demo's history happened "before" this install: its replies must not now be mailed
        # to the (made-up) customers by the worker.
        Message.objects.filter(customer_notified_at__isnull=True).update(
            customer_notified_at=timezone.now()
        )
    return True


def _create_staff(member: StaffMember, groups: dict[str, Group]) -> User:
    return create_user(
        None,
        email=member.email,
        name=member.name,
        role=member.role,
        password=member.password,
        groups=[(groups[key], access) for key, access in member.memberships],
        language=member.language,
    )


def _create_organizations() -> dict[str, Organization]:
    organizations = {}
    for key, (name, shares) in ORGANIZATIONS.items():
        organization = get_or_create_organization(None, name)
        organizations[key] = update_organization(None, organization, members_share_tickets=shares)  # type: ignore[arg-type]
    return organizations


def _create_customer(customer: Customer, organizations: dict[str, Organization]) -> Contact:
    organization = organizations[customer.organization] if customer.organization else None
    if customer.has_login:
        user = create_customer_user(
            None,
            email=customer.email or "",
            name=customer.name,
            password=CUSTOMER_PASSWORD,
            organization=organization,
            language=customer.language,
        )
        return Contact.objects.get(user=user)
    return create_contact(
        None,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        wechat_id=customer.wechat_id,
        organization=organization,
        language=customer.language,
    )


def _tell(
    story: Story, staff: dict[str, User], contacts: dict[str, Contact], groups: dict[str, Group]
) -> Ticket:
    contact = contacts[story.customer]
    if story.opened_by == "customer":
        opener, group = _login_of(contact), None
    else:
        opener, group = staff[story.opened_by], groups[story.group]
    ticket = create_ticket(
        opener,
        NewTicket(
            subject=story.subject,
            body=story.body,
            contact=contact,
            channel=story.channel,
            priority=story.priority,
            type_key=story.type,
            group=group,
            tags=() if story.opened_by == "customer" else story.tags,
        ),
    )
    if story.opened_by == "customer" and story.tags:
        update_ticket(None, ticket, tags=list(story.tags))  # customers cannot tag; triage does
    for step in story.steps:
        kind = step[0]
        if kind == "reply":
            add_message(staff[step[1]], ticket, body=step[2], channel=story.channel)
        elif kind == "note":
            add_message(staff[step[1]], ticket, body=step[2], internal=True)
        elif kind == "customer":
            add_message(_login_of(contact), ticket, body=step[1])
        elif kind == "close":
            update_ticket(_login_of(contact), ticket, state="closed")
        elif kind == "update":
            changes = dict(step[2])
            if "group" in changes:
                changes["group"] = groups[changes["group"]]
            if "assignee" in changes:
                changes["assignee"] = staff[changes["assignee"]]
            update_ticket(staff[step[1]], ticket, **changes)
        else:
            raise ValueError(f"unknown demo step {kind!r}")
    return ticket


def _login_of(contact: Contact) -> User:
    if contact.user is None:
        raise ValueError(f"demo customer {contact} has no login but acts in a story")
    return contact.user
