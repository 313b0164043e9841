"""The admin is branded and every registered model's list and search pages work."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_admin_is_branded(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/admin/").content.decode()
    assert "OMM administration" in page


@pytest.mark.parametrize(
    "model_admin", list(admin.site._registry.values()), ids=lambda m: m.model._meta.label
)
def test_every_admin_changelist_and_search_loads(client, admin_user, model_admin):
    client.force_login(admin_user)
    meta = model_admin.model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    assert client.get(url).status_code == 200
    if model_admin.search_fields:
        assert client.get(url, {"q": "x"}).status_code == 200


def test_omm_models_have_useful_columns_and_filters():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in {"core", "users"}:
            continue
        assert len(model_admin.list_display) >= 3, model
        assert model_admin.list_filter, model


def test_system_written_rows_are_read_only_in_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/core/apiauditlog/add/").status_code == 403
    assert client.get("/admin/core/workerheartbeat/add/").status_code == 403
