"""Every endpoint that exists, for every role: deny by default, allow what the role holds."""

from __future__ import annotations

import pytest

from apps.users.models import Role

pytestmark = pytest.mark.django_db

ROLES = [Role.ADMIN, Role.ANALYST, Role.INTEGRATOR, Role.VIEWER]

# (method, path, body, roles allowed)
ENDPOINTS = [
    ("get", "/api/auth/me", None, set(ROLES)),
    ("get", "/api/users", None, {Role.ADMIN}),
    (
        "post",
        "/api/users",
        {"username": "new", "email": "n@x.io", "password": "Str0ng-Pass!", "role": "viewer"},
        {Role.ADMIN},
    ),
    ("get", "/api/system/config", None, {Role.ADMIN}),
    ("put", "/api/system/config/tasks-log-retention-days", {"value": 100}, {Role.ADMIN}),
    ("get", "/api/system/audit-logs", None, {Role.ADMIN}),
    ("get", "/api/system/workers", None, {Role.ADMIN}),
    ("post", "/api/system/worker-pings", {"queue": "default"}, {Role.ADMIN, Role.ANALYST}),
    ("get", "/api/schema/", None, set(ROLES)),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS)
def test_role_matrix(client_for, make_user, role, method, path, body, allowed):
    client = client_for(make_user(role))
    response = getattr(client, method)(path, body, format="json") if body else getattr(client, method)(path)
    if role in allowed:
        assert response.status_code in (200, 201), (role, path, response.content[:300])
    else:
        assert response.status_code == 403, (role, path, response.status_code)
        assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS)
def test_anonymous_is_refused_everywhere(client, method, path, body, allowed):
    response = getattr(client, method)(path, body or {}, content_type="application/json")
    assert response.status_code == 401


def test_worker_ping_detail_is_readable_by_its_roles(client_for, make_user):
    analyst = client_for(make_user(Role.ANALYST))
    ping_id = analyst.post("/api/system/worker-pings", {"queue": "default"}, format="json").json()["data"][
        "id"
    ]
    assert analyst.get(f"/api/system/worker-pings/{ping_id}").status_code == 200
    viewer = client_for(make_user(Role.VIEWER))
    assert viewer.get(f"/api/system/worker-pings/{ping_id}").status_code == 403


@pytest.mark.parametrize(("role", "status"), [(Role.ADMIN, 200), (Role.ANALYST, 302), (Role.VIEWER, 302)])
def test_only_admins_enter_the_django_admin(client, make_user, role, status):
    client.force_login(make_user(role))
    assert client.get("/admin/").status_code == status
