"""The analyst screens of issue #17 in a real browser: the dashboard's running tasks, an
admin editing a setting, uploading a model version then trying a prediction on the model
page, the feature-set list and a set's page, and the admins' QA history search.

Data is made in-process beforehand (services and factories), so no worker is needed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.core.models import SystemConfig
from apps.models import services as registry
from apps.models.models import ModelType
from apps.qa.models import QAHistory
from apps.tasks.models import TaskStatus, TaskType
from apps.users.models import Role
from tests.browser.test_features import _register_all, _validated_credit
from tests.factories import ModelVersionFactory, QAHistoryFactory, TaskFactory
from tests.models.test_governance import _lgb_text

pytestmark = pytest.mark.browser

RETENTION = "tasks-log-retention-days"


def test_the_dashboard_shows_a_running_task(page: Page, make_user, password, login):
    task = TaskFactory(
        type=TaskType.PREDICTION,
        status=TaskStatus.RUNNING,
        started_at=timezone.now() - timedelta(minutes=3),
        progress=60,
        parameters={"model_name": "credit", "version": 2, "dataset": 5, "dataset_version": 1},
    )
    login(page, make_user(Role.VIEWER), password)
    page.goto("/")
    row = page.locator(f'#running-tasks tr[data-id="{task.pk}"]')
    expect(row).to_contain_text("Batch prediction")
    expect(row).to_contain_text("credit v2 · #5 v1")
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "60")
    expect(page.locator("#running-count .stat-value")).to_have_text("1")
    row.get_by_role("link", name=f"#{task.pk}").click()
    expect(page).to_have_url(re.compile(rf"/tasks/{task.pk}/$"))


def test_an_admin_edits_a_setting(page: Page, admin_user, password, login, browser_errors):
    login(page, admin_user, password)
    page.goto("/settings/")
    row = page.locator(f'#settings tr[data-key="{RETENTION}"]')
    expect(row).to_contain_text("1 to 3650")
    row.get_by_role("link", name=f"Edit {RETENTION}").click()
    expect(page.get_by_role("heading", name=f"Edit {RETENTION}")).to_be_visible()

    # Out of range: a form error, nothing saved.
    page.get_by_label("Value").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#field-value .error")).to_contain_text("greater than or equal to 1")
    assert SystemConfig.objects.get(key=RETENTION).value == 180
    browser_errors.clear()  # the refused form answers 400, which the console reports

    page.get_by_label("Value").fill("30")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/settings/$"))
    expect(page.locator(".message")).to_have_text(f"Setting {RETENTION} saved.")
    expect(row.locator('[data-role="value"]')).to_have_text("30")
    assert SystemConfig.objects.get(key=RETENTION).updated_by == admin_user


def test_an_analyst_uploads_a_version_then_tries_a_prediction(
    page: Page, make_user, password, login, admin_user
):
    model = registry.model_create(name="ext", type="classification", algorithm="lightgbm", user=admin_user)
    login(page, make_user(Role.ANALYST), password)
    page.goto(f"/models/{model.pk}/")
    expect(page.locator("#try")).to_have_count(0)  # no version to try yet

    form = page.locator("#upload-form")
    form.get_by_label("Model file").set_input_files(
        {"name": "model.txt", "mimeType": "text/plain", "buffer": _lgb_text()}
    )
    form.get_by_label("Changelog").fill("trained in a notebook")
    form.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(re.compile(rf"/models/{model.pk}/#v1$"))
    expect(page.locator(".message")).to_have_text("Uploaded ext v1.")
    expect(page.locator('#versions tr[data-version="1"]')).to_be_visible()

    trial = page.locator("#try-form")
    for name in ("f0", "f1", "f2"):
        expect(trial.get_by_label(name, exact=True)).to_be_visible()
    trial.get_by_label("f0", exact=True).fill("2")
    trial.get_by_label("f1", exact=True).fill("0")
    trial.get_by_role("button", name="Score").click()
    expect(page).to_have_url(re.compile(rf"/models/{model.pk}/try/$"))
    score = page.locator("#try-score strong")
    expect(score).to_have_text(re.compile(r"^0\.\d{4}$|^1\.0000$"))
    assert float(score.inner_text()) > 0.5
    expect(page.locator("#try-contributions tbody tr").first).to_contain_text("f0")
    # The values typed stay in the form, for the next try; another one scores lower.
    trial = page.locator("#try-form")
    expect(trial.get_by_label("f0", exact=True)).to_have_value("2")
    expect(trial.get_by_label("f1", exact=True)).to_have_value("0")
    trial.get_by_label("f0", exact=True).fill("-2")
    trial.get_by_role("button", name="Score").click()
    expect(page.locator("#try-contributions tbody tr").first).to_contain_text("-2")
    assert float(page.locator("#try-score strong").inner_text()) < 0.5


def test_feature_set_list_then_a_sets_page(page: Page, make_user, password, login, tmp_path, monkeypatch):
    analyst = make_user(Role.ANALYST)
    version = _validated_credit(tmp_path, analyst, monkeypatch)
    feature_set = _register_all(version, analyst)
    first = feature_set.items.select_related("feature_version__feature").first().feature_version.feature
    login(page, analyst, password)
    page.goto("/features/")
    page.get_by_role("link", name="Feature sets", exact=True).click()
    expect(page).to_have_url(re.compile(r"/features/sets/$"))
    row = page.locator(f'#feature-sets tr[data-set="{feature_set.pk}"]')
    expect(row).to_contain_text(f"{version.dataset.name} v{version.version}")
    row.get_by_role("link", name=feature_set.name).click()
    expect(page).to_have_url(re.compile(rf"/features/sets/{feature_set.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Feature set {feature_set.name} v1")
    expect(page.locator("#set-features tbody tr")).to_have_count(feature_set.items.count())
    page.locator("#set-features").get_by_role("link", name=first.name, exact=True).click()
    expect(page).to_have_url(re.compile(rf"/features/{first.pk}/$"))


def test_an_admin_searches_the_qa_history(page: Page, make_user, password, login, admin_user, browser_errors):
    version = ModelVersionFactory(
        model__type=ModelType.RETRIEVAL, model__name="bank-qa", algorithm="retrieval"
    )
    alice, bob = make_user(Role.ANALYST, username="alice"), make_user(Role.ANALYST, username="bob")
    QAHistoryFactory(user=alice, model_version=version, question="工行北京分行", bank_code="102100000001")
    QAHistoryFactory(user=bob, model_version=version, question="工行上海", sure=False, confidence=0.3)
    QAHistoryFactory(user=bob, model_version=version, question="建行深圳")
    old = QAHistoryFactory(user=alice, model_version=version, question="工行 old")
    QAHistory.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))

    login(page, admin_user, password)
    page.goto("/qa/")
    page.get_by_role("link", name="Search everyone's history").click()
    expect(page.locator("#history-results tbody tr")).to_have_count(4)

    form = page.locator("#history-search")
    form.get_by_label("Words").fill("工行")
    form.get_by_label("From date").fill(timezone.localdate().isoformat())
    form.get_by_role("button", name="Search").click()
    expect(page.locator("#history-results tbody tr")).to_have_count(2)
    form = page.locator("#history-search")
    form.get_by_label("Answer").select_option(label="not sure")
    form.get_by_role("button", name="Search").click()
    expect(page.locator("#history-results tbody tr")).to_have_count(1)
    expect(page.locator("#history-results")).to_contain_text("工行上海")
    expect(page.locator("#history-count")).to_have_text("1 question")

    form = page.locator("#history-search")
    form.get_by_label("Asked by").fill("nobody")
    form.get_by_role("button", name="Search").click()
    expect(page.locator("#field-user .error")).to_have_text("No user is named nobody.")
    expect(page.locator("#history-results")).to_have_count(0)
    browser_errors.clear()  # the refused search answers 400, which the console reports


def test_an_analyst_gets_403_on_the_qa_history(page: Page, make_user, password, login, browser_errors):
    login(page, make_user(Role.ANALYST), password)
    page.goto("/qa/")
    expect(page.get_by_role("link", name="Search everyone's history")).to_have_count(0)
    response = page.goto("/qa/history/")
    assert response is not None and response.status == 403
    browser_errors.clear()  # the 403 is the point
