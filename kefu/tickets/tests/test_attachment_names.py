"""A disguised executable name (``x.exe.``, ``x.EXE ``, full-width letters) is refused wherever
attachments enter: API, console, portal and e-mail (issue 24, item 5)."""

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kefu.intake.actions import ingest_email
from kefu.intake.tests.conftest import build_mail
from kefu.tickets.models import Attachment

DISGUISED = ["setup.exe ", "setup.exe.", "SETUP.EXE", "setup.ｅｘｅ"]


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


@pytest.mark.parametrize("name", DISGUISED)
def test_the_api_refuses_a_disguised_executable(cast, make_ticket, client, name):
    ticket = make_ticket(cast.alice)
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/messages",
        {
            "body": "x",
            "attachments": [{"filename": name, "content_base64": base64.b64encode(b"MZ").decode()}],
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {cast.token(cast.agent)}"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "attachments"
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("name", DISGUISED)
def test_the_console_refuses_a_disguised_executable(client, cast, make_ticket, name):
    ticket = make_ticket(cast.alice)
    client.force_login(cast.agent)
    upload = SimpleUploadedFile(name, b"MZ", content_type="application/octet-stream")
    response = client.post(
        reverse("tickets:reply", args=[ticket.pk]),
        {"body": "Here", "kind": "reply", "attachments": [upload]},
    )
    assert "are not accepted" in response.content.decode()
    assert not ticket.messages.filter(body_text="Here").exists()


@pytest.mark.parametrize("name", DISGUISED)
def test_the_portal_refuses_a_disguised_executable(client, cast, make_ticket, name):
    ticket = make_ticket(cast.alice)
    client.force_login(cast.alice)
    upload = SimpleUploadedFile(name, b"MZ", content_type="application/octet-stream")
    response = client.post(
        reverse("portal:reply", args=[ticket.pk]), {"body": "Here", "attachments": [upload]}
    )
    assert "are not accepted" in response.content.decode()
    assert not ticket.messages.filter(body_text="Here").exists()


def test_an_email_keeps_its_text_and_drops_a_disguised_executable(cast):
    from email import message_from_bytes
    from email.policy import default

    message = message_from_bytes(build_mail(body="See attached."), policy=default)
    message.add_attachment(
        b"MZ", maintype="application", subtype="octet-stream", filename="invoice.exe."
    )
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="ok.pdf")
    ticket = ingest_email(message.as_bytes()).ticket

    first = ticket.messages.get()
    assert [a.filename for a in first.attachments.all()] == ["ok.pdf"]
    assert "invoice.exe." in first.body_text  # the note says what was not accepted
