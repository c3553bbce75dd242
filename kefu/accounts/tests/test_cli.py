"""The ``kefu`` command: user and token creation, errors, demo data."""

from __future__ import annotations

import re

import pytest

from kefu.accounts.models import Access, ApiToken, Group, Membership, Role, User, hash_token
from kefu.cli import main
from kefu.customers.models import Contact, Organization
from kefu.tickets.models import Message, Ticket, TicketEvent

STRONG_PASSWORD = "violet-teapot-harbour-42"


def run_kefu(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPERVISOR, Role.AGENT])
def test_it_creates_staff_with_new_and_existing_groups(db, capsys, role):
    Group.objects.create(name="客服部 Customer Service", is_default=True)
    code, out, err = run_kefu(
        capsys,
        "user",
        "create",
        "--email",
        "New.Person@Example.com",
        "--name",
        "新同事 New",
        "--role",
        role,
        "--group",
        "售后服务部 After-sales Service",
        "--read-only-group",
        "客服部 Customer Service",
        "--password",
        STRONG_PASSWORD,
    )
    assert (code, err) == (0, "")
    user = User.objects.get(email="new.person@example.com")
    assert (user.name, user.role) == ("新同事 New", role)
    assert user.check_password(STRONG_PASSWORD)
    memberships = {m.group.name: m.access for m in Membership.objects.filter(user=user)}
    assert memberships == {
        "售后服务部 After-sales Service": Access.FULL,
        "客服部 Customer Service": Access.READ,
    }
    assert Group.objects.count() == 2
    assert "new.person@example.com" in out


def test_it_creates_a_customer_with_contact_and_organisation(db, capsys):
    code, out, err = run_kefu(
        capsys,
        "user",
        "create",
        "--email",
        "li@customer.example",
        "--name",
        "李雷 Li Lei",
        "--role",
        "customer",
        "--organization",
        "华东电器有限公司",
        "--password",
        STRONG_PASSWORD,
    )
    assert (code, err) == (0, "")
    user = User.objects.get(email="li@customer.example")
    assert user.role == Role.CUSTOMER
    contact = Contact.objects.get(user=user)
    assert (contact.name, contact.email) == ("李雷 Li Lei", "li@customer.example")
    assert contact.organization == Organization.objects.get(name="华东电器有限公司")


def test_it_links_an_existing_contact_instead_of_duplicating_it(db, capsys):
    existing = Contact.objects.create(name="Carol", email="carol@mail.example")
    code, _out, _err = run_kefu(
        capsys,
        "user",
        "create",
        "--email",
        "carol@mail.example",
        "--name",
        "Carol",
        "--role",
        "customer",
    )
    assert code == 0
    existing.refresh_from_db()
    assert existing.user == User.objects.get(email="carol@mail.example")
    assert Contact.objects.count() == 1


def test_it_explains_how_a_user_without_password_gets_in(db, capsys):
    code, out, _err = run_kefu(
        capsys,
        "user",
        "create",
        "--email",
        "nopw@example.com",
        "--name",
        "No Password",
        "--role",
        "agent",
    )
    assert code == 0
    assert not User.objects.get(email="nopw@example.com").has_usable_password()
    assert "Forgot password" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--email", "x@example.com", "--role", "boss"], "Unknown role boss"),
        (["--email", "not-an-address", "--role", "agent"], "not a valid e-mail address"),
        (["--email", "x@example.com", "--role", "agent", "--password", "123"], "too short"),
        (
            ["--email", "x@example.com", "--role", "agent", "--organization", "Acme"],
            "Only customers",
        ),
        (["--email", "x@example.com", "--role", "customer", "--group", "客服部"], "Only staff"),
    ],
)
def test_it_rejects_bad_input_with_one_line_and_exit_code_1(db, capsys, args, expected):
    code, out, err = run_kefu(capsys, "user", "create", "--name", "X", *args)
    assert code == 1
    assert out == ""
    assert err.startswith("kefu: error: ")
    assert expected in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert not User.objects.exists()
    assert not Group.objects.exists()  # nothing half-created


def test_it_refuses_a_second_user_with_the_same_email(db, capsys):
    run_kefu(
        capsys, "user", "create", "--email", "dup@example.com", "--name", "A", "--role", "agent"
    )
    code, _out, err = run_kefu(
        capsys, "user", "create", "--email", "DUP@example.com", "--name", "B", "--role", "agent"
    )
    assert code == 1
    assert "exists already" in err


