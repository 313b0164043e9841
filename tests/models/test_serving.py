"""Scoring through the API: one record, batches, schema checks, A/B split, cache, samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.core.cache import cache

from apps.core.config import config_invalidate
from apps.core.models import SystemConfig
from apps.models import serving, training_tasks
from apps.models.models import Decision, Model, ModelVersion
from apps.tasks import runner as task_runner
from apps.users.models import Role
from tests.factories import ModelFactory

pytestmark = pytest.mark.django_db


def _train(user, dataset_id, seed=42, rounds=5, name="credit"):
    task = training_tasks.training_create(
        user=user,
        request={"name": name, "dataset": dataset_id, "params": {"num_boost_round": rounds}, "seed": seed},
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    return ModelVersion.objects.get(task=task)


@pytest.fixture
def two_versions(admin_user, credit_version):
    v1 = _train(admin_user, credit_version.dataset_id, seed=1, rounds=5)
    v2 = _train(admin_user, credit_version.dataset_id, seed=2, rounds=30)
    return v1, v2


@pytest.fixture
def active(api, two_versions):
    v1, _ = two_versions
    assert (
        api.post(f"/api/model-versions/{v1.pk}/promote", {"reason": "go"}, format="json").status_code == 200
    )
    return v1


def _set(key, value):
    SystemConfig.objects.update_or_create(key=key, defaults={"value": value, "value_type": "number"})
    config_invalidate(key)
    serving.config_get_local.__globals__["_local"].clear()


def _record(version, credit_csv_frame, i=0):
    row = credit_csv_frame.iloc[i]
    out = {}
    for name in version.feature_schema["features"]:
        value = row[name]
        if value is None or pd.isna(value):
            out[name] = None
        elif hasattr(value, "item"):
            out[name] = value.item()
        else:
            out[name] = value
    return out


@pytest.fixture
def frame():
    from apps.datasets.demo_data import credit_frame

    return credit_frame(3000, seed=11)


def test_one_record_and_a_batch_score_as_the_engine_does(api, active, frame):
    from apps.models import services, training

    record = _record(active, frame)
    r = api.post(f"/api/models/{active.model_id}/predict", {"record": record}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()["data"]
    assert body["version"] == 1 and body["versionId"] == active.pk and body["arm"] == "active"
    assert len(body["requestId"]) == 32 and body["cached"] is False
    artifact, model = services.version_load(version=active)
    expected = training.predict(artifact.format, model, frame.iloc[[0]], artifact.meta)
    assert body["scores"][0] == pytest.approx(float(expected[0]), abs=1e-12)

    batch = [_record(active, frame, i) for i in range(200)]
    r = api.post(f"/api/models/{active.model_id}/predict", {"records": batch}, format="json")
    expected = training.predict(artifact.format, model, frame.iloc[:200], artifact.meta)
    assert np.allclose(r.json()["data"]["scores"], expected, atol=1e-12)

    again = api.post(f"/api/models/{active.model_id}/predict", {"records": batch}, format="json").json()[
        "data"
    ]
    assert again["cached"] is True and again["requestId"] != r.json()["data"]["requestId"]
    assert np.allclose(again["scores"], expected, atol=1e-12)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda r: r.pop(next(iter(r))), "missing"),
        (lambda r: r.update(surprise=1), "unknown field"),
        (lambda r: r.update({next(k for k, v in r.items() if isinstance(v, int | float)): "high"}), "number"),
        (lambda r: r.update({next(k for k, v in r.items() if isinstance(v, int | float)): True}), "number"),
    ],
)
def test_records_that_do_not_match_the_schema_are_refused(api, active, frame, change, needle):
    record = _record(active, frame)
    change(record)
    r = api.post(f"/api/models/{active.model_id}/predict", {"records": [record]}, format="json")
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "validation_error" and needle in " ".join(body["errors"]["records"])
    assert not Decision.objects.exists()


def test_request_shape_limits_and_model_state(api, two_versions, frame):
    v1, _ = two_versions
    url = f"/api/models/{v1.model_id}/predict"
    record = _record(v1, frame)
    r = api.post(url, {"record": record}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "no_active_version"
    api.post(f"/api/model-versions/{v1.pk}/promote", {"reason": "go"}, format="json")
    assert api.post(url, {"record": record, "records": [record]}, format="json").status_code == 400
    assert api.post(url, {"rows": [record]}, format="json").status_code == 400
    assert api.post(url, {"records": []}, format="json").status_code == 400
    assert api.post(url, [record], format="json").status_code == 400
    _set("models-predict-max-records", 3)
    r = api.post(url, {"records": [record] * 4}, format="json")
    assert r.status_code == 400 and "At most 3 records" in r.json()["message"]
    assert api.post("/api/models/999999/predict", {"record": record}, format="json").status_code == 404


def test_viewers_cannot_score_integrators_can(client_for, make_user, active, frame):
    record = _record(active, frame)
    url = f"/api/models/{active.model_id}/predict"
    assert client_for(make_user(Role.VIEWER)).post(url, {"record": record}, format="json").status_code == 403
    assert (
        client_for(make_user(Role.INTEGRATOR)).post(url, {"record": record}, format="json").status_code == 200
    )


def test_a_promotion_reaches_the_next_request(api, two_versions, frame):
    v1, v2 = two_versions
    api.post(f"/api/model-versions/{v1.pk}/promote", {"reason": "test"}, format="json")
    url = f"/api/models/{v1.model_id}/predict"
    record = _record(v1, frame)
    assert api.post(url, {"record": record}, format="json").json()["data"]["version"] == 1
    assert v1.pk in serving._loaded
    api.post(f"/api/model-versions/{v2.pk}/promote", {"reason": "test"}, format="json")
    assert api.post(url, {"record": record}, format="json").json()["data"]["version"] == 2
    assert v1.pk not in serving._loaded  # the version no longer served left memory


def test_a_tampered_artifact_is_never_served(api, active, frame):
    with active.artifact.open("rb") as fh:
        blob = bytearray(fh.read())
    blob[-10] ^= 0xFF
    with open(active.artifact.path, "wb") as fh:
        fh.write(bytes(blob))
    serving._loaded.clear()
    r = api.post(f"/api/models/{active.model_id}/predict", {"record": _record(active, frame)}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "artifact_invalid"


def test_ab_split_is_stable_per_entity_and_honours_the_share(api, two_versions, frame):
    v1, _v2 = two_versions
    api.post(f"/api/model-versions/{v1.pk}/promote", {"reason": "test"}, format="json")
    url = f"/api/models/{v1.model_id}/ab"
    r = api.put(url, {"version": 2, "percent": 30, "reason": "try v2"}, format="json")
    assert r.status_code == 200 and r.json()["data"]["abPercent"] == 30
    _set("models-predict-cache-seconds", 0)
    record = _record(v1, frame)
    seen = {}
    for key in range(300):
        body = api.post(
            f"/api/models/{v1.model_id}/predict",
            {"record": record, "entityKey": f"cust-{key}"},
            format="json",
        ).json()["data"]
        seen[key] = body["version"]
    share = sum(1 for v in seen.values() if v == 2) / len(seen)
    assert 0.22 < share < 0.38
    for key in (0, 1, 2, 3, 4):  # the same key always gets the same version
        body = api.post(
            f"/api/models/{v1.model_id}/predict",
            {"record": record, "entityKey": f"cust-{key}"},
            format="json",
        ).json()["data"]
        assert body["version"] == seen[key]
    split = api.get(url).json()
    counts = {row["version"]: row["count"] for row in split["requests"]}
    assert counts[1] + counts[2] == 305 and counts[2] == sum(1 for v in seen.values() if v == 2) + sum(
        1 for k in range(5) if seen[k] == 2
    )
    events = api.get(f"/api/models/{v1.model_id}/events").json()["data"]
    assert any(e["action"] == "ab" and e["details"]["abPercent"] == 30 for e in events)

    assert api.put(url, {"version": 1, "percent": 10}, format="json").status_code == 409  # B is active
    assert api.put(url, {"version": 2, "percent": 101}, format="json").status_code == 400
    assert api.put(url, {"version": None, "percent": 0}, format="json").json()["data"]["abVersion"] is None


def test_every_request_is_logged_with_its_version(api, active, frame):
    r = api.post(f"/api/models/{active.model_id}/predict", {"record": _record(active, frame)}, format="json")
    log = Decision.objects.get()
    assert log.request_id == r.json()["data"]["requestId"] and log.version_id == active.pk
    listed = api.get(f"/api/models/{active.model_id}/predictions").json()
    assert listed["total"] == 1
    assert set(listed["data"][0]["inputs"]) == set(active.feature_schema["features"])  # names not re-cased


def test_retrieval_and_archived_models_are_not_scored(api, active, frame, admin_user):
    assert (
        api.post(f"/api/models/{active.model_id}/archive", {"reason": "retired"}, format="json").status_code
        == 200
    )
    r = api.post(f"/api/models/{active.model_id}/predict", {"record": _record(active, frame)}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "archived"
    qa = ModelFactory(name="qa", type="retrieval", algorithm="ngram", created_by=admin_user)
    r = api.post(f"/api/models/{qa.pk}/predict", {"record": {}}, format="json")
    assert r.status_code == 400 and "qa/ask" in r.json()["message"]
    cache.clear()


def test_a_login_token_scores_without_a_user_read_and_is_audited(client, make_user, password, active, frame):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.core.models import ApiAuditLog

    for role, expected in ((Role.INTEGRATOR, 200), (Role.VIEWER, 403)):
        user = make_user(role)
        login = client.post("/api/auth/token", {"username": user.username, "password": password})
        token = login.json()["access"] if "access" in login.json() else login.json()["data"]["access"]
        with CaptureQueriesContext(connection) as queries:
            r = client.post(
                f"/api/models/{active.model_id}/predict",
                {"record": _record(active, frame)},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
        assert r.status_code == expected
        assert not any('"users_user"' in q["sql"] and "SELECT" in q["sql"] for q in queries.captured_queries)
        assert ApiAuditLog.objects.filter(user=user, status_code=expected).exists()


@pytest.mark.django_db(transaction=True)
def test_routing_reads_on_the_open_connection_and_survives_losing_it():
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext

    model = ModelFactory(name="routed", type="classification", algorithm="lightgbm")
    with CaptureQueriesContext(connection) as queries:
        route = serving.route_of(model.pk)
    assert route.name == "routed" and route.active_id is None
    # The prepared statement, the server session and its loss are PostgreSQL's; on SQLite the
    # query goes through Django's cursor and there is no session to lose, so there only the
    # answers are checked.
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        # Outside a transaction the routing query is its own health check: no Django cursor.
        assert not queries.captured_queries
        old_pid = connection.connection.info.backend_pid
        # The server ends the session (a restart, an idle timeout) and Django has not noticed.
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [old_pid])
                assert cursor.fetchone()[0] is True
        finally:
            other.close()
    assert serving.route_of(model.pk).name == "routed"  # reconnected, not a 500
    if postgresql:
        assert connection.connection.info.backend_pid != old_pid
        # A session reset (as a pooler does) forgets prepared statements: prepared again.
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
    Model.objects.filter(pk=model.pk).update(ab_percent=7)
    assert serving.route_of(model.pk).ab_percent == 7  # and it reads the row as it is now
    with pytest.raises(serving.PredictionRefused):
        serving.route_of(model.pk + 1000)


def test_a_fresh_answer_reaches_the_shared_cache_with_the_next_request(api, active, frame):
    url = f"/api/models/{active.model_id}/predict"
    first, second = _record(active, frame, 0), _record(active, frame, 1)
    r = api.post(url, {"record": first}, format="json")
    body = r.json()
    assert body["success"] is True and body["message"] == "Scored." and body["data"]["cached"] is False
    api.post(url, {"record": second}, format="json")
    # What another worker process would read: the answer, through Django's own cache API.
    key = serving._cache_key(active.pk, serving._matrix(serving.loaded_version(active.pk), [first]), 4)
    assert cache.get(key)["s"] == body["data"]["scores"]
