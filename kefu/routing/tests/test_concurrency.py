"""200 tickets created in parallel through the real HTTP stack on PostgreSQL: round robin stays
within ±1 and capacity holds, because every assignment locks the group's routing row."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connection

from kefu.accounts.models import Access, Membership, Role, User
from kefu.api.tests.test_concurrency import RoomyLiveServerThread
from kefu.conftest import skip_or_fail
from kefu.routing.actions import save_agent_profile, save_group_routing
from kefu.routing.models import Strategy
from kefu.tickets.models import Ticket

TICKETS = 200
WORKERS = 20


@pytest.fixture
def live_url(transactional_db):
    if connection.vendor != "postgresql":
        skip_or_fail("PostgreSQL-only test (set KEFU_DATABASE_URL)")
    thread = RoomyLiveServerThread("127.0.0.1", static_handler=lambda handler: handler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


def create_in_parallel(live_url, token, group_id, tickets=TICKETS):
    headers = {"Authorization": f"Bearer {token}"}

    def create(n: int) -> httpx.Response:
        payload = {
            "subject": f"并发 parallel {n}",
            "body": "created concurrently",
            "group": group_id,
            "customer": {"email": "carol@mail.example"},
        }
        with httpx.Client(base_url=live_url, headers=headers, timeout=600) as client:
            return client.post("/api/v1/tickets", json=payload)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        responses = list(pool.map(create, range(tickets)))
    failures = [(r.status_code, r.text[:200]) for r in responses if r.status_code != 201]
    assert not failures
    return responses


def agents_of(group, n):
    agents = []
    for i in range(n):
        user = User.objects.create_user(f"p{i}@kefu.example", "x", name=f"P{i}", role=Role.AGENT)
        Membership.objects.create(user=user, group=group, access=Access.FULL)
        agents.append(user)
    return agents


@pytest.mark.postgres
def test_round_robin_spreads_200_parallel_api_tickets_within_one(live_url, cast):
    agents = agents_of(cast.aftersales, 7)
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.ROUND_ROBIN)
    responses = create_in_parallel(live_url, cast.token(cast.admin), cast.aftersales.pk)
    assert all(r.json()["assignee"] is not None for r in responses)
    counts = Counter(
        Ticket.objects.filter(group=cast.aftersales).values_list("assignee", flat=True)
    )
    assert set(counts) == {a.pk for a in agents}
    assert max(counts.values()) - min(counts.values()) <= 1


@pytest.mark.postgres
def test_load_balancing_never_exceeds_capacity_under_parallel_creation(live_url, cast):
    agents = agents_of(cast.aftersales, 4)
    save_group_routing(cast.admin, cast.aftersales, strategy=Strategy.LOAD)
    for agent in agents:
        save_agent_profile(cast.admin, agent, capacity=15)
    create_in_parallel(live_url, cast.token(cast.admin), cast.aftersales.pk, tickets=80)
    counts = Counter(
        Ticket.objects.filter(group=cast.aftersales).values_list("assignee", flat=True)
    )
    assert counts[None] == 80 - 4 * 15
    assert all(counts[a.pk] == 15 for a in agents)
