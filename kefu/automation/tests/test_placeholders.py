"""The safe placeholder syntax: whitelisted names, one pass, escaping at the output."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from kefu.automation.actions import save_canned_response, save_macro, save_trigger
from kefu.automation.placeholders import render, validate_template
from kefu.lib.jobs import run_pending_jobs
from kefu.tickets.models import Message


def test_it_fills_customer_ticket_and_agent(cast, make_ticket):
    ticket = make_ticket(subject="打印机报错")
    text = render(
        "{{customer.name}} / {{ ticket.number }} / {{ ticket.subject }} / {{ agent.name }}",
        ticket,
        cast.agent,
    )
    assert text == f"Alice 李 / {ticket.number} / 打印机报错 / 王小明 Wang"


def test_a_value_that_looks_like_a_placeholder_stays_literal(cast, make_ticket):
    cast.alice.contact.name = "{{ agent.email }}"
    cast.alice.contact.save()
    ticket = make_ticket()
    assert render("Hi {{ customer.name }}", ticket, cast.agent) == "Hi {{ agent.email }}"


@pytest.mark.parametrize(
    "text",
    [
        "{{ customer.password }}",
        "{{ ticket.contact.user.password }}",
        "{{ settings.SECRET_KEY }}",
        "{% load static %}",
        "{{ customer.name|upper }}",
        "{{ request }}",
    ],
)
def test_it_rejects_anything_but_known_placeholders(text):
    with pytest.raises(ValidationError):
        validate_template(text)


def test_unknown_placeholders_are_rejected_when_saving_with_the_list_of_known_ones(cast):
    with pytest.raises(ValidationError) as error:
        save_canned_response(cast.agent, title="x", body="Hi {{ customer.nmae }}")
    message = error.value.message_dict["body"][0]
    assert "{{ customer.nmae }}" in message and "{{ customer.name }}" in message
    with pytest.raises(ValidationError):
        save_macro(cast.agent, name="m", reply_body="{{ ticket.secret }}")
    with pytest.raises(ValidationError, match="Action 1"):
        save_trigger(
            cast.admin,
            name="t",
            events=["created"],
            actions=[{"type": "add_note", "body": "{{ nope }}"}],
        )


def test_markup_in_values_is_escaped_in_notes_and_mails(cast, make_ticket):
    cast.alice.contact.name = '<script>alert("x")</script>'
    cast.alice.contact.save()
    save_trigger(
        cast.admin,
        name="t",
        events=["created"],
        actions=[
            {"type": "add_note", "body": "Customer: {{ customer.name }}"},
            {"type": "notify", "value": "customer", "subject": "Hi", "body": "{{ customer.name }}"},
        ],
    )
    ticket = make_ticket()
    note = Message.objects.get(ticket=ticket, is_internal=True)
    assert "<script>" not in note.body_html and "&lt;script&gt;" in note.body_html
    run_pending_jobs()
    sent = next(m for m in mail.outbox if m.subject == "Hi")
    html = sent.alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;" in html
