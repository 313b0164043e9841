"""The API's shared conventions: list shape, write envelope, the one error format."""

from __future__ import annotations

import pytest

from apps.core.models import ApiAuditLog
from tests.factories import ApiAuditLogFactory

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
