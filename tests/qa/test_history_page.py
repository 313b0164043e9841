"""QA history search (admins): everyone's questions by text, dates, sure or not, who asked
and feedback, a page at a time, linked from the console; others get 403."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.models.models import ModelType
from apps.qa.models import QAHistory
from apps.users.models import Role
from tests.factories import ModelVersionFactory, QAHistoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(make_user):
    """Questions of two analysts: one not sure, one marked wrong, one asked ten days ago."""
    version = ModelVersionFactory(
        model__type=ModelType.RETRIEVAL, model__name="bank-qa", algorithm="retrieval"
    )
    alice, bob = make_user(Role.ANALYST, username="alice"), make_user(Role.ANALYST, username="bob")
    rows = {
        "icbc": QAHistoryFactory(
            user=alice,
            model_version=version,
            question="工行北京分行的联行号",
            bank_name="中国工商银行北京分行",
            bank_code="102100000001",
        ),
        "ccb": QAHistoryFactory(
            user=bob,
            model_version=version,
            question="建设银行上海",
            bank_name="中国建设银行上海分行",
            bank_code="105290000001",
            sure=False,
            confidence=0.4,
        ),
        "abc": QAHistoryFactory(
            user=bob,
            model_version=version,
            question="农行深圳",
            bank_name="中国农业银行深圳分行",
            bank_code="103584000001",
            feedback=-1,
            correct_code="103584000002",
        ),
    }
    old = QAHistoryFactory(user=alice, model_version=version, question="old question about 工行")
    QAHistory.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    rows["old"] = old
    return rows


def _ids(response) -> set[int]:
    return {h.pk for h in response.context["page"]}


def test_history_page_lists_everyone_newest_first_and_is_linked_from_the_console(client, admin_user, history):
    client.force_login(admin_user)
    assert 'href="/qa/history/"' in client.get("/qa/").content.decode()
    response = client.get("/qa/history/")
    assert response.status_code == 200
    rows = list(response.context["page"])
    assert len(rows) == 4 and rows[-1] == history["old"]
    page = response.content.decode()
    assert "alice" in page and "bob" in page and "4 questions" in page


def test_history_search_by_text_dates_sure_user_and_feedback(client, admin_user, history):
    client.force_login(admin_user)
    today = timezone.localdate()
    assert _ids(client.get("/qa/history/", {"q": "工行"})) == {history["icbc"].pk, history["old"].pk}
    assert _ids(client.get("/qa/history/", {"q": "建设银行"})) == {history["ccb"].pk}  # bank name
    assert _ids(client.get("/qa/history/", {"q": "103584"})) == {history["abc"].pk}  # a code
    assert _ids(client.get("/qa/history/", {"since": today.isoformat()})) == {
        history[k].pk for k in ("icbc", "ccb", "abc")
    }
    assert _ids(client.get("/qa/history/", {"until": (today - timedelta(days=5)).isoformat()})) == {
        history["old"].pk
    }
    assert _ids(client.get("/qa/history/", {"sure": "not_sure"})) == {history["ccb"].pk}
    assert history["ccb"].pk not in _ids(client.get("/qa/history/", {"sure": "sure"}))
    assert _ids(client.get("/qa/history/", {"user": "alice"})) == {history["icbc"].pk, history["old"].pk}
    assert _ids(client.get("/qa/history/", {"feedback": "wrong"})) == {history["abc"].pk}
    assert _ids(client.get("/qa/history/", {"user": "bob", "sure": "sure"})) == {history["abc"].pk}


def test_history_search_pages(client, admin_user, history):
    version = history["icbc"].model_version
    QAHistoryFactory.create_batch(30, user=history["icbc"].user, model_version=version, question="分页")
    client.force_login(admin_user)
    first = client.get("/qa/history/", {"q": "分页"})
    assert len(first.context["page"]) == 25 and first.context["page"].paginator.count == 30
    assert "?q=%E5%88%86%E9%A1%B5&page=2" in first.content.decode()
    second = client.get("/qa/history/", {"q": "分页", "page": "2"})
    assert len(second.context["page"]) == 5
    assert not _ids(first) & _ids(second)


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ({"since": "2026-13-45"}, "Enter a valid date."),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "The end date is before the start date."),
        ({"user": "nobody"}, "No user is named nobody."),
        ({"sure": "perhaps"}, "Select a valid choice."),
        ({"q": "x" * 500}, "Ensure this value has at most 200 characters"),
    ],
)
def test_history_search_bad_input_is_a_form_error(client, admin_user, history, query, needle):
    client.force_login(admin_user)
    response = client.get("/qa/history/", query)
    assert response.status_code == 400 and needle in response.content.decode()
    assert response.context["page"] is None


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST, Role.INTEGRATOR])
def test_history_search_is_for_admins_only(client, make_user, history, role):
    client.force_login(make_user(role))
    assert client.get("/qa/history/").status_code == 403
    assert 'href="/qa/history/"' not in client.get("/qa/").content.decode()


def test_history_search_renders_in_chinese(client, admin_user, history):
    client.cookies["omm_language"] = "zh-hans"
    client.force_login(admin_user)
    page = client.get("/qa/history/").content.decode()
    assert "问答记录" in page and "QA history" not in page
    bad = client.get("/qa/history/", {"user": "nobody"}).content.decode()
    assert "nobody" in bad and "No user is named" not in bad
