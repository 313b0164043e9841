"""Evaluation in a real browser: an analyst picks a trained version and a hold-out dataset on
/evaluation/, lands on the report while the task is pending, watches it complete (the page
follows the task and reloads), and reads KS, Gini, PSI, the lift table and the charts.

The evaluation runs in-process on a thread (``task_execute``, as a worker would call it)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.datasets import services as dataset_services
from apps.datasets.demo_data import write_credit_csv
from apps.datasets.models import DatasetStatus, DatasetVersion
from apps.evaluations import services as evaluation_services
from apps.evaluations.models import Evaluation
from apps.models import training_tasks
from apps.models.models import ModelVersion
from apps.tasks import runner as task_runner
from apps.tasks import services
from apps.tasks.models import TaskStatus
from apps.users.models import Role
from tests.browser.conftest import wait_for_charts

pytestmark = pytest.mark.browser

RUN_TIMEOUT_MS = 60_000


def _validated(tmp_path: Path, user, name: str, seed: int) -> DatasetVersion:
    path = write_credit_csv(tmp_path / f"{name}.csv", rows=2000, seed=seed)
    version, created = dataset_services.dataset_upload(
        name=name,
        kind="tabular",
        file=SimpleUploadedFile(f"{name}.csv", path.read_bytes()),
        original_name=f"{name}.csv",
        user=user,
        label_column="is_bad",
        time_column="application_date",
        key_columns=["application_id"],
    )
    assert created
    version = dataset_services.dataset_version_validate(version_id=version.pk)
    assert version.status == DatasetStatus.VALIDATED, version.error_message
    return version


@pytest.fixture
def no_broker(monkeypatch):
    # The queue is the broker's job; here a task is only marked queued, and the test runs it.
    monkeypatch.setattr(
        services,
        "_send",
        lambda task: services.transition(task.pk, TaskStatus.QUEUED, queued_at=timezone.now()),
    )


def test_analyst_evaluates_a_version_and_reads_the_report(
    page: Page, make_user, password, login, tmp_path, no_broker
):
    analyst = make_user(Role.ANALYST)
    train_data = _validated(tmp_path, analyst, "credit", seed=11)
    _validated(tmp_path, analyst, "holdout", seed=23)
    task = training_tasks.training_create(
        user=analyst,
        request={"name": "credit-lgbm", "dataset": train_data.dataset_id, "params": {"num_boost_round": 30}},
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=task.pk, worker="browser-test:1") == "completed"
    version = ModelVersion.objects.get(task=task)

    login(page, analyst, password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Evaluation", exact=True).click()
    expect(page).to_have_url(re.compile(r"/evaluation/$"))
    expect(page.locator("#evaluations tbody")).to_contain_text("No evaluations match.")

    form = page.locator("#evaluation-form")
    form.get_by_label("Model version").select_option(label="credit-lgbm v1 (registered, binary)")
    form.get_by_label("Dataset", exact=True).select_option(label="holdout")
    form.get_by_label("Threshold").fill("0.4")
    form.get_by_role("button", name="Evaluate").click()

    expect(page).to_have_url(re.compile(r"/evaluation/report/\d+/$"))
    ev = Evaluation.objects.get()
    assert (ev.model_version_id, ev.threshold, ev.created_by_id) == (version.pk, 0.4, analyst.pk)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Evaluation #{ev.pk} · credit-lgbm v1 on holdout v1"
    )
    expect(page.locator("#status")).to_have_text("pending")
    expect(page.locator("#deciles")).to_have_count(0)

    # The worker picks it up; the page follows the task and shows the report when it ends.
    outcome: list[str] = []

    def work():
        try:
            outcome.append(task_runner.task_execute(task_id=ev.task_id, worker="browser-test:1"))
        finally:
            connection.close()

    thread = threading.Thread(target=work, name="evaluation", daemon=True)
    thread.start()
    expect(page.locator("#status")).to_have_text("completed", timeout=RUN_TIMEOUT_MS)
    thread.join(timeout=60)
    assert outcome == ["completed"]
    ev.refresh_from_db()

    # A report a risk team signs off: KS, Gini, PSI with their definitions, the lift table.
    for name in ("ks", "gini", "psi", "auc"):
        stat = page.locator(f"#headline [data-metric={name}]")
        expect(stat.locator(".stat-value")).to_have_text(f"{ev.metrics[name]:.4f}")
        expect(stat).to_have_attribute("title", re.compile(r"\S"))
    deciles = page.locator("#deciles tbody tr")
    expect(deciles).to_have_count(len(ev.report["deciles"]["rows"]))
    first = ev.report["deciles"]["rows"][0]
    expect(deciles.first).to_contain_text(f"{first['bad_rate']:.4f}")
    expect(page.locator("#confusion")).to_be_visible()
    expect(page.locator("#psi-table tbody tr")).to_have_count(len(ev.report["psi"]["rows"]))
    expect(page.locator("#definitions")).to_contain_text("two-sample Kolmogorov-Smirnov")
    report_charts = ("roc", "pr", "ks", "lift", "distribution", "importance")
    wait_for_charts(page, ",".join(f"#{c}-chart" for c in report_charts))
    charts = page.evaluate(
        "() => ['roc-chart', 'pr-chart', 'ks-chart', 'lift-chart', 'distribution-chart', 'importance-chart']"
        ".map((id) => { const c = Chart.getChart(document.getElementById(id));"
        " return c ? c.data.datasets[0].data.length : 0; })"
    )
    assert all(n > 0 for n in charts), charts
    expect(page.locator("#exports").get_by_role("link", name="HTML report")).to_have_attribute(
        "href", f"/api/evaluation/{ev.pk}/export.html"
    )

    # The list shows it completed, with its figures.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Evaluation", exact=True).click()
    row = page.locator(f"#evaluations tbody tr[data-id='{ev.pk}']")
    expect(row).to_contain_text("completed")
    expect(row).to_contain_text(f"{ev.metrics['ks']:.4f}")

    # A second version on the same data, compared side by side with overlaid curves.
    task = training_tasks.training_create(
        user=analyst,
        request={"name": "credit-lgbm", "dataset": train_data.dataset_id, "params": {"num_boost_round": 80}},
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=task.pk, worker="browser-test:1") == "completed"
    challenger = ModelVersion.objects.get(task=task)
    other = evaluation_services.evaluation_create(
        user=analyst, request={"model_version": challenger.pk, "dataset": ev.dataset_version.dataset_id}
    )
    assert task_runner.task_execute(task_id=other.task_id, worker="browser-test:1") == "completed"
    page.reload()
    page.get_by_label(f"compare evaluation {ev.pk}").check()
    page.get_by_label(f"compare evaluation {other.pk}").check()
    page.get_by_role("button", name="Compare selected").click()
    expect(page).to_have_url(re.compile(r"/evaluation/compare/\?ids=\d+&ids=\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare on holdout v1")
    expect(page.locator("#compare-metrics thead th")).to_have_text(
        ["Metric", f"credit-lgbm v1 #{ev.pk}", f"credit-lgbm v2 #{other.pk}"]
    )
    expect(page.locator("#compare-metrics tr[data-metric=ks] .badge")).to_have_text("best")
    wait_for_charts(page, "#compare-roc, #compare-pr, #compare-gain")
    curves = page.evaluate(
        "() => ['compare-roc', 'compare-pr', 'compare-gain'].map((id) =>"
        " Chart.getChart(document.getElementById(id)).data.datasets.filter((d) => d.data.length > 2).length)"
    )
    assert curves == [2, 2, 2]
