"""Predicting new tickets in the worker: applied with the reason on the timeline, thresholds,
fields decided by rules or people, overrides, and the nightly training tick."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django_tasks_db.models import DBTaskResult

from kefu.lib.jobs import run_pending_jobs
from kefu.tickets.actions import NewTicket, create_ticket, update_ticket
from kefu.tickets.models import EventType, TicketEvent
from kefu.triage.actions import enqueue_due_training, request_training
from kefu.triage.models import ModelVersion, Outcome, TicketPrediction, TriageConfig, VersionStatus
from kefu.triage.status import triage_status

FAULT_SUBJECT = "热水器显示屏黑屏，报错 E23"
FAULT_BODY = "热水器今天无法开机，显示屏黑屏。还在保修期内，请安排上门维修。"


def _fault_ticket(cast, **kwargs):
    return create_ticket(
        cast.alice,
        NewTicket(subject=FAULT_SUBJECT, body=FAULT_BODY, contact=cast.alice.contact, **kwargs),
    )


def _prediction_jobs() -> int:
    return DBTaskResult.objects.filter(task_path="kefu.triage.tasks.predict_ticket").count()


def test_it_moves_a_product_fault_to_aftersales_with_the_reason_on_the_timeline(trained, cast):
    ticket = _fault_ticket(cast)
    assert ticket.group == cast.cs  # the web request only queued the prediction
    assert _prediction_jobs() == 1
    run_pending_jobs()
    ticket.refresh_from_db()
    assert ticket.group == cast.aftersales
    event = TicketEvent.objects.get(ticket=ticket, type=EventType.CHANGED, field="group")
    assert event.actor is None
    assert event.reason.startswith(f"Triage model v{trained.version}: 售后服务部")
    prediction = TicketPrediction.objects.get(ticket=ticket, field="group")
    assert prediction.outcome == Outcome.APPLIED
    assert f"({prediction.confidence:.2f})" in event.reason
    assert prediction.features and all(f in event.reason for f in prediction.features)
    assert ticket.category is not None and ticket.category.name.startswith("硬件故障")


def test_it_does_nothing_twice_when_the_job_runs_again(trained, cast):
    from kefu.triage.actions import predict_and_apply

    ticket = _fault_ticket(cast)
    run_pending_jobs()
    events = TicketEvent.objects.filter(ticket=ticket).count()
    assert predict_and_apply(ticket.pk) == "already predicted"
    assert TicketEvent.objects.filter(ticket=ticket).count() == events


def test_it_keeps_predictions_below_the_threshold_as_suggestions(trained, cast):
    TriageConfig.objects.filter(pk=1).update(group_threshold=1.0, category_enabled=False)
    ticket = _fault_ticket(cast)
    run_pending_jobs()
    ticket.refresh_from_db()
    assert ticket.group == cast.cs
    assert ticket.category is None
    group = TicketPrediction.objects.get(ticket=ticket, field="group")
    assert group.outcome == Outcome.BELOW_THRESHOLD
    assert group.value == str(cast.aftersales.pk)
    assert "1.00" in group.detail
    category = TicketPrediction.objects.get(ticket=ticket, field="category")
    assert category.outcome == Outcome.DISABLED


def test_it_leaves_fields_that_a_rule_or_the_creator_decided(trained, cast):
    ticket = create_ticket(
        cast.admin,
        NewTicket(
            subject=FAULT_SUBJECT, body=FAULT_BODY, contact=cast.alice.contact, group=cast.tech
        ),
    )
    update_ticket(None, ticket, priority="low", reason="Rule “VIP”: priority low")
    run_pending_jobs()
    ticket.refresh_from_db()
    assert ticket.group == cast.tech
    assert ticket.priority == "low"
    outcomes = dict(TicketPrediction.objects.filter(ticket=ticket).values_list("field", "outcome"))
    assert outcomes["group"] == Outcome.DECIDED
    assert outcomes["priority"] == Outcome.DECIDED
    detail = TicketPrediction.objects.get(ticket=ticket, field="priority").detail
    assert "Rule “VIP”" in detail


def test_it_does_not_move_a_ticket_a_person_assigned(trained, cast):
    ticket = _fault_ticket(cast)
    update_ticket(cast.admin, ticket, assignee=cast.agent)
    run_pending_jobs()
    ticket.refresh_from_db()
    assert (ticket.group, ticket.assignee) == (cast.cs, cast.agent)
    prediction = TicketPrediction.objects.get(ticket=ticket, field="group")
    assert prediction.outcome == Outcome.DECIDED


def test_it_counts_an_agent_changing_a_predicted_field_as_an_override(trained, cast):
    ticket = _fault_ticket(cast)
    run_pending_jobs()
    update_ticket(cast.admin, ticket, group=cast.tech)
    prediction = TicketPrediction.objects.get(ticket=ticket, field="group")
    assert prediction.overridden_at is not None
    assert prediction.overridden_by == cast.admin
    assert prediction.override_value == str(cast.tech)
    fields = {row["field"]: row for row in triage_status()["fields"]}
    assert (fields["group"]["applied"], fields["group"]["overridden"]) == (1, 1)
    assert fields["group"]["override_rate"] == 1.0
    assert fields["category"]["overridden"] == 0


def test_the_system_changing_a_predicted_field_is_no_override(trained, cast):
    ticket = _fault_ticket(cast)
    run_pending_jobs()
    update_ticket(None, ticket, group=cast.tech, reason="SLA escalation")
    assert not TicketPrediction.objects.filter(overridden_at__isnull=False).exists()


def test_it_queues_no_prediction_without_a_model(cast):
    _fault_ticket(cast)
    assert _prediction_jobs() == 0


def test_it_queues_no_prediction_when_switched_off(trained, cast):
    TriageConfig.objects.filter(pk=1).update(is_enabled=False)
    _fault_ticket(cast)
    assert _prediction_jobs() == 0


def test_train_now_twice_queues_one_training(history, cast):
    first = request_training(cast.admin)
    assert request_training(cast.admin) == first
    assert DBTaskResult.objects.filter(task_path="kefu.triage.tasks.train_model").count() == 1
    run_pending_jobs()
    first.refresh_from_db()
    assert first.status == VersionStatus.READY
    assert TriageConfig.load().active_version == first


SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_tick_queues_the_nightly_training_once(history):
    with time_machine.travel(datetime(2026, 11, 23, 14, 0, tzinfo=SHANGHAI), tick=False):
        assert enqueue_due_training() == 0  # first run: schedules the night
        config = TriageConfig.load()
        assert config.next_training_at == datetime(2026, 11, 24, 3, 0, tzinfo=SHANGHAI)
    with time_machine.travel(datetime(2026, 11, 24, 3, 0, 30, tzinfo=SHANGHAI), tick=False):
        assert enqueue_due_training() == 1
        assert enqueue_due_training() == 0
        assert TriageConfig.load().next_training_at == datetime(2026, 11, 25, 3, 0, tzinfo=SHANGHAI)
    assert ModelVersion.objects.get().status == VersionStatus.QUEUED
    run_pending_jobs()
    version = ModelVersion.objects.get()
    assert version.status == VersionStatus.READY
    # Nothing resolved since: the next night trains nothing new.
    with time_machine.travel(version.trained_at + timedelta(days=2), tick=False):
        TriageConfig.objects.update(next_training_at=version.trained_at + timedelta(days=1))
        assert enqueue_due_training() == 0
    assert ModelVersion.objects.count() == 1


def test_it_leaves_tickets_alone_when_the_model_file_is_gone(trained, cast):
    from pathlib import Path

    from kefu.triage.actions import predict_and_apply

    Path(trained.file_path).unlink()
    ticket = _fault_ticket(cast)
    assert predict_and_apply(ticket.pk) == "model file missing"
    assert not TicketPrediction.objects.exists()
