"""The API's shared conventions: list shape, write envelope, the one error format."""

from __future__ import annotations

import pytest

from apps.core.models import ApiAuditLog
from tests.factories import ApiAuditLogFactory, ModelFactory

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"success", "status", "code", "message", "errors"}


def assert_error(response, status: int, code: str) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == ERROR_KEYS, body
    assert body["success"] is False
    assert body["status"] == status
    assert body["code"] == code
    assert body["message"]
    return body


def test_list_answers_data_total_page_page_size(api, admin_user):
    ApiAuditLog.objects.bulk_create(
        ApiAuditLog(method="GET", path=f"/api/x/{i}", status_code=200, duration_ms=1.0) for i in range(25)
    )
    body = api.get("/api/system/audit-logs", {"page": 2, "pageSize": 10}).json()
    assert set(body) == {"data", "total", "page", "pageSize"}
    assert body["page"] == 2 and body["pageSize"] == 10
    assert body["total"] == 25
    assert len(body["data"]) == 10


def test_json_keys_are_camel_case(api):
    ApiAuditLogFactory(path="/api/x", duration_ms=2.5, user_agent="ua")
    row = api.get("/api/system/audit-logs").json()["data"][0]
    assert {"statusCode", "durationMs", "ipAddress", "userAgent", "createdAt"} <= set(row)
    assert not any("_" in key for key in row)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pageSize": 1000}, "pageSize"),
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": "ten"}, "pageSize"),
        ({"page": -1}, "page"),
        ({"page": "x"}, "page"),
        ({"ordering": "password"}, "ordering"),
        ({"colour": "red"}, "colour"),
        ({"method": "BREW"}, "method"),
        ({"createdAfter": "yesterday"}, "createdAfter"),
    ],
)
def test_bad_list_parameters_answer_400_naming_the_parameter(api, params, field):
    body = assert_error(api.get("/api/system/audit-logs", params), 400, "validation_error")
    assert field in body["errors"]


def test_page_past_the_end_is_empty_not_an_error(api):
    body = api.get("/api/system/audit-logs", {"page": 99}).json()
    assert body["data"] == [] and body["page"] == 99


def test_filters_and_ordering_apply(api):
    ApiAuditLogFactory(path="/api/x/a", status_code=200, duration_ms=9)
    ApiAuditLogFactory(method="POST", path="/api/x/b", status_code=400, duration_ms=1)
    body = api.get("/api/system/audit-logs", {"statusCode": 400}).json()
    assert [r["path"] for r in body["data"]] == ["/api/x/b"]
    body = api.get("/api/system/audit-logs", {"ordering": "duration_ms", "path": "/api/x/"}).json()
    assert [r["path"] for r in body["data"]] == ["/api/x/b", "/api/x/a"]
    body = api.get("/api/system/audit-logs", {"ordering": "-duration_ms", "path": "/api/x/"}).json()
    assert [r["path"] for r in body["data"]] == ["/api/x/a", "/api/x/b"]


def test_successful_write_is_wrapped_in_success_data_message(api):
    response = api.post("/api/system/worker-pings", {"queue": "default"}, format="json")
    body = response.json()
    assert response.status_code == 201
    assert set(body) == {"success", "data", "message"}
    assert body["success"] is True and body["data"]["queue"] == "default"


def test_unknown_field_is_refused_and_nothing_is_created(api):
    from apps.core.models import WorkerPing

    body = assert_error(
        api.post("/api/system/worker-pings", {"queue": "default", "colour": 1}, format="json"),
        400,
        "validation_error",
    )
    assert body["errors"] == {"colour": ["Unknown field."]}
    assert not WorkerPing.objects.exists()


def test_wrong_type_and_bad_choice_are_field_errors(api):
    body = assert_error(
        api.post("/api/system/worker-pings", {"queue": ["x"]}, format="json"), 400, "validation_error"
    )
    assert "queue" in body["errors"]
    body = assert_error(
        api.post("/api/system/worker-pings", {"queue": "gpu"}, format="json"), 400, "validation_error"
    )
    assert "queue" in body["errors"]


def test_malformed_json_is_a_parse_error(api):
    response = api.generic("POST", "/api/system/worker-pings", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_unsupported_media_type(api):
    response = api.generic("POST", "/api/system/worker-pings", "queue=default", content_type="text/csv")
    assert_error(response, 415, "unsupported_media_type")


def test_unknown_id_is_404_in_the_error_format(api):
    assert_error(api.get("/api/system/worker-pings/7d6f0b8e-6a55-4b0e-9d44-000000000000"), 404, "not_found")
    assert_error(api.get("/api/system/config/no-such-key"), 404, "not_found")


def test_unknown_api_path_is_404_in_the_error_format(client):
    assert_error(client.get("/api/does-not-exist"), 404, "not_found")


def test_method_not_allowed(api):
    assert_error(api.delete("/api/system/config/tasks-log-retention-days"), 405, "method_not_allowed")


def test_anonymous_call_is_401_with_www_authenticate(client):
    response = client.get("/api/system/audit-logs")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "path",
    [
        "/api/datasets/abc/versions",
        "/api/features/x/versions",
        "/api/tasks/1.5",
        "/api/models/-1",
        "/api/system/audit-logs/null",
        # Past a bigint: never reaches the database.
        "/api/datasets/99999999999999999999/versions",
        "/api/models/9223372036854775808/events",
        "/api/tasks/1000000000000000000",
    ],
)
def test_a_non_numeric_or_out_of_range_id_is_404_in_the_error_format(api, path):
    assert_error(api.get(path), 404, "not_found")


