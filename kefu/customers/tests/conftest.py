"""Fixtures of the customers tests: the API client (shared with the API tests), uploads in a
temporary directory, and a few products, assets and tickets."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.api.tests.conftest import (  # noqa: F401 - fixtures
    api_as,
    fresh_throttle_counters,
    uploads_in_tmp,
)
from kefu.customers.actions import create_asset, create_product


@pytest.fixture
def printer(cast):
    return create_product(
        cast.agent, model_number="LP-3300", name="激光打印机", category="打印机", warranty_months=24
    )


@pytest.fixture
def acme_printer(cast, printer):
    """Alice's unit at Acme, installed 2025-01-10: in warranty until 2027-01-10."""
    return create_asset(
        cast.agent,
        serial_number="LP3300-0001",
        product=printer,
        contact=cast.alice.contact,
        installed_at=date(2025, 1, 10),
        installation_address="上海市浦东新区张江路 88 号",
    )


@pytest.fixture
def globex_printer(cast, printer):
    """Bella's unit at Globex (no ticket sharing), warranty expired."""
    return create_asset(
        cast.agent,
        serial_number="LP3300-0002",
        product=printer,
        contact=cast.bella.contact,
        installed_at=date(2020, 5, 1),
    )
