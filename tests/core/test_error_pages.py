"""A service's refusal that no page caught answers with its status and the error page, not a 500."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from apps.core.errors import Conflict, Forbidden, Unavailable
from apps.core.middleware import ApplicationErrorMiddleware

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("error", "status"), [(Forbidden, 403), (Conflict, 409), (Unavailable, 503)])
def test_a_refusal_on_a_page_is_its_status_and_message(error, status, admin_user):
    request = RequestFactory().post("/tasks/1/rerun/")
    request.user = admin_user
    middleware = ApplicationErrorMiddleware(lambda r: None)
    response = middleware.process_exception(request, error("Not now, and here is why."))
    assert response.status_code == status
    assert "Not now, and here is why." in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


def test_outside_the_api_views_other_errors_are_left_to_django():
    request = RequestFactory().get("/models/")
    assert ApplicationErrorMiddleware(lambda r: None).process_exception(request, ValueError("x")) is None


def test_the_integrator_meets_a_403_page_not_a_server_error_when_training(client, make_user):
    from apps.users.models import Role

    client.force_login(make_user(Role.INTEGRATOR))
    response = client.get("/tasks/create/")
    assert response.status_code == 403
    assert "permission" in response.content.decode().lower()
