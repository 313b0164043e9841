"""The work queue in the Django admin, in a real browser: an admin logs in at /admin/,
filters the task list by status and cancels a queued task with the list action."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.tasks.models import TaskStatus, TaskType
from apps.users.models import Role
from tests.factories import TaskFactory

pytestmark = pytest.mark.browser


def test_admin_cancels_a_queued_task_from_the_task_list(page: Page, make_user, password):
    user = make_user(Role.ADMIN)
    # Rows as the queue holds them; no broker message is needed to cancel a queued task.
    queued = TaskFactory(
        name="Train credit-lgbm", type=TaskType.TRAINING, status=TaskStatus.QUEUED, created_by=user
    )
    TaskFactory(
        name="Train old model",
        type=TaskType.TRAINING,
        status=TaskStatus.COMPLETED,
        progress=100,
        created_by=user,
        completed_at=timezone.now(),
    )

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))

    page.locator("#content-main").get_by_role("link", name="Tasks", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/tasks/task/$"))
    expect(page.get_by_role("heading", name="Select task to view")).to_be_visible()
    expect(page.locator("#result_list tbody tr")).to_have_count(2)

    filters = page.locator("#changelist-filter")
    filters.get_by_role("link", name="Queued", exact=True).click()
    expect(page).to_have_url(re.compile(r"status__exact=queued"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Train credit-lgbm")

    rows.first.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label="Cancel selected tasks")
    page.get_by_role("button", name="Go").click()

    expect(page.locator(".messagelist li.success")).to_have_text(f"Task {queued} cancelled.")
    # Still filtered on queued: the task has left the list.
    expect(page).to_have_url(re.compile(r"status__exact=queued"))
    expect(page.locator("#result_list tbody tr")).to_have_count(0)

    filters.get_by_role("link", name="Cancelled", exact=True).click()
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td.field-status")).to_have_text("Cancelled")
    queued.refresh_from_db()
    assert queued.status == TaskStatus.CANCELLED
