"""OMM speaks Simplified Chinese first: the platform's pages, the task screens, the login and
error pages, the admin and the API's messages read in zh-hans, with English one click (or one
Accept-Language header) away. Error ``code``s stay English: clients branch on them."""

# Chinese text is written with full-width punctuation, as the catalogue is.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone, translation

from apps.core.config import described
from apps.core.config_keys import describe_number_range
from apps.tasks import services as task_services
from apps.tasks.models import LogLevel, Task, TaskStatus
from apps.users.lockout import lockout_response
from apps.users.models import Role
from tests.factories import TaskFactory, TaskLogFactory

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def _page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _absent(page: str, *english: str) -> None:
    left = [text for text in english if text in page]
    assert not left, f"English left on a Chinese page: {left}"


# --------------------------------------------------------------------------- pages


def test_the_dashboard_reads_in_chinese(client, make_user, chinese):
    client.force_login(make_user(Role.ANALYST))
    page = _page(client.get("/"))
    assert 'lang="zh-hans"' in page
    for text in (
        "<h1>总览</h1>",
        "工作进程与定时调度",
        "数据质量告警",
        "没有数据质量告警。",
        "没有漂移告警。",
        "最近的评估",
        "暂无上传。",
        "API 调用（最近 24 小时）",
        "暂无 API 调用。",
        "检查工作进程",  # the ping form an analyst may use
        '<div class="stat-label">数据库</div>',  # a health check, named in Chinese
    ):
        assert text in page, text
    _absent(
        page,
        "Workers and schedulers",
        "Data quality alerts",
        "No data quality alerts.",
        "No drift alerts.",
        "Recent evaluations",
        "Nothing uploaded yet.",
        "API calls, last 24 hours",
        "Run worker check",
        "versions marked for review",
        '<div class="stat-label">database</div>',
    )


def test_the_dashboard_stays_english_for_an_english_reader(client, make_user):
    client.force_login(make_user(Role.ANALYST))
    page = _page(client.get("/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Workers and schedulers" in page and '<div class="stat-label">database</div>' in page
    assert not CJK.search(page.split("<main", 1)[1].replace("简体中文", ""))


def test_the_task_list_reads_in_chinese(client, make_user, chinese):
    TaskFactory(name="credit nightly", status=TaskStatus.COMPLETED, progress=100)
    client.force_login(make_user(Role.ANALYST))
    page = _page(client.get("/tasks/"))
    assert '<span class="badge completed" data-role="status">成功</span>' in page  # class stays the value
    for text in ("<h1>任务</h1>", "新建训练", "训练定时计划", "没有训练定时计划。", "创建人", "1 个任务"):
        assert text in page, text
    assert '<option value="completed">成功</option>' in page  # the status filter's labels
    _absent(page, "Training schedules", "No training schedules.", "New training", "Created by", "1 task(s)")


def test_a_task_page_reads_in_chinese(client, make_user, chinese):
    task = TaskFactory(
        name="credit nightly",
        status=TaskStatus.FAILED,
        error="boom",
        attempts=1,
        completed_at=timezone.now(),
    )
    TaskLogFactory(task=task, level=LogLevel.WARNING, message="disk slow")
    client.force_login(make_user(Role.ANALYST))
    page = _page(client.get(f"/tasks/{task.pk}/"))
    assert '<span class="badge failed" id="status">失败</span>' in page
    assert f"任务 #{task.pk} · credit nightly" in page
    for text in (
        "优先级 中",
        "第 1 次尝试",
        "各轮损失",
        "没有记录训练轮次。",
        "默认值（未设置资源限制）。",
        "显示训练轮次",
    ):
        assert text in page, text
    assert "<td>警告</td><td>disk slow</td>" in page  # the level word; the message is data
    assert 'id="rerun-form"' in page and ">重新运行</button>" in page
    _absent(
        page, "Loss by round", "No rounds were logged.", "Show training rounds", "priority Medium", "Re-run<"
    )


def test_the_login_page_and_its_error_read_in_chinese(client, make_user, chinese):
    page = _page(client.get("/login/"))
    for text in ("<h1>登录</h1>", ">用户名</label>", ">密码</label>", ">登录</button>"):
        assert text in page, text
    _absent(page, "Log in", "Username", "Password")

    user = make_user(Role.VIEWER)
    page = _page(client.post("/login/", {"username": user.username, "password": "wrong"}))
    assert "用户名或密码错误，请重试。" in page
    _absent(page, "did not match")


def test_an_error_page_reads_in_chinese(client, make_user, chinese):
    client.force_login(make_user(Role.VIEWER))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<p>未找到。</p>" in page and "返回总览" in page
    _absent(page, "Not found.", "Back to the dashboard")


def test_the_lockout_page_and_answer_read_in_chinese(rf, settings):
    with translation.override("zh-hans"):
        page = lockout_response(rf.post("/login/")).content.decode()
        answer = lockout_response(rf.post("/api/auth/token"))
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert "账号已锁定" in page and f"登录失败次数过多，请 {minutes} 分钟后再试。" in page
    assert answer.status_code == 429
    body = json.loads(answer.content)
    assert body["code"] == "locked_out" and CJK.search(body["message"])


def test_the_admin_site_names_itself_in_chinese(client, admin_user, chinese):
    client.force_login(admin_user)
    page = _page(client.get("/admin/"))
    assert "OMM 管理后台" in page and "离线模型平台" in page
    assert "系统设置" in page and "任务队列" in page  # a model and an app name
    _absent(page, "OMM administration", "Work queue")


def test_the_javascript_catalogue_carries_the_pages_words(client, chinese):
    script = client.get("/jsi18n/").content.decode()
    catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});", script, re.S).group(1))
    assert catalog["train loss"] == "训练损失"
    assert catalog["could not refresh: %(error)s"] == "无法刷新：%(error)s"
    assert catalog["task status\u0004completed"] == "成功"  # the badge word the list's refresh writes


