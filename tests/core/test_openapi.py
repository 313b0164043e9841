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
