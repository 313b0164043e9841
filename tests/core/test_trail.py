"""The governance trail: changes made through the API (JWT or session), the admin and the
services land in one append-only trail with actor, time, address, before/after and reason;
admins read it at /api/system/audit-trail and in the admin, nobody edits or deletes it, and
predictions and QA answers write nothing to it."""

from __future__ import annotations

import json

import pytest
from auditlog.models import LogEntry
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.core.models import TrailEntry
from apps.datasets.models import Dataset
from apps.features.models import Feature
from apps.models.models import ModelVersion
from apps.qa.models import BankAlias
from apps.tasks.models import TaskSchedule
from apps.users.models import Role, User
from tests.factories import PASSWORD, ModelVersionFactory, SystemConfigFactory
from tests.qa.conftest import build, qa_version  # noqa: F401 - the QA model the ask test uses
from tests.sample_data import CREDIT_CSV

pytestmark = pytest.mark.django_db

TRAIL = "/api/system/audit-trail"


@pytest.fixture(autouse=True)
def _fresh_content_types():
    # An earlier test that flushed inside its (rolled back) transaction leaves ids in the
    # content-type cache that no longer exist; entries name their model by content type.
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


def _entries(api, headers: dict | None = None, **params) -> list[dict]:
    response = api.get(TRAIL, {"pageSize": 200, **params}, **(headers or {}))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"data", "total", "page", "pageSize"}
    return body["data"]


def _change(entry: dict, field: str) -> dict:
    found = [c for c in entry["changes"] if c["field"] == field]
    assert found, (field, entry["changes"])
    return found[0]


def _bearer(client, user) -> dict:
    tokens = client.post(
        "/api/auth/token", {"username": user.username, "password": PASSWORD}, content_type="application/json"
    ).json()["data"]
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens['access']}"}


# --------------------------------------------------------------------------- the API writes


def test_a_setting_changed_with_a_jwt_names_its_caller_and_both_values(client, admin_user):
    auth = _bearer(client, admin_user)
    changed = client.put(
        "/api/system/config/audit-api-log-retention-days",
        {"value": 30},
        content_type="application/json",
        REMOTE_ADDR="10.1.2.3",
        **auth,
    )
    assert changed.status_code == 200, changed.content

    [entry] = _entries(client, auth, model="core.systemconfig", action="update")
    assert entry["actor"] == "boss" and entry["actorEmail"] == admin_user.email
    assert entry["remoteAddr"] == "10.1.2.3" and entry["objectRepr"] == "audit-api-log-retention-days"
    value = _change(entry, "value")
    assert (value["operation"], value["before"], value["after"]) == ("set", 90, 30)
    assert value["label"] == "value" and entry["modelName"] == "system setting"


def test_a_setting_changed_on_the_settings_page_names_the_signed_in_admin(client, admin_user, api):
    client.force_login(admin_user)
    saved = client.post("/settings/audit-api-log-retention-days/", {"value": "45"})
    assert saved.status_code == 302, saved.content
    [entry] = _entries(api, model="core.systemconfig", action="update")
    assert entry["actor"] == "boss" and entry["remoteAddr"] == "127.0.0.1"
    assert (_change(entry, "value")["before"], _change(entry, "value")["after"]) == (90, 45)


def test_a_secret_setting_never_reaches_the_trail(api):
    secret = SystemConfigFactory(key="smtp-password", value_type="string", value="old-s3cret", is_secret=True)
    assert (
        api.put(f"/api/system/config/{secret.key}", {"value": "new-s3cret"}, format="json").status_code == 200
    )

    [entry] = _entries(api, model="core.systemconfig", objectId=str(secret.pk), action="update")
    assert _change(entry, "value")["before"] == "********" == _change(entry, "value")["after"]
    assert "s3cret" not in json.dumps([e.changes for e in LogEntry.objects.all()])


