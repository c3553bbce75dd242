"""Configuration snapshots: reused while nothing changes, dropped by any change in any process."""

import pytest
from django.db import transaction

from kefu.automation.models import Trigger
from kefu.lib import config_cache
from kefu.lib.models import ConfigVersion
from kefu.routing.assignment import ROTATION_FIELDS
from kefu.routing.models import GroupRouting
from kefu.sla.actions.clock import active_policies
from kefu.sla.models import BusinessCalendar, SLAPolicy

pytestmark = pytest.mark.django_db


class CountingLoader:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return list(Trigger.objects.filter(is_active=True).values_list("name", flat=True))


def test_a_snapshot_is_reused_until_watched_configuration_changes():
    load = CountingLoader()
    assert config_cache.snapshot("test.triggers", load) == []
    assert config_cache.snapshot("test.triggers", load) == []
    assert load.calls == 1

    Trigger.objects.create(name="Tag VIP", events=["created"], actions=[])

    assert config_cache.snapshot("test.triggers", load) == ["Tag VIP"]
    assert load.calls == 2


def test_a_rolled_back_change_is_not_kept():
    load = CountingLoader()
    with pytest.raises(RuntimeError), transaction.atomic():
        Trigger.objects.create(name="Abandoned", events=["created"], actions=[])
        assert config_cache.snapshot("test.triggers", load) == ["Abandoned"]
        raise RuntimeError("roll back")

    assert config_cache.snapshot("test.triggers", load) == []


def test_a_change_made_by_another_process_is_seen():
    load = CountingLoader()
    config_cache.snapshot("test.triggers", load)
    # Another process: it writes the row and its own token; this process's memory is untouched.
    Trigger.objects.bulk_create([Trigger(name="From the other worker", events=[], actions=[])])
    ConfigVersion.objects.filter(pk=1).update(token="another-process")

    assert config_cache.snapshot("test.triggers", load) == ["From the other worker"]


def test_unwatched_writes_and_running_state_leave_snapshots_valid(cast, make_ticket):
    routing = GroupRouting.objects.create(group=cast.cs, strategy="round_robin")
    load = CountingLoader()
    config_cache.snapshot("test.triggers", load)

    make_ticket()  # tickets are not configuration
    routing.streak = 3
    routing.save(update_fields=ROTATION_FIELDS)  # the rotation pointer moving on

    config_cache.snapshot("test.triggers", load)
    assert load.calls == 1

    routing.strategy = "load"
    routing.save()  # the strategy itself is configuration
    config_cache.snapshot("test.triggers", load)
    assert load.calls == 2


def test_a_many_to_many_change_invalidates(cast):
    policy = SLAPolicy.objects.create(
        name="Key accounts", position=9, calendar=BusinessCalendar.objects.first()
    )
    assert [p for p in active_policies() if p.pk == policy.pk][0].groups.all().count() == 0

    policy.groups.add(cast.cs)

    assert [g.pk for g in next(p for p in active_policies() if p.pk == policy.pk).groups.all()] == [
        cast.cs.pk
    ]


def test_without_the_version_row_nothing_is_reused():
    ConfigVersion.objects.all().delete()
    load = CountingLoader()
    config_cache.snapshot("test.triggers", load)
    config_cache.snapshot("test.triggers", load)
    assert load.calls == 2

    config_cache.config_changed()  # recreates the row
    config_cache.snapshot("test.triggers", load)
    config_cache.snapshot("test.triggers", load)
    assert load.calls == 3
