"""Tickets created in parallel through the real HTTP stack get distinct numbers (PostgreSQL)."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread

from kefu.tickets.models import Ticket

PARALLEL = 50


class RoomyWSGIServer(ThreadedWSGIServer):
    # Django's listen backlog of 10 makes the kernel reset some of 50 simultaneous connections
    # before Kefu sees them; production servers (uvicorn) listen with a backlog of 2048.
    request_queue_size = 128


class RoomyLiveServerThread(LiveServerThread):
    server_class = RoomyWSGIServer


@pytest.fixture
def live_url(transactional_db):
    # SQLite serialises writers anyway; the race this guards against is PostgreSQL's.
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-only test (set KEFU_DATABASE_URL)")
    thread = RoomyLiveServerThread("127.0.0.1", static_handler=lambda handler: handler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


@pytest.mark.postgres
def test_it_numbers_50_parallel_tickets_distinctly(live_url, cast):
    headers = {"Authorization": f"Bearer {cast.token(cast.agent)}"}
    customers = [cast.alice, cast.bob, cast.carol]

    def create(n: int) -> httpx.Response:
        payload = {
            "subject": f"Parallel ticket {n} 并发",
            "body": "created concurrently",
            "customer": {"email": customers[n % len(customers)].email},
        }
        with httpx.Client(base_url=live_url, headers=headers, timeout=60) as client:
            return client.post("/api/v1/tickets", json=payload)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        responses = list(pool.map(create, range(PARALLEL)))

    failures = [(r.status_code, r.text) for r in responses if r.status_code != 201]
    assert not failures
    numbers = {r.json()["number"] for r in responses}
    assert len(numbers) == PARALLEL
    assert set(Ticket.objects.values_list("number", flat=True)) == numbers
