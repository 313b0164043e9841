"""Training in a real browser: an analyst fills the training form, lands on the task's page,
watches the progress bar and the loss curve grow while the training runs, ends on the
completed task with its model version, and reads the version's metrics and lineage.

The training runs in-process on a thread (``training_execute``, as a worker would call it),
held at a known round so the page is seen mid-run whatever the machine's speed."""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.datasets import services as dataset_services
from apps.datasets.demo_data import write_credit_csv
from apps.datasets.models import DatasetStatus, DatasetVersion
from apps.models import training_tasks
from apps.models.models import ModelVersion
from apps.tasks import runner as task_runner
from apps.tasks import services
from apps.tasks.models import Task, TaskStatus
from apps.users.models import Role

pytestmark = pytest.mark.browser

ROUNDS = 300
PAUSE_AT = 150
LABEL = "is_bad"
# Generous waits for the training thread; the pages themselves answer in milliseconds.
TRAINING_TIMEOUT_MS = 60_000


def _validated_credit(tmp_path: Path, user, monkeypatch) -> DatasetVersion:
    """A validated tabular credit dataset, stored and validated here: no worker needed."""
    path = write_credit_csv(tmp_path / "credit.csv", rows=3000, seed=11)
    version, created = dataset_services.dataset_upload(
        name="credit",
        kind="tabular",
        file=SimpleUploadedFile("credit.csv", path.read_bytes()),
        original_name="credit.csv",
        user=user,
        label_column=LABEL,
        time_column="application_date",
        key_columns=["application_id"],
        enqueue=False,
    )
    assert created
    version = dataset_services.dataset_version_validate(version_id=version.pk)
    assert version.status == DatasetStatus.VALIDATED, version.error_message
    return version


