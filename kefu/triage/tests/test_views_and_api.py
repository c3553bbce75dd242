"""The triage page and API: administrators manage, staff read, outsiders and customers see
nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from kefu.lib.jobs import run_pending_jobs
from kefu.tickets.actions import NewTicket, create_ticket
from kefu.triage.models import ModelVersion, TriageConfig, VersionStatus


def api(cast, user) -> Client:
    token = cast.token(user) if user else None
    return Client(headers={"Authorization": f"Bearer {token}"} if token else {})


def test_an_admin_sees_accuracy_confusion_and_class_counts(client, cast, trained):
    client.force_login(cast.admin)
    response = client.get(reverse("triage:overview"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"v{trained.version}" in page
    assert "Hold-out accuracy" in page
    assert "售后服务部 After-sales Service" in page
    assert "Confusion matrix" in page
    assert "Train now" in page


def test_the_page_says_why_a_field_is_not_predicted(client, cast, history):
    from kefu.triage.actions import train_now

    TriageConfig.objects.update_or_create(pk=1, defaults={"min_examples_per_class": 40})
    train_now(None)
    client.force_login(cast.admin)
    page = client.get(reverse("triage:overview")).content.decode()
    assert "Needs at least two values with 40 or more resolved tickets each" in page
    assert "fewer than 40 examples" in page


@pytest.mark.parametrize("who", ["supervisor", "agent", "quality_agent"])
def test_other_staff_cannot_manage_triage(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get(reverse("triage:overview")).status_code == 403
    assert client.post(reverse("triage:train")).status_code == 403
    assert not ModelVersion.objects.exists()


def test_customers_and_anonymous_users_cannot_open_the_triage_page(client, cast):
    assert client.get(reverse("triage:overview")).status_code == 302
    client.force_login(cast.alice)
    assert client.get(reverse("triage:overview")).status_code == 404
    assert client.post(reverse("triage:train")).status_code == 404


def test_an_admin_changes_thresholds(client, cast):
    client.force_login(cast.admin)
    form = {
        "is_enabled": "on",
        "min_examples_per_class": "10",
        "training_hour": "4",
        "group_enabled": "on",
        "group_threshold": "0.55",
        "category_threshold": "0.9",
        "priority_enabled": "on",
        "priority_threshold": "0.8",
        "complexity_enabled": "on",
        "complexity_threshold": "0.8",
    }
    response = client.post(reverse("triage:overview"), form)
    assert response.status_code == 302
    config = TriageConfig.load()
    assert (config.group_threshold, config.min_examples_per_class) == (0.55, 10)
    assert config.category_enabled is False
    assert config.next_training_at.hour == 4 or config.next_training_at is not None
    response = client.post(reverse("triage:overview"), {**form, "group_threshold": "1.5"})
    assert response.status_code == 400
    assert TriageConfig.load().group_threshold == 0.55


def test_train_now_queues_a_training(client, cast):
    client.force_login(cast.admin)
    response = client.post(reverse("triage:train"))
    assert response.status_code == 302
    version = ModelVersion.objects.get()
    assert (version.status, version.requested_by) == (VersionStatus.QUEUED, cast.admin)
    assert DBTaskResult.objects.filter(task_path="kefu.triage.tasks.train_model").count() == 1


def test_the_status_api_shows_each_field(cast, trained):
    response = api(cast, cast.agent).get("/api/v1/triage/status")
    assert response.status_code == 200
    data = response.json()
    assert data["active_model"]["version"] == trained.version
    fields = {row["field"]: row for row in data["fields"]}
    assert set(fields) == {"group", "category", "priority", "complexity"}
    assert fields["group"]["trained"] is True
    assert fields["group"]["accuracy"] >= 0.9
    assert fields["group"]["threshold"] == 0.7
    assert len(fields["group"]["confusion"]) == len(fields["group"]["confusion_labels"])


def test_customers_and_anonymous_callers_cannot_read_the_status(cast):
    assert api(cast, cast.alice).get("/api/v1/triage/status").status_code == 403
    assert api(cast, None).get("/api/v1/triage/status").status_code == 401


def test_only_admins_train_through_the_api(cast, history):
    for user in (cast.alice, cast.agent, cast.supervisor):
        response = api(cast, user).post("/api/v1/triage/train")
        assert response.status_code == 403
        assert response.json()["detail"]
    response = api(cast, cast.admin).post("/api/v1/triage/train")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    run_pending_jobs()
    assert ModelVersion.objects.get().status == VersionStatus.READY


def test_staff_with_access_read_a_tickets_predictions(cast, trained):
    ticket = create_ticket(
        cast.alice,
        NewTicket(
            subject="热水器显示屏黑屏，报错 E23",
            body="无法开机，请安排上门维修。",
            contact=cast.alice.contact,
        ),
    )
    run_pending_jobs()
    response = api(cast, cast.admin).get(f"/api/v1/tickets/{ticket.pk}/predictions")
    assert response.status_code == 200
    items = {item["field"]: item for item in response.json()["items"]}
    assert items["group"]["applied"] is True
    assert items["group"]["value"] == str(cast.aftersales.pk)
    assert items["group"]["features"]
    assert items["group"]["model_version"] == trained.version
    # Now in 售后服务部: the cs agent and the quality agent are outsiders.
    for outsider in (cast.agent, cast.quality_agent):
        response = api(cast, outsider).get(f"/api/v1/tickets/{ticket.pk}/predictions")
        assert response.status_code == 404
    response = api(cast, cast.alice).get(f"/api/v1/tickets/{ticket.pk}/predictions")
    assert response.status_code == 403
    response = api(cast, cast.bob).get(f"/api/v1/tickets/{ticket.pk}/predictions")
    assert response.status_code == 404


@pytest.fixture
def without_scikit_learn(monkeypatch):
    """An install without the ``kefu[triage]`` extra: ``find_spec("sklearn")`` finds nothing."""
    import importlib.util

    from kefu.triage.status import scikit_learn_installed

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "sklearn" else real_find_spec(name, *args),
    )
    scikit_learn_installed.cache_clear()
    yield
    scikit_learn_installed.cache_clear()


def test_without_scikit_learn_the_page_and_api_say_triage_is_off(
    client, cast, without_scikit_learn
):
    client.force_login(cast.admin)
    page = client.get(reverse("triage:overview")).content.decode()
    assert "scikit-learn is not installed" in page
    assert "kefu[triage]" in page

    response = client.post(reverse("triage:train"), follow=True)
    assert "scikit-learn is not installed" in response.content.decode()
    assert not ModelVersion.objects.exists()

    data = api(cast, cast.supervisor).get("/api/v1/triage/status").json()
    assert data["scikit_learn_installed"] is False
    assert "kefu[triage]" in data["notice"]
    response = api(cast, cast.admin).post("/api/v1/triage/train")
    assert response.status_code in (400, 409, 422)
    assert "scikit-learn is not installed" in response.json()["detail"]


def test_without_scikit_learn_new_tickets_queue_no_prediction(
    cast, make_ticket, trained, without_scikit_learn
):
    make_ticket(subject="打印机黑屏", body="无法开机")
    assert not DBTaskResult.objects.filter(task_path__endswith="predict_ticket").exists()


def test_with_scikit_learn_the_status_says_nothing_is_missing(cast):
    data = api(cast, cast.supervisor).get("/api/v1/triage/status").json()
    assert data["scikit_learn_installed"] is True
    assert data["notice"] == ""