# --------------------------------------------------------------------------- API messages


def test_an_api_404_is_chinese_with_the_english_code(api):
    body = api.get("/api/tasks/999999", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert (body["status"], body["code"]) == (404, "not_found")
    assert body["message"] == "未找到。"


def test_an_api_validation_error_is_chinese_with_the_english_code(api):
    response = api.post("/api/tasks", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.json()
    assert (response.status_code, body["code"]) == (400, "validation_error")
    assert body["message"] == "输入无效：type：该字段是必填项。"
    assert body["errors"] == {"type": ["该字段是必填项。"]}

    # DRF's own messages, from its zh_Hans catalogue, inside OMM's error format.
    body = api.post("/api/tasks/training", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["code"] == "validation_error" and body["message"].startswith("输入无效：")
    assert any("该字段是必填项。" in m for messages in body["errors"].values() for m in messages)

    body = api.get("/api/tasks", {"pageSize": 0}, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["message"] == "输入无效：pageSize：必须介于 1 和 200 之间。"
    body = api.get("/api/tasks", {"colour": "red"}, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["errors"] == {"colour": ["未知的查询参数。"]}


def test_a_service_refusal_is_chinese_with_the_english_code(api):
    task = TaskFactory(status=TaskStatus.COMPLETED)
    response = api.post(f"/api/tasks/{task.pk}/cancel", HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.json()
    assert (response.status_code, body["code"]) == (409, "conflict")
    assert body["message"] == f"任务 #{task.pk} 状态为成功；只能取消未结束的任务。"
    assert Task.objects.get(pk=task.pk).status == TaskStatus.COMPLETED  # nothing changed


def test_accept_language_en_gives_english(api):
    body = api.get("/api/tasks/999999", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (body["code"], body["message"]) == ("not_found", "Not found.")
    body = api.post("/api/tasks", {}, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["message"] == "Invalid input: type: This field is required."
    task = TaskFactory(status=TaskStatus.CANCELLED)
    body = api.post(f"/api/tasks/{task.pk}/cancel", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["message"] == f"Task #{task.pk} is cancelled; only an unfinished task can be cancelled."


def test_a_setting_is_described_in_the_readers_language(api):
    key = "tasks-max-attempts"
    body = api.get(f"/api/system/config/{key}", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["description"] == "工作进程失联的任务会重新运行，直至累计启动达到该次数。"
    # The row keeps the English text; an undeclared key shows what is stored.
    english = "A task whose worker was lost is run again until it has been started this many times."
    assert api.get(f"/api/system/config/{key}", HTTP_ACCEPT_LANGUAGE="en").json()["description"] == english
    assert described("not-declared", "as stored") == "as stored"
    with translation.override("zh-hans"):
        assert describe_number_range(1, 3650, integer=True) == "1 至 3650 之间的整数"


def test_task_log_lines_are_written_in_the_writers_language(django_capture_on_commit_callbacks):
    task = TaskFactory(status=TaskStatus.QUEUED)
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=False):
        task_services.task_cancel(task=task)
    assert task.logs.get().message == "任务在启动前已取消。"
