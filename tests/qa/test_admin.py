"""The QA domain in the Django admin: the alias table is edited (who changed it is kept);
sessions, history and accuracy evaluations are read-only; corrections download as CSV or
become an evaluation dataset; analysts get no admin; typed HTML stays text."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.datasets import services as datasets
from apps.datasets.models import Dataset, DatasetVersion
from apps.qa import selectors, services
from apps.qa.admin import ALIAS_NOTE
from apps.qa.models import BankAlias, QAHistory
from apps.tasks import runner as task_runner
from apps.users.models import Role

pytestmark = pytest.mark.django_db

ALIASES = reverse("admin:qa_bankalias_changelist")
SESSIONS = reverse("admin:qa_qasession_changelist")
HISTORY = reverse("admin:qa_qahistory_changelist")
EVALUATIONS = reverse("admin:qa_qaevaluation_changelist")
HTML_QUESTION = "=<b>工行</b>海淀<script>alert(1)</script>"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def asked(qa_version, bank_frame, analyst, admin_user) -> dict[str, QAHistory]:
    """Answered questions: right; wrong with a correct code (twice, one typed as HTML and a
    formula); wrong without a code; no feedback (the admin's own, in a session)."""
    valid = bank_frame.dropna()
    names = valid.bank_name.tolist()
    # Correct codes of branches far from the asked ones, which no answer holds.
    codes = valid[valid.bank_code != valid.clearing_code].bank_code.tolist()[-2:]
    session = services.session_create(user=admin_user, title="morning")
    rows = {
        "right": services.ask(user=analyst, question=names[10]),
        "corrected": services.ask(user=analyst, question=names[20]),
        "html": services.ask(user=analyst, question=HTML_QUESTION),
        "wrong": services.ask(user=analyst, question=names[30]),
        "none": services.ask(user=admin_user, question=names[40], session=session),
    }
    services.feedback_give(entry=rows["right"], value=1)
    services.feedback_give(entry=rows["corrected"], value=-1, correct_code=codes[0])
    services.feedback_give(entry=rows["html"], value=-1, correct_code=codes[1])
    services.feedback_give(entry=rows["wrong"], value=-1)
    return rows


def _act(client, action: str, entries, url: str = HISTORY, **extra):
    data = {"action": action, "_selected_action": [e.pk for e in entries], **extra}
    return client.post(url, data)


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m.message)) for m in response.context["messages"]]


def _shown(client, url: str) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return {obj.pk for obj in response.context["cl"].result_list}


# --------------------------------------------------------------------------- lists and pages


def test_history_list_filters_and_search(admin_client, asked, qa_version):
    pk = {k: e.pk for k, e in asked.items()}
    assert _shown(admin_client, HISTORY) == set(pk.values())  # everyone's, the admin's own too
    assert _shown(admin_client, HISTORY + "?feedback=right") == {pk["right"]}
    assert _shown(admin_client, HISTORY + "?feedback=wrong") == {pk["corrected"], pk["html"], pk["wrong"]}
    assert _shown(admin_client, HISTORY + "?feedback=none") == {pk["none"]}
    assert _shown(admin_client, HISTORY + "?correction=yes") == {pk["corrected"], pk["html"]}
    assert _shown(admin_client, HISTORY + "?correction=no") == {pk["right"], pk["wrong"], pk["none"]}
    assert _shown(admin_client, HISTORY + "?sure__exact=0") == {pk["html"]}
    assert _shown(admin_client, HISTORY + f"?model_version__id__exact={qa_version.pk}") == set(pk.values())
    year = asked["right"].created_at.year
    assert _shown(admin_client, HISTORY + f"?created_at__year={year}") == set(pk.values())
    assert _shown(admin_client, HISTORY + f"?created_at__year={year - 1}") == set()
    code = asked["corrected"].correct_code
    assert _shown(admin_client, HISTORY + f"?q={code}") == {pk["corrected"]}
    assert _shown(admin_client, HISTORY + "?q=ana&feedback=wrong&correction=yes") == {
        pk["corrected"],
        pk["html"],
    }

    page = admin_client.get(HISTORY).content.decode()
    assert "Download corrections as CSV" in page and "Export corrections as an evaluation dataset" in page
    assert "Delete selected" not in page  # the history is evidence: never deleted here


