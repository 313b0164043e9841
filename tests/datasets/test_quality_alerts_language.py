"""Data-quality alerts are stored once and read in each reader's language."""

from __future__ import annotations

import pytest

from apps.datasets import texts


@pytest.fixture
def alerted(credit_version):
    """The credit demo data repeats some application ids: a duplicate-key alert."""
    quality = credit_version.quality
    assert any(a["code"] == "duplicate_keys" for a in quality["alerts"]), quality["alerts"]
    return credit_version


def _duplicate_keys(alerts: list[dict]) -> dict:
    return next(a for a in alerts if a["code"] == "duplicate_keys")


def test_the_quality_page_shows_alerts_in_chinese(client, admin_user, alerted, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(admin_user)
    page = client.get(f"/datasets/{alerted.dataset_id}/quality/").content.decode()
    stored = _duplicate_keys(alerted.quality["alerts"])
    assert "rows repeat a key of" in stored["message"]  # stored once, in English
    assert "rows repeat a key of" not in page
    assert "application_id" in page and "重复" in page


def test_the_quality_api_follows_accept_language(api, alerted):
    url = f"/api/datasets/{alerted.dataset_id}/quality"
    english = _duplicate_keys(api.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["alerts"])
    chinese = _duplicate_keys(api.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["alerts"])
    assert english["message"] == _duplicate_keys(alerted.quality["alerts"])["message"]
    assert chinese["message"] != english["message"] and "application_id" in chinese["message"]
    assert "t" not in chinese and "p" not in chinese  # the template stays inside


def test_an_alert_stored_before_templates_keeps_its_english():
    old = {"level": "warning", "code": "outliers", "message": "5% of 'x' lies outside", "column": "x"}
    assert texts.alert_shown(old)["message"] == old["message"]
