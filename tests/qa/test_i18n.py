# ruff: noqa: RUF001 - the Chinese texts asserted use full-width punctuation
"""Bank clearing-code QA in Simplified Chinese: the console's answer labels, the accuracy
pages, and API errors (Chinese message, English code)."""

from __future__ import annotations

import pytest

from apps.core.services import system_config_edit
from apps.qa.models import QAEvaluation, QAHistory
from tests.core.test_api_conventions import assert_error

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def browser(client, analyst):
    client.force_login(analyst)
    client.cookies["omm_language"] = "zh-hans"
    return client


def _absent(page: str, *english: str) -> None:
    left = [text for text in english if text in page]
    assert not left, f"English left on the Chinese page: {left}"


def test_an_empty_question_is_refused_in_chinese_with_the_english_code(analyst_api):
    for question in ("", "   \t"):
        response = analyst_api.post("/api/qa/ask", {"question": question}, format="json", **ZH)
        body = assert_error(response, 400, "validation_error")
        assert body["errors"] == {"question": ["问题为空。"]}
        assert "问题为空。" in body["message"] and "empty" not in body["message"]
    english = analyst_api.post("/api/qa/ask", {"question": ""}, format="json")
    assert assert_error(english, 400, "validation_error")["errors"] == {
        "question": ["The question is empty."]
    }
    too_long = analyst_api.post("/api/qa/ask", {"question": "工" * 1001}, format="json", **ZH)
    assert "最多 1,000 个字符" in assert_error(too_long, 400, "validation_error")["message"]
    assert QAHistory.objects.count() == 0


def test_other_api_refusals_are_chinese(analyst_api):
    no_session = analyst_api.post("/api/qa/ask", {"question": "工行", "session": 999}, format="json", **ZH)
    assert assert_error(no_session, 400, "validation_error")["errors"]["session"] == ["您没有会话 #999。"]
    no_model = analyst_api.post("/api/qa/ask", {"question": "工行北京分行"}, format="json", **ZH)
    body = assert_error(no_model, 409, "no_active_version")
    assert "没有生效的版本" in body["message"] and "promote" not in body["message"]


def test_the_console_is_in_chinese_before_any_model(bank_version, browser):
    page = browser.get("/qa/").content.decode()
    assert 'lang="zh-hans"' in page
    for text in (
        "联行号问答",
        "新建会话",
        "我的全部问题",
        "没有生效的版本",
        "提问",
        "还没有问题。",
        "训练问答模型",
        "银行行号数据",
    ):
        assert text in page, text
    _absent(
        page,
        "Bank clearing-code QA",
        "New session",
        "No questions yet.",
        "Train QA model",
        "is active:",
        "Bank records",
    )
    refused = browser.post("/qa/", {"question": "  "}).content.decode()
    assert 'id="question-error">问题为空。<' in refused


def test_the_answer_labels_are_chinese(qa_version, browser, bank_frame, admin_user):
    row = bank_frame[bank_frame.bank_name.str.contains("海淀", na=False)].iloc[0]
    question = row.bank_name.replace("中国工商银行股份有限公司", "工行") + "的联行号是多少"
    page = browser.get(browser.post("/qa/", {"question": question}).url).content.decode()
    assert f'id="answer-code">{row.bank_code}<' in page
    for text in (
        'id="answer-sure">确定<',
        "清算行行号",
        "置信度",
        "匹配方式",
        "联行号",
        "反馈",
        "正确",
        "错误",
    ):
        assert text in page, text
    _absent(page, "clearing code", "confidence ", "matched by", "Right</button>", "My recent questions")

    system_config_edit(key="qa-sure-threshold", value=1, user=admin_user)  # every guess is not sure
    page = browser.get(browser.post("/qa/", {"question": "工行北京某某支行"}).url).content.decode()
    for text in ('id="not-sure"><strong>不确定。</strong>', "候选", "最佳猜测", 'class="badge">不确定<'):
        assert text in page, text
    _absent(page, "Not sure.", "Candidates", "best guess", "Is it one of these?")


def test_the_accuracy_pages_are_chinese(qa_version, browser, upload):
    from apps.datasets.models import DatasetVersion
    from apps.tasks import runner as task_runner

    page = browser.get("/qa/evaluations/").content.decode()
    for text in (
        "新建准确率评估",
        "问答模型版本",
        "带标注的问题集",
        "预期联行号字段",
        "开始评估",
        "还没有准确率评估。",
    ):
        assert text in page, text
    _absent(
        page, "New accuracy evaluation", "QA model version", "Labelled questions", "No QA evaluations yet."
    )

    response = upload(
        "question,expected_code\n工行北京分行营业部,102100000011\n", "q.csv", name="q", kind="tabular"
    )
    data = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    form = {"model_version": qa_version.pk, "dataset": data.dataset_id, "code_column": "expected_code"}
    bad = browser.post("/qa/evaluations/", {**form, "question_column": "q"}).content.decode()
    assert (
        "没有字段 &#x27;q&#x27;" in bad and "has no column" not in bad and QAEvaluation.objects.count() == 0
    )
    response = browser.post("/qa/evaluations/", {**form, "question_column": "question"})
    ev = QAEvaluation.objects.get()
    assert task_runner.task_execute(task_id=ev.task_id, worker="test") == "completed"
    page = browser.get(response.url).content.decode()
    for text in (f"准确率评估 #{ev.pk}", "确定答案 Top-1", "全部问题 Top-1", "不确定", "失败（"):
        assert text in page, text
    _absent(page, "QA accuracy #", "Top-1 among answered", "Top-1 of all", "Failures (", "below confidence")
    listed = browser.get("/qa/evaluations/").content.decode()
    assert "1 次评估" in listed and "evaluation(s)" not in listed
