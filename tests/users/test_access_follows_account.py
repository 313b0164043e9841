"""A role change or a deactivation reaches predictions and QA on the next request.

Those two endpoints authenticate from the token without reading the user row; the account's
current role and state come from the cache (apps.users.access). Driven with real tokens from
/api/auth/token and the admin's API, the way an integrator and an admin meet it.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.users.access import access_key
from apps.users.models import Role, User
from tests.core.test_api_conventions import assert_error
from tests.models.test_serving import _record

pytestmark = pytest.mark.django_db


def _bearer(client, user: User, password: str) -> dict:
    response = client.post(
        "/api/auth/token", {"username": user.username, "password": password}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['data']['access']}"}


def _predict(client, model_id: int, record: dict, auth: dict):
    return client.post(
        f"/api/models/{model_id}/predict", {"record": record}, content_type="application/json", **auth
    )


def _ask(client, auth: dict):
    return client.post("/api/qa/ask", {"question": "工商银行"}, content_type="application/json", **auth)


def _set(api, user: User, **fields) -> None:
    response = api.patch(f"/api/users/{user.pk}", fields, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("cache_state", ["warm", "evicted"])
def test_predict_follows_a_downgrade_a_deactivation_and_a_restore(
    client, api, make_user, password, active, frame, django_capture_on_commit_callbacks, cache_state
):
    person = make_user(Role.ANALYST, username="scorer")
    auth = _bearer(client, person, password)
    record = _record(active, frame)
    assert _predict(client, active.model_id, record, auth).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        _set(api, person, role=Role.VIEWER)
    if cache_state == "evicted":  # the entry is gone (eviction, a cache restart): the row decides
        cache.delete(access_key(person.pk))
    # The token still says "analyst"; the account says viewer, who may not score.
    assert_error(_predict(client, active.model_id, record, auth), 403, "permission_denied")

    with django_capture_on_commit_callbacks(execute=True):
        _set(api, person, role=Role.ANALYST, isActive=False)
    if cache_state == "evicted":
        cache.delete(access_key(person.pk))
    assert_error(_predict(client, active.model_id, record, auth), 401, "user_inactive")

    with django_capture_on_commit_callbacks(execute=True):
        _set(api, person, isActive=True)
    assert _predict(client, active.model_id, record, auth).status_code == 200


def test_an_upgrade_takes_effect_at_once_too(
    client, api, make_user, password, active, frame, django_capture_on_commit_callbacks
):
    person = make_user(Role.VIEWER, username="promoted")
    auth = _bearer(client, person, password)
    record = _record(active, frame)
    assert_error(_predict(client, active.model_id, record, auth), 403, "permission_denied")
    with django_capture_on_commit_callbacks(execute=True):
        _set(api, person, role=Role.INTEGRATOR)
    assert _predict(client, active.model_id, record, auth).status_code == 200


def test_qa_follows_the_account_and_a_deleted_account_is_refused(
    client, api, make_user, password, qa_version, django_capture_on_commit_callbacks
):
    person = make_user(Role.INTEGRATOR, username="asker")
    auth = _bearer(client, person, password)
    assert _ask(client, auth).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        _set(api, person, role=Role.VIEWER)
    assert_error(_ask(client, auth), 403, "permission_denied")
    with django_capture_on_commit_callbacks(execute=True):
        person.delete()
    assert_error(_ask(client, auth), 401, "user_not_found")


def test_the_state_is_read_from_the_cache_not_the_database_once_warm(
    client, make_user, password, active, frame
):
    person = make_user(Role.ANALYST, username="warm")
    auth = _bearer(client, person, password)
    record = _record(active, frame)
    assert _predict(client, active.model_id, record, auth).status_code == 200  # warms every cache
    assert cache.get(access_key(person.pk)) == ["analyst", True]
    with CaptureQueriesContext(connection) as queries:
        assert _predict(client, active.model_id, record, auth).status_code == 200
    # (The API log row of the request is written in tests; no query reads the account.)
    assert not [q["sql"] for q in queries.captured_queries if User._meta.db_table in q["sql"]]
