"""Shared pytest fixtures: the cast, ticket factory, API client, and service requirements."""

from __future__ import annotations

import os

import pytest

from kefu.test import Cast, make_cast

REQUIRE_ALL = os.environ.get("KEFU_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip when a service is missing, unless KEFU_REQUIRE_ALL=1 turns the skip into a failure."""
    if REQUIRE_ALL:
        pytest.fail(f"KEFU_REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def cast(db) -> Cast:
    return make_cast()


@pytest.fixture
def make_ticket(cast):
    from kefu.tickets.actions import create_ticket

    def factory(customer=None, *, group=None, subject="Printer shows E23 打印机报错", body="It stopped printing.", **kwargs):
        customer = customer or cast.alice
        creator = kwargs.pop("actor", None) or cast.admin
        return create_ticket(creator, subject=subject, body=body, contact=customer.contact,
                             group=group or cast.cs, **kwargs)

    return factory
