"""Typed, cached, admin-edited settings with secrets masked."""

from __future__ import annotations

import pytest

from apps.core.config import DECLARED, config_get
from apps.core.models import SECRET_MASK, SystemConfig, ValueType

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
    SystemConfig.objects.create(
        key="smtp-password", value_type=ValueType.STRING, value="hunter2", is_secret=True
    )
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
    secret = SystemConfig.objects.create(
        key="api-key", value_type=ValueType.STRING, value="s3cr3t", is_secret=True
    )
    client.force_login(admin_user)
    url = f"/admin/core/systemconfig/{secret.pk}/change/"
    response = client.post(url, {"value": "", "description": "x", "is_secret": "on"})
    assert response.status_code == 302
    secret.refresh_from_db()
    assert secret.value == "s3cr3t"

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
