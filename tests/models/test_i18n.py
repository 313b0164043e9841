# ruff: noqa: RUF001 - the Chinese texts asserted use full-width punctuation
"""The registry in Simplified Chinese: its pages (model list, a model, its versions,
traceability and a trace) and its API errors follow the reader's language (zh-hans, the
platform's default) while codes, data and the English ``code`` of an error stay as they are;
admin lifecycle actions and messages too."""

from __future__ import annotations

import re

import pytest

from apps.models import services
from apps.models.models import ModelVersion
from apps.users.models import Role
from tests.models.test_governance import _train

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def zh(settings):
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def two(admin_user, credit_version) -> tuple[ModelVersion, ModelVersion]:
    """Two trained versions of model "credit", v2 active with v1 flagged for review."""
    v1 = _train(admin_user, credit_version.dataset_id, rounds=5)
    v2 = _train(admin_user, credit_version.dataset_id, rounds=8)
    services.version_activate(version=v1, user=admin_user, reason="first release")
    services.version_activate(version=v2, user=admin_user, reason="better KS")
    services.version_flag(version=v1, reason="PSI 0.31")
    return v1, v2


@pytest.fixture
def analyst_client(client, make_user):
    client.force_login(make_user(Role.ANALYST))
    return client


def _page(client, url: str, **params) -> str:
    response = client.get(url, params, **ZH)
    assert response.status_code == 200, url
    assert response["Content-Language"] == "zh-hans"
    return re.sub(r">\s+<", "><", response.content.decode())


def _absent(page: str, *english: str) -> None:
    found = [text for text in english if text in page]
    assert not found, f"English left on the page: {found}"


def test_model_list_in_chinese(analyst_client, two):
    page = _page(analyst_client, "/models/")
    assert "<h1>模型</h1>" in page
    assert "<th>最新版本</th>" in page and "<th>创建人</th>" in page
    assert '<span class="badge deployed">已上线</span>' in page  # the code stays the CSS class
    _absent(page, "Latest version", "Created by", ">deployed<", "Search</label>")
    empty = _page(analyst_client, "/models/", q="nothing-like-it")
    assert "还没有与“nothing-like-it”匹配的模型" in empty and "No models yet" not in empty


def test_model_page_in_chinese(client, admin_user, two):
    v1, v2 = two
    client.force_login(admin_user)
    page = _page(client, f"/models/{v1.model_id}/")
    assert f'生产版本： <a href="/traceability/{v2.pk}/">v2</a><span class="badge active">生产</span>' in page
    assert "<h2>服务</h2>" in page and "<h3>待复核</h3>" in page and "v1</a>: PSI 0.31" in page
    assert "<h2>生命周期记录</h2>" in page and "<h2>批量预测</h2>" in page
    assert "<th>原状态</th><th>新状态</th>" in page and "<th>操作人</th>" in page
    # Each change by its label, statuses by theirs; the codes stay in the attributes.
    promote_v2 = page.split('data-action="promote"', 1)[1].split("</tr>", 1)[0]
    assert "<td>v2</td><td>上线</td><td>已注册</td><td>生产</td><td>v1</td>" in promote_v2
    assert "<td>二分类</td>" in _section(page, "versions")
    assert "某一时刻的生产版本" in page and "查询</button>" in page
    assert "划分方式 random" in page and "在管理后台中管理" in page
    _absent(
        page,
        "Active version:",
        "Serving",
        "Lifecycle trail",
        "Which version was active",
        "Batch predictions",
        "Metrics across versions",
        "<td>Promote</td>",
        "<td>registered</td>",
        "No batch predictions yet.",
    )
    answer = _page(client, f"/models/{v1.model_id}/", active_at="2000-01-01T00:00:00Z")
    assert "时：没有生产版本。" in answer and "no version was active" not in answer
    refused = client.get(f"/models/{v1.model_id}/", {"active_at": "last tuesday"}, **ZH)
    assert refused.status_code == 400 and "请输入日期和时间" in refused.content.decode()


def _section(page: str, element_id: str) -> str:
    rest = page.split(f'id="{element_id}"', 1)[1]
    return re.split(r"</section>|</table>", rest, maxsplit=1)[0]


def test_versions_page_in_chinese(analyst_client, two):
    page = _page(analyst_client, f"/models/{two[0].model_id}/versions/")
    assert "各版本指标对比" in page and "每个指标的最优值以粗体显示" in page
    assert "<th>来源</th>" in page and "<td>训练生成</td>" in page
    _absent(page, "metrics across versions", "The best value", "<td>Trained</td>", "<th>Source</th>")


