"""The OpenAPI document generates, validates and describes the conventions."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    # --fail-on-warn turns every drf-spectacular warning into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.stat().st_size > 1000


def test_schema_is_not_public(client):
    assert client.get("/api/schema/").status_code == 401


def test_schema_describes_envelope_errors_and_pages(client, admin_user):
    client.force_login(admin_user)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "Error" in schema["components"]["schemas"]
    ping = schema["paths"]["/api/system/worker-pings"]["post"]["responses"]["201"]
    envelope = ping["content"]["application/json"]["schema"]
    assert envelope["required"] == ["success", "data", "message"]
    audit = schema["paths"]["/api/system/audit-logs"]["get"]
    params = {p["name"] for p in audit["parameters"]}
    assert {"page", "pageSize", "statusCode", "createdAfter", "ordering"} <= params
    assert "400" in audit["responses"] and "403" in audit["responses"]


def test_docs_page_is_served_without_a_cdn(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()


@pytest.fixture
def schema(client, admin_user) -> dict:
    client.force_login(admin_user)
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def _parameter(operation: dict, name: str) -> dict:
    return next(p for p in operation["parameters"] if p["name"] == name)


def test_schema_declares_the_bounds_the_server_enforces(schema):
    tasks = schema["paths"]["/api/tasks"]["get"]
    assert _parameter(tasks, "page")["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    assert _parameter(tasks, "pageSize")["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert _parameter(tasks, "schedule")["schema"] == {
        "type": "integer",
        "minimum": -(2**63),
        "maximum": 2**63 - 1,
    }
    ordering = _parameter(tasks, "ordering")
    assert ordering["explode"] is False
    assert {"created_at", "-created_at", "priority", "-priority"} <= set(ordering["schema"]["items"]["enum"])
    detail = schema["paths"]["/api/datasets/{id}/versions"]["get"]
    assert _parameter(detail, "id")["schema"] == {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}
    # Ids that are not numbers keep their own type.
    ping = schema["paths"]["/api/system/worker-pings/{id}"]["get"]
    assert _parameter(ping, "id")["schema"]["format"] == "uuid"


def test_schema_lists_the_error_statuses_each_operation_answers(schema):
    paths = schema["paths"]
    error = {"$ref": "#/components/schemas/Error"}
    read = paths["/api/tasks/{id}"]["get"]["responses"]
    assert set(read) == {"200", "400", "401", "403", "404"}
    assert read["404"]["content"]["application/json"]["schema"] == error
    queues = paths["/api/tasks/{id}/rerun"]["post"]["responses"]
    assert {"409", "503"} <= set(queues) and "429" not in queues
    assert "503" in paths["/api/datasets/{id}/versions/{number}/validate"]["post"]["responses"]
    # Declared by the view (a report of an evaluation not completed), in the error format.
    export = paths["/api/evaluation/{id}/export.html"]["get"]["responses"]["409"]
    assert export["content"]["application/json"]["schema"] == error
    write = paths["/api/qa/sessions"]["post"]["responses"]
    assert {"409", "413", "415"} <= set(write) and "503" not in write
    login = paths["/api/auth/token"]["post"]["responses"]
    assert {"401", "413", "415", "429"} <= set(login) and "409" not in login
    assert login["429"]["content"]["application/json"]["schema"] == error


def test_schema_marks_what_may_be_null_and_refuses_unknown_fields(schema):
    components = schema["components"]["schemas"]
    assert components["Task"]["properties"]["createdBy"]["nullable"] is True
    assert components["Model"]["properties"]["abVersion"]["nullable"] is True
    assert components["SystemConfig"]["properties"]["updatedBy"]["nullable"] is True
    assert "nullable" not in components["Task"]["properties"]["name"]
    # Strict serializers refuse unknown keys, so their requests allow no other property.
    assert components["WorkerPingCreateRequest"]["additionalProperties"] is False
