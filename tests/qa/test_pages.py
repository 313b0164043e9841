"""The QA console and accuracy pages, through Django's test client as a browser would post."""

from __future__ import annotations

import pytest

from apps.qa.models import QAEvaluation, QAHistory, QASession
from apps.tasks.models import Task
from apps.users.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, analyst):
    client.force_login(analyst)
    return client


def _name(frame, contains: str) -> tuple[str, str]:
    row = frame[frame.bank_name.str.contains(contains, na=False)].iloc[0]
    return row.bank_name, row.bank_code


def test_ask_shows_the_answer_and_keeps_it_in_the_session(qa_version, browser, bank_frame, analyst):
    response = browser.post("/qa/sessions/new/")
    session = QASession.objects.get(user=analyst)
    assert response.status_code == 302 and f"session={session.pk}" in response.url

    name, code = _name(bank_frame, "海淀")
    question = name.replace("中国工商银行股份有限公司", "工行") + "的联行号是多少"
    response = browser.post("/qa/", {"question": question, "session": session.pk})
    assert response.status_code == 302
    page = browser.get(response.url).content.decode()
    assert f'id="answer-code">{code}<' in page
    assert " ms</span>" in page
    assert QAHistory.objects.get().session == session
    assert f"?session={session.pk}" in page  # the session is listed and selected


def test_a_bad_question_is_a_form_error_and_stores_nothing(qa_version, browser):
    response = browser.post("/qa/", {"question": "工" * 1001})
    assert response.status_code == 200
    assert "at most 1,000" in response.content.decode()
    response = browser.post("/qa/", {"question": "???"})
    assert "names no bank" in response.content.decode()
    assert QAHistory.objects.count() == 0


def test_no_active_version_says_what_to_do(bank_version, build, browser):
    build(bank_version, activate=False)
    page = browser.get("/qa/").content.decode()
    assert 'id="no-active"' in page
    response = browser.post("/qa/", {"question": "工行北京分行"})
    assert "promote a version" in response.content.decode()


def test_feedback_from_the_console(qa_version, browser, bank_frame, make_user, client):
    browser.post("/qa/", {"question": "工行北京某某支行"})
    entry = QAHistory.objects.get()
    _, code = _name(bank_frame, "海淀")
    response = browser.post(f"/qa/history/{entry.pk}/feedback/", {"value": "-1", "correct_code": code})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.feedback == -1 and entry.correct_code == code
    response = browser.post(f"/qa/history/{entry.pk}/feedback/", {"value": "-1", "correct_code": "12"})
    entry.refresh_from_db()
    assert entry.correct_code == code  # a bad code changes nothing
    assert "12-digit" in browser.get(response.url).content.decode()

    other = make_user(Role.ANALYST, username="oscar")
    client.force_login(other)
    assert client.post(f"/qa/history/{entry.pk}/feedback/", {"value": "1"}).status_code == 404


def test_question_text_is_escaped(qa_version, browser):
    browser.post("/qa/", {"question": "<b>工行</b><script>x()</script>"})
    page = browser.get("/qa/").content.decode()
    assert "<script>x()</script>" not in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page


def test_viewers_read_but_cannot_ask(qa_version, client, make_user):
    client.force_login(make_user(Role.VIEWER, username="val"))
    page = client.get("/qa/").content.decode()
    assert 'id="ask-form"' not in page and "train-form" not in page
    assert client.post("/qa/", {"question": "工行"}).status_code == 403
    assert client.post("/qa/train/", {}).status_code == 403


def test_train_from_the_console(bank_version, browser, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = browser.post("/qa/train/", {"dataset": bank_version.dataset_id})
    task = Task.objects.get(type="training")  # the upload's validation is a task of its own
    assert response.status_code == 302 and response.url == f"/tasks/{task.pk}/"
    assert task.parameters["kind"] == "retrieval"
    response = browser.post(
        "/qa/train/", {"dataset": bank_version.dataset_id, "dataset_version": 7}, follow=True
    )
    assert "has no version 7" in response.content.decode()
    assert Task.objects.filter(type="training").count() == 1


def test_accuracy_pages(qa_version, browser, upload, django_capture_on_commit_callbacks):
    from apps.datasets.models import DatasetVersion
    from apps.tasks import runner as task_runner

    response = upload(
        "question,expected_code\n工行北京分行营业部,102100000011\n", "q.csv", name="q", kind="tabular"
    )
    data = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    bad = browser.post(
        "/qa/evaluations/",
        {
            "model_version": qa_version.pk,
            "dataset": data.dataset_id,
            "question_column": "q",
            "code_column": "expected_code",
        },
    )
    assert "has no column" in bad.content.decode() and QAEvaluation.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=False):
        response = browser.post(
            "/qa/evaluations/",
            {
                "model_version": qa_version.pk,
                "dataset": data.dataset_id,
                "question_column": "question",
                "code_column": "expected_code",
            },
        )
    ev = QAEvaluation.objects.get()
    assert response.status_code == 302 and response.url == f"/qa/evaluations/{ev.pk}/"
    assert 'http-equiv="refresh"' in browser.get(response.url).content.decode()  # pending: it refreshes
    assert task_runner.task_execute(task_id=ev.task_id, worker="test") == "completed"
    page = browser.get(response.url).content.decode()
    assert 'id="top1">100.00 %<' in page and 'http-equiv="refresh"' not in page
    assert f'data-id="{ev.pk}"' in browser.get("/qa/evaluations/").content.decode()


def test_the_dashboard_counts_questions_and_wrong_answers(qa_version, browser):
    browser.post("/qa/", {"question": "工行北京分行营业部"})
    browser.post("/qa/", {"question": "建行上海分行"})
    entry = QAHistory.objects.order_by("pk").first()
    browser.post(f"/qa/history/{entry.pk}/feedback/", {"value": "-1"})
    page = browser.get("/").content.decode()
    card = page[page.index('id="qa-activity"') :][:400]
    assert '<div class="stat-value">2</div>' in card and "1 marked wrong" in card and " ms · " in card
