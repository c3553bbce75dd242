"""The documented attachment size (``KEFU_MAX_UPLOAD_MB``, 25 MB) is reachable through the API,
whose JSON carries files base64-encoded (a third larger), while every other route keeps
Django's general body limit (issue 24, item 5)."""

import base64
import os

import pytest

from kefu.api.tests.conftest import error_fields
from kefu.tickets.models import Attachment

MB = 1024 * 1024


def _file(size: int, name: str = "dump.bin") -> dict:
    return {"filename": name, "content_base64": base64.b64encode(os.urandom(size)).decode()}


@pytest.fixture
def small_limit(settings):
    """3 MB instead of 25, derived the way kefu/settings.py derives Django's limit from it."""
    settings.MAX_UPLOAD_BYTES = 3 * MB
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = settings.MAX_UPLOAD_BYTES + MB


def test_a_25_mb_attachment_is_accepted_with_the_default_settings(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.agent).post(
        f"/tickets/{ticket.pk}/messages", {"body": "Full log", "attachments": [_file(25 * MB)]}
    )
    assert response.status_code == 201, response.content[:300]
    assert Attachment.objects.get().size == 25 * MB


def test_a_ticket_may_be_opened_with_a_file_of_the_full_size(cast, api_as, small_limit):
    response = api_as(cast.alice).post(
        "/tickets", {"subject": "Crash dump", "body": "attached", "attachments": [_file(3 * MB)]}
    )
    assert response.status_code == 201, response.content[:300]


def test_one_byte_over_the_size_is_413_naming_the_file(cast, api_as, make_ticket, small_limit):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.agent).post(
        f"/tickets/{ticket.pk}/messages", {"body": "x", "attachments": [_file(3 * MB + 1)]}
    )
    assert response.status_code == 413
    assert error_fields(response) == ["attachments.0.content_base64"]
    assert not Attachment.objects.exists()


def test_a_body_beyond_the_attachment_limit_is_413_unread(cast, api_as, make_ticket, small_limit):
    ticket = make_ticket(cast.alice)
    files = [_file(2 * MB, f"part-{n}.bin") for n in range(3)]  # 6 MB together
    response = api_as(cast.agent).post(
        f"/tickets/{ticket.pk}/messages", {"body": "x", "attachments": files}
    )
    assert response.status_code == 413
    assert "at most 3 MB" in response.json()["detail"]
    assert not Attachment.objects.exists()


def test_other_routes_keep_the_general_body_limit(cast, api_as, make_ticket, small_limit):
    ticket = make_ticket(cast.alice)
    oversized = {"reason": "x" * (4 * MB + 1)}  # fits the attachment routes, not this one
    response = api_as(cast.agent).patch(f"/tickets/{ticket.pk}", oversized)
    assert response.status_code == 413
    assert response.json()["detail"]


def _deliver_mail(cast, size: int):
    from django.test import Client

    from kefu.intake.tests.conftest import build_mail

    raw = build_mail(sender="big@customer.example", body="x" * size)
    return Client().post(
        "/api/v1/channels/email/inbound",
        raw,
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {cast.token(cast.admin)}"},
    )


@pytest.fixture
def mail_limit_above_the_general_limit(settings):
    """As by default (30 MB of mail, 26 MB general), scaled down to 3 and 2 MB."""
    settings.MAX_INBOUND_EMAIL_MB = 3
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * MB


def test_the_inbound_mail_webhook_takes_mail_up_to_its_own_limit(
    cast, mail_limit_above_the_general_limit
):
    response = _deliver_mail(cast, int(2.5 * MB))
    assert response.status_code == 200, response.content[:300]
    assert response.json()["outcome"] == "ticket_created"


def test_the_inbound_mail_webhook_refuses_mail_over_its_limit(
    cast, mail_limit_above_the_general_limit
):
    for size in (3 * MB + 1, 5 * MB):  # inside the slack (the handler refuses), and beyond
        response = _deliver_mail(cast, size)
        assert response.status_code == 413
        assert "over the limit of 3 MB" in response.json()["detail"]
