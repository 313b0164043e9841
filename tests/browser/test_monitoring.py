"""Monitoring in a real browser, in Chinese: an analyst opens demo-credit's monitoring page
(six months, the drifting month marked by its PSI, charts drawn), follows the dashboard's
open alert to the alerts page and acknowledges it; the alert's history names them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.alerts.models import Alert, AlertStatus
from apps.models.demo import MODEL_NAME
from apps.models.models import ModelVersion, VersionStatus
from apps.monitoring import demo as monitoring_demo
from apps.users.models import Role
from tests.browser.conftest import wait_for_charts
from tests.browser.test_languages import _chinese_page, _login_in_chinese

pytestmark = pytest.mark.browser


def test_an_analyst_reads_the_monitoring_page_and_acknowledges_the_alert(
    demo, browser, live_server, browser_errors, make_user, password, settings
):
    settings.LANGUAGE_CODE = "zh-hans"
    analyst = make_user(Role.ANALYST)
    version = ModelVersion.objects.get(model__name=MODEL_NAME, status=VersionStatus.ACTIVE)
    psi_alert = Alert.objects.get(version=version, rule__metric="score_psi")

    tab = _chinese_page(browser, live_server, browser_errors)
    _login_in_chinese(tab, analyst.username, password)
    tab.get_by_role("navigation", name="主导航").get_by_role("link", name="监控", exact=True).click()
    tab.locator(f'a[href="/monitoring/versions/{version.pk}/"]').first.click()
    expect(tab.locator("h1")).to_contain_text("监控")
    wait_for_charts(tab, ".charts canvas")
    rows = tab.locator("#periods tbody tr")
    expect(rows).to_have_count(monitoring_demo.MONTHS)
    psi = [float(rows.nth(i).locator("td").nth(3).inner_text()) for i in range(monitoring_demo.MONTHS)]
    # Newest first: the drifting month is the latest of the six.
    newest_first = psi[::-1]
    assert max(range(len(psi)), key=newest_first.__getitem__) == monitoring_demo.DRIFT_MONTH
    assert psi[0] >= 0.25 > max(psi[1:])

    # The dashboard's card leads to the alert; acknowledging it is recorded with its author.
    tab.goto("/")
    card = tab.locator("#model-alerts")
    expect(card).to_contain_text("未处理的告警")
    card.locator(f'a[href$="#alert-{psi_alert.pk}"]').click()
    line = tab.locator(f"#alert-{psi_alert.pk}")
    expect(line).to_contain_text("未处理")
    line.get_by_role("button", name="确认").click()
    expect(tab.locator(f"#alert-{psi_alert.pk}")).to_contain_text(re.compile(f"已确认.*{analyst.username}"))
    psi_alert.refresh_from_db()
    assert psi_alert.status == AlertStatus.ACKNOWLEDGED
