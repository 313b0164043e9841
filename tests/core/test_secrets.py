"""Secret settings are encrypted at rest (Fernet), masked everywhere, read back decrypted, and
re-encrypted by ``manage.py rotate_secrets`` when a new key is put first."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.contrib.admin.models import LogEntry
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection

from apps.core.config import CACHE_PREFIX, DECLARED, ConfigKey, config_get, config_invalidate
from apps.core.models import SECRET_MASK, SystemConfig, ValueType
from apps.core.sealing import PREFIX
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db

KEY = "test-smtp-password"
PLAIN = "hunter2-Zq8"
KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))


@pytest.fixture
def keys(settings):
    """Set OMM_SECRETS_KEYS for the test (first encrypts, all decrypt); returns the setter."""

    def use(*keys: str) -> None:
        settings.OMM_SECRETS_KEYS = list(keys)
        config_invalidate(KEY)

    use(KEY_A)
    return use


@pytest.fixture
def declared(monkeypatch):
    """A declared secret setting with a default, stored with a secret value."""
    monkeypatch.setitem(
        DECLARED, KEY, ConfigKey(KEY, ValueType.STRING, "fallback", "SMTP password.", is_secret=True)
    )
    return SystemConfig.objects.create(key=KEY, value_type=ValueType.STRING, value=PLAIN, is_secret=True)


def _raw(key: str) -> str:
    """The value column as the database holds it, as text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM core_systemconfig WHERE key = %s", [key])
        (raw,) = cursor.fetchone()
    return raw if isinstance(raw, str) else json.dumps(raw)


def _stored(key: str):
    return SystemConfig.objects.values_list("value", flat=True).get(key=key)


def test_the_database_row_holds_no_plain_text(keys, declared, api):
    raw = _raw(KEY)
    assert PLAIN not in raw and PREFIX in raw
    assert _stored(KEY).startswith(PREFIX)
    # Set through the API: sealed as well, and the cache holds the sealed form only.
    response = api.put(f"/api/system/config/{KEY}", {"value": "n3w-Secret"}, format="json")
    assert response.status_code == 200, response.json()
    assert "n3w-Secret" not in _raw(KEY) and _stored(KEY).startswith(PREFIX)
    assert config_get(KEY) == "n3w-Secret"
    assert "n3w-Secret" not in str(cache.get(CACHE_PREFIX + KEY))


def test_every_value_type_round_trips_sealed(keys):
    for value_type, value in [
        (ValueType.NUMBER, 42),
        (ValueType.BOOLEAN, True),
        (ValueType.JSON, {"user": "svc", "token": "abc"}),
        (ValueType.STRING, "密码-ü"),
    ]:
        key = f"test-secret-{value_type}"
        SystemConfig.objects.create(key=key, value_type=value_type, value=value, is_secret=True)
        assert _stored(key).startswith(PREFIX)
        assert config_get(key) == value
        assert SystemConfig.objects.get(key=key).plain_value == value


def test_config_get_decrypts_and_a_value_that_looks_sealed_is_sealed_again(keys, declared, api):
    assert config_get(KEY) == PLAIN
    assert config_get(KEY) == PLAIN  # from the cache
    lookalike = PREFIX + "not-a-token"
    assert api.put(f"/api/system/config/{KEY}", {"value": lookalike}, format="json").status_code == 200
    assert _stored(KEY) != lookalike and config_get(KEY) == lookalike


def test_api_never_shows_a_secret(keys, declared, api):
    body = api.get(f"/api/system/config/{KEY}").json()
    assert body["value"] == SECRET_MASK and body["isSecret"] is True
    listing = api.get("/api/system/config", {"pageSize": 200}).content.decode()
    updated = api.put(f"/api/system/config/{KEY}", {"value": "An0ther"}, format="json")
    assert updated.json()["data"]["value"] == SECRET_MASK
    for text in (json.dumps(body), listing, updated.content.decode()):
        assert PLAIN not in text and "An0ther" not in text and PREFIX not in text


