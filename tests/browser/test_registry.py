"""Registry governance in a real browser: an admin promotes a trained version from the
admin with a reason, sees the previous one become inactive and the audit entry, rolls
back, and asks the model's page which version was active last Tuesday and at a moment
in between; then an analyst opens the version's trace and finds the dataset's hash.

The versions are trained in-process before the browser starts (as a worker would)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.models import services
from apps.models.models import VersionEvent
from apps.users.models import Role
from tests.models.test_governance import _train

pytestmark = pytest.mark.browser


def _local(when, *, ms: bool = False) -> str:
    """A time as a datetime-local input takes it, in the platform's time zone."""
    text = timezone.localtime(when).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[:-3] if ms else text[:16]


def _row(page: Page, version: str):
    """The row of ``version`` ("credit v2") in the admin's version list (its first cell names
    it; other cells may name a dataset version the same way)."""
    return page.locator("#result_list tbody tr").filter(
        has=page.locator("th").get_by_text(version, exact=True)
    )


def _act(page: Page, version: str, action: str) -> None:
    """Tick ``version``'s row and run ``action`` from the list."""
    _row(page, version).locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label=action)
    page.get_by_role("button", name="Go").click()


def _status(page: Page, version: str):
    return _row(page, version).locator("td.field-status")


def test_admin_promotes_rolls_back_and_answers_active_at_then_an_analyst_traces(
    page: Page, make_user, password, login, credit_version
):
    boss = make_user(Role.ADMIN)
    analyst = make_user(Role.ANALYST)
    v1 = _train(boss, credit_version.dataset_id, rounds=5)
    v2 = _train(boss, credit_version.dataset_id, rounds=8)
    # v1 went live last Tuesday at 10:00: the history is made through the service and
    # then dated back (set-up only; the trail is never rewritten by the platform).
    services.version_activate(version=v1, user=boss, reason="first release")
    now = timezone.localtime()
    tuesday = (now - timedelta(days=(now.weekday() - 1) % 7 or 7)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    VersionEvent.objects.filter(version=v1).update(created_at=tuesday)

    page.goto("/admin/")
    page.get_by_label("Username").fill(boss.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    page.locator("#content-main").get_by_role("link", name="Model versions", exact=True).click()
    expect(_status(page, "credit v1")).to_have_text("Active")
    expect(_status(page, "credit v2")).to_have_text("Registered")

    # Promote v2: the action asks why first.
    _act(page, "credit v2", "Promote selected versions (asks for a reason)")
    expect(page.get_by_role("heading", name="Promote versions")).to_be_visible()
    expect(page.locator("#reason-objects")).to_contain_text("credit v2: registered; v1 is active now")
    page.get_by_label("Reason").fill("beats v1 on the holdout")
    page.get_by_role("button", name="Promote").click()
    expect(page.locator(".messagelist li.success")).to_have_text("Promoted credit v2.")
    expect(_status(page, "credit v2")).to_have_text("Active")
    expect(_status(page, "credit v1")).to_have_text("Inactive")

    # The audit entry: who, why, from, to, and which version it replaced.
    page.goto("/admin/models/versionevent/")
    entry = page.locator("#result_list tbody tr").first
    expect(entry.locator("td.field-action")).to_have_text("Promote")
    expect(entry.locator("td.field-version")).to_have_text("credit v2")
    expect(entry.locator("td.field-from_status_label")).to_have_text("registered")
    expect(entry.locator("td.field-to_status_label")).to_have_text("active")
    expect(entry.locator("td.field-previous_active")).to_have_text("credit v1")
    expect(entry.locator("td.field-actor")).to_have_text(boss.username)
    expect(entry.locator("td.field-reason")).to_have_text("beats v1 on the holdout")

    # Roll back to v1.
    page.goto("/admin/models/modelversion/")
    _act(page, "credit v1", "Roll back to the selected version (asks for a reason)")
    expect(page.get_by_role("heading", name="Roll credit back to v1")).to_be_visible()
    page.get_by_label("Reason").fill("v2 misfires on new applicants")
    page.get_by_role("button", name="Roll back").click()
    expect(page.locator(".messagelist li.success")).to_have_text("Rolled back to credit v1.")
    expect(_status(page, "credit v1")).to_have_text("Active")
    expect(_status(page, "credit v2")).to_have_text("Inactive")

    # Which version was active when, asked on the model's admin page.
    promoted = VersionEvent.objects.get(version=v2, action="promote").created_at
    rolled_back = VersionEvent.objects.get(action="rollback").created_at
    page.goto("/admin/models/model/")
    page.locator("#result_list").get_by_role("link", name="credit", exact=True).click()
    box = page.locator("#active-at")
    for when, expected in [
        (_local(tuesday + timedelta(hours=2)), "credit v1 was active."),  # last Tuesday, noon
        (_local(tuesday - timedelta(hours=1)), "no version was active."),
        (_local(promoted + (rolled_back - promoted) / 2, ms=True), "credit v2 was active."),
    ]:
        box.get_by_label(re.compile("Date and time")).fill(when)
        box.get_by_role("button", name="Look up").click()
        expect(page.locator("#active-at-answer")).to_contain_text(expected)
    expect(page.locator("#lifecycle-trail tbody tr").first).to_contain_text("v2 misfires on new applicants")

    # An analyst traces v1 back to its data.
    page.context.clear_cookies()
    login(page, analyst, password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Traceability").click()
    page.get_by_label("Model").select_option(label="credit")
    page.get_by_label("Version", exact=True).fill("1")
    page.get_by_role("button", name="Trace").click()
    expect(page).to_have_url(re.compile(rf"/traceability/{v1.pk}/$"))
    back = page.locator("#back")
    expect(back.locator("code.sha256")).to_have_text(credit_version.sha256)
    expect(back.get_by_role("link", name="credit v1")).to_have_attribute(
        "href", f"/datasets/{credit_version.dataset_id}/?version=1"
    )
    expect(back.locator("tr[data-row=seed] td")).to_have_text("42")
    expect(page.locator("#trace-events tbody tr[data-action=rollback]")).to_contain_text(
        "v2 misfires on new applicants"
    )
    expect(page.get_by_role("button", name="Reproduce")).to_be_visible()
