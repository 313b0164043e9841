"""The QA slice through its API: build, ask, sessions, history, feedback, accuracy, corrections."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from apps.models.models import ModelType, VersionEvent
from apps.qa import selectors, services
from apps.qa.models import QAEvaluation, QAHistory, QASession
from apps.qa.services import asking
from apps.tasks import runner as task_runner
from apps.tasks.models import Task
from apps.users.models import Role
from tests.factories import BankAliasFactory, QAHistoryFactory, QASessionFactory

pytestmark = pytest.mark.django_db


def _record(frame, contains: str):
    row = frame[frame.bank_name.str.contains(contains, na=False)].iloc[0]
    return row.bank_name, row.bank_code, row.clearing_code


def _ask(client, question, **extra):
    return client.post("/api/qa/ask", {"question": question, **extra}, format="json")


def test_build_registers_a_retrieval_version_with_its_self_check(qa_version, bank_version):
    assert qa_version.model.type == ModelType.RETRIEVAL
    assert qa_version.model.name == "bank-qa"
    assert qa_version.artifact_format == "omm-retrieval"
    assert qa_version.dataset_version_id == bank_version.pk
    assert qa_version.metrics["records"] == bank_version.valid_count
    # The self-check on generated noisy questions is honest figures, not a constant.
    assert 0.9 < qa_version.metrics["top1"] <= 1.0
    assert 0 <= qa_version.metrics["not_sure"] < 0.2
    assert VersionEvent.objects.filter(version=qa_version, action="register").exists()
    assert qa_version.status == "active"


def test_ask_answers_the_right_code_and_keeps_history(qa_version, bank_frame, analyst_api, analyst):
    name, code, clearing = _record(bank_frame, "海淀")
    question = name.replace("中国工商银行股份有限公司", "工行") + "的联行号是多少"
    response = _ask(analyst_api, question)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["answer"]["bankCode"] == code
    assert data["answer"]["clearingCode"] == clearing
    assert data["answer"]["sure"] is True
    assert data["modelVersion"] == qa_version.pk and data["model"] == "bank-qa"
    assert data["cached"] is False and data["responseTime"] > 0
    entry = QAHistory.objects.get(pk=data["id"])
    assert entry.user == analyst and entry.bank_code == code and entry.question == question

    # The same question again comes from the cache, and is still kept in the history.
    again = _ask(analyst_api, question).json()["data"]
    assert again["cached"] is True and again["answer"]["bankCode"] == code
    assert QAHistory.objects.filter(user=analyst).count() == 2


def test_a_code_as_the_question_names_the_bank(qa_version, bank_frame, analyst_api):
    name, code, _ = _record(bank_frame, "支行")
    data = _ask(analyst_api, f"{code}是哪个银行?").json()["data"]
    assert data["answer"]["bankName"] == name
    assert data["answer"]["matchedBy"] == "code"


@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("", "empty"),
        ("   \t ", "empty"),
        ("\x01\x02\x1f\x7f", "empty"),
        ("工行\x00", "Null characters"),
        ("工行" * 5000, "10,000 characters"),
        ("\uff1f\uff1f\uff1f!!!", "names no bank"),  # full-width question marks,
    ],
)
def test_bad_questions_answer_400_and_store_nothing(qa_version, analyst_api, question, needle):
    response = _ask(analyst_api, question)
    assert response.status_code == 400, response.content
    body = response.json()
    assert needle in body["errors"]["question"][0]
    assert QAHistory.objects.count() == 0


def test_a_question_that_is_not_text_or_has_unknown_fields_is_refused(qa_version, analyst_api):
    assert analyst_api.post("/api/qa/ask", {"question": 12}, format="json").status_code == 400
    response = analyst_api.post("/api/qa/ask", {"question": "工行", "model": 1}, format="json")
    assert response.status_code == 400 and "model" in response.json()["errors"]
    assert QAHistory.objects.count() == 0


def test_sql_and_html_are_stored_as_typed_and_answered_not_sure(qa_version, analyst_api):
    question = "<script>alert(1)</script>'; DROP TABLE qa_qahistory; --"
    response = _ask(analyst_api, question)
    assert response.status_code == 200, response.content
    assert response.json()["data"]["answer"]["sure"] is False
    assert QAHistory.objects.get().question == question  # the table is still there, too


def test_no_active_version_is_a_clear_409(bank_version, build, analyst_api):
    build(bank_version, activate=False)
    response = _ask(analyst_api, "工行北京分行")
    assert response.status_code == 409
    assert response.json()["code"] == "no_active_version"
    assert "promote" in response.json()["message"]
    assert QAHistory.objects.count() == 0


def test_viewers_cannot_ask(qa_version, client_for, make_user):
    viewer = make_user(Role.VIEWER, username="vic")
    assert _ask(client_for(viewer), "工行北京分行").status_code == 403


def test_ask_with_a_login_token(qa_version, client, analyst, password, bank_frame):
    token = client.post(
        "/api/auth/token",
        {"username": analyst.username, "password": password},
        content_type="application/json",
    ).json()["data"]["access"]
    name, code, _ = _record(bank_frame, "分行")
    response = client.post(
        "/api/qa/ask",
        {"question": name},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"]["answer"]["bankCode"] == code
    assert QAHistory.objects.get().user_id == analyst.pk


def test_a_promotion_reaches_the_next_question(bank_version, build, analyst_api, bank_frame):
    first = build(bank_version)
    name, code, _ = _record(bank_frame, "支行")
    assert _ask(analyst_api, name).json()["data"]["modelVersion"] == first.pk
    second = build(bank_version)  # promoted: the first becomes inactive
    data = _ask(analyst_api, name).json()["data"]
    assert data["modelVersion"] == second.pk and data["version"] == 2
    assert data["cached"] is False  # the cache is per version
    assert data["answer"]["bankCode"] == code


def test_sessions_hold_their_questions_and_stay_private(
    qa_version, analyst_api, analyst, make_user, client_for
):
    response = analyst_api.post("/api/qa/sessions", {}, format="json")
    assert response.status_code == 201
    session = response.json()["data"]["id"]
    _ask(analyst_api, "建行上海分行的联行号", session=session)
    listed = analyst_api.get("/api/qa/sessions").json()["data"]
    assert [(s["id"], s["questions"], s["title"]) for s in listed] == [(session, 1, "建行上海分行的联行号")]

    other = client_for(make_user(Role.ANALYST, username="olga"))
    assert other.get("/api/qa/sessions").json()["data"] == []
    response = _ask(other, "建行上海分行", session=session)
    assert response.status_code == 400 and "session" in response.json()["errors"]
    assert QAHistory.objects.filter(session_id=session).count() == 1


def test_history_filters_and_search(qa_version, analyst_api, analyst, api, bank_frame):
    session = analyst_api.post("/api/qa/sessions", {"title": "morning"}, format="json").json()["data"]["id"]
    name, code, _ = _record(bank_frame, "海淀")
    _ask(analyst_api, name, session=session)
    _ask(analyst_api, "农行杭州分行")
    _ask(api, "中行深圳分行")  # the admin's own

    assert len(analyst_api.get("/api/qa/history").json()["data"]) == 2
    rows = analyst_api.get(f"/api/qa/history?session={session}").json()["data"]
    assert [r["question"] for r in rows] == [name]
    assert [r["bankCode"] for r in analyst_api.get(f"/api/qa/history?search={code}").json()["data"]] == [code]
    assert [r["question"] for r in analyst_api.get("/api/qa/history?search=杭州").json()["data"]] == [
        "农行杭州分行"
    ]
    assert len(analyst_api.get(f"/api/qa/history?modelVersion={qa_version.pk}").json()["data"]) == 2
    assert analyst_api.get(f"/api/qa/history?modelVersion={qa_version.pk + 999}").json()["data"] == []

    everyone = api.get("/api/qa/history").json()["data"]
    assert {r["user"] for r in everyone} == {"ana", "boss"}
    assert {r["user"] for r in api.get("/api/qa/history?user=ana").json()["data"]} == {"ana"}


def test_feedback_rules(qa_version, analyst_api, api, bank_frame, make_user, client_for):
    entry = _ask(analyst_api, "工行北京分行营业部").json()["data"]["id"]
    url = f"/api/qa/history/{entry}/feedback"
    for bad in ({"value": 0}, {"value": 2}, {"value": "yes"}, {"value": True}, {}):
        response = analyst_api.post(url, bad, format="json")
        assert response.status_code == 400, (bad, response.content)
    response = analyst_api.post(url, {"value": -1, "correctCode": "12345"}, format="json")
    assert response.status_code == 400 and "correctCode" in response.json()["errors"]
    assert QAHistory.objects.get(pk=entry).feedback is None  # nothing changed by the refusals

    # Someone else's entry: invisible to another analyst, visible but not theirs to an admin.
    stranger = client_for(make_user(Role.ANALYST, username="sam"))
    assert stranger.post(url, {"value": 1}, format="json").status_code == 404
    assert api.post(url, {"value": 1}, format="json").status_code == 403

    _, right_code, _ = _record(bank_frame, "海淀")
    response = analyst_api.post(url, {"value": -1, "correctCode": right_code}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["feedback"] == -1 and response.json()["data"]["correctCode"] == right_code
    response = analyst_api.post(url, {"value": 1}, format="json")  # changed one's mind: the newest counts
    assert response.json()["data"]["feedback"] == 1 and response.json()["data"]["correctCode"] == ""
    wrong = analyst_api.get("/api/qa/history?feedback=-1").json()["data"]
    assert wrong == []


def test_train_api_queues_a_build_and_refuses_bad_requests(bank_version, analyst_api, credit_version, api):
    before = Task.objects.count()
    cases = [
        ({"dataset": credit_version.dataset_id}, "dataset"),
        ({"dataset": 99999}, "dataset"),
        ({"dataset": bank_version.dataset_id, "datasetVersion": 9}, "datasetVersion"),
        ({"dataset": bank_version.dataset_id, "nope": 1}, "nope"),
    ]
    for body, field in cases:
        response = analyst_api.post("/api/qa/train", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()["errors"], response.json()
    assert Task.objects.count() == before

    response = analyst_api.post("/api/qa/train", {"dataset": bank_version.dataset_id}, format="json")
    assert response.status_code == 201, response.content
    task = Task.objects.get(pk=response.json()["data"]["id"])
    assert task.type == "training" and task.parameters["kind"] == "retrieval"
    assert task.parameters["records"] == bank_version.valid_count


def test_a_classification_model_name_cannot_take_a_qa_version(bank_version, analyst_api):
    from apps.models.services import model_create

    model_create(name="credit", type=ModelType.CLASSIFICATION, algorithm="lightgbm", user=None)
    response = analyst_api.post(
        "/api/qa/train", {"dataset": bank_version.dataset_id, "name": "credit"}, format="json"
    )
    assert response.status_code == 400 and "retrieval" in response.json()["errors"]["name"][0]


def test_a_tampered_index_is_never_served(qa_version, analyst_api):
    path = qa_version.artifact.path
    with open(path, "r+b") as fh:
        blob = bytearray(fh.read())
        blob[-10] ^= 0xFF
        fh.seek(0)
        fh.write(bytes(blob))
    asking._indexes.clear()
    response = _ask(analyst_api, "工行北京分行")
    assert response.status_code == 409
    assert "cannot be loaded" in response.json()["message"]


def _question_set(upload, rows: list[tuple[str, str]], name: str = "questions"):
    from apps.datasets.models import DatasetVersion

    csv = "question,expected_code\n" + "".join(f"{q},{c}\n" for q, c in rows)
    response = upload(csv, f"{name}.csv", name=name, kind="tabular")
    assert response.status_code == 201, response.content
    version = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    assert version.status == "validated", version.error_message
    return version


def test_accuracy_evaluation_counts_top1_top5_not_sure_and_failures(
    qa_version, bank_frame, upload, analyst, analyst_api, client
):
    from apps.qa.questions import generate_questions

    records = bank_frame.dropna()
    records = records[records.bank_code.str.fullmatch(r"[0-9]{12}")]
    questions = generate_questions(records, 60, seed=5)
    rows = [(q.text.replace(",", " "), q.bank_code) for q in questions]
    rows.append((_record(bank_frame, "海淀")[0], "999999999999"))  # a label no answer can match
    data = _question_set(upload, rows)
    ev = services.evaluation_create(
        user=analyst, request={"model_version": qa_version.pk, "dataset": data.dataset_id}, enqueue=False
    )
    assert task_runner.task_execute(task_id=ev.task_id, worker="test") == "completed"
    ev = QAEvaluation.objects.get(pk=ev.pk)
    m = ev.metrics
    assert ev.rows == 61 and m["questions"] == 61
    assert m["answered"] + round(m["not_sure"] * 61) == 61
    assert 0.85 <= m["top1"] <= 1.0 and m["top5"] >= m["top1_all"]
    assert any(f["expected"] == "999999999999" for f in ev.failures)
    kinds = [f["kind"] for f in ev.failures]
    assert kinds == sorted(kinds, key=["wrong", "missed", "not_sure"].index)

    # The version's trace leads forward to the evaluation, and its page links to the report.
    response = analyst_api.get(f"/api/model-versions/{qa_version.pk}/trace")
    assert response.status_code == 200, response.content
    trace = response.json()
    assert [(e["id"], e["kind"]) for e in trace["forward"]["evaluations"]] == [(ev.pk, "qa")]
    assert trace["forward"]["evaluations"][0]["metrics"]["top1"] == m["top1"]
    client.force_login(analyst)
    assert (
        f'href="/qa/evaluations/{ev.pk}/"' in client.get(f"/traceability/{qa_version.pk}/").content.decode()
    )


def test_accuracy_evaluation_bad_requests(qa_version, credit_version, bank_version, upload, analyst_api):
    data = _question_set(upload, [("工行北京分行", "102100000011")])
    before = QAEvaluation.objects.count()
    cases = [
        ({"modelVersion": 99999, "dataset": data.dataset_id}, "modelVersion"),
        ({"modelVersion": qa_version.pk, "dataset": bank_version.dataset_id}, "dataset"),
        (
            {"modelVersion": qa_version.pk, "dataset": data.dataset_id, "questionColumn": "q"},
            "questionColumn",
        ),
        ({"modelVersion": qa_version.pk, "dataset": data.dataset_id, "codeColumn": "code"}, "codeColumn"),
    ]
    for body, field in cases:
        response = analyst_api.post("/api/qa/evaluations", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()["errors"], response.json()
    assert QAEvaluation.objects.count() == before

    response = analyst_api.post(
        "/api/qa/evaluations", {"modelVersion": qa_version.pk, "dataset": data.dataset_id}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["data"]["status"] in ("pending", "queued")


def test_corrections_become_an_evaluation_dataset(qa_version, bank_frame, analyst_api, analyst, admin_user):
    from apps.datasets import services as datasets

    name, code, _ = _record(bank_frame, "海淀")
    entry = _ask(analyst_api, "=工行北京某支行").json()["data"]["id"]
    analyst_api.post(f"/api/qa/history/{entry}/feedback", {"value": -1, "correctCode": code}, format="json")
    _ask(analyst_api, name)  # no feedback: not a correction

    with pytest.raises(ValueError, match="marked wrong"):
        services.corrections_export(entries=QAHistory.objects.filter(feedback__isnull=True), user=admin_user)
    version, created = services.corrections_export(entries=QAHistory.objects.all(), user=admin_user)
    assert created
    datasets.dataset_version_validate(version_id=version.pk)
    version.refresh_from_db()
    assert version.status == "validated" and version.row_count == 1
    ev = services.evaluation_create(
        user=admin_user,
        request={"model_version": qa_version.pk, "dataset": version.dataset_id},
        enqueue=False,
    )
    assert task_runner.task_execute(task_id=ev.task_id, worker="test") == "completed"
    ev.refresh_from_db()
    assert ev.metrics["questions"] == 1
    # The typed question started with "=": neutralised in the file, so it reads as text.
    assert ev.failures[0]["question"] == "'=工行北京某支行"
    assert ev.failures[0]["expected"] == code


def test_the_cache_key_is_the_normalised_question_and_version(qa_version, analyst_api):
    assert _ask(analyst_api, "工行北京分行营业部").json()["data"]["cached"] is False
    # Full-width and spacing variants normalise to the same question: served from the cache
    # (the first answer's cache write rides ahead of this question's read).
    assert _ask(analyst_api, " 工行 北京分行营业部 ").json()["data"]["cached"] is True
    assert cache.get(asking._cache_key(qa_version.pk, "工行北京分行营业部")) is not None
    assert _ask(analyst_api, "工行北京分行营业部").json()["data"]["cached"] is True
    assert QASession.objects.count() == 0


def test_an_alias_added_by_an_admin_reaches_answers_with_the_next_build(
    bank_version, build, bank_frame, analyst_api
):
    name, code, _ = _record(bank_frame, "分行营业部")
    question = name.replace("中国工商银行股份有限公司", "宇宙行")
    assert question != name
    build(bank_version)
    before = _ask(analyst_api, question).json()["data"]["answer"]
    BankAliasFactory(alias="宇宙行", full_name="中国工商银行")
    build(bank_version)  # v2, promoted
    after = _ask(analyst_api, question).json()["data"]
    assert after["version"] == 2
    assert after["answer"]["bankCode"] == code and after["answer"]["sure"] is True
    assert after["answer"]["confidence"] > before["confidence"]


def test_the_sure_threshold_setting_applies_at_once_even_to_cached_answers(qa_version, analyst_api, api):
    first = _ask(analyst_api, "工行北京某支行").json()["data"]
    assert first["answer"]["sure"] is False
    # The lowest threshold allowed (0..1): every answer is sure now.
    response = api.put("/api/system/config/qa-sure-threshold", {"value": 0}, format="json")
    assert response.status_code == 200, response.content
    from apps.core.config import config_invalidate

    config_invalidate("qa-sure-threshold")  # this process's 5 s memo
    again = _ask(analyst_api, "工行北京某支行").json()["data"]
    assert again["cached"] is True and again["answer"]["sure"] is True


def test_the_alias_table_sits_on_the_built_in_one(db):
    from apps.qa.models import BankAlias
    from apps.qa.retrieval import DEFAULT_ALIASES

    BankAlias.objects.all().delete()  # emptied: the big banks' short names remain
    assert selectors.aliases_table() == DEFAULT_ALIASES
    BankAliasFactory(alias="工行", full_name="中国工商银行", is_active=False)
    BankAliasFactory(alias="宇宙行", full_name="中国工商银行")
    table = selectors.aliases_table()
    assert "工行" not in table and table["宇宙行"] == "中国工商银行" and table["建行"] == "中国建设银行"


def _warm_up_in_a_thread():
    """``warm_up`` as a web process runs it: in its own thread, with its own connection."""
    import threading

    result = []
    thread = threading.Thread(target=lambda: result.append(services.warm_up()))
    thread.start()
    thread.join(60)
    return result


@pytest.mark.django_db(transaction=True)
def test_warm_up_loads_the_active_index_before_the_first_question(qa_version):
    asking._indexes.clear()
    assert _warm_up_in_a_thread() == [qa_version.pk]
    assert list(asking._indexes) == [qa_version.pk]
    assert asking._indexes[qa_version.pk]._latin is not None  # pinyin questions need not wait


@pytest.mark.django_db(transaction=True)
def test_warm_up_leaves_a_tampered_index_unloaded_and_the_process_running(qa_version):
    with open(qa_version.artifact.path, "r+b") as fh:
        fh.seek(-10, 2)
        byte = fh.read(1)
        fh.seek(-10, 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    asking._indexes.clear()
    assert _warm_up_in_a_thread() == [None]
    assert asking._indexes == {}


@pytest.mark.django_db(transaction=True)
def test_warm_up_without_an_active_version_loads_nothing():
    asking._indexes.clear()
    assert _warm_up_in_a_thread() == [None]
    assert asking._indexes == {}


def _synchronous_commit() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_history_row_is_stored_in_one_statement_whole_and_the_setting_ends_with_it(
    qa_version, analyst, bank_frame
):
    from django.db import connection
    from django.utils import timezone

    from apps.core.hotpath import insert_unflushed

    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL fast path")
    session = QASessionFactory(user=analyst, title="s")
    candidates = [{"bank_name": "某行", "bank_code": "1" * 12, "clearing_code": "2" * 12, "score": 0.5}]
    entry = QAHistoryFactory.build(
        user=analyst, session=session, model_version=qa_version, question="q' ; DROP TABLE x --",
        bank_name="", bank_code="", clearing_code="", confidence=0.25, sure=False,
        matched_by="ngram", candidates=candidates, response_ms=1.5,
    )  # fmt: skip
    before = timezone.now()
    insert_unflushed(entry, name="omm_test_history")
    assert entry.pk and not entry._state.adding
    stored = QAHistory.objects.get(pk=entry.pk)
    assert (stored.session_id, stored.question, stored.sure, stored.cached) == (
        session.pk,
        "q' ; DROP TABLE x --",
        False,
        False,
    )
    assert stored.candidates == candidates and stored.confidence == 0.25 and stored.feedback is None
    assert stored.correct_code == "" and stored.created_at >= before
    assert _synchronous_commit() == "on"  # set inside the statement's own transaction only
    with connection.cursor() as cursor:  # and it went the prepared way, not a plain save
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'omm_test_history'")
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_a_history_row_is_an_ordinary_save(qa_version, analyst):
    from django.db import transaction

    from apps.core.hotpath import insert_unflushed

    with pytest.raises(RuntimeError), transaction.atomic():
        entry = QAHistoryFactory.build(
            user=analyst, model_version=qa_version, question="q", confidence=1.0, sure=True,
            matched_by="exact", response_ms=1.0,
        )  # fmt: skip
        insert_unflushed(entry, name="omm_test_history")
        assert QAHistory.objects.filter(pk=entry.pk).exists()
        raise RuntimeError("the caller rolls back")
    assert not QAHistory.objects.filter(pk=entry.pk).exists()  # it was the caller's to commit


@pytest.mark.django_db(transaction=True)
def test_ask_outside_a_transaction_stores_its_history_row(qa_version, bank_frame, analyst_api, analyst):
    name, code, _ = _record(bank_frame, "支行")
    response = _ask(analyst_api, name)
    assert response.status_code == 200, response.content
    entry = QAHistory.objects.get(pk=response.json()["data"]["id"])
    assert (entry.user_id, entry.bank_code, entry.question) == (analyst.pk, code, name)


@pytest.mark.django_db(transaction=True)
def test_a_promotion_reaches_the_next_question_on_the_prepared_route(bank_version, build, analyst_api):
    # Outside a transaction the route is read by a statement prepared on the connection.
    first = build(bank_version)
    assert _ask(analyst_api, "工行北京分行营业部").json()["data"]["modelVersion"] == first.pk
    second = build(bank_version)
    assert _ask(analyst_api, "工行北京分行").json()["data"]["modelVersion"] == second.pk
    assert list(asking._indexes) == [second.pk]  # the replaced index left memory
