"""QA fixtures: a QA model built from the bank-records version of tests/conftest.py, promoted."""

from __future__ import annotations

import pytest

from apps.users.models import Role


@pytest.fixture
def build(admin_user):
    """Build a QA model version in-process (as a worker would) and return it."""
    from apps.models.models import ModelVersion
    from apps.qa import services
    from apps.tasks import runner as task_runner

    def run(version, *, user=admin_user, name: str | None = None, activate: bool = True) -> ModelVersion:
        request = {"dataset": version.dataset_id, "dataset_version": version.version}
        if name:
            request["name"] = name
        task = services.build_create(user=user, request=request, enqueue=False)
        outcome = task_runner.task_execute(task_id=task.pk, worker="test")
        task.refresh_from_db()
        assert outcome == "completed", task.error
        mv = ModelVersion.objects.get(task=task)
        if activate:
            from apps.models import services as registry

            registry.version_activate(version=mv, user=user, reason="QA tests")
            mv.refresh_from_db()
        return mv

    return run


@pytest.fixture
def qa_version(bank_version, build):
    return build(bank_version)


@pytest.fixture
def analyst(make_user):
    return make_user(Role.ANALYST, username="ana")


@pytest.fixture
def analyst_api(client_for, analyst):
    return client_for(analyst)