def test_a_users_role_and_deactivation_are_recorded_never_the_password(api, client):
    created = api.post(
        "/api/users",
        {"username": "carol", "email": "carol@example.com", "password": PASSWORD, "role": "viewer"},
        format="json",
    )
    assert created.status_code == 201, created.content
    carol = User.objects.get(username="carol")
    _bearer(client, carol)  # a login sets last_login: not a change anyone made
    assert api.patch(f"/api/users/{carol.pk}", {"role": "analyst"}, format="json").status_code == 200
    assert api.patch(f"/api/users/{carol.pk}", {"isActive": False}, format="json").status_code == 200

    entries = _entries(api, model="users.user", objectId=str(carol.pk))
    by_field = {c["field"]: (e, c) for e in entries[::-1] for c in e["changes"]}  # the newest wins
    assert all(e["actor"] == "boss" for e in entries)
    assert by_field["role"][1]["before"] == "viewer" and by_field["role"][1]["after"] == "analyst"
    assert (by_field["is_active"][1]["before"], by_field["is_active"][1]["after"]) == (True, False)
    # The role's group follows the role: Viewers out, Analysts in.
    groups = {
        (c["operation"], *c["objects"]) for e in entries for c in e["changes"] if c["field"] == "groups"
    }
    assert {("add", "Viewers"), ("remove", "Viewers"), ("add", "Analysts")} <= groups
    # That a password was set is recorded; the hash never is, and logins are not changes.
    assert by_field["password"][1]["after"] == "********"
    assert carol.password not in json.dumps([e.changes for e in LogEntry.objects.all()])
    assert User.objects.get(pk=carol.pk).last_login is not None and "last_login" not in by_field


def test_a_groups_permissions_are_recorded(api):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="Auditors")
    group.permissions.add(Permission.objects.get(codename="view_trailentry"))
    [entry] = _entries(api, model="auth.group", objectId=str(group.pk), action="update")
    change = _change(entry, "permissions")
    assert change["operation"] == "add" and len(change["objects"]) == 1
    assert entry["actor"] is None  # not in a request: the system


def test_archiving_a_dataset_records_it_and_its_versions(api, upload):
    version = upload(CREDIT_CSV, "credit.csv", name="credit", labelColumn="is_bad", validate=False)
    dataset = Dataset.objects.get(name="credit")
    archived = api.post(f"/api/datasets/{dataset.pk}/archive", {"archived": True}, format="json")
    assert archived.status_code == 200, archived.content

    [entry] = _entries(api, model="datasets.dataset", objectId=str(dataset.pk), action="update")
    assert entry["actor"] == "boss" and _change(entry, "is_archived")["after"] is True
    [of_version] = _entries(api, model="datasets.datasetversion", action="update")
    assert of_version["objectId"] == str(version.json()["data"]["id"])
    assert (_change(of_version, "is_archived")["before"], _change(of_version, "is_archived")["after"]) == (
        False,
        True,
    )
    created = _entries(api, model="datasets.datasetversion", action="create")[0]
    assert {c["field"] for c in created["changes"]} >= {"sha256", "label_column", "original_filename"}
    assert "status" not in {c["field"] for c in created["changes"]}  # the ingestion's, not governance


def test_editing_a_feature_and_a_feature_set_is_recorded(api, upload):
    upload(CREDIT_CSV, "credit.csv", name="credit", labelColumn="is_bad")
    dataset_id = Dataset.objects.get(name="credit").pk
    api.post(
        "/api/features/register",
        {"dataset": dataset_id, "columns": [{"column": "user_age"}, {"column": "income"}]},
        format="json",
    )
    age = Feature.objects.get(name="user_age")
    assert api.patch(f"/api/features/{age.pk}", {"description": "years"}, format="json").status_code == 200
    [entry] = _entries(api, model="features.feature", objectId=str(age.pk), action="update")
    assert _change(entry, "description")["after"] == "years" and entry["actor"] == "boss"

    ids = list(Feature.objects.order_by("name").values_list("pk", flat=True))
    created = api.post(
        "/api/feature-sets", {"name": "s", "dataset": dataset_id, "features": ids}, format="json"
    ).json()["data"]
    edited = api.put(
        f"/api/feature-sets/{created['id']}",
        {"name": "s", "dataset": dataset_id, "features": ids[:1], "description": "income only"},
        format="json",
    )
    assert edited.status_code == 200, edited.content
    members = [
        _change(e, "features")
        for e in _entries(api, model="features.featureset", objectId=str(created["id"]))
        if any(c["field"] == "features" for c in e["changes"])
    ]
    assert members[0]["before"] == ["income v1", "user_age v1"] and members[0]["after"] == ["income v1"]
    assert members[1]["before"] == [] and members[1]["after"] == ["income v1", "user_age v1"]


