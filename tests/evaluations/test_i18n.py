# ruff: noqa: RUF001 - the Chinese texts asserted use full-width punctuation
"""Evaluations in Simplified Chinese: the list, a report and a comparison follow the
reader's language, and so do the exports (HTML report, CSV headers), the notes and drift
alerts stored in English by the worker, and the API's refusals (with English codes)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from apps.evaluations import services
from apps.evaluations.models import Evaluation
from apps.users.models import Role
from tests.evaluations.conftest import run, train

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def pair(admin_user, trained, holdout, credit_version) -> tuple[Evaluation, Evaluation]:
    """Two completed evaluations on the holdout (the trained version and a challenger)."""
    challenger = train(admin_user, credit_version.dataset_id, rounds=30, seed=3)
    return tuple(
        run(
            services.evaluation_create(
                user=admin_user, request={"model_version": v.pk, "dataset": holdout.dataset_id}, enqueue=False
            )
        )
        for v in (trained, challenger)
    )


@pytest.fixture
def analyst_client(client, make_user):
    client.force_login(make_user(Role.ANALYST))
    return client


def _page(client, url: str) -> str:
    response = client.get(url, **ZH)
    assert response.status_code == 200, url
    return re.sub(r">\s+<", "><", response.content.decode())


def _absent(page: str, *english: str) -> None:
    found = [text for text in english if text in page]
    assert not found, f"English left on the page: {found}"


def test_evaluation_list_in_chinese(analyst_client, pair, trained, credit_version, admin_user):
    services.evaluation_create(
        user=admin_user,
        request={"model_version": trained.pk, "dataset": credit_version.dataset_id},
        enqueue=False,
    )
    page = _page(analyst_client, "/evaluation/")
    assert "<h1>评估</h1>" in page and "<h2>新建评估</h2>" in page and "开始评估</button>" in page
    assert (
        '<span class="badge completed">已完成</span>' in page
        and '<span class="badge pending">排队中</span>' in page
    )
    assert "对比所选</button>" in page and "3 个评估" in page
    assert f'<option value="{trained.pk}">credit v1（已注册，二分类）</option>' in page
    _absent(
        page, "New evaluation", "Compare selected", ">completed<", ">pending<", "evaluation(s)", "(registered"
    )

    refused = analyst_client.post(
        "/evaluation/",
        {
            "model_version": str(trained.pk),
            "dataset": str(credit_version.dataset_id),
            "threshold": "2",
            "bins": "10",
        },
        **ZH,
    )
    assert (
        refused.status_code == 400 and "必须在 0 到 1 之间（概率）；实际为 2.0。" in refused.content.decode()
    )


def test_evaluation_report_in_chinese(analyst_client, pair):
    a, _ = pair
    page = _page(analyst_client, f"/evaluation/report/{a.pk}/")
    assert f"<h1>评估 #{a.pk} · credit v1，数据集 holdout v1</h1>" in page
    assert '<span class="badge completed" id="status">已完成</span>' in page
    assert "下的混淆矩阵</h2>" in page and "<h2>ROC 曲线</h2>" in page and "<h2>KS 曲线" in page
    assert "<h2>各分箱提升度与增益</h2>" in page and "<th>累计提升度</th>" in page
    assert "<h2>指标定义</h2>" in page and "双样本 Kolmogorov-Smirnov 统计量" in page
    assert "<h2>特征重要性（增益）</h2>" in page
    assert '<div class="stat-label">准确率</div>' in page and '<div class="stat-label">KS</div>' in page
    assert "十分位表 (CSV)" not in page and "十分位表（CSV）" in page
    # The definitions shown on hover are translated; the figures' keys stay the codes.
    title = re.search(r'data-metric="ks" title="([^"]+)"', page).group(1)
    assert HAN.search(title)
    _absent(
        page,
        "Lift and gain by bucket",
        "Confusion matrix",
        "Definitions",
        "two-sample Kolmogorov-Smirnov statistic",
        "HTML report",
        "Feature importance",
        "Score stability",
    )


def test_stored_notes_and_alerts_are_shown_in_the_readers_language(analyst_client, pair):
    a, _ = pair
    # As a worker stores them: an English message, the template and its params.
    Evaluation.objects.filter(pk=a.pk).update(
        report={
            **a.report,
            "notes": [
                *a.report["notes"],
                {
                    "code": "unlabelled_rows_dropped",
                    "message": "12 rows without a label were left out.",
                    "template": "%(count)s rows without a label were left out.",
                    "params": {"count": "12"},
                },
                {"code": "old", "message": "A note stored before templates."},
            ],
        },
        alerts=[
            {
                "metric": "auc",
                "value": 0.61,
                "baseline": 0.7,
                "threshold": 0.05,
                "message": "AUC 0.610 is 0.090 below the training AUC 0.700 (alert at 0.05).",
                "template": "AUC %(auc)s is %(drop)s below the training AUC %(base)s (alert at %(limit)s).",
                "params": {"auc": "0.610", "drop": "0.090", "base": "0.700", "limit": "0.05"},
            }
        ],
    )
    page = _page(analyst_client, f"/evaluation/report/{a.pk}/")
    assert '<li data-code="unlabelled_rows_dropped">12 行没有标签，已剔除。</li>' in page
    assert "A note stored before templates." in page  # no template: shown as stored
    assert "AUC 0.610 比训练 AUC 0.700 低 0.090（告警阈值 0.05）。" in page
    assert "below the training AUC" not in page
    api = analyst_client.get(f"/api/evaluation/{a.pk}", HTTP_ACCEPT_LANGUAGE="en").json()  # as built
    assert api["alerts"][0]["message"].startswith("AUC 0.610 is 0.090 below")
    assert "template" not in api["alerts"][0] and "params" not in api["alerts"][0]


def test_compare_page_in_chinese(analyst_client, pair):
    a, b = pair
    page = _page(analyst_client, f"/evaluation/compare/?ids={a.pk}&ids={b.pk}")
    assert "<h1>在 holdout v1 上的对比</h1>" in page and "<h2>ROC 曲线</h2>" in page
    ks = re.search(r'<tr data-metric="ks">(.*?)</tr>', page).group(1)
    assert "最优</span>" in ks
    accuracy = re.search(r'<tr data-metric="accuracy"><th title="([^"]+)">(.*?)<', page)
    assert HAN.search(accuracy.group(1)) and accuracy.group(2).strip() == "准确率"
    _absent(page, "Compare on", ">best<", "larger is better", "Precision-recall curves")

    refused = analyst_client.get(f"/evaluation/compare/?ids={a.pk}", follow=True, **ZH)
    assert "请提供 2 到 10 个不同的评估 ID。" in refused.content.decode()


def test_exports_in_chinese(api, pair):
    a, _ = pair
    html = api.get(f"/api/evaluation/{a.pk}/export.html", **ZH).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "<h2>核心指标</h2>" in html and "<h2>各分箱提升度与增益</h2>" in html and "评分稳定性：PSI" in html
    assert "<b>ROC 曲线</b>" in html and ">假正例率</text>" in html  # the SVG charts' titles and axes
    _absent(html, "Headline metrics", "Lift and gain by bucket", "false positive rate", "Score stability")

    for table, expected in (
        ("metrics", ["指标", "值", "定义"]),
        ("deciles", ["分箱", "最低评分", "最高评分", "样本数", "坏样本数"]),
        ("psi", ["分箱标签", "下限", "上限", "基准行数"]),
    ):
        text = api.get(f"/api/evaluation/{a.pk}/export.csv", {"table": table}, **ZH).content.decode()
        header = next(csv.reader(io.StringIO(text)))
        assert header[: len(expected)] == expected, table
        assert all(HAN.search(h) or h in ("KS", "PSI") for h in header), header
    rows = list(
        csv.reader(
            io.StringIO(api.get(f"/api/evaluation/{a.pk}/export.csv?table=metrics", **ZH).content.decode())
        )
    )
    assert rows[1][0] == "auc" and HAN.search(rows[1][2])  # the key stays, its definition is translated
    # English headers (the keys) for a client that asks for English.
    text = api.get(
        f"/api/evaluation/{a.pk}/export.csv?table=metrics", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert text.splitlines()[0] == "metric,value,definition"

    refused = api.get(f"/api/evaluation/{a.pk}/export.csv?table=secrets", **ZH)
    assert refused.status_code == 400 and refused.json()["code"] == "validation_error"
    assert refused.json()["errors"]["table"][0].startswith("未知的表 'secrets'")


def test_api_refusals_are_chinese_with_english_codes(api, trained, holdout, admin_user):
    r = api.post(
        "/api/evaluation",
        {"modelVersion": trained.pk, "dataset": holdout.dataset_id, "threshold": 3},
        format="json",
        **ZH,
    )
    assert r.status_code == 400 and r.json()["code"] == "validation_error"
    assert r.json()["errors"]["threshold"] == ["必须在 0 到 1 之间（概率）；实际为 3.0。"]
    pending = services.evaluation_create(
        user=admin_user, request={"model_version": trained.pk, "dataset": holdout.dataset_id}, enqueue=False
    )
    r = api.get(f"/api/evaluation/{pending.pk}/export.html", **ZH)
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert r.json()["message"] == f"评估 #{pending.pk} 的状态为排队中；请在完成后再导出。"
