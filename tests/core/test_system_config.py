"""Typed, cached, admin-edited settings with secrets masked."""

from __future__ import annotations

import pytest

from apps.core.config import DECLARED, config_get
from apps.core.models import SECRET_MASK, SystemConfig, ValueType
from tests.factories import SystemConfigFactory, WorkerHeartbeatFactory

pytestmark = pytest.mark.django_db


def test_every_declared_key_has_a_row_after_migrate():
    keys = set(SystemConfig.objects.values_list("key", flat=True))
    assert set(DECLARED) <= keys


def test_update_through_api_is_typed_and_read_back_fresh(api):
    assert config_get("tasks-max-concurrent-trainings") == 5  # cached now
    response = api.put("/api/system/config/tasks-max-concurrent-trainings", {"value": "3"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["value"] == 3
    assert config_get("tasks-max-concurrent-trainings") == 3


@pytest.mark.parametrize("value", ["three", True, {"a": 1}, None])
def test_wrong_type_is_refused_and_the_value_kept(api, value):
    response = api.put("/api/system/config/tasks-max-concurrent-trainings", {"value": value}, format="json")
    assert response.status_code == 400
    assert "value" in response.json()["errors"]
    assert SystemConfig.objects.get(key="tasks-max-concurrent-trainings").value == 5


def test_key_and_type_cannot_be_changed_through_the_api(api):
    response = api.put(
        "/api/system/config/tasks-max-concurrent-trainings",
        {"value": 2, "valueType": "string"},
        format="json",
    )
    assert response.status_code == 200
    row = SystemConfig.objects.get(key="tasks-max-concurrent-trainings")
    assert row.value_type == ValueType.NUMBER and row.value == 2


def test_secret_values_are_masked_in_api_and_admin(api, client, admin_user):
    SystemConfigFactory(key="smtp-password", value_type=ValueType.STRING, value="hunter2", is_secret=True)
    body = api.get("/api/system/config/smtp-password").json()
    assert body["value"] == SECRET_MASK
    assert "hunter2" not in api.get("/api/system/config", {"pageSize": 200}).content.decode()
    client.force_login(admin_user)
    page = client.get("/admin/core/systemconfig/").content.decode()
    assert "smtp-password" in page and "hunter2" not in page
    change = client.get(
        f"/admin/core/systemconfig/{SystemConfig.objects.get(key='smtp-password').pk}/change/"
    )
    assert "hunter2" not in change.content.decode()


def test_admin_form_keeps_secret_when_left_empty_and_validates_types(client, admin_user):
    secret = SystemConfigFactory(key="api-key", value_type=ValueType.STRING, value="s3cr3t", is_secret=True)
    client.force_login(admin_user)
    url = f"/admin/core/systemconfig/{secret.pk}/change/"
    stored = SystemConfig.objects.get(pk=secret.pk).value
    response = client.post(url, {"value": "", "description": "x", "is_secret": "on"})
    assert response.status_code == 302
    secret.refresh_from_db()
    assert secret.value == stored and secret.plain_value == "s3cr3t"  # kept, not sealed again

    number = SystemConfig.objects.get(key="tasks-log-retention-days")
    url = f"/admin/core/systemconfig/{number.pk}/change/"
    response = client.post(url, {"value": "many", "description": number.description})
    assert response.status_code == 200 and "Expected a number." in response.content.decode()
    number.refresh_from_db()
    assert number.value == 180
    client.post(url, {"value": "200", "description": number.description})
    assert config_get("tasks-log-retention-days") == 200


def test_json_and_boolean_values():
    from django.core.exceptions import ValidationError

    from apps.core.models import coerce_config_value

    assert coerce_config_value(ValueType.JSON, '{"a": [1, 2]}') == {"a": [1, 2]}
    assert coerce_config_value(ValueType.BOOLEAN, "off") is False
    with pytest.raises(ValidationError):
        coerce_config_value(ValueType.JSON, "{oops")
    with pytest.raises(ValidationError):
        coerce_config_value(ValueType.BOOLEAN, "maybe")


# --------------------------------------------------------------------------- declared ranges

ERROR_KEYS = {"success", "status", "code", "message", "errors"}


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("qa-sure-threshold", 7, "a number from 0 to 1"),
        ("qa-sure-threshold", -1, "a number from 0 to 1"),
        ("qa-sure-threshold", "1.01", "a number from 0 to 1"),
        ("tasks-log-retention-days", -5, "a whole number from 1 to 3650"),
        ("tasks-log-retention-days", 3651, "a whole number from 1 to 3650"),
        ("tasks-max-concurrent-trainings", 0.5, "a whole number >= 1"),
        ("tasks-max-concurrent-trainings", "2.5", "a whole number >= 1"),
        ("tasks-max-concurrent-trainings", 0, "a whole number >= 1"),
        ("models-challenger-margin", -0.01, "a number >= 0"),
    ],
)
def test_out_of_range_or_fractional_value_is_refused_over_the_api(api, key, value, allowed):
    before = SystemConfig.objects.get(key=key)
    response = api.put(f"/api/system/config/{key}", {"value": value}, format="json")
    body = response.json()
    assert response.status_code == 400, body
    assert set(body) == ERROR_KEYS and body["code"] == "validation_error"
    assert any(f"Must be {allowed}" in message for message in body["errors"]["value"]), body
    after = SystemConfig.objects.get(key=key)
    assert (after.value, after.updated_at) == (before.value, before.updated_at)
    assert config_get(key) == before.value


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("qa-sure-threshold", 0, 0),
        ("qa-sure-threshold", 1, 1),
        ("qa-sure-threshold", "1.0", 1),
        ("tasks-log-retention-days", 1, 1),
        ("tasks-log-retention-days", 3650, 3650),
        ("tasks-max-concurrent-trainings", 1.0, 1),  # a whole float is stored as an integer
        ("models-predict-cache-seconds", 0, 0),
    ],
)
def test_a_value_on_the_boundary_is_accepted(api, key, value, stored):
    response = api.put(f"/api/system/config/{key}", {"value": value}, format="json")
    assert response.status_code == 200, response.json()
    row = SystemConfig.objects.get(key=key)
    assert row.value == stored and type(row.value) is type(stored)
    assert config_get(key) == stored