def test_history_and_session_pages_are_read_only(admin_client, asked):
    entry = asked["none"]
    page = admin_client.get(reverse("admin:qa_qahistory_change", args=[entry.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and "<textarea" not in html
    assert reverse("admin:qa_qasession_change", args=[entry.session_id]) in html
    assert entry.bank_code in html

    assert _shown(admin_client, SESSIONS) == {entry.session_id}
    assert _shown(admin_client, SESSIONS + "?q=morning") == {entry.session_id}
    assert _shown(admin_client, SESSIONS + "?q=evening") == set()
    html = admin_client.get(reverse("admin:qa_qasession_change", args=[entry.session_id])).content.decode()
    assert f"{HISTORY}?session__id__exact={entry.session_id}" in html
    assert "the 1 questions of this session" in html
    assert _shown(admin_client, HISTORY + f"?session__id__exact={entry.session_id}") == {entry.pk}
    # Nothing is added, changed or deleted by hand.
    assert admin_client.get(reverse("admin:qa_qahistory_add")).status_code == 403
    assert admin_client.post(reverse("admin:qa_qahistory_delete", args=[entry.pk])).status_code == 403
    assert QAHistory.objects.filter(pk=entry.pk).exists()


def test_html_in_a_question_is_shown_as_text(admin_client, asked):
    for url in (HISTORY, reverse("admin:qa_qahistory_change", args=[asked["html"].pk])):
        html = admin_client.get(url).content.decode()
        assert "&lt;b&gt;工行&lt;/b&gt;" in html
        assert "<b>工行" not in html and "<script>alert(1)" not in html


# --------------------------------------------------------------------------- aliases


def test_alias_add_and_change_record_who_and_say_when_answers_change(
    admin_client, make_user, admin_user, client
):
    before = BankAlias.objects.count()
    page = admin_client.get(ALIASES).content.decode()
    assert "the next trained QA model version" in page
    response = admin_client.post(
        reverse("admin:qa_bankalias_add"),
        {"alias": "测行", "full_name": "测试银行股份有限公司", "is_active": "on", "_save": "1"},
        follow=True,
    )
    assert response.status_code == 200
    assert ("info", ALIAS_NOTE) in _messages(response)
    alias = BankAlias.objects.get(alias="测行")
    assert (alias.full_name, alias.is_active, alias.updated_by) == ("测试银行股份有限公司", True, admin_user)
    assert BankAlias.objects.count() == before + 1
    assert selectors.aliases_table()["测行"] == "测试银行股份有限公司"

    other = make_user(Role.ADMIN, username="checker")
    client.force_login(other)
    response = client.post(
        reverse("admin:qa_bankalias_change", args=[alias.pk]),
        {"alias": "测行", "full_name": "测试商业银行", "_save": "1"},  # unticked: inactive
    )
    assert response.status_code == 302
    alias.refresh_from_db()
    assert (alias.full_name, alias.is_active, alias.updated_by) == ("测试商业银行", False, other)
    assert "测行" not in selectors.aliases_table()
    assert {a.pk for a in admin_client.get(ALIASES + "?is_active__exact=0").context["cl"].result_list} == {
        alias.pk
    }
    assert _shown(admin_client, ALIASES + "?q=测试商业") == {alias.pk}

    # An alias is unique: a second one is refused with the form's error, nothing stored.
    response = admin_client.post(
        reverse("admin:qa_bankalias_add"), {"alias": "测行", "full_name": "别的银行", "_save": "1"}
    )
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert BankAlias.objects.count() == before + 1


# --------------------------------------------------------------------------- corrections


def test_download_corrections_is_the_corrected_rows_exactly(admin_client, asked):
    response = _act(admin_client, "download_corrections", asked.values())
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="qa-corrections-')
    c, h = asked["corrected"], asked["html"]
    assert response.content.decode("utf-8") == (
        "question,expected_code,answered_code,history_id\n"
        f"{c.question},{c.correct_code},{c.bank_code},{c.pk}\n"
        f"'{HTML_QUESTION},{h.correct_code},{h.bank_code},{h.pk}\n"  # a formula start is neutralised
    )

    # Without a correction among them: a message, no file.
    response = _act(admin_client, "download_corrections", [asked["right"], asked["wrong"]])
    assert response.status_code == 302
    response = admin_client.get(response.url)
    assert _messages(response) == [
        ("error", "None of the selected answers was marked wrong with a correct code.")
    ]


def test_export_corrections_makes_a_dataset_version_once(admin_client, asked, admin_user):
    # "Select all" across the filtered list: the two corrections.
    response = _act(
        admin_client,
        "export_corrections",
        [asked["corrected"]],
        url=HISTORY + "?feedback=wrong",
        select_across="1",
    )
    assert response.status_code == 302
    version = DatasetVersion.objects.select_related("dataset").get(dataset__name="qa-corrections")
    assert (version.dataset.name, version.dataset.kind, version.created_by) == (
        "qa-corrections",
        "tabular",
        admin_user,
    )
    version.file.open("rb")
    try:
        assert version.file.read() == services.corrections_csv(entries=QAHistory.objects.all())
    finally:
        version.file.close()
    [(level, text)] = _messages(admin_client.get(response.url))
    assert level == "success"
    assert text.startswith("Exported 2 correction(s) as ")
    assert f'<a href="{reverse("admin:datasets_datasetversion_change", args=[version.pk])}">' in text
    assert reverse("dataset-detail", args=[version.dataset_id]) in text

    # The same corrections again: the same version, said so.
    response = _act(admin_client, "export_corrections", [asked["corrected"], asked["html"], asked["right"]])
    [(level, text)] = _messages(admin_client.get(response.url))
    assert text.startswith("Already exported: 2 correction(s) as ")
    assert DatasetVersion.objects.filter(dataset__name="qa-corrections").count() == 1


def test_export_without_corrections_is_an_error_and_creates_nothing(admin_client, asked):
    datasets_before, versions_before = Dataset.objects.count(), DatasetVersion.objects.count()
    response = _act(admin_client, "export_corrections", [asked["right"], asked["wrong"], asked["none"]])
    assert response.status_code == 302
    assert _messages(admin_client.get(response.url)) == [
        ("error", "Nothing exported: None of these answers was marked wrong with a correct code.")
    ]
    assert (Dataset.objects.count(), DatasetVersion.objects.count()) == (datasets_before, versions_before)


def test_analysts_get_no_admin(client, analyst, asked):
    client.force_login(analyst)
    for url in (
        ALIASES,
        SESSIONS,
        HISTORY,
        EVALUATIONS,
        reverse("admin:qa_qahistory_change", args=[asked["right"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login")), url
    response = _act(client, "export_corrections", asked.values())
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    response = client.post(reverse("admin:qa_bankalias_add"), {"alias": "坏行", "full_name": "坏银行"})
    assert response.status_code == 302
    assert not Dataset.objects.filter(name="qa-corrections").exists()
    assert not BankAlias.objects.filter(alias="坏行").exists()


# --------------------------------------------------------------------------- evaluations


def test_an_evaluation_shows_its_metrics_and_failures_readably(admin_client, asked, qa_version, admin_user):
    response = _act(admin_client, "export_corrections", [asked["corrected"], asked["html"]])
    assert response.status_code == 302
    data = DatasetVersion.objects.get(dataset__name="qa-corrections")
    datasets.dataset_version_validate(version_id=data.pk)
    ev = services.evaluation_create(
        user=admin_user, request={"model_version": qa_version.pk, "dataset": data.dataset_id}, enqueue=False
    )
    assert task_runner.task_execute(task_id=ev.task_id, worker="test") == "completed"
    ev.refresh_from_db()
    assert ev.metrics["questions"] == 2 and ev.failures

    assert _shown(admin_client, EVALUATIONS) == {ev.pk}
    assert _shown(admin_client, EVALUATIONS + "?status=completed") == {ev.pk}
    assert _shown(admin_client, EVALUATIONS + "?status=failed") == set()
    assert _shown(admin_client, EVALUATIONS + f"?model_version__id__exact={qa_version.pk}") == {ev.pk}

    page = admin_client.get(reverse("admin:qa_qaevaluation_change", args=[ev.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert f"<tr><th>questions</th><td>{ev.metrics['questions']}</td></tr>" in html
    assert f"<tr><th>not sure</th><td>{ev.metrics['not_sure']:.2%}</td></tr>" in html
    assert f"The first {len(ev.failures)} of {ev.metrics['failures_total']} failures" in html
    assert "<th>expected</th>" in html and f"<td>{asked['html'].correct_code}</td>" in html
    # The typed HTML, from the dataset into the failures table, is still text.
    assert "&lt;b&gt;工行&lt;/b&gt;" in html and "<b>工行" not in html
    assert reverse("admin:models_modelversion_change", args=[qa_version.pk]) in html