def test_the_largest_id_answers_404_not_an_error(api):
    assert_error(api.get("/api/system/audit-logs/999999999999999999"), 404, "not_found")
    assert_error(api.get("/api/datasets/999999999999999999/versions/99999999999999999999"), 404, "not_found")


@pytest.mark.parametrize("page", ["2147483648", "1000000000000000000", "9" * 40])
def test_a_page_past_the_bound_is_400_naming_it(api, page):
    body = assert_error(api.get("/api/system/audit-logs", {"page": page}), 400, "validation_error")
    assert "page" in body["errors"]


def test_the_last_allowed_page_is_an_empty_page(api):
    ApiAuditLogFactory()
    body = api.get("/api/system/audit-logs", {"page": 2**31 - 1, "pageSize": 200}).json()
    assert body["data"] == [] and body["page"] == 2**31 - 1 and body["total"] >= 1


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/system/audit-logs", {"statusCode": "0.5"}, "statusCode"),
        ("/api/system/audit-logs", {"statusCode": "99999999999"}, "statusCode"),
        ("/api/tasks", {"schedule": "-1.5e249"}, "schedule"),
        ("/api/tasks", {"schedule": str(2**63)}, "schedule"),
        ("/api/users", {"isActive": "maybe"}, "isActive"),
        ("/api/users", {"isActive": "null"}, "isActive"),
    ],
)
def test_a_filter_value_its_column_cannot_hold_is_400(api, path, params, field):
    body = assert_error(api.get(path, params), 400, "validation_error")
    assert field in body["errors"]


def test_boolean_and_id_filters_still_filter(api, admin_user, make_user):
    make_user(username="gone", is_active=False)
    names = [u["username"] for u in api.get("/api/users", {"isActive": "false"}).json()["data"]]
    assert names == ["gone"]
    assert api.get("/api/users", {"isActive": "1"}).json()["total"] == 1
    ApiAuditLogFactory(status_code=404)
    assert api.get("/api/system/audit-logs", {"statusCode": 404}).json()["total"] == 1


def test_a_body_past_the_upload_limit_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = api.post("/api/system/worker-pings", {"queue": "x" * 2048}, format="json")
    assert_error(response, 413, "payload_too_large")


def test_nested_errors_read_as_text_not_python(api):
    body = {"name": "nightly", "everyMinutes": 60, "request": {}}
    body = assert_error(api.post("/api/tasks/schedules", body, format="json"), 400, "validation_error")
    messages = [m for field in body["errors"].values() for m in field]
    assert messages and not any("ErrorDetail" in m or "{" in m for m in messages), messages


@pytest.mark.parametrize("payload", [{"type": ["training"]}, {"type": {"a": 1}}, [1, 2], "training"])
def test_a_body_of_the_wrong_shape_is_400_not_a_server_error(api, payload):
    assert_error(api.post("/api/tasks", payload, format="json"), 400, "validation_error")


def test_a_form_is_read_as_a_form(api):
    body = assert_error(
        api.post("/api/tasks", {"type": "nonsense"}, format="multipart"), 400, "validation_error"
    )
    assert "nonsense" not in body["message"] and "type" in body["errors"]
    body = assert_error(
        api.post("/api/tasks", {"type": "training"}, format="multipart"), 400, "validation_error"
    )
    assert "type" not in body["errors"]  # the kind's own fields are what is missing


@pytest.mark.parametrize("when", ["0621-09-04T06:12:21+20:11", "2026-01-31T12:00:00-23:59"])
def test_a_time_filter_with_any_offset_is_read(api, when):
    ApiAuditLogFactory()
    assert api.get("/api/system/audit-logs", {"createdAfter": when}).json()["total"] >= 1


def test_a_time_filter_past_the_calendar_is_400(api):
    response = api.get("/api/system/audit-logs", {"createdBefore": "0001-01-01T00:00:00+05:00"})
    assert "createdBefore" in assert_error(response, 400, "validation_error")["errors"]


def test_a_time_in_a_path_action_with_any_offset_or_no_such_day(api):
    model = ModelFactory()
    url = f"/api/models/{model.pk}/active-at"
    assert_error(api.get(url, {"at": "2026-01-31T12:00:00+20:11"}), 404, "not_found")
    assert (
        "at" in assert_error(api.get(url, {"at": "2026-13-01T00:00:00Z"}), 400, "validation_error")["errors"]
    )