def test_traceability_and_trace_pages_in_chinese(analyst_client, two):
    v1, _ = two
    page = _page(analyst_client, "/traceability/", model=v1.model_id)
    assert "<h1>溯源</h1>" in page and "或版本 ID" in page and "溯源</button>" in page
    _absent(page, "Walk a model version back", "or version id", "Trace</button>")

    trace = _page(analyst_client, f"/traceability/{v1.pk}/")
    assert "向前追溯：它由什么产生" in trace and "向后追踪：它产生了什么" in trace
    assert "<th>随机种子</th><td>42</td>" in trace and "无（直接选择字段）" in trace
    assert "尚未复现。" in trace and "该版本还没有评估。" in trace and "复现</button>" in trace
    _absent(trace, "Back: what made it", "Forward: what it produced", "Not reproduced yet.", "<th>Seed</th>")

    refused = analyst_client.get("/traceability/", {"version_id": "999999"}, **ZH)
    assert refused.status_code == 400 and "不存在 ID 为 999999 的模型版本。" in refused.content.decode()


def test_api_errors_are_chinese_with_english_codes(api, two):
    v1, v2 = two
    # Promoting the active version: an invalid transition (409).
    r = api.post(f"/api/model-versions/{v2.pk}/promote", {"reason": "again"}, format="json", **ZH)
    body = r.json()
    assert r.status_code == 409 and body["code"] == "conflict"
    assert body["message"] == "credit v2 已是生产版本。"
    # Deprecating it: refused the same way.
    r = api.post(f"/api/model-versions/{v2.pk}/deprecate", {"reason": "test"}, format="json", **ZH)
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert r.json()["message"] == "credit v2 是生产版本；请先上线或回滚到其他版本。"
    # Promoting a version that does not exist (404).
    r = api.post("/api/model-versions/999999/promote", {"reason": "test"}, format="json", **ZH)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert re.search(r"[\u4e00-\u9fff]", r.json()["message"]) and "Not found" not in r.json()["message"]
    # Rolling back to a version the model lacks: the field's message is Chinese, its key English.
    r = api.post(
        f"/api/models/{v1.model_id}/rollback", {"reason": "test", "version": 99}, format="json", **ZH
    )
    assert r.status_code == 400 and r.json()["code"] == "validation_error"
    assert r.json()["errors"]["version"] == ["credit 没有版本 99。"]
    # A success message follows the language too; the data stays as it is.
    r = api.post(f"/api/model-versions/{v1.pk}/promote", {"reason": "back"}, format="json", **ZH)
    assert r.status_code == 200 and r.json()["message"] == "已上线 credit v1。"
    assert r.json()["data"]["status"] == "active"
    # The same refusal in English for a client that asks for it.
    r = api.post(
        f"/api/model-versions/{v1.pk}/promote", {"reason": "test"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert r.status_code == 409 and r.json()["message"] == "credit v1 is already active."


def test_training_problems_and_upload_refusals_are_chinese(api, admin_user, credit_version, zh):
    # A spec the pure training package refuses: its marked problem is translated here.
    r = api.post(
        "/api/tasks/training",
        {"name": "x", "dataset": credit_version.dataset_id, "params": {"num_leaves": 1}},
        format="json",
        **ZH,
    )
    assert r.status_code == 400 and r.json()["code"] == "validation_error"
    problems = r.json()["errors"]["nonFieldErrors"]
    assert problems == ["参数 'num_leaves' = 1 超出范围（应为 int in [2, 4096]）"]
    # An uploaded pickle: refused unread, in Chinese, with the English code of the refusal.
    model = services.model_create(name="ext", type="classification", algorithm="lightgbm", user=admin_user)
    r = api.post(
        "/api/models/upload",
        {"model": str(model.pk), "file": _file("m.pkl", b"\x80\x04junk")},
        format="multipart",
        **ZH,
    )
    assert r.status_code == 400 and "平台从不加载 pickle 文件" in r.json()["errors"]["file"][0]


def _file(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_admin_lifecycle_action_in_chinese(client, admin_user, two):
    v1, _ = two
    client.force_login(admin_user)
    url = "/admin/models/modelversion/"
    page = client.post(url, {"action": "promote", "_selected_action": [v1.pk]}, **ZH).content.decode()
    assert "<title>上线版本 | " in page and "已停用；当前生产版本为 v2" in page and "取消</a>" in page
    response = client.post(
        url,
        {"action": "promote", "_selected_action": [v1.pk], "apply": "1", "reason": "回退"},
        follow=True,
        **ZH,
    )
    assert [m.message for m in response.context["messages"]] == ["已上线 credit v1。"]
    assert ModelVersion.objects.get(pk=v1.pk).status == "active"
    listing = client.get(url, **ZH).content.decode()
    assert "上线所选版本（需填写原因）" in listing and "Promote selected versions" not in listing
