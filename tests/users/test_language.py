"""Chinese by default, English one click away, the choice remembered per user."""

from __future__ import annotations

import importlib
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po"))


@pytest.fixture
def chinese_default(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def test_the_platform_defaults_to_simplified_chinese(monkeypatch):
    monkeypatch.delenv("LANGUAGE_CODE", raising=False)
    import omm.settings

    fresh = importlib.reload(omm.settings)
    try:
        assert fresh.LANGUAGE_CODE == "zh-hans"
        assert dict(fresh.LANGUAGES).keys() == {"zh-hans", "en"}
    finally:
        importlib.reload(omm.settings)


def test_an_unknown_language_setting_stops_start_up(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    import omm.settings

    monkeypatch.setenv("LANGUAGE_CODE", "fr")
    try:
        with pytest.raises(ImproperlyConfigured, match="LANGUAGE_CODE"):
            importlib.reload(omm.settings)
    finally:
        monkeypatch.delenv("LANGUAGE_CODE")
        importlib.reload(omm.settings)


def test_a_new_visitor_sees_the_login_page_in_chinese(client, chinese_default):
    page = client.get(reverse("login")).content.decode()
    assert 'lang="zh-hans"' in page
    assert "English" in page  # the switch offers the other language


def test_a_chinese_browser_gets_chinese_even_when_the_default_is_english(client):
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert 'lang="zh-hans"' in page


def test_the_switch_sets_english_and_back_and_remembers_it_on_the_user(client, make_user, chinese_default):
    user = make_user()
    client.force_login(user)
    assert "总览" in client.get("/").content.decode()

    response = client.post(reverse("set_language"), {"language": "en", "next": "/datasets/"})
    assert response.status_code == 302 and response["Location"] == "/datasets/"
    user.refresh_from_db()
    assert user.language == "en"
    page = client.get("/").content.decode()
    assert "Dashboard" in page and "总览" not in page

    client.post(reverse("set_language"), {"language": "zh-hans"})
    user.refresh_from_db()
    assert user.language == "zh-hans"
    assert "总览" in client.get("/").content.decode()


def test_the_remembered_language_follows_the_user_to_a_new_browser(client, make_user, chinese_default):
    user = make_user(language="en")
    client.force_login(user)  # a fresh client: no language cookie, a Chinese browser
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "Dashboard" in page and "总览" not in page


def test_the_switch_refuses_an_unknown_language_and_changes_nothing(client, make_user):
    user = make_user(language="zh-hans")
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "xx"})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.language == "zh-hans"
    assert "omm_language" not in response.cookies


def test_the_switch_never_redirects_off_site(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_switch_is_a_post(client):
    assert client.get(reverse("set_language")).status_code == 405


def test_api_clients_choose_with_accept_language(client_for, make_user, chinese_default):
    api = client_for(make_user(language="zh-hans"))
    english = api.get("/api/tasks/999999", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = api.get("/api/tasks/999999", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert english["code"] == chinese["code"]  # the machine-readable code stays English
    assert english["message"] != chinese["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese["message"])


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_catalogue_is_fully_translated(catalogue):
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(catalogue)],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr
