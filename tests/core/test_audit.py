"""Every API call is recorded; old entries are purged by the retention job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.models import ApiAuditLog
from apps.core.services import audit_log_purge
from apps.core.tasks import purge_audit_logs
from tests.factories import ApiAuditLogFactory

pytestmark = pytest.mark.django_db


def test_api_call_with_token_is_logged_with_user_status_ip_and_agent(client, admin_user, password):
    token = client.post(
        "/api/auth/token",
        {"username": admin_user.username, "password": password},
        content_type="application/json",
    ).json()["data"]["access"]
    client.get(
        "/api/auth/me",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_USER_AGENT="audit-test/1.0",
        REMOTE_ADDR="10.1.2.3",
    )
    entry = ApiAuditLog.objects.filter(path="/api/auth/me").get()
    assert entry.user == admin_user and entry.username == admin_user.username
    assert entry.method == "GET" and entry.status_code == 200
    assert entry.ip_address == "10.1.2.3" and entry.user_agent == "audit-test/1.0"
    assert entry.duration_ms > 0


def test_failed_and_anonymous_calls_are_logged_too(client):
    client.get("/api/system/config?x=1")
    entry = ApiAuditLog.objects.get()
    assert entry.user is None and entry.status_code == 401 and entry.query == "x=1"


def test_pages_outside_the_api_are_not_logged(client):
    client.get("/login/")
    assert not ApiAuditLog.objects.exists()


def test_purge_deletes_only_entries_past_retention():
    old = ApiAuditLogFactory(path="/api/old")
    fresh = ApiAuditLogFactory(path="/api/new")
    ApiAuditLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))
    ApiAuditLog.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - timedelta(days=89))
    assert purge_audit_logs() == 1
    assert list(ApiAuditLog.objects.values_list("path", flat=True)) == ["/api/new"]
    assert audit_log_purge() == 0  # a second run finds nothing more
