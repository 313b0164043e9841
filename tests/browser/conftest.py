"""Real-browser harness: Debian's headless Chromium driven by Playwright against a live server.

Every test gets a fresh browser context whose console errors, uncaught page errors and
failed requests are collected; any of them fails the test once its body has passed,
unless the test is marked ``allow_browser_errors`` or calls ``browser_errors.clear()``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from apps.users.models import User

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# Playwright's default of 30 s only hides a hang; the live server answers in milliseconds.
TIMEOUT_MS = 10_000
# Subresources whose failure breaks a page even when nothing logs it.
ASSET_TYPES = {"script", "stylesheet", "image", "font"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_browser_errors: do not fail the test on console/page/request errors"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # While the session browser is up, its asyncio loop counts as running in the main
    # thread; run browser tests last so no other test runs beside that loop.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session. Missing or broken: fail, never skip."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        # Playwright's sync API keeps an asyncio loop running in the test thread, so Django
        # would refuse the tests' own ORM calls. Set only while that loop runs: set at import,
        # it would leak into every test of the session and the processes they start, and
        # `check --deploy` rejects it (async.E001).
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        try:
            instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            pytest.fail(f"Chromium at {CHROMIUM} could not start: {exc}")
        yield instance
        instance.close()


@dataclass
class BrowserErrors:
    """What went wrong in the page during one test."""

    origin: str
    console: list[str] = field(default_factory=list)
    page: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console.append(f"{message.text} ({message.location.get('url', '?')})")

    def on_page_error(self, error: PlaywrightError) -> None:
        self.page.append(f"{error.name}: {error.message}")

    def on_request_failed(self, request: Request) -> None:
        if request.failure == "net::ERR_ABORTED":
            # The browser cancelled it (the page was left while a poll, an icon or the favicon
            # loaded); a missing or broken asset shows as its status in on_response.
            return
        self.requests.append(f"{request.method} {request.url} failed: {request.failure}")

    def on_response(self, response: Response) -> None:
        if response.status < 400 or not self._same_origin(response.url):
            return
        is_asset = response.request.resource_type in ASSET_TYPES
        if is_asset or urlsplit(response.url).path.startswith("/static/"):
            self.requests.append(f"{response.request.method} {response.url} answered {response.status}")

    def _same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def all(self) -> list[str]:
        return [
            *(f"console error: {e}" for e in self.console),
            *(f"page error: {e}" for e in self.page),
            *(f"request: {e}" for e in self.requests),
        ]

    def clear(self) -> None:
        """For a test that provokes errors on purpose and has checked them."""
        self.console.clear()
        self.page.clear()
        self.requests.clear()


@pytest.fixture
def browser_errors(live_server) -> BrowserErrors:
    parts = urlsplit(live_server.url)
    return BrowserErrors(origin=f"{parts.scheme}://{parts.netloc}")


@pytest.fixture
def page(browser: Browser, live_server, browser_errors: BrowserErrors) -> Iterator[Page]:
    """A page in a fresh context (no cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.on("console", browser_errors.on_console)
    tab.on("pageerror", browser_errors.on_page_error)
    tab.on("requestfailed", browser_errors.on_request_failed)
    tab.on("response", browser_errors.on_response)
    yield tab
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a passing test whose page reported errors (checked in the call phase, so it
    counts as the test's failure rather than a teardown error)."""
    result = yield
    funcargs = getattr(item, "funcargs", {})
    tab, errors = funcargs.get("page"), funcargs.get("browser_errors")
    if tab is None or errors is None or item.get_closest_marker("allow_browser_errors"):
        return result
    # Playwright delivers events only inside its own calls: a round trip to the page
    # makes everything the page emitted before it arrive. A crashed page refuses it;
    # what was collected still counts.
    if not tab.is_closed():
        with contextlib.suppress(PlaywrightError):
            tab.evaluate("0")
    problems = errors.all()
    if problems:
        pytest.fail("the browser reported errors:\n  " + "\n  ".join(problems), pytrace=False)
    return result


LOGIN_PAGE = re.compile(r"/login/(\?.*)?$")


def submit_login_form(page: Page, username: str, password: str) -> None:
    """Fill and submit the form at /login/ as a person would."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def login_through_form(page: Page, user: User | str, password: str) -> None:
    """Log ``user`` in through the real form and check the top bar now names them."""
    username = user if isinstance(user, str) else user.get_username()
    submit_login_form(page, username, password)
    expect(page).not_to_have_url(LOGIN_PAGE)
    expect(page.locator(".account .who")).to_contain_text(username)


@pytest.fixture
def login() -> Callable[[Page, User | str, str], None]:
    """``login(page, user, password)``: log in through the form at /login/."""
    return login_through_form


def wait_for_charts(page: Page, selector: str) -> None:
    """Wait until Chart.js has drawn on every canvas ``selector`` matches (at least one):
    pages build their charts after load, so a read right after navigation can come first."""
    page.wait_for_function(
        "(sel) => { const all = Array.from(document.querySelectorAll(sel));"
        " return all.length > 0 && typeof Chart !== 'undefined' && all.every((c) => Chart.getChart(c)); }",
        arg=selector,
    )


def wait_for_task_page_to_settle(page: Page) -> None:
    """After a task shown on its page ends in-process, wait for the page's own reload to the
    final view: a navigation started while that reload runs is aborted by the browser."""
    expect(page.locator("#task")).to_have_attribute("data-final", "1", timeout=15_000)