def test_admin_form_refuses_out_of_range_and_fractional_values(client, admin_user):
    client.force_login(admin_user)
    threshold = SystemConfig.objects.get(key="qa-sure-threshold")
    url = f"/admin/core/systemconfig/{threshold.pk}/change/"
    page = client.get(url).content.decode()
    assert "Allowed: a number from 0 to 1." in page
    response = client.post(url, {"value": "7", "description": threshold.description})
    assert response.status_code == 200
    assert "Must be a number from 0 to 1; got 7." in response.content.decode()
    threshold.refresh_from_db()
    assert threshold.value == DECLARED["qa-sure-threshold"].default

    trainings = SystemConfig.objects.get(key="tasks-max-concurrent-trainings")
    url = f"/admin/core/systemconfig/{trainings.pk}/change/"
    response = client.post(url, {"value": "0.5", "description": trainings.description})
    assert response.status_code == 200
    assert "Must be a whole number &gt;= 1; got 0.5." in response.content.decode()
    trainings.refresh_from_db()
    assert trainings.value == 5

    response = client.post(url, {"value": "1", "description": trainings.description})
    assert response.status_code == 302
    assert config_get("tasks-max-concurrent-trainings") == 1


def test_model_clean_applies_the_declared_range():
    from django.core.exceptions import ValidationError

    row = SystemConfig(key="qa-sure-threshold", value_type=ValueType.NUMBER, value=-1)
    with pytest.raises(ValidationError) as caught:
        row.clean()
    assert caught.value.message_dict == {"value": ["Must be a number from 0 to 1; got -1."]}


def test_undeclared_numbers_are_only_type_checked_and_must_be_finite():
    from django.core.exceptions import ValidationError

    from apps.core.models import coerce_config_value

    assert coerce_config_value(ValueType.NUMBER, "-5", key="some-local-knob") == -5
    assert coerce_config_value(ValueType.NUMBER, 2.5) == 2.5
    for value in ("nan", "inf", float("inf")):
        with pytest.raises(ValidationError):
            coerce_config_value(ValueType.NUMBER, value, key="some-local-knob")


def test_every_declared_number_has_a_range_holding_its_default():
    from apps.core.models import coerce_config_value

    # Keys of every domain are declared in their AppConfig.ready, so all are here by now.
    assert {"qa-sure-threshold", "tasks-max-attempts", "models-challenger-margin"} <= set(DECLARED)
    assert {"datasets-quality-min-score", "evaluations-psi-alert"} <= set(DECLARED)
    numbers = [c for c in DECLARED.values() if c.value_type == ValueType.NUMBER]
    assert len(numbers) >= 19
    for c in numbers:
        assert c.allowed, f"{c.key} declares no range"
        low, high = c.bounds()
        assert low is None or high is None or low <= high, c.key
        assert coerce_config_value(c.value_type, c.default, key=c.key) == c.default, c.key
    for c in DECLARED.values():
        if c.value_type != ValueType.NUMBER:
            assert (c.minimum, c.maximum, c.integer) == (None, None, False), c.key


def test_the_worker_timeout_follows_the_heartbeat_interval(api, settings):
    """A worker timeout under two heartbeats would call every live worker dead."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.core.models import WorkerHeartbeat
    from apps.core.selectors import live_workers

    settings.OMM_HEARTBEAT_SECONDS = 30
    key = "workers-heartbeat-timeout-seconds"
    response = api.put(f"/api/system/config/{key}", {"value": 45}, format="json")
    body = response.json()
    assert response.status_code == 400, body
    assert "Must be a whole number from 60 to 86400; got 45." in body["errors"]["value"]
    assert config_get(key) == 45  # the default, kept
    assert api.put(f"/api/system/config/{key}", {"value": 60}, format="json").status_code == 200

    # A value stored under an older, shorter interval is read as the new minimum.
    settings.OMM_HEARTBEAT_SECONDS = 40
    seen = timezone.now() - timedelta(seconds=70)
    WorkerHeartbeatFactory(hostname="w1", pid=1, started_at=seen, last_seen=seen)
    assert [w.hostname for w in live_workers()] == ["w1"]
    WorkerHeartbeat.objects.filter(hostname="w1").update(last_seen=timezone.now() - timedelta(seconds=90))
    assert not live_workers().exists()
