"""The QA console in a real browser: an analyst builds the QA model from bank records, an
admin promotes it, the analyst asks in a session and gets the right code in milliseconds,
sees "not sure" with candidates for a vague question, marks an answer wrong with the right
code, and the admin finds that feedback in the admin.

The build runs in-process (``task_execute``, as a worker would call it)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from apps.models import services as registry
from apps.models.models import ModelVersion
from apps.qa.models import QAHistory
from apps.tasks import runner as task_runner
from apps.tasks.models import Task
from apps.users.models import Role
from tests.browser.conftest import wait_for_task_page_to_settle

pytestmark = pytest.mark.browser


def test_analyst_builds_asks_and_corrects_then_the_admin_sees_it(
    page: Page,
    make_user,
    password,
    login,
    bank_version,
    bank_frame,
):
    analyst = make_user(Role.ANALYST)
    boss = make_user(Role.ADMIN)
    login(page, analyst, password)
    page.goto("/qa/")
    expect(page.locator("#no-active")).to_be_visible()

    # Build the QA model from the bank records.
    page.locator("#train-form").get_by_label("Bank records").select_option(label=bank_version.dataset.name)
    page.get_by_role("button", name="Train QA model").click()
    expect(page).to_have_url(re.compile(r"/tasks/\d+/$"))
    task = Task.objects.get(parameters__kind="retrieval")
    assert task_runner.task_execute(task_id=task.pk, worker="browser-test:1") == "completed"
    version = ModelVersion.objects.get(task=task)
    registry.version_activate(version=version, user=boss, reason="QA model reviewed")
    wait_for_task_page_to_settle(page)

    # Ask in a new session.
    page.goto("/qa/")
    expect(page.locator("#active-version")).to_contain_text(f"bank-qa v{version.version}")
    page.get_by_role("button", name="New session").click()
    row = bank_frame[bank_frame.bank_name.str.contains("海淀", na=False)].iloc[0]
    question = row.bank_name.replace("中国工商银行股份有限公司", "工行") + "的联行号是多少"
    page.get_by_label("Question").fill(question)
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#answer-code")).to_have_text(row.bank_code)
    expect(page.locator("#answer-name")).to_contain_text(row.bank_name)
    expect(page.locator("#response-time")).to_have_text(re.compile(r"^\d+(\.\d+)? ms$"))
    expect(page.locator("#sessions .active")).to_have_text(question)  # the session took its title

    # A vague question: not sure, with candidates instead of a guess.
    page.get_by_label("Question").fill("工行支行")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#not-sure")).to_be_visible()
    expect(page.locator("#candidates tbody tr").first).to_be_visible()
    expect(page.locator("#answer-code")).to_have_count(0)

    # Mark the vague answer wrong, giving the right code.
    vague = QAHistory.objects.get(question="工行支行")
    line = page.locator(f"#q{vague.pk}")
    line.get_by_label(f"correct code for {vague.pk}").fill(row.bank_code)
    line.get_by_role("button", name=f"mark answer {vague.pk} wrong").click()
    expect(page.locator(f"#q{vague.pk} .feedback")).to_contain_text(f"wrong → {row.bank_code}")
    expect(page.locator(f"#q{vague.pk}")).to_have_count(1)

    # The admin finds the correction in the admin, among the wrong answers.
    page.context.clear_cookies()
    page.goto("/admin/")
    page.get_by_label("Username").fill(boss.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    page.wait_for_load_state("load")  # its icons too: leaving earlier aborts them
    page.goto("/admin/qa/qahistory/?feedback=wrong")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("工行支行")
    expect(rows.first).to_contain_text(row.bank_code)
