"""Governed promotion: one active version per model, an append-only trail, rollback, time travel."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.models import training_tasks
from apps.models.models import ModelVersion, VersionEvent
from apps.tasks import runner as task_runner
from apps.users.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(admin_user, credit_version, django_capture_on_commit_callbacks):
    """Three trained versions of one model."""
    out = []
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=False):
            task = training_tasks.training_create(
                user=admin_user,
                request={
                    "name": "credit",
                    "dataset": credit_version.dataset_id,
                    "params": {"num_boost_round": 5},
                },
            )
        assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
        out.append(ModelVersion.objects.get(task=task))
    return out


def test_promote_rollback_deprecate_and_the_trail(api, versions):
    v1, v2, v3 = versions
    r = api.post(f"/api/model-versions/{v1.pk}/promote", {"reason": "first release"}, format="json")
    assert r.status_code == 200 and r.json()["data"]["status"] == "active"
    assert (
        api.post(f"/api/model-versions/{v2.pk}/promote", {"reason": "better KS"}, format="json").status_code
        == 200
    )
    statuses = dict(ModelVersion.objects.values_list("version", "status"))
    assert statuses == {1: "inactive", 2: "active", 3: "registered"}
    assert (
        api.post(f"/api/model-versions/{v2.pk}/promote", {"reason": "test"}, format="json").status_code == 409
    )  # already active
    assert (
        api.post(f"/api/model-versions/{v2.pk}/deprecate", {"reason": "test"}, format="json").status_code
        == 409
    )  # active

    back = api.post(f"/api/models/{v1.model_id}/rollback", {"reason": "v2 misbehaves"}, format="json")
    assert back.status_code == 200 and back.json()["data"]["version"] == 1
    assert (
        api.post(f"/api/model-versions/{v3.pk}/deprecate", {"reason": "unused"}, format="json").status_code
        == 200
    )
    assert (
        api.post(f"/api/model-versions/{v3.pk}/promote", {"reason": "test"}, format="json").status_code == 409
    )  # deprecated

    events = api.get(f"/api/models/{v1.model_id}/events").json()["data"]
    assert [(e["action"], e["version"], e["fromStatus"], e["toStatus"]) for e in events] == [
        ("register", 1, "", "registered"),
        ("register", 2, "", "registered"),
        ("register", 3, "", "registered"),
        ("promote", 1, "registered", "active"),
        ("promote", 2, "registered", "active"),
        ("rollback", 1, "inactive", "active"),
        ("deprecate", 3, "registered", "deprecated"),
    ]
    assert events[4]["previousActive"] == 1 and events[4]["reason"] == "better KS"
    assert {e["actor"] for e in events} == {ModelVersion.objects.get(pk=v1.pk).created_by.username}


def test_which_version_was_active_at_a_time(api, versions):
    v1, v2, _ = versions
    api.post(f"/api/model-versions/{v1.pk}/promote", {"reason": "test"}, format="json")
    VersionEvent.objects.filter(version=v1).update(created_at=timezone.now() - timedelta(days=2))
    api.post(f"/api/model-versions/{v2.pk}/promote", {"reason": "test"}, format="json")
    yesterday = (timezone.now() - timedelta(days=1)).isoformat()
    r = api.get(f"/api/models/{v1.model_id}/active-at", {"at": yesterday})
    assert r.status_code == 200 and r.json()["version"] == 1
    assert (
        api.get(f"/api/models/{v1.model_id}/active-at", {"at": timezone.now().isoformat()}).json()["version"]
        == 2
    )
    last_week = (timezone.now() - timedelta(days=7)).isoformat()
    assert api.get(f"/api/models/{v1.model_id}/active-at", {"at": last_week}).status_code == 404
    assert api.get(f"/api/models/{v1.model_id}/active-at", {"at": "yesterday"}).status_code == 400


def test_the_trail_is_append_only(versions, admin_user, api):
    api.post(f"/api/model-versions/{versions[0].pk}/promote", {"reason": "test"}, format="json")
    event = VersionEvent.objects.get(action="promote")
    event.reason = "rewritten"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_the_database_allows_one_active_version(versions):
    v1, v2, _ = versions
    ModelVersion.objects.filter(pk=v1.pk).update(status="active")
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=v2.pk).update(status="active")


def test_lifecycle_needs_the_permission(versions, make_user, client_for):
    analyst = client_for(make_user(Role.ANALYST))
    assert (
        analyst.post(
            f"/api/model-versions/{versions[0].pk}/promote", {"reason": "test"}, format="json"
        ).status_code
        == 403
    )
    assert (
        analyst.post(
            f"/api/models/{versions[0].model_id}/rollback", {"reason": "test"}, format="json"
        ).status_code
        == 403
    )
    assert ModelVersion.objects.filter(status="active").count() == 0


def test_rollback_without_history_is_a_conflict(api, versions):
    r = api.post(f"/api/models/{versions[0].model_id}/rollback", {"reason": "test"}, format="json")
    assert r.status_code == 409 and "no earlier active version" in r.json()["message"]
    assert (
        api.post(
            f"/api/models/{versions[0].model_id}/rollback", {"reason": "test", "version": 99}, format="json"
        ).status_code
        == 400
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_promotions_leave_exactly_one_active(versions, admin_user):
    from apps.models import services

    if connection.vendor != "postgresql":
        pytest.skip("row locks are what this exercises; SQLite runs one writer at a time")
    barrier = threading.Barrier(len(versions))
    outcomes: list[str] = []

    def promote(version):
        try:
            barrier.wait()
            services.version_activate(
                version=ModelVersion.objects.get(pk=version.pk), user=admin_user, reason="race"
            )
            outcomes.append("ok")
        except (services.ConcurrentChange, services.LifecycleError):
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=promote, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 3 and "ok" in outcomes
    assert ModelVersion.objects.filter(status="active").count() == 1
    assert VersionEvent.objects.filter(action="promote").count() == outcomes.count("ok")


def test_promoting_a_version_made_active_meanwhile_is_refused_and_records_nothing(versions, admin_user):
    from apps.models import services

    v1, _, _ = versions
    stale = ModelVersion.objects.get(pk=v1.pk)  # read before the other request's promotion
    services.version_activate(version=v1, user=admin_user, reason="first")
    with pytest.raises(services.LifecycleError):
        services.version_activate(version=stale, user=admin_user, reason="second, same version")
    assert ModelVersion.objects.get(pk=v1.pk).status == "active"
    events = VersionEvent.objects.filter(action="promote")
    assert events.count() == 1 and events.get().previous_active_id is None


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_changes_to_what_serves_need_a_reason(api, versions, reason):
    from apps.models import services
    from apps.models.errors import ReasonRequired

    v1, v2, v3 = versions
    body = {} if reason is None else {"reason": reason}
    assert (
        api.post(f"/api/model-versions/{v1.pk}/promote", {"reason": "first"}, format="json").status_code
        == 200
    )
    api.post(f"/api/model-versions/{v2.pk}/promote", {"reason": "second"}, format="json")
    events = VersionEvent.objects.count()
    for path in (
        f"/api/model-versions/{v3.pk}/promote",
        f"/api/model-versions/{v3.pk}/deprecate",
        f"/api/models/{v1.model_id}/rollback",
        f"/api/models/{v1.model_id}/archive",
    ):
        r = api.post(path, body, format="json")
        assert r.status_code == 400, (path, r.content)
        assert r.json()["code"] == "validation_error" and "reason" in r.json()["errors"], path
    # Nothing changed and nothing was added to the trail.
    assert dict(ModelVersion.objects.values_list("version", "status")) == {
        1: "inactive",
        2: "active",
        3: "registered",
    }
    assert VersionEvent.objects.count() == events
    # The rule is the service's, so every way in (admin, views, scripts) keeps it.
    with pytest.raises(ReasonRequired):
        services.version_deprecate(version=v3, user=None, reason=reason or "")