def test_token_create_prints_only_a_working_token(db, capsys, client):
    run_kefu(
        capsys,
        "user",
        "create",
        "--email",
        "api@example.com",
        "--name",
        "API",
        "--role",
        "agent",
        "--group",
        "客服部 Customer Service",
    )
    code, out, err = run_kefu(capsys, "token", "create", "API@example.com", "--name", "ERP sync")
    assert (code, err) == (0, "")
    raw = out.strip()
    assert out == raw + "\n"
    assert re.fullmatch(r"kefu_[A-Za-z0-9_-]{20,}", raw)
    token = ApiToken.objects.get(token_hash=hash_token(raw))
    assert (token.user.email, token.name) == ("api@example.com", "ERP sync")
    response = client.get("/api/v1/groups", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert (
        client.get("/api/v1/groups", headers={"Authorization": f"Bearer {raw}x"}).status_code == 401
    )


def test_token_create_for_an_unknown_user_fails_on_stderr(db, capsys):
    code, out, err = run_kefu(capsys, "token", "create", "ghost@example.com")
    assert (code, out) == (1, "")
    assert "ghost@example.com" in err
    assert not ApiToken.objects.exists()


def test_it_rejects_an_unknown_command(db, capsys):
    code, _out, err = run_kefu(capsys, "frobnicate", "everything")
    assert code == 1
    assert "kefu --help" in err


def test_a_noun_alone_lists_its_verbs(db, capsys):
    code, _out, err = run_kefu(capsys, "user")
    assert code == 1
    assert "kefu user: choose one of: create" in err


def test_help_lists_the_commands(db, capsys):
    code, out, _err = run_kefu(capsys, "--help")
    assert code == 0
    for command in (
        "run",
        "worker",
        "tick",
        "migrate",
        "user create",
        "token create",
        "demo load",
        "manage",
    ):
        assert re.search(rf"^  {command}\b", out, re.MULTILINE), command


def test_manage_reaches_any_django_command(db, capsys):
    code, out, _err = run_kefu(capsys, "manage", "showmigrations", "accounts")
    assert code == 0
    assert "[X] 0001_initial" in out


def test_demo_load_is_idempotent_and_mixes_chinese_and_english(db, capsys):
    code, out, _err = run_kefu(capsys, "demo", "load")
    assert code == 0
    assert "admin@demo.kefu" in out
    counts = (
        User.objects.count(),
        Ticket.objects.count(),
        Message.objects.count(),
        TicketEvent.objects.count(),
    )
    assert counts[1] >= 18

    code, out, _err = run_kefu(capsys, "demo", "load")
    assert code == 0
    assert "already" in out
    assert (
        User.objects.count(),
        Ticket.objects.count(),
        Message.objects.count(),
        TicketEvent.objects.count(),
    ) == counts

    subjects = list(Ticket.objects.values_list("subject", flat=True))
    assert any(re.search(r"[\u4e00-\u9fff]", subject) for subject in subjects)
    assert any(re.fullmatch(r"[\x00-\x7f\u2014\u2013]+", subject) for subject in subjects)


def test_demo_data_covers_the_roles_states_and_history(db):
    from kefu.demo.load import load_demo

    assert load_demo() is True
    assert Group.objects.get(is_default=True).name == "客服部 Customer Service"
    assert Group.objects.count() == 4
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.CUSTOMER}
    assert Membership.objects.filter(access=Access.READ).exists()
    assert Organization.objects.filter(members_share_tickets=True).exists()
    assert Contact.objects.filter(organization__isnull=True).exists()
    assert Contact.objects.filter(user__isnull=False).count() >= 3
    assert Ticket.objects.values("state").distinct().count() >= 5
    assert Ticket.objects.values("channel").distinct().count() >= 4
    assert Ticket.objects.values("priority").distinct().count() == 4
    assert Message.objects.filter(is_internal=True).exists()
    assert Message.objects.filter(author_contact__isnull=False).count() > Ticket.objects.count()
    assert TicketEvent.objects.filter(field="group").exists()
    assert Ticket.objects.filter(assignee__isnull=True).exists()
    # Its replies and automatic mail count as already handled: the worker must not mail
    # made-up customers.
    from kefu.intake.models import AutoMailStatus, AutomaticMail

    assert not Message.objects.filter(customer_notified_at__isnull=True).exists()
    assert AutomaticMail.objects.exists()
    assert not AutomaticMail.objects.filter(status=AutoMailStatus.PENDING).exists()
    assert load_demo() is False


def test_the_printed_demo_logins_work(db):
    from django.contrib.auth import authenticate

    from kefu.demo.load import demo_logins, load_demo

    assert demo_logins() == []
    load_demo()
    logins = demo_logins()
    assert {role for role, _email, _password in logins} >= {
        "Administrator",
        "Supervisor",
        "Agent",
        "Customer",
    }
    for _role, email, password in logins:
        assert authenticate(email=email, password=password) is not None, email
