# ruff: noqa: RUF001 - the Chinese texts asserted use full-width punctuation
"""The feature center in Simplified Chinese: pages, the chart's texts and API errors."""

from __future__ import annotations

import pytest
from django.utils import translation

from apps.datasets.models import DatasetVersion
from apps.features.models import Feature
from apps.features.texts import IV_STRENGTHS
from apps.users.models import Role
from tests.core.test_api_conventions import assert_error
from tests.sample_data import CREDIT_CSV

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def credit(upload):
    response = upload(CREDIT_CSV, "credit.csv", name="credit", labelColumn="is_bad")
    return DatasetVersion.objects.get(pk=response.json()["data"]["id"])


@pytest.fixture
def registered(api, credit):
    body = {
        "dataset": credit.dataset_id,
        "columns": [{"column": "user_age"}, {"column": "city"}],
        "featureSet": {"name": "credit-basic"},
    }
    assert api.post("/api/features/register", body, format="json").status_code == 201
    return credit


@pytest.fixture
def browser(client, make_user):
    client.force_login(make_user(Role.ANALYST))
    client.cookies["omm_language"] = "zh-hans"
    return client


def _absent(page: str, *english: str) -> None:
    left = [text for text in english if text in page]
    assert not left, f"English left on the Chinese page: {left}"


def test_the_feature_list_is_in_chinese(registered, browser):
    page = browser.get("/features/").content.decode()
    assert 'lang="zh-hans"' in page
    for text in ("从数据集注册特征", "生成特征建议", "显示名称", "数据类型", "2 个特征", "数值型", "类别型"):
        assert text in page, text
    _absent(
        page, "Register features from dataset", "Propose features", "Display name", "feature(s)", "Numerical"
    )
    empty = browser.get("/features/", {"q": "nothing-like-this"}).content.decode()
    assert "没有匹配的特征。" in empty and "No features match." not in empty


def test_a_feature_page_is_in_chinese(registered, browser):
    feature = Feature.objects.get(name="user_age")
    page = browser.get(f"/features/{feature.pk}/").content.decode()
    for text in (
        "统计信息",
        "来自 credit v1，字段 user_age",
        "等频分箱",
        "坏样本率",
        "使用方",
        "特征集 credit-basic v1",
    ):
        assert text in page, text
    strength = feature.current_version().statistics["iv"]["strength"]  # stored in English
    with translation.override("zh-hans"):
        label = str(IV_STRENGTHS[strength])
    assert f'<small class="muted">{label} · 等频分箱</small>' in page and label != strength
    _absent(
        page, "Statistics", "Used by", "Versions", "quantile binning", "Bad rate", "feature set credit-basic"
    )


def test_the_register_page_is_in_chinese(registered, browser):
    page = browser.get("/features/register/", {"dataset": registered.dataset_id}).content.decode()
    for text in (
        "从 credit v1 注册特征",
        "注册所选字段",
        "特征名称",
        "IV（目标变量 is_bad）",
        "新版本",
        "数值型",
    ):
        assert text in page, text
    _absent(page, "Register selected", "Feature name", "new version", "Tags for all")
    refused = browser.post("/features/register/", {"dataset": registered.dataset_id}, follow=True)
    assert "请至少选择一个字段。" in refused.content.decode()


def test_the_chart_texts_are_in_the_javascript_catalogue(client):
    chinese = client.get("/jsi18n/", **ZH).content.decode()
    assert "\\u53d6\\u503c\\u5206\\u5e03" in chinese or "取值分布" in chinese  # 取值分布
    english = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "取值分布" not in english and "\\u53d6\\u503c" not in english


def test_a_feature_validation_error_is_chinese_with_an_english_code(api):
    bad = {"name": "1st", "type": "numerical"}
    body = assert_error(api.post("/api/features", bad, format="json", **ZH), 400, "validation_error")
    assert body["errors"]["name"] == ["须以字母开头，其后为字母、数字或 _（最多 100 个字符）。"]
    assert "须以字母开头" in body["message"] and "Start with a letter" not in body["message"]
    tags = {"name": "age", "type": "numerical", "tags": ["bad tag!"]}
    body = assert_error(api.post("/api/features", tags, format="json", **ZH), 400, "validation_error")
    assert "标签为 1-50 个字母" in str(body["errors"])
    assert not Feature.objects.exists()
    english = assert_error(api.post("/api/features", bad, format="json"), 400, "validation_error")
    assert english["errors"]["name"] == ["Start with a letter; then letters, digits or _ (at most 100)."]


def test_service_refusals_are_chinese(api, upload):
    assert api.post("/api/features", {"name": "age", "type": "numerical"}, format="json").status_code == 201
    taken = api.post("/api/features", {"name": "age", "type": "numerical"}, format="json", **ZH)
    assert "名为 'age' 的特征已存在。" in assert_error(taken, 409, "conflict")["message"]
    pending = upload(CREDIT_CSV, "c.csv", name="pending", validate=False).json()["data"]["dataset"]
    refused = api.post("/api/features/propose", {"dataset": pending}, format="json", **ZH)
    message = assert_error(refused, 400, "validation_error")["errors"]["dataset"][0]
    assert "只能使用已校验的版本" in message and "only validated" not in message


def test_a_label_of_three_classes_is_a_clear_refusal_not_a_server_error(api, upload, browser):
    csv = "amount,city,grade\n1,北京,0\n2,上海,1\n3,广州,2\n4,北京,0\n"
    dataset = upload(csv, "grades.csv", name="grades", labelColumn="grade").json()["data"]["dataset"]
    refused = api.post("/api/features/propose", {"dataset": dataset}, format="json", **ZH)
    message = assert_error(refused, 400, "validation_error")["errors"]["dataset"][0]
    reason = "标签必须恰好有两个类别（0/1、布尔值或两个不同的值）；实际有 3 个：0, 1, 2。"
    assert message == f"grades v1 无法计算 IV：{reason}"
    english = api.post("/api/features/propose", {"dataset": dataset}, format="json")
    assert "exactly two classes" in assert_error(english, 400, "validation_error")["message"]
    page = browser.get("/features/register/", {"dataset": dataset}, follow=True)
    assert page.status_code == 200 and "标签必须恰好有两个类别" in page.content.decode()
    assert not Feature.objects.exists()
