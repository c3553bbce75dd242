"""Contract tests for /api/v1/tickets/{id}/messages and /events, and attachment downloads."""

import base64

import pytest
from django.test import override_settings

from kefu.api.tests.conftest import error_fields
from kefu.tickets.actions import UploadedFile, add_message, update_ticket
from kefu.tickets.models import Message

MESSAGE_KEYS = {"id", "body", "body_html", "internal", "author", "created_at", "attachments"}


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


# --- GET /tickets/{id}/messages -------------------------------------------------------------


def test_staff_see_replies_and_internal_notes(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    add_message(cast.agent, ticket, body="Please restart it.")
    add_message(cast.agent, ticket, body="Customer sounds annoyed", internal=True)

    response = api_as(cast.agent).get(f"/tickets/{ticket.pk}/messages")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["internal"] for item in items] == [False, False, True]
    assert MESSAGE_KEYS <= set(items[0])
    assert items[1]["author"] == {"id": cast.agent.pk, "name": cast.agent.name, "kind": "user"}


def test_customer_never_reads_internal_notes(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    add_message(cast.agent, ticket, body="Please restart it.")
    add_message(cast.agent, ticket, body="Customer sounds annoyed", internal=True)

    for customer in (cast.alice, cast.alan):
        items = api_as(customer).get(f"/tickets/{ticket.pk}/messages").json()["items"]
        assert [item["body"] for item in items] == ["It stopped printing.", "Please restart it."]


@pytest.mark.parametrize("outsider", ["bob", "quality_agent"])
def test_outsiders_get_404_for_messages(cast, api_as, make_ticket, outsider):
    ticket = make_ticket(cast.alice)
    assert api_as(getattr(cast, outsider)).get(f"/tickets/{ticket.pk}/messages").status_code == 404


def test_it_requires_a_token_for_messages(cast, api_as, make_ticket):
    assert api_as(None).get(f"/tickets/{make_ticket().pk}/messages").status_code == 401


# --- POST /tickets/{id}/messages ------------------------------------------------------------


def test_agent_replies(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.agent).post(
        f"/tickets/{ticket.pk}/messages", {"body": "Fixed <b>now</b>"}
    )

    assert response.status_code == 201
    data = response.json()
    assert MESSAGE_KEYS <= set(data)
    assert data["internal"] is False
    assert "<b>" not in data["body_html"]  # plain text is escaped, never interpreted
    assert Message.objects.get(pk=data["id"]).channel == "api"
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None


def test_agent_adds_an_internal_note(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.agent).post(
        f"/tickets/{ticket.pk}/messages", {"body": "check logs", "internal": True}
    )
    assert response.status_code == 201
    assert response.json()["internal"] is True


def test_customer_replies(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.alan).post(f"/tickets/{ticket.pk}/messages", {"body": "Still broken"})
    assert response.status_code == 201
    assert response.json()["author"]["id"] == cast.alan.pk


def test_customer_cannot_post_an_internal_note(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.alice).post(
        f"/tickets/{ticket.pk}/messages", {"body": "psst", "internal": True}
    )
    assert response.status_code == 403
    assert "internal" in response.json()["detail"]
    assert ticket.messages.count() == 1


def test_customer_cannot_reply_to_a_closed_ticket(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    update_ticket(cast.alice, ticket, state="closed")
    response = api_as(cast.alice).post(f"/tickets/{ticket.pk}/messages", {"body": "one more thing"})
    assert response.status_code == 400
    assert response.json()["detail"]


def test_read_only_agent_cannot_reply(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.tech_agent).post(f"/tickets/{ticket.pk}/messages", {"body": "hi"})
    assert response.status_code == 403


@pytest.mark.parametrize("outsider", ["bob", "quality_agent"])
def test_outsiders_cannot_post_messages(cast, api_as, make_ticket, outsider):
    ticket = make_ticket(cast.alice)
    response = api_as(getattr(cast, outsider)).post(
        f"/tickets/{ticket.pk}/messages", {"body": "hi"}
    )
    assert response.status_code == 404
    assert ticket.messages.count() == 1


def test_it_rejects_an_empty_message_naming_the_field(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.agent).post(f"/tickets/{ticket.pk}/messages", {"body": "  "})
    assert response.status_code == 422
    assert error_fields(response) == ["body"]


def test_it_requires_a_token_to_post(cast, api_as, make_ticket):
    assert (
        api_as(None).post(f"/tickets/{make_ticket().pk}/messages", {"body": "hi"}).status_code
        == 401
    )


# --- attachments ----------------------------------------------------------------------------


def test_it_stores_base64_attachments_and_serves_them(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.alice).post(
        f"/tickets/{ticket.pk}/messages",
        {
            "body": "Log attached",
            "attachments": [
                {
                    "filename": "error.log",
                    "content_type": "text/plain",
                    "content_base64": b64(b"E23 at 10:01"),
                }
            ],
        },
    )

    assert response.status_code == 201
    (attachment,) = response.json()["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("error.log", 12)
    download = api_as(cast.agent).client.get(
        attachment["url"], headers={"Authorization": f"Bearer {cast.token(cast.agent)}"}
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"E23 at 10:01"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_it_rejects_an_attachment_that_is_not_base64(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.agent).post(
        f"/tickets/{ticket.pk}/messages",
        {
            "body": "x",
            "attachments": [{"filename": "a.txt", "content_base64": "@@not base64@@"}],
        },
    )
    assert response.status_code == 422
    assert error_fields(response) == ["attachments.0.content_base64"]


@override_settings(MAX_UPLOAD_BYTES=1024)
def test_it_refuses_an_attachment_over_the_limit_with_413(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.agent).post(
        f"/tickets/{ticket.pk}/messages",
        {
            "body": "big",
            "attachments": [{"filename": "big.bin", "content_base64": b64(b"x" * 2048)}],
        },
    )
    assert response.status_code == 413
    assert error_fields(response) == ["attachments.0.content_base64"]
    assert ticket.messages.count() == 1


@override_settings(MAX_UPLOAD_BYTES=1024)
def test_it_refuses_a_request_body_over_the_limit_with_413(cast, api_as):
    # The ticket routes allow the base64 of one attachment plus 1 MB (kefu/api/middleware.py).
    response = api_as(cast.alice).post("/tickets", {"subject": "big", "body": "x" * 2 * 1024**2})
    assert response.status_code == 413
    assert response.json()["detail"]


def test_it_rejects_a_blocked_file_type(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    response = api_as(cast.agent).post(
        f"/tickets/{ticket.pk}/messages",
        {
            "body": "x",
            "attachments": [{"filename": "setup.exe", "content_base64": b64(b"MZ")}],
        },
    )
    assert response.status_code == 422
    assert error_fields(response) == ["attachments"]


def _attach(cast, ticket, *, filename, content_type, internal=False):
    message = add_message(
        cast.agent,
        ticket,
        body="file",
        internal=internal,
        attachments=[
            UploadedFile(
                filename=filename, content=b"<svg onload=alert(1)>", content_type=content_type
            )
        ],
    )
    return message.attachments.get()


def test_images_open_inline_but_active_content_downloads(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    png = _attach(cast, ticket, filename="photo.png", content_type="image/png")
    svg = _attach(cast, ticket, filename="x.svg", content_type="image/svg+xml")
    client = api_as(cast.alice)

    inline = client.get(f"/attachments/{png.pk}")
    assert inline["Content-Disposition"].startswith("inline")
    assert inline["Content-Type"] == "image/png"
    download = client.get(f"/attachments/{svg.pk}")
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Content-Type"] == "application/octet-stream"


def test_customer_cannot_download_an_internal_notes_attachment(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    attachment = _attach(
        cast, ticket, filename="notes.txt", content_type="text/plain", internal=True
    )
    assert api_as(cast.alice).get(f"/attachments/{attachment.pk}").status_code == 404
    assert api_as(cast.agent).get(f"/attachments/{attachment.pk}").status_code == 200


@pytest.mark.parametrize("outsider", ["bob", "quality_agent"])
def test_outsiders_cannot_download_attachments(cast, api_as, make_ticket, outsider):
    ticket = make_ticket(cast.alice)
    attachment = _attach(cast, ticket, filename="a.txt", content_type="text/plain")
    response = api_as(getattr(cast, outsider)).get(f"/attachments/{attachment.pk}")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_it_requires_a_token_to_download(cast, api_as, make_ticket):
    attachment = _attach(cast, make_ticket(cast.alice), filename="a.txt", content_type="text/plain")
    assert api_as(None).get(f"/attachments/{attachment.pk}").status_code == 401


# --- GET /tickets/{id}/events ---------------------------------------------------------------


def test_staff_see_the_whole_timeline(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    update_ticket(cast.agent, ticket, priority="high", state="open", reason="VIP")
    add_message(cast.agent, ticket, body="note", internal=True)

    items = api_as(cast.agent).get(f"/tickets/{ticket.pk}/events").json()["items"]

    assert [item["type"] for item in items] == ["created", "changed", "changed", "note_added"]
    priority = next(item for item in items if item["field"] == "priority")
    assert (priority["old"], priority["new"], priority["reason"]) == ("medium", "high", "VIP")
    assert priority["actor"] == {"id": cast.agent.pk, "name": cast.agent.name}


def test_customer_timeline_hides_staff_only_events(cast, api_as, make_ticket):
    ticket = make_ticket(cast.alice)
    update_ticket(cast.agent, ticket, priority="high", state="open")
    add_message(cast.agent, ticket, body="note", internal=True)

    items = api_as(cast.alice).get(f"/tickets/{ticket.pk}/events").json()["items"]

    assert [(item["type"], item["field"]) for item in items] == [
        ("created", None),
        ("changed", "state"),
    ]


@pytest.mark.parametrize("outsider", ["bob", "quality_agent"])
def test_outsiders_get_404_for_events(cast, api_as, make_ticket, outsider):
    ticket = make_ticket(cast.alice)
    assert api_as(getattr(cast, outsider)).get(f"/tickets/{ticket.pk}/events").status_code == 404


def test_it_requires_a_token_for_events(cast, api_as, make_ticket):
    assert api_as(None).get(f"/tickets/{make_ticket().pk}/events").status_code == 401
