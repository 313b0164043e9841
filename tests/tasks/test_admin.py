"""The work queue and model registry in the Django admin: read-only pages, status changes
only through the services (cancel, re-run, schedule on/off and delete), no 500s."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.models import training_tasks
from apps.models.models import Model, ModelVersion, VersionStatus
from apps.tasks import runner as task_runner
from apps.tasks import schedules as task_schedules
from apps.tasks.admin import INLINE_LOG_LIMIT
from apps.tasks.models import LogLevel, Task, TaskLog, TaskSchedule, TaskStatus, TaskType
from apps.users.models import Role
from tests.factories import ModelVersionFactory, TaskFactory, TaskLogFactory

pytestmark = pytest.mark.django_db


def _request(version, **overrides) -> dict:
    return {
        "name": "credit-lgbm",
        "dataset": version.dataset_id,
        "algorithm": "lightgbm",
        "params": {"num_boost_round": 20},
        **overrides,
    }


def _task(user, status: str = TaskStatus.QUEUED, **fields) -> Task:
    """A task row as the queue would hold it (set-up data, not a status change under test)."""
    final = status in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)
    return TaskFactory(
        name=fields.pop("name", f"Train {status}"),
        type=TaskType.TRAINING,
        status=status,
        created_by=user,
        completed_at=timezone.now() if final else None,
        **fields,
    )


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def trained(admin_user, credit_version, django_capture_on_commit_callbacks) -> Task:
    """A completed training task that registered a model version (run in-process)."""
    with django_capture_on_commit_callbacks(execute=False):
        task = training_tasks.training_create(user=admin_user, request=_request(credit_version))
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    task.refresh_from_db()
    return task


@pytest.fixture
def schedule(admin_user, credit_version) -> TaskSchedule:
    return task_schedules.schedule_create(
        user=admin_user, name="nightly credit", request=_request(credit_version), every_minutes=60
    )


def _action(client, url: str, action: str, objs) -> str:
    response = client.post(url, {"action": action, "_selected_action": [o.pk for o in objs]}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


# --------------------------------------------------------------------------- pages


def test_every_list_and_page_loads_with_filters(admin_client, admin_user, trained, schedule):
    version = ModelVersion.objects.get(task=trained)
    _task(admin_user, TaskStatus.FAILED, schedule=schedule)
    log = TaskLog.objects.filter(task=trained).first()
    pages = {
        "tasks_task": (
            trained,
            [
                {"status__exact": "completed"},
                {"type__exact": "training", "priority__exact": "medium"},
                {"created_by__id__exact": admin_user.pk},
                {"schedule__id__exact": schedule.pk},
                {"schedule__isnull": "True"},
                {"created_at__year": timezone.now().year},
                {"q": trained.celery_task_id},
                {"o": "-6"},
            ],
        ),
        "tasks_tasklog": (
            log,
            [{"level__exact": "info"}, {"task__type__exact": "training"}, {"task__id__exact": trained.pk}],
        ),
        "tasks_taskschedule": (
            schedule,
            [{"periodic_task__enabled__exact": "1"}, {"priority__exact": "medium"}, {"o": "6"}],
        ),
        "models_model": (
            version.model,
            [{"type__exact": "classification"}, {"status__exact": "draft"}, {"algorithm": "lightgbm"}],
        ),
        "models_modelversion": (
            version,
            [
                {"status__exact": "registered"},
                {"model__id__exact": version.model_id},
                {"model__type__exact": "classification"},
                {"q": version.checksum},
            ],
        ),
    }
    for name, (obj, filters) in pages.items():
        changelist = reverse(f"admin:{name}_changelist")
        for params in [{}, *filters]:
            response = admin_client.get(changelist, params)
            assert response.status_code == 200, (name, params)
            # An unknown filter would redirect with ?e=1; a known one keeps the row.
            assert "?e=1" not in response.get("Location", ""), (name, params)
            assert response.context["cl"].result_count >= 1, (name, params)
        page = admin_client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert page.status_code == 200, name


def test_task_page_shows_lineage_json_and_logs(admin_client, trained):
    version = ModelVersion.objects.get(task=trained)
    page = admin_client.get(reverse("admin:tasks_task_change", args=[trained.pk])).content.decode()
    assert reverse("admin:models_modelversion_change", args=[version.pk]) in page
    assert reverse("admin:datasets_datasetversion_change", args=[version.dataset_version_id]) in page
    assert "&quot;model_name&quot;: &quot;credit-lgbm&quot;" in page  # pretty-printed parameters
    assert "Registered credit-lgbm v1." in page  # the log inline
    # A view page: no form field for the status, no save button.
    assert 'name="status"' not in page and 'name="_save"' not in page

    listing = admin_client.get(reverse("admin:tasks_task_changelist")).content.decode()
    assert f"{version}" in listing and "100%" in listing


def test_task_page_shows_only_the_latest_logs(admin_client, admin_user):
    task = _task(admin_user, TaskStatus.RUNNING)
    now = timezone.now()
    TaskLog.objects.bulk_create(
        TaskLog(task=task, created_at=now, level=LogLevel.INFO, message=f"line {i:04d}", step=i)
        for i in range(INLINE_LOG_LIMIT + 50)
    )
    response = admin_client.get(reverse("admin:tasks_task_change", args=[task.pk]))
    formset = next(f for f in response.context["inline_admin_formsets"] if f.opts.model is TaskLog)
    steps = [form.instance.step for form in formset.formset.forms]
    assert steps == list(range(50, INLINE_LOG_LIMIT + 50))  # the newest 200, oldest first
    page = response.content.decode()
    assert "line 0249" in page and "line 0049" not in page
    assert f"{INLINE_LOG_LIMIT + 50} line(s), the latest {INLINE_LOG_LIMIT} below" in page


def test_task_list_queries_do_not_grow_with_rows(admin_client, admin_user, trained):
    url = reverse("admin:tasks_task_changelist")
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    for i in range(15):
        _task(admin_user, name=f"extra {i}")
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(many) == len(few)


def test_model_page_lists_versions_and_pretty_json(admin_client, trained):
    version = ModelVersion.objects.select_related("model").get(task=trained)
    page = admin_client.get(reverse("admin:models_model_change", args=[version.model_id])).content.decode()
    assert reverse("admin:models_modelversion_change", args=[version.pk]) in page
    assert "auc 0." in page

    page = admin_client.get(reverse("admin:models_modelversion_change", args=[version.pk])).content.decode()
    assert version.checksum in page and version.signature in page
    assert "&quot;auc&quot;:" in page and "&quot;bestIteration&quot;:" in page
    assert reverse("admin:tasks_task_change", args=[trained.pk]) in page


# --------------------------------------------------------------------------- tasks: read-only


def test_status_cannot_be_changed_by_posting_the_form(admin_client, admin_user):
    task = _task(admin_user, TaskStatus.QUEUED)
    url = reverse("admin:tasks_task_change", args=[task.pk])
    response = admin_client.post(url, {"name": "renamed", "status": "completed", "progress": 100})
    assert response.status_code == 403
    task.refresh_from_db()
    assert (task.status, task.name, task.progress) == (TaskStatus.QUEUED, "Train queued", 0)

    assert admin_client.get(reverse("admin:tasks_task_add")).status_code == 403
    assert admin_client.get(reverse("admin:tasks_taskschedule_add")).status_code == 403
    assert admin_client.get(reverse("admin:tasks_task_delete", args=[task.pk])).status_code == 403
    log = TaskLogFactory(task=task, created_at=timezone.now(), message="hello")
    assert admin_client.post(reverse("admin:tasks_tasklog_change", args=[log.pk]), {}).status_code == 403


def test_no_delete_action_on_tasks(admin_client, admin_user):
    task = _task(admin_user, TaskStatus.COMPLETED)
    response = admin_client.post(
        reverse("admin:tasks_task_changelist"),
        {"action": "delete_selected", "_selected_action": [task.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert Task.objects.filter(pk=task.pk).exists()


# --------------------------------------------------------------------------- tasks: actions


def test_cancel_action_cancels_a_queued_task_and_warns_on_a_finished_one(admin_client, admin_user):
    queued = _task(admin_user, TaskStatus.QUEUED)
    done = _task(admin_user, TaskStatus.COMPLETED)
    page = _action(admin_client, reverse("admin:tasks_task_changelist"), "cancel_tasks", [queued, done])

    queued.refresh_from_db()
    done.refresh_from_db()
    assert queued.status == TaskStatus.CANCELLED and queued.completed_at is not None
    assert done.status == TaskStatus.COMPLETED
    assert f'<li class="success">Task {queued} cancelled.</li>' in page
    assert (
        f'<li class="warning">Task #{done.pk} is completed; only an unfinished task can be cancelled.' in page
    )
    assert TaskLog.objects.filter(task=queued, message="Cancelled before it started.").exists()
    assert LogEntry.objects.filter(object_id=str(queued.pk), change_message__contains="Cancelled").exists()


def test_cancel_action_flags_a_running_task(admin_client, admin_user, django_capture_on_commit_callbacks):
    running = _task(admin_user, TaskStatus.RUNNING, started_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = _action(admin_client, reverse("admin:tasks_task_changelist"), "cancel_tasks", [running])
    running.refresh_from_db()
    assert running.status == TaskStatus.RUNNING and running.cancel_requested
    assert "cancel requested; it stops at its next round." in page
    assert len(callbacks) == 1  # the grace-period enforcement, sent after commit


def test_rerun_action_creates_a_new_task(
    admin_client, admin_user, trained, make_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = _action(admin_client, reverse("admin:tasks_task_changelist"), "rerun_tasks", [trained])
    new = Task.objects.filter(type="training").exclude(pk=trained.pk).get()
    assert new.rerun_of == trained and new.status == TaskStatus.PENDING
    assert new.parameters == trained.parameters and new.created_by == admin_user
    assert len(callbacks) == 1  # the broker message, not sent here
    assert f"Task {trained} re-run as" in page
    assert reverse("admin:tasks_task_change", args=[new.pk]) in page


def test_rerun_action_reports_an_invalid_request(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    broken = _task(admin_user, TaskStatus.FAILED, parameters={"model_name": "m", "dataset": 999999})
    with django_capture_on_commit_callbacks(execute=False):
        page = _action(admin_client, reverse("admin:tasks_task_changelist"), "rerun_tasks", [broken])
    assert Task.objects.count() == 1
    assert f'<li class="error">Task {broken} cannot be re-run: dataset: No dataset with id 999999.' in page


def test_actions_need_the_change_permission(client, make_user, admin_user):
    # A staff user who may only view tasks (a viewer's grants) sees the list, not the actions.
    staff = make_user(Role.VIEWER)
    type(staff).objects.filter(pk=staff.pk).update(is_staff=True)  # save() derives it from the role
    client.force_login(staff)
    task = _task(admin_user, TaskStatus.QUEUED)
    response = client.get(reverse("admin:tasks_task_changelist"))
    assert response.status_code == 200
    assert "cancel_tasks" not in response.content.decode()
    _action(client, reverse("admin:tasks_task_changelist"), "cancel_tasks", [task])
    task.refresh_from_db()
    assert task.status == TaskStatus.QUEUED


# --------------------------------------------------------------------------- schedules


def test_schedule_actions_flip_the_beat_entry(admin_client, schedule):
    url = reverse("admin:tasks_taskschedule_changelist")
    page = _action(admin_client, url, "disable_schedules", [schedule])
    schedule.periodic_task.refresh_from_db()
    assert schedule.periodic_task.enabled is False
    assert "Disabled 1 schedule(s)." in page

    page = _action(admin_client, url, "enable_schedules", [schedule])
    schedule.periodic_task.refresh_from_db()
    assert schedule.periodic_task.enabled is True
    assert "Enabled 1 schedule(s)." in page


def test_schedule_page_shows_timing_and_parameters(admin_client, schedule):
    listing = admin_client.get(reverse("admin:tasks_taskschedule_changelist")).content.decode()
    assert "every 60 minutes" in listing
    page = admin_client.get(reverse("admin:tasks_taskschedule_change", args=[schedule.pk])).content.decode()
    assert "&quot;name&quot;: &quot;credit-lgbm&quot;" in page
    assert "omm training: nightly credit" in page
    assert 'name="parameters"' not in page


def test_schedule_delete_goes_through_the_service(admin_client, admin_user, schedule):
    run = _task(admin_user, TaskStatus.COMPLETED, schedule=schedule)
    periodic_pk = schedule.periodic_task_id
    response = admin_client.post(
        reverse("admin:tasks_taskschedule_delete", args=[schedule.pk]), {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert not TaskSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(pk=periodic_pk).exists()
    run.refresh_from_db()
    assert run.schedule is None  # past runs stay


def test_bulk_schedule_delete_goes_through_the_service(admin_client, schedule):
    periodic_pk = schedule.periodic_task_id
    _action_post = admin_client.post(
        reverse("admin:tasks_taskschedule_changelist"),
        {"action": "delete_selected", "_selected_action": [schedule.pk], "post": "yes"},
        follow=True,
    )
    assert _action_post.status_code == 200
    assert not TaskSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(pk=periodic_pk).exists()


# --------------------------------------------------------------------------- registry


def test_registry_is_read_only_but_the_description(admin_client, trained):
    version = ModelVersion.objects.select_related("model").get(task=trained)
    model = version.model
    url = reverse("admin:models_model_change", args=[model.pk])
    form = admin_client.get(url).content.decode()
    assert 'name="description"' in form and 'name="status"' not in form
    response = admin_client.post(
        url,
        {
            "description": "Credit scorecard",
            "status": "deployed",
            "name": "hijacked",
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
            "versions-0-id": str(version.pk),
            "versions-0-model": str(model.pk),
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    model.refresh_from_db()
    assert (model.description, model.status, model.name) == ("Credit scorecard", "draft", "credit-lgbm")

    url = reverse("admin:models_modelversion_change", args=[version.pk])
    response = admin_client.post(url, {"changelog": "First run", "status": "active", "checksum": "0" * 64})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.changelog == "First run"
    assert version.status == VersionStatus.REGISTERED and version.checksum != "0" * 64
    assert admin_client.get(reverse("admin:models_model_add")).status_code == 403
    assert admin_client.get(reverse("admin:models_modelversion_add")).status_code == 403


def test_versions_are_not_deleted_from_the_admin(client, admin_client, make_user, trained):
    version = ModelVersion.objects.get(task=trained)
    delete_url = reverse("admin:models_modelversion_delete", args=[version.pk])
    assert admin_client.get(delete_url).status_code == 403  # admins are not superusers

    root = make_user(Role.ADMIN, is_superuser=True)
    client.force_login(root)
    assert client.get(delete_url).status_code == 403  # it has lineage
    response = client.post(
        reverse("admin:models_modelversion_changelist"),
        {"action": "delete_selected", "_selected_action": [version.pk], "post": "yes"},
    )
    # Its audit trail protects it: the admin's "cannot delete" page, nothing deleted.
    assert response.status_code == 200 and "Cannot delete" in response.content.decode()
    assert ModelVersion.objects.filter(pk=version.pk).exists()


def test_a_version_without_lineage_can_go_for_a_superuser(client, make_user, trained):
    version = ModelVersion.objects.get(task=trained)
    bare = ModelVersionFactory(
        model=version.model,
        version=2,
        algorithm=version.algorithm,
        artifact="models/orphan.omm",
        artifact_format=version.artifact_format,
    )
    client.force_login(make_user(Role.ADMIN, is_superuser=True))
    response = client.post(reverse("admin:models_modelversion_delete", args=[bare.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not ModelVersion.objects.filter(pk=bare.pk).exists()


def test_a_model_with_versions_shows_what_protects_it(admin_client, trained, monkeypatch):
    model = ModelVersion.objects.get(task=trained).model
    url = reverse("admin:models_model_delete", args=[model.pk])
    page = admin_client.post(url, {"post": "yes"})
    assert page.status_code == 200
    assert "<title>Cannot delete model | OMM admin</title>" in page.content.decode()
    assert "credit-lgbm v1" in page.content.decode()
    assert Model.objects.filter(pk=model.pk).exists()

    # A version registered between the admin's check and the delete: a message, not a 500.
    from django.contrib import admin as django_admin

    model_admin = django_admin.site.get_model_admin(Model)
    real = type(model_admin).get_deleted_objects

    def unchecked(self, objs, request):
        to_delete, counts, perms, _protected = real(self, objs, request)
        return to_delete, counts, perms, []

    monkeypatch.setattr(type(model_admin), "get_deleted_objects", unchecked)
    response = admin_client.post(url, {"post": "yes"}, follow=True)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Not deleted: still used by" in content and "credit-lgbm v1" in content
    assert Model.objects.filter(pk=model.pk).exists()
    assert not LogEntry.objects.filter(object_id=str(model.pk), action_flag=3).exists()

    response = admin_client.post(
        reverse("admin:models_model_changelist"),
        {"action": "delete_selected", "_selected_action": [model.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Nothing deleted: still used by" in content and "credit-lgbm v1" in content
    assert Model.objects.filter(pk=model.pk).exists()


# --------------------------------------------------------------------------- who gets in


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST])
def test_non_admins_cannot_see_the_admin(client, make_user, admin_user, role):
    task = _task(admin_user, TaskStatus.QUEUED)
    client.force_login(make_user(role))
    for url in [
        reverse("admin:tasks_task_changelist"),
        reverse("admin:tasks_task_change", args=[task.pk]),
        reverse("admin:tasks_taskschedule_changelist"),
        reverse("admin:models_modelversion_changelist"),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
    response = client.post(
        reverse("admin:tasks_task_changelist"), {"action": "cancel_tasks", "_selected_action": [task.pk]}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.QUEUED