def test_pausing_and_deleting_a_schedule_is_recorded(api, upload):
    upload(CREDIT_CSV, "credit.csv", name="credit", labelColumn="is_bad")
    body = {
        "name": "nightly",
        "request": {"name": "credit-lgbm", "dataset": Dataset.objects.get(name="credit").pk},
        "cron": "0 2 * * *",
    }
    schedule = api.post("/api/tasks/schedules", body, format="json").json()["data"]
    assert (
        api.patch(f"/api/tasks/schedules/{schedule['id']}", {"enabled": False}, format="json").status_code
        == 200
    )
    periodic = str(schedule["periodicTask"])
    paused = _entries(api, model="django_celery_beat.periodictask", objectId=periodic, action="update")[0]
    assert (_change(paused, "enabled")["before"], _change(paused, "enabled")["after"]) == (True, False)
    assert not any(c["field"] in ("last_run_at", "total_run_count") for c in paused["changes"])

    assert api.delete(f"/api/tasks/schedules/{schedule['id']}").status_code == 204
    deleted = _entries(api, action="delete")
    assert {e["model"] for e in deleted} == {"django_celery_beat.periodictask", "tasks.taskschedule"}
    assert not TaskSchedule.objects.exists() and not PeriodicTask.objects.filter(pk=periodic).exists()


def test_promoting_with_a_reason_records_the_reason_on_every_row_it_changed(api):
    old = ModelVersionFactory(status="active")
    new = ModelVersionFactory(model=old.model, version=2)
    promoted = api.post(f"/api/model-versions/{new.pk}/promote", {"reason": "better KS on Q3"}, format="json")
    assert promoted.status_code == 200, promoted.content

    entries = _entries(api, model="models.modelversion", action="update")
    status = {e["objectId"]: _change(e, "status") for e in entries}
    assert (status[str(new.pk)]["before"], status[str(new.pk)]["after"]) == ("registered", "active")
    assert (status[str(old.pk)]["before"], status[str(old.pk)]["after"]) == ("active", "inactive")
    assert {e["reason"] for e in entries} == {"better KS on Q3"} and {e["actor"] for e in entries} == {"boss"}
    [model] = _entries(api, model="models.model", action="update")
    assert _change(model, "status")["after"] == "deployed" and model["reason"] == "better KS on Q3"

    deprecated = api.post(f"/api/model-versions/{old.pk}/deprecate", {"reason": "superseded"}, format="json")
    assert deprecated.status_code == 200, deprecated.content
    [entry] = _entries(api, model="models.modelversion", objectId=str(old.pk), search="superseded")
    assert _change(entry, "status")["after"] == "deprecated"
    assert ModelVersion.objects.get(pk=old.pk).status == "deprecated"


# --------------------------------------------------------------------------- the admin


