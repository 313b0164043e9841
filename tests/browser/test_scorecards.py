"""A credit committee's scorecard in a real browser, in Chinese: an analyst reads the card,
merges two bins and refits it; the refitted version, promoted, answers with points and four
reasons; its model document downloads as a PDF.

Trainings run in-process, as a worker would run them."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from apps.models import services, training_tasks
from apps.models.models import ModelVersion
from apps.tasks import runner as task_runner
from apps.tasks.models import Task
from apps.users.models import Role
from tests.browser.conftest import wait_for_task_page_to_settle
from tests.browser.test_languages import _chinese_page, _login_in_chinese

pytestmark = pytest.mark.browser


def test_an_analyst_refits_a_scorecard_in_chinese_and_the_document_downloads(
    browser, live_server, browser_errors, make_user, password, credit_version, credit_csv, client_for
):
    analyst, boss = make_user(Role.ANALYST), make_user(Role.ADMIN)
    task = training_tasks.training_create(
        user=analyst,
        request={
            "name": "credit-card",
            "dataset": credit_version.dataset_id,
            "algorithm": "scorecard",
            "params": {"max_n_bins": 4},
        },
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    v1 = ModelVersion.objects.get(task=task)
    feature = next(f for f in v1.card["features"] if sum(b["kind"] == "interval" for b in f["bins"]) >= 3)
    first, second = [b for b in feature["bins"] if b["kind"] == "interval"][:2]

    tab = _chinese_page(browser, live_server, browser_errors)
    _login_in_chinese(tab, analyst.username, password)
    tab.goto(f"/models/versions/{v1.pk}/scorecard/")
    expect(tab.locator("h1")).to_contain_text("评分卡")
    card = tab.locator(f'section[data-feature="{feature["name"]}"]')
    expect(card.locator("thead")).to_contain_text("分数")
    expect(card.locator("tbody tr").nth(0)).to_contain_text(first["label"])
    expect(tab.locator("#candidates")).to_contain_text("候选特征")

    # Merge bins 1 and 2 of the feature (the page numbers them from 1) and refit.
    form = tab.locator("#refit-form")
    form.locator("select[name=feature]").select_option(feature["name"])
    form.locator("select[name=action]").select_option("merge")
    form.locator("input[name=bins]").fill("1,2")
    form.get_by_role("button", name="重新拟合").click()
    expect(tab).to_have_url(re.compile(r"/tasks/\d+/$"))
    refit_task = Task.objects.get(pk=int(tab.url.rstrip("/").rsplit("/", 1)[1]))
    assert refit_task.parameters["edits"] == [{"feature": feature["name"], "merge": [0, 1]}]
    assert task_runner.task_execute(task_id=refit_task.pk, worker="w:1") == "completed"
    v2 = ModelVersion.objects.get(task=refit_task)
    assert v2.derived_from_id == v1.pk
    wait_for_task_page_to_settle(tab)

    tab.goto(f"/models/versions/{v2.pk}/scorecard/")
    expect(tab.locator("#card-edits")).to_contain_text("本版本的分箱调整")
    merged = tab.locator(f'section[data-feature="{feature["name"]}"] tbody tr').nth(0)
    expect(merged.locator("td").nth(2)).to_have_text(str(first["count"] + second["count"]))

    # Promoted, it answers with points and four reasons.
    services.version_activate(version=v2, user=boss, reason="merged a thin bin")
    frame = pd.read_csv(io.StringIO(credit_csv)).head(50)
    features = v2.feature_schema["features"]
    records = [
        {
            f: (None if pd.isna(row[f]) else (row[f].item() if hasattr(row[f], "item") else row[f]))
            for f in features
        }
        for _, row in frame.iterrows()
    ]
    answer = (
        client_for(analyst)
        .post(f"/api/models/{v2.model_id}/predict", {"records": records, "topReasons": 4}, format="json")
        .json()["data"]
    )
    assert len(answer["points"]) == 50
    assert max(len(r) for r in answer["reasons"]) == 4

    # Its model document, in Chinese, downloads as a PDF.
    tab.goto(f"/models/versions/{v2.pk}/document/")
    expect(tab.locator("h1")).to_contain_text("模型文档")
    with tab.expect_download() as download:
        tab.locator("#download-pdf").click()
    path = download.value.path()
    with open(path, "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    assert download.value.suggested_filename.endswith(".pdf")
    tab.context.close()