class HeldTraining:
    """Runs a task's training on a thread, holding it after round ``PAUSE_AT`` until released."""

    def __init__(self, monkeypatch):
        self.paused = threading.Event()
        self.release = threading.Event()
        self.outcome: list[str] = []
        self.thread: threading.Thread | None = None
        original = training_tasks.RoundWriter.__call__
        held = self

        def hold(writer, info):
            go_on = original(writer, info)
            if info.round == PAUSE_AT:
                writer.flush(info)  # rounds so far, and the progress, are in the database
                held.paused.set()
                held.release.wait(timeout=120)
            return go_on

        monkeypatch.setattr(training_tasks.RoundWriter, "__call__", hold)

    def start(self, task_id: int) -> None:
        def run():
            try:
                self.outcome.append(task_runner.task_execute(task_id=task_id, worker="browser-test:1"))
            finally:
                connection.close()

        self.thread = threading.Thread(target=run, name=f"training-{task_id}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        if self.thread is not None:
            self.thread.join(timeout=120)


@pytest.fixture
def held_training(monkeypatch) -> Iterator[HeldTraining]:
    # The queue is the broker's job; here the task is only marked queued, and this test runs it.
    monkeypatch.setattr(
        services,
        "_send",
        lambda task: services.transition(task.pk, TaskStatus.QUEUED, queued_at=timezone.now()),
    )
    held = HeldTraining(monkeypatch)
    yield held
    held.stop()


def _chart(page: Page) -> dict | None:
    return page.evaluate(
        "() => { const c = Chart.getChart(document.getElementById('loss-chart'));"
        " return c && {labels: c.data.labels, loss: c.data.datasets[0].data,"
        " valid: c.data.datasets[1].data}; }"
    )


def _wait_for_points(page: Page, count: int) -> dict:
    deadline_ms, waited = 10_000, 0
    while waited < deadline_ms:
        chart = _chart(page)
        if chart is not None and len(chart["labels"]) >= count:
            return chart
        page.wait_for_timeout(100)
        waited += 100
    pytest.fail(f"the loss chart did not reach {count} points: {_chart(page)}")


def test_analyst_trains_a_model_and_watches_it_run(
    page: Page, make_user, password, login, tmp_path, monkeypatch, held_training, browser_errors
):
    analyst = make_user(Role.ANALYST)
    version = _validated_credit(tmp_path, analyst, monkeypatch)

    login(page, analyst, password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks", exact=True).click()
    expect(page).to_have_url(re.compile(r"/tasks/$"))
    # The only task so far is the dataset's validation, done before any training.
    expect(page.locator("#tasks tbody tr")).to_have_count(1)
    expect(page.locator("#tasks tbody tr")).to_contain_text("Validate credit v1")
    expect(page.locator("#tasks tbody tr")).to_contain_text("Ingestion")
    page.get_by_role("link", name="New training").click()
    expect(page).to_have_url(re.compile(r"/tasks/create/$"))
    expect(page.get_by_role("heading", name="New training", level=1)).to_be_visible()

    form = page.locator("#training-form")
    form.get_by_label("Model name").fill("credit-lgbm")
    form.get_by_label("Dataset", exact=True).select_option(label="credit")
    # The dataset brings its columns and its label column; the algorithm its parameters.
    expect(form.get_by_label("Label column")).to_have_value(LABEL)
    columns = [c["name"] for c in version.validation_result["columns"]]
    expect(form.get_by_label("Features").locator("option")).to_have_count(len(columns))
    form.get_by_label("Algorithm").select_option(label="Random forest")
    expect(form.get_by_label("Parameters (JSON)")).to_have_value(re.compile(r'"n_estimators": 200'))
    form.get_by_label("Algorithm").select_option(label="LightGBM")
    params = form.get_by_label("Parameters (JSON)")
    expect(params).to_have_value(re.compile(r'"num_boost_round": 100'))
    expect(form.get_by_label("Seed")).to_have_value("42")
    expect(form.get_by_label("Validation share")).to_have_value("0.2")
    expect(page.locator("#field-cron")).to_be_hidden()

    # A parameter out of range comes back as an error on the form, and nothing is created.
    params.fill(json.dumps({"num_boost_round": ROUNDS, "learning_rate": 5}))
    form.get_by_role("button", name="Start training").click()
    expect(page.locator("#form-errors")).to_contain_text("'learning_rate' = 5 is out of range")
    assert not Task.objects.filter(type="training").exists()
    # Chromium logs the 400 answer to the form post; that one is expected, nothing else.
    page.evaluate("0")
    assert [e for e in browser_errors.all() if "status of 400" not in e] == []
    browser_errors.clear()

    expect(form.get_by_label("Model name")).to_have_value("credit-lgbm")
    chosen = ["user_age", "monthly_income", "credit_score", "education"]
    form.get_by_label("Features").select_option(chosen)
    params.fill(json.dumps({"num_boost_round": ROUNDS, "learning_rate": 0.05}))
    form.get_by_label("Priority").select_option(label="High")
    form.get_by_role("button", name="Start training").click()

    expect(page).to_have_url(re.compile(r"/tasks/\d+/$"))
    task = Task.objects.get(type="training")
    assert page.url.endswith(f"/tasks/{task.pk}/")
    # A multiple select sends its choices in the order of its options: the dataset's.
    features = [c for c in columns if c in chosen]
    assert task.parameters["features"] == features
    assert (task.parameters["label"], task.parameters["params"]["num_boost_round"]) == (LABEL, ROUNDS)
    assert (task.priority, task.created_by_id) == ("high", analyst.pk)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Task #{task.pk} · Train credit-lgbm")
    expect(page.locator("#status")).to_have_text("queued")
    expect(page.locator("#progress-text")).to_have_text("0%")
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()
    features_row = page.locator("#parameters tr").filter(
        has=page.locator("th", has_text=re.compile("^features$"))
    )
    expect(features_row.locator("td")).to_have_text(json.dumps(features))

    # The worker picks it up; the page follows while it runs.
    held_training.start(task.pk)
    assert held_training.paused.wait(timeout=TRAINING_TIMEOUT_MS / 1000), (
        "the training never reached the hold"
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.RUNNING and 5 < task.progress < 90
    percent = math.floor(task.progress + 0.5)  # rounded half up, as the page's script and template do
    expect(page.locator("#status")).to_have_text("running")
    expect(page.locator("#progress-text")).to_have_text(f"{percent}%")
    expect(page.locator("#progress")).to_have_attribute("aria-valuenow", str(percent))
    chart = _wait_for_points(page, PAUSE_AT)
    assert chart["labels"] == list(range(1, PAUSE_AT + 1))
    assert None not in chart["loss"] and None not in chart["valid"]
    assert chart["loss"][-1] < chart["loss"][0]  # the training loss goes down
    expect(page.locator("#round-text")).to_have_text(f"· round {PAUSE_AT}/{ROUNDS}")
    # The log lists the events; the rounds (the chart's points) show on demand.
    logs = page.locator("#logs tbody tr")
    expect(logs.filter(has_text="Started on browser-test:1")).to_be_visible()
    expect(logs.filter(has_text="Loaded 3,000 rows x 4 features from credit v1.")).to_be_visible()
    last_round = logs.filter(has_text=f"round {PAUSE_AT}/{ROUNDS}")
    expect(last_round).to_be_hidden()
    page.get_by_label("Show training rounds").check()
    expect(last_round).to_be_visible()
    expect(page.locator("#logs tbody tr.round")).to_have_count(PAUSE_AT)

    # Meanwhile, the task list shows it running and follows it to the end too.
    listing = page.context.new_page()
    listing.on("console", browser_errors.on_console)
    listing.on("pageerror", browser_errors.on_page_error)
    listing.on("requestfailed", browser_errors.on_request_failed)
    listing.on("response", browser_errors.on_response)
    listing.goto("/tasks/")
    row = listing.locator(f"#tasks tbody tr[data-id='{task.pk}']")
    expect(row.locator("[data-role=status]")).to_have_text("running")
    expect(row.locator("[data-role=progress-text]")).to_have_text(f"{percent}%")
    expect(row.locator("[data-role=model-version] a")).to_have_count(0)

    held_training.release.set()
    expect(page.locator("#status")).to_have_text("completed", timeout=TRAINING_TIMEOUT_MS)
    held_training.stop()
    assert held_training.outcome == ["completed"]
    mv = ModelVersion.objects.select_related("model").get(task=task)

    # The task page reloaded on completion: full curve, result, model version, no cancel.
    expect(page.locator("#progress-text")).to_have_text("100%")
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(page.get_by_role("button", name="Re-run")).to_be_visible()
    link = page.locator("#model-version").get_by_role("link", name="credit-lgbm v1")
    expect(link).to_have_attribute("href", f"/models/{mv.model_id}/#v1")
    expect(page.locator("#metrics tbody tr", has_text="auc")).to_contain_text(f"{mv.metrics['auc']:.4f}")
    chart = _wait_for_points(page, ROUNDS)
    assert chart["labels"] == list(range(1, ROUNDS + 1))
    expect(page.locator("#logs tbody tr", has_text="Registered credit-lgbm v1.")).to_be_visible()
    expect(page.locator("#logs tbody tr.round")).to_have_count(ROUNDS)  # the whole log

    # The list caught up without a reload.
    expect(row.locator("[data-role=status]")).to_have_text("completed", timeout=TRAINING_TIMEOUT_MS)
    expect(row.locator("[data-role=progress-text]")).to_have_text("100%")
    expect(row.locator("[data-role=model-version] a")).to_have_attribute("href", f"/models/{mv.model_id}/#v1")
    listing.close()

    # The model page: the version with its metrics and where it came from.
    link.click()
    expect(page).to_have_url(re.compile(rf"/models/{mv.model_id}/#v1$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("credit-lgbm")
    metrics = page.locator("#metrics")
    expect(metrics.locator("thead th")).to_have_text(["Metric", "v1"])
    expect(metrics.locator("tbody tr", has_text="auc")).to_contain_text(f"{mv.metrics['auc']:.4f}")
    lineage = page.locator("#v1")
    expect(lineage.locator("code.sha256")).to_have_text(version.sha256)
    expect(lineage.get_by_role("link", name="credit v1")).to_have_attribute(
        "href", f"/datasets/{version.dataset_id}/?version=1"
    )
    expect(lineage.get_by_role("link", name=f"#{task.pk} Train credit-lgbm")).to_have_attribute(
        "href", f"/tasks/{task.pk}/"
    )
    expect(lineage.locator("tr", has_text="Seed")).to_contain_text("42")
    expect(lineage.locator("tr", has_text="Libraries")).to_contain_text("lightgbm")
    expect(lineage.locator("tr", has_text="Created by")).to_contain_text(analyst.username)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Models", exact=True).click()
    models = page.locator("#models tbody tr")
    expect(models).to_have_count(1)
    expect(models).to_contain_text("credit-lgbm")
    expect(models.get_by_role("link", name="v1")).to_have_attribute("href", f"/models/{mv.model_id}/#v1")


def test_viewer_sees_tasks_but_gets_403_on_the_training_form(
    page: Page, make_user, password, login, browser_errors
):
    viewer = make_user(Role.VIEWER)
    login(page, viewer, password)
    page.goto("/tasks/")
    expect(page.get_by_role("heading", name="Tasks", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="New training")).to_have_count(0)
    response = page.goto("/tasks/create/")
    assert response is not None and response.status == 403
    page.evaluate("0")
    assert browser_errors.all() == [
        "console error: Failed to load resource: the server responded with a status of 403 "
        f"(Forbidden) ({response.url})"
    ]
    browser_errors.clear()
    expect(page.locator("#training-form")).to_have_count(0)
