"""Demo automation: time rules for waiting and resolved tickets, a trigger for urgent tickets,
and macros and canned responses in Chinese and English."""

from __future__ import annotations

from kefu.automation.actions import (
    save_canned_response,
    save_macro,
    save_time_rule,
    save_trigger,
)
from kefu.automation.models import Visibility
from kefu.customers.demo import DemoContext

REMINDER = (
    "{{ customer.name }}，您好！\n\n"
    "工单 #{{ ticket.number }}（{{ ticket.subject }}）还在等待您的回复。"
    "如果问题已经解决，无需回复；7 天内没有回复，我们会将工单标记为已解决。\n\n"
    "Hello {{ customer.name }}, ticket #{{ ticket.number }} is waiting for your reply. "
    "If we do not hear from you within 7 days, we will mark it as resolved.\n\n"
    "{{ site.name }}"
)


def load_demo(context: DemoContext) -> None:
    admin = context.staff["admin"]
    save_time_rule(
        admin,
        name="等待客户 3 天：提醒 / Remind after 3 days",
        state="pending_customer",
        delay=3,
        unit="days",
        conditions=[],
        actions=[{"type": "add_reply", "body": REMINDER}],
        position=10,
    )
    save_time_rule(
        admin,
        name="等待客户 7 天：解决 / Resolve after 7 days",
        state="pending_customer",
        delay=7,
        unit="days",
        conditions=[],
        actions=[
            {
                "type": "add_note",
                "body": "客户 7 天未回复，工单自动解决。The customer did not reply for 7 days.",
            },
            {"type": "set_state", "value": "resolved"},
        ],
        position=20,
    )
    save_time_rule(
        admin,
        name="已解决 5 天：关闭 / Close 5 days after resolution",
        state="resolved",
        delay=5,
        unit="days",
        conditions=[],
        actions=[{"type": "set_state", "value": "closed"}],
        position=30,
    )
    save_trigger(
        admin,
        name="紧急工单通知部门 / Urgent tickets alert the group",
        description="Urgent tickets get a note and an e-mail to the group's members.",
        events=["created", "updated"],
        match="all",
        conditions=[{"field": "priority", "operator": "is", "value": "urgent"}],
        actions=[
            {
                "type": "add_note",
                "body": "紧急工单：请在 1 小时内处理。Urgent: please handle within the hour.",
            },
            {
                "type": "notify",
                "value": "group",
                "subject": "[紧急 Urgent] #{{ ticket.number }} {{ ticket.subject }}",
                "body": (
                    "{{ customer.name }}（{{ organization.name }}）的紧急工单需要处理：\n"
                    "{{ ticket.url }}"
                ),
            },
        ],
        position=10,
    )
    save_macro(
        admin,
        name="请提供序列号 / Ask for the serial number",
        visibility=Visibility.EVERYONE,
        actions=[
            {"type": "set_state", "value": "pending_customer"},
            {"type": "add_tags", "value": "需要序列号"},
        ],
        reply_body=(
            "{{ customer.name }}，您好！为了尽快处理工单 #{{ ticket.number }}，请提供设备背面"
            "铭牌上的序列号和购买日期。\n\n"
            "Hello {{ customer.name }}, please send us the serial number on the back of the "
            "device and the purchase date.\n\n{{ agent.name }}"
        ),
    )
    save_macro(
        admin,
        name="转售后上门 / Hand over for an on-site visit",
        visibility=Visibility.GROUP,
        group=context.groups["cs"],
        actions=[
            {"type": "set_group", "value": str(context.groups["aftersales"].pk)},
            {"type": "set_priority", "value": "high"},
            {"type": "add_tags", "value": "上门维修"},
        ],
        reply_body="已转售后服务部安排上门维修。Handed to after-sales for an on-site repair.",
        reply_internal=True,
    )
    for title, body, visibility, owner in (
        (
            "问候 Greeting",
            "{{ customer.name }}，您好！感谢您联系{{ site.name }}。",
            Visibility.EVERYONE,
            admin,
        ),
        (
            "重启设备 Restart the device",
            "请先断电 30 秒后重新开机，看看问题是否依旧。\n"
            "Please unplug the device for 30 seconds, then switch it on again.",
            Visibility.EVERYONE,
            admin,
        ),
        (
            "结束语 Closing",
            "如还有其他问题，请直接回复此邮件。祝您生活愉快！\n"
            "If you have any other questions, just reply to this e-mail.\n{{ agent.name }}",
            Visibility.PERSONAL,
            context.staff["wang"],
        ),
    ):
        save_canned_response(owner, title=title, body=body, visibility=visibility)
