from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from kefu.api.tests.conftest import api_as  # noqa: F401 - the API test client fixture


def build_mail(
    *,
    sender: str = "Li Lei <li.lei@customer.example>",
    to: str = "support@kefu.example",
    subject: str = "打印机报错 E23",
    body: str = "开机后黑屏。",
    message_id: str | None = "auto",
    in_reply_to: str | None = None,
    cc: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if message_id == "auto":
        message_id = make_msgid(domain="customer.example")
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    if cc:
        message["Cc"] = cc
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


@pytest.fixture
def mail():
    return build_mail


@pytest.fixture
def mailbox(cast):
    from kefu.intake.actions import save_mailbox

    return save_mailbox(
        cast.admin,
        name="Support",
        email_address="support@kefu.example",
        from_name="Kefu Support",
        imap_host="127.0.0.1",
        imap_port=1,
        imap_security="none",
        imap_user="support",
        imap_password="secret-imap",
        smtp_host="127.0.0.1",
        smtp_port=1,
        smtp_security="none",
        smtp_user="",
        group=cast.aftersales,
    )
