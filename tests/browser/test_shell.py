"""The web shell in a real browser: login, dashboard, admin, roles, logout, API docs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, Request, expect

from apps.core.models import ProcessKind
from apps.users.models import Role
from tests.browser.conftest import LOGIN_PAGE, submit_login_form, wait_for_charts
from tests.factories import ApiAuditLogFactory, WorkerHeartbeatFactory

pytestmark = pytest.mark.browser

NAV_LABELS = ["Datasets", "Features", "Models", "Traceability", "Tasks", "Evaluation", "QA"]
CHART_JS = "/static/vendor/chart-4.6.1.umd.min.js"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_admin_logs_in_and_sees_the_dashboard(page: Page, make_user, password, login):
    user = make_user(Role.ADMIN)
    now = timezone.now()
    # A live worker and some API traffic, so the health cards and the chart have data.
    WorkerHeartbeatFactory(
        hostname="browser-worker@localhost",
        kind=ProcessKind.WORKER,
        pid=4242,
        queues=["default", "training"],
        started_at=now,
        last_seen=now,
    )
    for status in (200, 201, 500):
        ApiAuditLogFactory(path="/api/ping", status_code=status, duration_ms=1.5)

    with page.expect_response(lambda r: urlsplit(r.url).path == CHART_JS) as chart_js:
        login(page, user, password)
    assert chart_js.value.status == 200, f"Chart.js answered {chart_js.value.status}"

    assert _path(page.url) == "/"
    expect(page).to_have_title("Dashboard · OMM")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()

    nav = page.get_by_role("navigation", name="Main")
    for label in NAV_LABELS:
        link = nav.get_by_role("link", name=label, exact=True)
        expect(link).to_be_visible()
        expect(link).to_have_attribute("href", f"/{label.lower()}/")
    expect(nav.get_by_role("link", name="Dashboard", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.locator(".account").get_by_role("link", name="Admin", exact=True)).to_be_visible()

    for check in ("database", "cache", "broker", "workers"):
        card = page.locator(f".card.stat[data-check='{check}']")
        expect(card).to_be_visible()
        expect(card.locator(".stat-label")).to_have_text(check)
        expect(card).to_have_class(re.compile(r"\bok\b"))
        expect(card.locator(".stat-value")).to_have_text("up")
    expect(page.locator(".card.stat[data-check='workers'] .stat-detail")).to_contain_text(
        "browser-worker@localhost"
    )
    expect(page.locator("#processes")).to_contain_text("browser-worker@localhost")

    expect(page.get_by_role("heading", name="API calls, last 24 hours")).to_be_visible()
    canvas = page.locator("#traffic-chart")
    expect(canvas).to_be_visible()
    # Chart.js really drew the audit rows: 2 ok and 1 failed call in the current hour.
    wait_for_charts(page, "#traffic-chart")
    datasets = page.evaluate(
        "() => Chart.getChart(document.getElementById('traffic-chart'))"
        ".data.datasets.map((d) => [d.label, d.data])"
    )
    assert datasets == [["ok", [2]], ["failed", [1]]]
    assert canvas.bounding_box()["height"] > 0


def test_admin_opens_the_django_admin_and_system_settings(page: Page, make_user, password, login):
    user = make_user(Role.ADMIN)
    login(page, user, password)

    page.locator(".account").get_by_role("link", name="Admin", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#site-name")).to_have_text("OMM administration")
    content = page.locator("#content-main")
    expect(content.get_by_role("link", name="Users", exact=True)).to_be_visible()
    settings_link = content.get_by_role("link", name="System settings", exact=True)
    expect(settings_link).to_be_visible()

    settings_link.click()
    expect(page).to_have_url(re.compile(r"/admin/core/systemconfig/$"))
    expect(page.get_by_role("heading", name="Select system setting to change")).to_be_visible()
    # The declared settings are seeded after migrate, so the list is never empty.
    expect(page.locator("#result_list")).to_contain_text("workers-heartbeat-timeout-seconds")


def test_wrong_password_shows_the_error_and_stays_on_login(page: Page, make_user):
    user = make_user(Role.ANALYST)
    submit_login_form(page, user.username, "not-the-password")

    expect(page).to_have_url(LOGIN_PAGE)
    expect(page.get_by_role("alert")).to_have_text(
        "Your username and password did not match. Please try again."
    )
    expect(page.get_by_label("Username")).to_have_value(user.username)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.locator(".account")).to_have_count(0)

    # No session was opened: the dashboard still sends us to the login page.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_viewer_gets_no_admin_link_and_no_admin_access(page: Page, make_user, password, login):
    user = make_user(Role.VIEWER)
    login(page, user, password)

    account = page.locator(".account")
    expect(account.get_by_role("link", name="API docs")).to_be_visible()
    expect(account.get_by_role("link", name="Admin", exact=True)).to_have_count(0)

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    expect(page.locator("#content")).to_contain_text(
        f"You are authenticated as {user.username}, but are not authorized to access this page."
    )
    page.goto("/admin/core/systemconfig/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/core/systemconfig/$"))


def test_log_out_returns_to_login_and_closes_the_session(page: Page, make_user, password, login):
    user = make_user(Role.ANALYST)
    login(page, user, password)

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(LOGIN_PAGE)
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    expect(page.locator(".account")).to_have_count(0)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_api_docs_render_swagger_ui_from_the_vendored_sidecar(
    page: Page, live_server, make_user, password, login
):
    user = make_user(Role.INTEGRATOR)
    login(page, user, password)
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)

    with page.expect_response(lambda r: urlsplit(r.url).path == "/api/schema/") as schema:
        page.locator(".account").get_by_role("link", name="API docs").click()
    assert schema.value.status == 200

    expect(page).to_have_url(re.compile(r"/api/docs/$"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("OMM API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()

    # Everything came from the live server; the UI itself from the sidecar's static files.
    foreign = [url for url in requested if not url.startswith(live_server.url + "/")]
    assert not foreign, f"requests left the server: {foreign}"
    bundle = page.locator("script[src*='swagger-ui-bundle']")
    expect(bundle).to_have_attribute("src", re.compile(r"^/static/drf_spectacular_sidecar/"))
