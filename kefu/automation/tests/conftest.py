"""The API client fixture of the API tests, for the automation API tests here."""

from kefu.api.tests.conftest import api_as, fresh_throttle_counters  # noqa: F401
