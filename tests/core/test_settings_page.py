"""The settings page: everyone reads every setting; admins edit one, checked by type and
range, recorded in the admin's change history; a refused value changes nothing."""

from __future__ import annotations

import json

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry

from apps.core.config import DECLARED, config_get
from apps.core.models import SECRET_MASK, SystemConfig
from apps.users.models import Role
from tests.factories import SystemConfigFactory

pytestmark = pytest.mark.django_db

RETENTION = "tasks-log-retention-days"  # a whole number from 1 to 3650


def _value(key: str):
    return SystemConfig.objects.get(key=key).value


def test_settings_page_lists_every_setting_with_type_range_and_value(client, make_user):
    SystemConfig.objects.filter(key=RETENTION).update(value=30)
    client.force_login(make_user(Role.VIEWER))
    response = client.get("/settings/")
    assert response.status_code == 200
    page = response.content.decode()
    for key in DECLARED:
        assert f'data-key="{key}"' in page
    row = page.split(f'data-key="{RETENTION}"')[1].split("</tr>")[0]
    assert "1 to 3650" in row and "whole numbers" in row and "<code>30</code>" in row
    assert str(DECLARED[RETENTION].description) in row
    # Readers get no way to edit.
    assert "/settings/tasks-log-retention-days/" not in page and ">Edit<" not in page


def test_settings_page_masks_secrets(client, make_user, admin_user):
    SystemConfigFactory(key="webhook-token", value="s3cret-value", is_secret=True)
    client.force_login(make_user(Role.ANALYST))
    page = client.get("/settings/").content.decode()
    assert SECRET_MASK in page and "s3cret-value" not in page
    client.force_login(admin_user)
    edit = client.get("/settings/webhook-token/").content.decode()
    assert "s3cret-value" not in edit


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST, Role.INTEGRATOR])
def test_settings_edit_page_is_for_admins_only(client, make_user, role):
    before = _value(RETENTION)
    client.force_login(make_user(role))
    assert client.get(f"/settings/{RETENTION}/").status_code == 403
    assert client.post(f"/settings/{RETENTION}/", {"value": "7"}).status_code == 403
    assert _value(RETENTION) == before
    assert not LogEntry.objects.exists()


def test_settings_pages_ask_for_a_login(client):
    assert client.get("/settings/").status_code == 302
    assert client.post(f"/settings/{RETENTION}/", {"value": "7"}).status_code == 302
    assert _value(RETENTION) == DECLARED[RETENTION].default


def test_admin_edits_a_setting_and_the_change_is_in_the_admin_history(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/settings/").content.decode()
    assert f'href="/settings/{RETENTION}/"' in page
    form = client.get(f"/settings/{RETENTION}/")
    assert form.status_code == 200 and 'name="value"' in form.content.decode()

    response = client.post(f"/settings/{RETENTION}/", {"value": "30"}, follow=True)
    assert response.redirect_chain[-1][0] == "/settings/"
    assert f"Setting {RETENTION} saved." in response.content.decode()
    config = SystemConfig.objects.get(key=RETENTION)
    assert config.value == 30 and config.updated_by == admin_user
    assert config_get(RETENTION) == 30  # the cache was invalidated
    entry = LogEntry.objects.get()
    assert entry.action_flag == CHANGE and entry.user == admin_user and entry.object_id == str(config.pk)
    assert json.loads(entry.change_message) == [{"changed": {"fields": ["value"]}}]


@pytest.mark.parametrize(
    ("key", "bad", "needle"),
    [
        (RETENTION, "0", "greater than or equal to 1"),
        (RETENTION, "4000", "less than or equal to 3650"),
        (RETENTION, "2.5", "whole number"),
        (RETENTION, "many", "whole number"),
        (RETENTION, "", "required"),
        ("models-decision-log-sample-rate", "1.5", "less than or equal to 1"),
        ("models-decision-log-sample-rate", "inf", "Enter a number"),
        ("models-promotion-approval", "maybe", "Select a valid choice"),
    ],
)
def test_a_bad_value_is_a_form_error_and_changes_nothing(client, admin_user, key, bad, needle):
    before = _value(key)
    client.force_login(admin_user)
    response = client.post(f"/settings/{key}/", {"value": bad})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="error" role="alert"' in page and needle in page
    assert _value(key) == before
    assert not LogEntry.objects.exists()


def test_json_and_boolean_settings_are_typed(client, admin_user):
    SystemConfigFactory(key="test-json", value_type="json", value={"a": 1})
    client.force_login(admin_user)
    bad = client.post("/settings/test-json/", {"value": "{not json"})
    assert bad.status_code == 400 and _value("test-json") == {"a": 1}
    assert client.post("/settings/test-json/", {"value": '{"b": [1, 2]}'}).status_code == 302
    assert _value("test-json") == {"b": [1, 2]}
    assert client.post("/settings/models-promotion-approval/", {"value": "true"}).status_code == 302
    assert _value("models-promotion-approval") is True


def test_a_secret_left_empty_is_kept(client, admin_user):
    SystemConfigFactory(key="webhook-token", value="s3cret-value", is_secret=True)
    client.force_login(admin_user)
    stored = _value("webhook-token")
    assert client.post("/settings/webhook-token/", {"value": ""}).status_code == 302
    assert _value("webhook-token") == stored  # kept as it was, not sealed again
    assert config_get("webhook-token") == "s3cret-value"
    assert client.post("/settings/webhook-token/", {"value": "new"}).status_code == 302
    assert SystemConfig.objects.get(key="webhook-token").plain_value == "new"


def test_a_declared_setting_without_a_row_gets_one_on_its_first_edit(client, admin_user):
    SystemConfig.objects.filter(key=RETENTION).delete()
    client.force_login(admin_user)
    assert f'data-key="{RETENTION}"' in client.get("/settings/").content.decode()
    assert client.post(f"/settings/{RETENTION}/", {"value": "0"}).status_code == 400
    assert not SystemConfig.objects.filter(key=RETENTION).exists()  # refused: no row left behind
    assert client.post(f"/settings/{RETENTION}/", {"value": "60"}).status_code == 302
    assert _value(RETENTION) == 60
    assert LogEntry.objects.get().action_flag == ADDITION


def test_an_unknown_setting_is_not_found(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/settings/no-such-setting/").status_code == 404


def test_settings_page_renders_in_chinese(client, admin_user):
    client.cookies["omm_language"] = "zh-hans"
    client.force_login(admin_user)
    page = client.get("/settings/").content.decode()
    assert "系统设置" in page and "当前值" in page and "编辑" in page
    assert "Current value" not in page
    edit = client.post(f"/settings/{RETENTION}/", {"value": "0"}).content.decode()
    assert "保存" in edit and "Save" not in edit
