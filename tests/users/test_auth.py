"""JWT login, rotation, revocation, bad tokens and lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from tests.core.test_api_conventions import assert_error

pytestmark = pytest.mark.django_db


def obtain(client, username: str, password: str):
    return client.post(
        "/api/auth/token", {"username": username, "password": password}, content_type="application/json"
    )


def test_login_returns_access_and_refresh_that_work(client, make_user, password):
    user = make_user("analyst")
    response = obtain(client, user.username, password)
    assert response.status_code == 200
    tokens = response.json()["data"]
    me = client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}").json()
    assert me["username"] == user.username and me["role"] == "analyst"
    assert "core.add_workerping" in me["permissions"]


def test_wrong_credentials_answer_401_in_the_error_format(client, make_user):
    user = make_user()
    assert_error(obtain(client, user.username, "wrong"), 401, "no_active_account")
    assert_error(obtain(client, "nobody", "wrong"), 401, "no_active_account")


def test_missing_credentials_are_field_errors(client):
    body = assert_error(
        client.post("/api/auth/token", {}, content_type="application/json"), 400, "validation_error"
    )
    assert {"username", "password"} <= set(body["errors"])


def test_refresh_rotates_and_the_old_refresh_is_revoked(client, make_user, password):
    user = make_user()
    tokens = obtain(client, user.username, password).json()["data"]
    rotated = client.post(
        "/api/auth/token/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert rotated.status_code == 200
    new = rotated.json()["data"]
    assert new["refresh"] != tokens["refresh"] and new["access"]
    reused = client.post(
        "/api/auth/token/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert_error(reused, 401, "token_invalid")


def test_logout_revokes_the_refresh_token(client, make_user, password):
    user = make_user()
    tokens = obtain(client, user.username, password).json()["data"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access']}"}
    response = client.post(
        "/api/auth/logout", {"refresh": tokens["refresh"]}, content_type="application/json", **auth
    )
    assert response.status_code == 200 and response.json()["success"] is True
    again = client.post(
        "/api/auth/token/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert_error(again, 401, "token_invalid")
    # A garbage refresh token on logout is a 400, not a 500.
    bad = client.post("/api/auth/logout", {"refresh": "garbage"}, content_type="application/json", **auth)
    assert_error(bad, 400, "token_invalid")


def test_tampered_and_expired_access_tokens_are_refused(client, make_user, password):
    user = make_user()
    access = obtain(client, user.username, password).json()["data"]["access"]
    header, payload, signature = access.split(".")
    tampered = f"{header}.{payload}.{signature[::-1]}"
    assert_error(client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {tampered}"), 401, "token_invalid")
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    assert_error(client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {expired}"), 401, "token_invalid")
    assert_error(client.get("/api/auth/me", HTTP_AUTHORIZATION="Bearer"), 401, "bad_authorization_header")


def test_inactive_user_cannot_log_in(client, make_user, password):
    user = make_user(is_active=False)
    assert_error(obtain(client, user.username, password), 401, "no_active_account")


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    client, make_user, password, settings
):
    user = make_user()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        obtain(client, user.username, "wrong")
    response = obtain(client, user.username, password)
    body = assert_error(response, 429, "locked_out")
    assert "Try again" in body["message"]
    assert int(response["Retry-After"]) > 0
    # The web login form is locked for the same pair as well.
    page = client.post("/login/", {"username": user.username, "password": password})
    assert page.status_code == 429 and b"Too many failed login attempts" in page.content


def test_login_endpoint_is_throttled(client, settings):
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"].split("/")[0])
    # Different usernames: the account lockout does not kick in, only the rate limit.
    statuses = [obtain(client, f"stranger{i}", "x").status_code for i in range(limit + 1)]
    assert set(statuses[:limit]) == {401}
    response = obtain(client, "one-more", "x")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_web_login_and_logout(client, make_user, password):
    user = make_user("analyst")
    assert client.get("/").status_code == 302
    response = client.post("/login/", {"username": user.username, "password": password})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/logout/")
    assert client.get("/")["Location"].startswith("/login/")


def test_logout_service_refuses_a_bad_token_in_the_platforms_errors():
    from apps.core.errors import ApplicationError, http_status_of
    from apps.users.services import user_logout

    with pytest.raises(ApplicationError) as caught:
        user_logout(refresh="garbage")
    assert caught.value.code == "token_invalid" and http_status_of(caught.value) == 400
    assert caught.value.errors == {"refresh": [caught.value.message]}


def test_logout_with_a_bad_token_answers_the_token_librarys_words_on_the_refresh_field(
    client, make_user, password
):
    user = make_user()
    access = obtain(client, user.username, password).json()["data"]["access"]
    response = client.post(
        "/api/auth/logout",
        {"refresh": "garbage"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {access}",
    )
    body = assert_error(response, 400, "token_invalid")
    assert body["errors"] == {"refresh": [body["message"]]}
    assert not body["message"].startswith("Invalid input")