def test_an_alias_saved_in_the_admin_is_recorded_with_the_admin_user(client, admin_user, api):
    client.force_login(admin_user)
    added = client.post(
        "/admin/qa/bankalias/add/", {"alias": "测试别名", "full_name": "中国工商银行", "is_active": "on"}
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    alias = BankAlias.objects.get(alias="测试别名")
    client.post(f"/admin/qa/bankalias/{alias.pk}/change/", {"alias": "测试别名", "full_name": "中国工商银行"})

    entries = _entries(api, model="qa.bankalias", objectId=str(alias.pk))
    assert [e["action"] for e in entries] == ["update", "create"]
    assert (_change(entries[0], "is_active")["before"], _change(entries[0], "is_active")["after"]) == (
        True,
        False,
    )
    assert {e["actor"] for e in entries} == {"boss"} and entries[0]["remoteAddr"] == "127.0.0.1"


def test_deactivating_a_user_in_the_admin_is_recorded(client, admin_user, make_user, api):
    eve = make_user(Role.ANALYST, username="eve")
    client.force_login(admin_user)
    # The form as the browser sends it: the role's group still selected, "active" unticked.
    form = {"username": "eve", "email": eve.email, "department": "Risk", "role": "analyst"}
    form["groups"] = list(eve.groups.values_list("pk", flat=True))
    saved = client.post(f"/admin/users/user/{eve.pk}/change/", form)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    [entry] = _entries(api, model="users.user", objectId=str(eve.pk), actor="boss")
    assert entry["action"] == "update" and [c["field"] for c in entry["changes"]] == ["is_active"]
    assert (_change(entry, "is_active")["before"], _change(entry, "is_active")["after"]) == (True, False)


def test_the_admin_lists_the_trail_and_refuses_to_change_or_delete_it(client, make_user, api):
    ModelVersionFactory()  # a create entry
    entry = TrailEntry.objects.first()
    root = make_user(Role.ADMIN, username="root", is_superuser=True)
    client.force_login(root)
    listing = client.get("/admin/core/trailentry/")
    assert listing.status_code == 200 and str(entry.object_repr) in listing.content.decode()
    assert client.get("/admin/core/trailentry/", {"q": entry.object_repr}).status_code == 200
    for filters in ({"action": "create"}, {"content_type__id__exact": entry.content_type_id}):
        assert client.get("/admin/core/trailentry/", filters).status_code == 200
    assert client.get(f"/admin/core/trailentry/{entry.pk}/change/").status_code == 200  # read-only view
    joined = TrailEntry.objects.filter(object_repr="root", changes__has_key="groups").first()
    page = client.get(f"/admin/core/trailentry/{joined.pk}/change/").content.decode()
    assert "added: Admins" in page and ">root</a>" in page  # a link to the account
    assert client.post(f"/admin/core/trailentry/{entry.pk}/change/", {}).status_code == 403
    assert client.get(f"/admin/core/trailentry/{entry.pk}/delete/").status_code == 403
    assert client.post(f"/admin/core/trailentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/core/trailentry/add/").status_code == 403
    bulk = client.post(
        "/admin/core/trailentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert TrailEntry.objects.filter(pk=entry.pk).exists()
    assert client.get("/admin/auditlog/logentry/").status_code == 404  # auditlog's own admin is replaced


def test_the_admin_reads_in_chinese(client, admin_user, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    ModelVersionFactory()  # written outside a request: by the system
    client.force_login(admin_user)
    page = client.get("/admin/core/trailentry/").content.decode()
    assert 'lang="zh-hans"' in page
    for text in (">操作人<", ">原因<", ">IP 地址<", '<td class="field-actor_name">系统</td>'):
        assert text in page, text


# --------------------------------------------------------------------------- the endpoint


@pytest.mark.parametrize("role", [Role.ANALYST, Role.INTEGRATOR, Role.VIEWER])
def test_only_admins_read_the_trail(client_for, make_user, role):
    response = client_for(make_user(role)).get(TRAIL)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_the_trail_needs_a_login(client):
    assert client.get(TRAIL).status_code == 401


def test_filters_and_bad_filters(api, make_user):
    make_user(Role.VIEWER, username="dave")
    ModelVersionFactory()
    everything = _entries(api)
    assert everything and all(e["timestamp"] for e in everything)
    assert {e["model"] for e in _entries(api, model="users.user")} == {"users.user"}
    assert all(e["action"] == "create" for e in _entries(api, action="create"))
    assert _entries(api, actor="nobody") == []
    assert [e["objectRepr"] for e in _entries(api, model="users.user", search="dave")][-1] == "dave"
    later = (timezone.now() + timezone.timedelta(minutes=1)).isoformat()
    assert _entries(api, **{"from": later}) == [] and len(_entries(api, to=later)) == len(everything)
    for bad in ({"model": "nope.nothing"}, {"action": "explode"}, {"from": "yesterday"}, {"colour": "red"}):
        response = api.get(TRAIL, bad)
        assert response.status_code == 400 and response.json()["code"] == "validation_error", bad
    one = api.get(f"{TRAIL}/{everything[0]['id']}")
    assert one.status_code == 200 and one.json()["id"] == everything[0]["id"]


def test_the_trail_is_documented_in_the_openapi_schema(client, admin_user):
    client.force_login(admin_user)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"][TRAIL]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"actor", "model", "objectId", "action", "from", "to", "search", "page", "pageSize"} <= names
    assert "403" in operation["responses"]
    entry = schema["components"]["schemas"]["TrailEntry"]["properties"]
    assert {"actor", "timestamp", "remoteAddr", "reason", "changes", "objectId"} <= set(entry)


# --------------------------------------------------------------------------- append-only


def test_the_orm_refuses_to_change_or_delete_an_entry():
    ModelVersionFactory()
    entry = LogEntry.objects.first()
    entry.object_repr = "forged"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_update_and_delete_on_the_table():
    ModelVersionFactory()
    entry = LogEntry.objects.first()
    for sql in (
        "UPDATE auditlog_logentry SET object_repr = 'forged' WHERE id = %s",
        "DELETE FROM auditlog_logentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert LogEntry.objects.get(pk=entry.pk).object_repr == entry.object_repr


def test_deleting_an_actor_keeps_their_entries_and_email(client_for, make_user):
    actor = make_user(Role.ADMIN, username="leaver")
    edit = client_for(actor).put(
        "/api/system/config/audit-api-log-retention-days", {"value": 60}, format="json"
    )
    assert edit.status_code == 200
    entry = TrailEntry.objects.get(actor=actor)
    actor.delete()
    entry = TrailEntry.objects.get(pk=entry.pk)
    assert entry.actor_id is None and entry.actor_email == "leaver@example.com"


# --------------------------------------------------------------------------- hot paths


def _uploaded_and_promoted(api) -> ModelVersion:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.models.test_governance import _lgb_text

    api.post("/api/models", {"name": "ext", "type": "classification", "algorithm": "lightgbm"}, format="json")
    body = api.post(
        "/api/models/upload",
        {"model": "ext", "file": SimpleUploadedFile("m.txt", _lgb_text())},
        format="multipart",
    ).json()["data"]
    assert (
        api.post(f"/api/model-versions/{body['id']}/promote", {"reason": "go"}, format="json").status_code
        == 200
    )
    return ModelVersion.objects.get(pk=body["id"])


def test_predictions_write_nothing_to_the_trail(api, client, make_user):
    version = _uploaded_and_promoted(api)
    integrator = make_user(Role.INTEGRATOR)
    auth = _bearer(client, integrator)
    before = LogEntry.objects.count()
    for _ in range(3):
        scored = client.post(
            f"/api/models/{version.model_id}/predict",
            {"record": {"f0": 1.0, "f1": 0.0, "f2": 0.5}},
            content_type="application/json",
            **auth,
        )
        assert scored.status_code == 200, scored.content
    assert LogEntry.objects.count() == before


@pytest.mark.usefixtures("qa_version")
def test_qa_answers_write_nothing_to_the_trail(client, make_user):
    analyst = make_user(Role.ANALYST)
    auth = _bearer(client, analyst)
    before = LogEntry.objects.count()
    for question in ("工商银行的联行号", "中国银行"):
        asked = client.post("/api/qa/ask", {"question": question}, content_type="application/json", **auth)
        assert asked.status_code == 200, asked.content
    assert LogEntry.objects.count() == before