def test_admin_never_shows_a_secret_and_keeps_it_when_left_empty(keys, declared, client, admin_user):
    client.force_login(admin_user)
    pages = [
        client.get("/admin/core/systemconfig/"),
        client.get(f"/admin/core/systemconfig/{declared.pk}/change/"),
    ]
    stored = _stored(KEY)
    response = client.post(
        f"/admin/core/systemconfig/{declared.pk}/change/",
        {"value": "", "description": "SMTP password.", "is_secret": "on"},
    )
    assert response.status_code == 302
    assert _stored(KEY) == stored and config_get(KEY) == PLAIN
    response = client.post(
        f"/admin/core/systemconfig/{declared.pk}/change/",
        {"value": "Fr3sh-one", "description": "SMTP password.", "is_secret": "on"},
    )
    assert response.status_code == 302 and config_get(KEY) == "Fr3sh-one"
    pages.append(client.get(f"/admin/core/systemconfig/{declared.pk}/history/"))
    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert KEY in text and PLAIN not in text and "Fr3sh-one" not in text and PREFIX not in text
    assert all(PLAIN not in e.change_message for e in LogEntry.objects.all())


def test_admin_unflags_a_secret_in_the_clear_and_flags_it_back_sealed(keys, declared, client, admin_user):
    client.force_login(admin_user)
    url = f"/admin/core/systemconfig/{declared.pk}/change/"
    assert client.post(url, {"value": "", "description": "d"}).status_code == 302  # is_secret off
    assert _stored(KEY) == PLAIN and config_get(KEY) == PLAIN
    assert client.post(url, {"value": PLAIN, "description": "d", "is_secret": "on"}).status_code == 302
    assert _stored(KEY).startswith(PREFIX) and config_get(KEY) == PLAIN


def test_settings_page_never_shows_a_secret(keys, declared, client, admin_user):
    client.force_login(admin_user)
    for url in ("/settings/", f"/settings/{KEY}/"):
        page = client.get(url)
        assert page.status_code == 200
        assert PLAIN not in page.content.decode() and PREFIX not in page.content.decode()
    stored = _stored(KEY)
    assert client.post(f"/settings/{KEY}/", {"value": ""}).status_code == 302
    assert _stored(KEY) == stored  # left empty: kept as stored
    assert not LogEntry.objects.exists()  # and nothing recorded as changed


def test_no_log_line_carries_a_secret(keys, declared, api, caplog):
    caplog.set_level(logging.DEBUG)
    api.put(f"/api/system/config/{KEY}", {"value": "L0gged?"}, format="json")
    config_get(KEY)
    call_command("rotate_secrets", stdout=StringIO())
    assert "L0gged?" not in caplog.text and PLAIN not in caplog.text


def test_rotation_with_two_keys(keys, declared):
    # A secret stored in the clear before secrets were encrypted (an update skips save()).
    SystemConfig.objects.create(key="test-legacy", value_type=ValueType.STRING, value="x", is_secret=True)
    SystemConfig.objects.filter(key="test-legacy").update(value="l3gacy")
    SystemConfig.objects.create(key="test-empty", value_type=ValueType.STRING, value="", is_secret=True)
    assert config_get("test-legacy") == "l3gacy"  # still read before the rotation

    out = StringIO()
    call_command("rotate_secrets", stdout=out)
    assert "1 encrypted, 0 re-encrypted with the first key, 1 already current, 1 empty" in out.getvalue()
    assert _stored("test-legacy").startswith(PREFIX) and "l3gacy" not in _raw("test-legacy")
    assert _stored("test-empty") == ""

    keys(KEY_B, KEY_A)  # a new key put first; the old one still decrypts
    assert config_get(KEY) == PLAIN
    before = {k: _stored(k) for k in (KEY, "test-legacy")}
    updated_at = SystemConfig.objects.get(key=KEY).updated_at
    out = StringIO()
    call_command("rotate_secrets", stdout=out)
    assert "0 encrypted, 2 re-encrypted with the first key, 0 already current" in out.getvalue()
    after = {k: _stored(k) for k in (KEY, "test-legacy")}
    assert all(after[k] != before[k] for k in after)
    assert SystemConfig.objects.get(key=KEY).updated_at == updated_at  # not an edit

    out = StringIO()
    call_command("rotate_secrets", stdout=out)  # safe to run twice: changes nothing
    assert "0 encrypted, 0 re-encrypted with the first key, 2 already current" in out.getvalue()
    assert {k: _stored(k) for k in after} == after

    keys(KEY_B)  # the old key dropped: everything still reads
    assert config_get(KEY) == PLAIN and config_get("test-legacy") == "l3gacy"


