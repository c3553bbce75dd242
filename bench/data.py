"""The benchmark's data shapes, shared by the Kefu seeder and the django-helpdesk peer's seeder.

Pure Python (no Django, no Kefu import) so both virtual environments generate the very same
tickets from the same seed. ``SEED_VERSION`` keys the cached dumps: change it whenever the shapes
below change, so a rerun seeds again instead of measuring stale data.

Shapes, per ticket ``i`` of ``n``: a subject (about 60 % Simplified Chinese, 10 % Traditional,
30 % English), 1–4 messages of 200 B–2 KB (the customer's first message, then agent replies and
customer answers; one in five tickets with an internal note), events (created, one per further
message, the state change for finished tickets), created over three years, newest = highest id.
About 5 % of the tickets are open (most of the last 3 %, a few older ones); open tickets are
assigned to one of the agents of their group or unassigned. Contacts: n/5, a third without an
organisation; organisations: n/100; four groups with five agents each.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

SEED_VERSION = 3
TEXT_VARIANTS = 50_021  # distinct texts; ticket i writes text i % TEXT_VARIANTS (cheap 1M seeds)
GROUPS = 4
AGENTS_PER_GROUP = 5
END = datetime(2026, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)
NUMBER_BASE = 10_000_000
RARE_EVERY = 20_000  # one ticket in this many holds the rare term
RARE_TERM = "zebrafault"
COMMON_TERM = "printer"
CHINESE_TERM = "显示器"

PRODUCTS = ["打印机", "显示器", "洗衣机", "空调", "冰箱", "路由器", "扫描仪", "笔记本电脑", "投影仪", "净水器"]  # fmt: skip
PROBLEMS = ["开机后黑屏", "无法联网", "报错", "噪音很大", "漏水", "不制冷", "卡纸", "屏幕闪烁", "自动关机", "充不上电"]  # fmt: skip
TRADITIONAL = ["顯示器無法開機", "螢幕一直閃爍", "網路連線中斷", "請盡快處理", "發票還沒收到"]
ENGLISH_SUBJECTS = [
    "The printer stopped printing after the firmware update",
    "Screen stays black after power on",
    "Router drops the connection every few minutes",
    "Please send a technician, the unit is leaking water",
    "Invoice for order {n} is missing",
    "Warranty claim for serial number SN-{year}-{n:05d}",
    "Refund request for order {n}",
    "Cannot log in to the customer portal",
]
ENGLISH_LINES = [
    "Hello, the unit stopped working after the firmware update and shows error code E{code}.",
    "We already restarted it three times and unplugged it overnight, the problem remains.",
    "Could you please arrange for an engineer to visit our office this week?",
    "The serial number is SN-{year}-{n:05d} and it was bought in {year} from your online shop.",
    "Please find the order number {n} below; the invoice has not arrived yet.",
    "Our whole team depends on this machine, so a quick answer would be appreciated.",
]
CHINESE_LINES = [
    "您好，我们公司的{product}{problem}，错误代码 E{code}，请尽快安排工程师上门。",
    "{product}使用不到一个月就{problem}了，能否更换？订单号 {n}。",
    "客户反映{product}{problem}，已经重启过三次，问题依旧。",
    "请问{product}的保修期是多久？序列号 SN-{year}-{n:05d}。",
    "我们已经按照说明书检查了电源和线路，还是没有解决，麻烦你们看一下。",
    "如果需要寄回维修，请告诉我们地址和运费怎么处理，谢谢。",
]
AGENT_LINES = [
    "感谢您的耐心等待，我们已经安排工程师在两个工作日内与您联系。",
    "Thank you for the details. Please try a factory reset as described in the manual.",
    "备件已寄出，快递单号 SF{n:010d}，请注意查收。",
    "We have issued a replacement; the courier will collect the faulty unit.",
]
NOTES = ["已联系客户，等待回复", "转技术支持部处理", "internal: customer is a VIP, escalate", "备件已寄出"]  # fmt: skip
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"


@dataclass
class MessageShape:
    body: str
    internal: bool
    from_customer: bool
    offset: timedelta


@dataclass
class TicketShape:
    index: int
    number: int
    subject: str
    state: str  # Kefu's state names; the peer maps them
    priority: str
    channel: str
    group: int  # 0 … GROUPS-1
    assignee: int | None  # agent index 0 … GROUPS*AGENTS_PER_GROUP-1
    contact: int
    created_at: datetime
    messages: list[MessageShape] = field(default_factory=list)

    @property
    def updated_at(self) -> datetime:
        return self.created_at + max(m.offset for m in self.messages)

    @property
    def is_open(self) -> bool:
        return self.state in ("new", "open", "pending_customer", "on_hold")


def counts(n: int) -> tuple[int, int]:
    """(contacts, organisations) for n tickets."""
    return max(n // 5, 1), max(n // 100, 1)


def contact(c: int, organisations: int) -> tuple[str, str, str, int | None]:
    """(name, e-mail, phone, organisation index or None) of contact ``c``."""
    name = f"{SURNAMES[c % len(SURNAMES)]}{c}" if c % 4 else f"Customer {c}"
    organisation = c % organisations if c % 3 else None
    return name, f"customer{c}@example{c % 97}.com", f"+86138{c:08d}", organisation


def organisation_name(o: int) -> str:
    return f"华东电器{o}有限公司" if o % 3 else f"Acme Trading {o} Ltd"


def _body(rnd: random.Random, lines: list[str], values: dict, size: int) -> str:
    parts: list[str] = []
    while sum(len(p.encode()) for p in parts) < size:
        parts.append(rnd.choice(lines).format(**values))
    return "\n".join(parts)


@functools.cache
def texts(variant: int) -> tuple[str, bool, tuple[tuple[str, bool, bool, int], ...]]:
    """(subject, English?, messages as (body, internal, from customer, hours after creation))."""
    rnd = random.Random(variant * 7919 + SEED_VERSION)
    product, problem = rnd.choice(PRODUCTS), rnd.choice(PROBLEMS)
    values = {
        "product": product, "problem": problem, "code": rnd.randint(1, 99), "n": variant,
        "year": rnd.randint(2019, 2025),
    }  # fmt: skip
    roll = rnd.random()
    english = roll < 0.3
    if english:
        subject = rnd.choice(ENGLISH_SUBJECTS).format(**values)
    elif roll < 0.4:
        subject = rnd.choice(TRADITIONAL)
    else:
        subject = f"{product}{problem}"
    customer_lines = ENGLISH_LINES if english else CHINESE_LINES
    messages = []
    for m in range(rnd.choice((1, 1, 2, 2, 2, 3, 3, 4))):
        from_customer = m % 2 == 0
        lines = customer_lines if from_customer else AGENT_LINES
        size = 200 + int(1800 * rnd.random() ** 2)  # most mails are short
        messages.append(
            (_body(rnd, lines, values, size), False, from_customer, m * rnd.randint(1, 30))
        )
    if rnd.random() < 0.2:
        messages.append((rnd.choice(NOTES), True, False, messages[-1][3]))
    return subject[:255], english, tuple(messages)


def ticket(i: int, n: int) -> TicketShape:
    rnd = random.Random(i * 7919 + SEED_VERSION)
    subject, _english, messages = texts(i % TEXT_VARIANTS)
    contacts, _organisations = counts(n)
    created = END - SPAN + SPAN * (i / max(n, 1)) + timedelta(seconds=rnd.randint(0, 600))
    recent = i >= n * 0.97
    if (recent and rnd.random() < 0.7) or rnd.random() < 0.03:
        state = rnd.choice(("new", "open", "open", "pending_customer", "on_hold"))
    else:
        state = rnd.choice(("resolved", "closed", "closed"))
    group = i % GROUPS
    assignee = None
    if state != "new" and rnd.random() < 0.8:
        assignee = group * AGENTS_PER_GROUP + rnd.randrange(AGENTS_PER_GROUP)
    shape = TicketShape(
        index=i, number=NUMBER_BASE + i, subject=subject, state=state,
        priority=rnd.choice(("low", "medium", "medium", "medium", "high", "urgent")),
        channel=rnd.choice(("email", "email", "web", "api", "phone")), group=group,
        assignee=assignee, contact=(i * 7919) % contacts, created_at=created,
    )  # fmt: skip
    for m, (body, internal, from_customer, hours) in enumerate(messages):
        if m == 0 and i % RARE_EVERY == 0:
            body += f"\nThe display shows {RARE_TERM} on startup"
        offset = timedelta(hours=hours, minutes=5 if internal else 0)
        shape.messages.append(MessageShape(body, internal, from_customer, offset))
    return shape
