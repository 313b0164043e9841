"""factory-boy factories for the test suite.

Rows a test needs as set-up data, not as the thing under test. Datasets, features, trained
versions and evaluations are made through the API or the services instead (``upload``,
``credit_version``, ``train``...), so that their files and checks are real; the registry
rows here have no artifact behind them and serve checks that refuse before anything loads.
"""

from __future__ import annotations

import factory
from django.utils import timezone

from apps.core.models import ApiAuditLog, ProcessKind, SystemConfig, ValueType, WorkerHeartbeat
from apps.features.models import Tag
from apps.models.models import BatchPrediction, Model, ModelType, ModelVersion, PredictionLog
from apps.qa.models import BankAlias, QAHistory, QASession
from apps.tasks.models import Task, TaskLog, TaskStatus, TaskType
from apps.users.models import Role, User

PASSWORD = "Omm-test-Passw0rd!"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.VIEWER
    department = "Risk"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


# --------------------------------------------------------------------------- core


class ApiAuditLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiAuditLog

    method = "GET"
    path = factory.Sequence(lambda n: f"/api/x/{n}")
    status_code = 200
    duration_ms = 1.0


class WorkerHeartbeatFactory(factory.django.DjangoModelFactory):
    """A worker that reported just now (set ``last_seen`` for one that went quiet)."""

    class Meta:
        model = WorkerHeartbeat

    hostname = factory.Sequence(lambda n: f"w{n}@localhost")
    kind = ProcessKind.WORKER
    pid = factory.Sequence(lambda n: 1000 + n)
    started_at = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyAttribute(lambda w: w.started_at)


class SystemConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SystemConfig

    key = factory.Sequence(lambda n: f"test-setting-{n}")
    value_type = ValueType.STRING
    value = ""


# --------------------------------------------------------------------------- tasks


class TaskFactory(factory.django.DjangoModelFactory):
    """A task row as the queue holds it (set-up data: status changes go through the services)."""

    class Meta:
        model = Task

    name = factory.Sequence(lambda n: f"Task {n}")
    type = TaskType.TRAINING


class TaskLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskLog

    task = factory.SubFactory(TaskFactory)
    created_at = factory.LazyFunction(timezone.now)
    message = factory.Sequence(lambda n: f"line {n}")


# --------------------------------------------------------------------------- features


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag{n}")


# --------------------------------------------------------------------------- models


class ModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Model

    name = factory.Sequence(lambda n: f"model{n}")
    type = ModelType.CLASSIFICATION
    algorithm = "lightgbm"


class ModelVersionFactory(factory.django.DjangoModelFactory):
    """A registry row with no artifact behind it: loading it fails, so it only serves checks
    that refuse before anything is loaded, and pages and admin actions that read the row."""

    class Meta:
        model = ModelVersion

    model = factory.SubFactory(ModelFactory)
    version = 1
    algorithm = factory.LazyAttribute(lambda v: v.model.algorithm)
    artifact = "models/none.omm"
    artifact_format = "lightgbm-text"
    size = 1
    checksum = "0" * 64
    signature = "0" * 64


class PredictionLogFactory(factory.django.DjangoModelFactory):
    """A sampled prediction request of ``version`` (its model taken from the version)."""

    class Meta:
        model = PredictionLog

    version = factory.SubFactory(ModelVersionFactory)
    model = factory.LazyAttribute(lambda p: p.version.model)
    request_id = factory.Sequence(lambda n: f"req-{n}")
    records = 1
    inputs = factory.LazyFunction(lambda: [{}])
    scores = factory.LazyFunction(lambda: [0.5])
    latency_ms = 1.0
    created_at = factory.LazyFunction(timezone.now)


class BatchPredictionFactory(factory.django.DjangoModelFactory):
    """A finished batch prediction: its completed prediction task, on the version's own data."""

    class Meta:
        model = BatchPrediction

    version = factory.SubFactory(ModelVersionFactory)
    task = factory.SubFactory(
        TaskFactory,
        name=factory.LazyAttribute(lambda t: f"Score with {t.factory_parent.version}"),
        type=TaskType.PREDICTION,
        status=TaskStatus.COMPLETED,
    )
    dataset_version = factory.LazyAttribute(lambda b: b.version.dataset_version)
    file = "predictions/scores.csv"
    rows = 10
    size = 99


# --------------------------------------------------------------------------- qa


class BankAliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BankAlias

    alias = factory.Sequence(lambda n: f"别名{n}")
    full_name = "中国工商银行"


class QASessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QASession

    user = factory.SubFactory(UserFactory, role=Role.ANALYST)
    title = factory.Sequence(lambda n: f"session {n}")


class QAHistoryFactory(factory.django.DjangoModelFactory):
    """A question answered with certainty by exact match (``model_version`` is usually a
    built QA version: pass it)."""

    class Meta:
        model = QAHistory

    user = factory.SubFactory(UserFactory, role=Role.ANALYST)
    model_version = factory.SubFactory(ModelVersionFactory)
    question = factory.Sequence(lambda n: f"question {n}")
    confidence = 1.0
    sure = True
    matched_by = "exact"
    response_ms = 1.0