def test_a_wrong_key_is_a_logged_error_and_the_default_never_a_500(
    keys, declared, api, client, admin_user, caplog
):
    keys(KEY_C)
    with caplog.at_level(logging.ERROR, logger="apps.core.config"):
        assert config_get(KEY) == "fallback"
    assert f"Secret setting {KEY} cannot be decrypted" in caplog.text and PREFIX not in caplog.text

    assert api.get(f"/api/system/config/{KEY}").json()["value"] == SECRET_MASK
    client.force_login(admin_user)
    for url in ("/settings/", f"/settings/{KEY}/", f"/admin/core/systemconfig/{declared.pk}/change/"):
        assert client.get(url).status_code == 200, url
    # Un-flagging a secret nobody can read is refused on the form, not a 500.
    response = client.post(
        f"/admin/core/systemconfig/{declared.pk}/change/", {"value": "", "description": "d"}
    )
    assert response.status_code == 200
    assert "cannot be decrypted with the configured keys" in response.content.decode()

    stored = _stored(KEY)
    with pytest.raises(CommandError, match=KEY):
        call_command("rotate_secrets", stdout=StringIO())
    assert _stored(KEY) == stored  # left for the right key
    keys(KEY_C, KEY_A)
    assert config_get(KEY) == PLAIN


def _settings_in_subprocess(data_dir, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "OMM_SECRETS_KEY"}
    environ.update(OMM_DATA_DIR=str(data_dir), **env)
    code = "import omm.settings as s; print(','.join(s.OMM_SECRETS_KEYS))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


def test_without_the_variable_a_key_is_generated_once_into_a_private_file(tmp_path):
    first = _settings_in_subprocess(tmp_path)
    assert first.returncode == 0, first.stderr
    path = tmp_path / "secrets_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.stdout.strip() == path.read_text().strip()
    Fernet(path.read_text().strip())
    again = _settings_in_subprocess(tmp_path)
    assert again.stdout == first.stdout
    assert not list(tmp_path.glob("secrets_key.*"))


def test_keys_from_the_variable_are_checked(tmp_path):
    good = _settings_in_subprocess(tmp_path, OMM_SECRETS_KEY=f" {KEY_A} , {KEY_B} ")
    assert good.returncode == 0 and good.stdout.strip() == f"{KEY_A},{KEY_B}"
    assert not (tmp_path / "secrets_key").exists()
    bad = _settings_in_subprocess(tmp_path, OMM_SECRETS_KEY=f"{KEY_A},not-a-key-1234")
    assert bad.returncode != 0
    assert "OMM_SECRETS_KEY: key 2 is not a Fernet key" in bad.stderr and "not-a-key-1234" not in bad.stderr


def test_the_governance_trail_holds_no_plain_secret(keys, declared, api):
    from django.apps import apps

    if not apps.is_installed("auditlog"):
        pytest.skip("no governance trail in this build")
    from auditlog.models import LogEntry as TrailRow

    assert api.put(f"/api/system/config/{KEY}", {"value": "Tr4il-secret"}, format="json").status_code == 200
    rows = list(TrailRow.objects.filter(content_type__model="systemconfig"))
    assert rows
    text = json.dumps(
        [[r.changes, r.changes_text, r.object_repr, r.additional_data] for r in rows], default=str
    )
    assert "Tr4il-secret" not in text and PLAIN not in text
