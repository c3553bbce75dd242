"""Routing fixtures: extra after-sales agents and a quick way to write rules."""

from __future__ import annotations

import pytest

from kefu.accounts.models import Access, Membership, Role, User
from kefu.routing.actions import save_rule


@pytest.fixture
def team(cast):
    """Three full agents of 售后服务部 (ids in creation order)."""
    agents = []
    for n, name in enumerate(("李娜 Li Na", "陈刚 Chen", "周婷 Zhou"), start=1):
        user = User.objects.create_user(f"as{n}@kefu.example", "x", name=name, role=Role.AGENT)
        Membership.objects.create(user=user, group=cast.aftersales, access=Access.FULL)
        agents.append(user)
    return agents


@pytest.fixture
def rule(cast):
    def factory(conditions, actions=None, **fields):
        return save_rule(
            cast.admin,
            name=fields.pop("name", "Test rule"),
            conditions=conditions,
            actions=actions or {"priority": "high"},
            **fields,
        )

    return factory
