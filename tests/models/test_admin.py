"""Registry governance in the Django admin: promote, roll back, deprecate, clear review and
archive as actions that ask for a reason first and go through the services; maker-checker
approvals by a different admin; "which version was active at T" on the model's page;
read-only prediction logs and batch predictions. Refusals are messages, never a 500."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from apps.models import services
from apps.models.models import (
    ModelStatus,
    ModelVersion,
    PredictionLog,
    PromotionRequest,
    RequestStatus,
    VersionEvent,
)
from apps.users.models import Role
from tests.factories import BatchPredictionFactory, PredictionLogFactory
from tests.models.test_governance import _config, _lgb_text, _train

pytestmark = pytest.mark.django_db

VERSIONS = reverse("admin:models_modelversion_changelist")
MODELS = reverse("admin:models_model_changelist")
REQUESTS = reverse("admin:models_promotionrequest_changelist")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def checker(make_user):
    """A second admin, who may decide on the first one's promotion requests."""
    return make_user(Role.ADMIN, username="checker")


@pytest.fixture
def two(admin_user, credit_version) -> tuple[ModelVersion, ModelVersion]:
    return (
        _train(admin_user, credit_version.dataset_id, rounds=5),
        _train(admin_user, credit_version.dataset_id, rounds=8),
    )


def _act(client, url: str, action: str, objs, reason: str | None = None):
    """Choose ``action`` for ``objs`` on the list; with ``reason``, confirm it on the reason page."""
    data = {"action": action, "_selected_action": [o.pk for o in objs]}
    if reason is not None:
        data.update(apply="1", reason=reason)
    return client.post(url, data, follow=True)


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in response.context["messages"]]


def _status(*versions) -> list[str]:
    return [ModelVersion.objects.get(pk=v.pk).status for v in versions]


# --------------------------------------------------------------------------- the reason page


def test_an_action_asks_for_a_reason_and_requires_one(admin_client, two):
    v1, v2 = two
    response = _act(admin_client, VERSIONS, "promote", [v2])
    assert response.status_code == 200 and response.redirect_chain == []
    page = response.content.decode()
    assert "<title>Promote versions | OMM admin</title>" in page
    assert '<textarea name="reason"' in page and "required" in page
    assert f'<input type="hidden" name="_selected_action" value="{v2.pk}">' in page
    assert '<input type="hidden" name="action" value="promote">' in page
    assert "credit v2</strong>: registered; none is active now" in page

    response = _act(admin_client, VERSIONS, "promote", [v2], reason="   ")
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert _status(v1, v2) == ["registered", "registered"]
    assert not VersionEvent.objects.exclude(action="register").exists()


def test_promote_makes_the_previous_version_inactive_with_the_reason_in_the_trail(
    admin_client, admin_user, two
):
    v1, v2 = two
    response = _act(admin_client, VERSIONS, "promote", [v1], reason="first release")
    assert _messages(response) == [("success", "Promoted credit v1.")]
    response = _act(admin_client, VERSIONS, "promote", [v2], reason="beats v1 by 0.02 AUC")
    assert response.redirect_chain[-1][0] == VERSIONS
    assert _messages(response) == [("success", "Promoted credit v2.")]
    assert _status(v1, v2) == ["inactive", "active"]
    event = VersionEvent.objects.filter(action="promote").latest("created_at")
    assert (event.version, event.previous_active, event.actor) == (v2, v1, admin_user)
    assert (event.from_status, event.to_status, event.reason) == (
        "registered",
        "active",
        "beats v1 by 0.02 AUC",
    )
    assert LogEntry.objects.filter(
        object_id=str(v2.pk), change_message="Promoted credit v2. Reason: beats v1 by 0.02 AUC"
    ).exists()


def test_promote_takes_one_version_per_model(admin_client, two):
    response = _act(admin_client, VERSIONS, "promote", list(two))
    assert _messages(response) == [
        ("error", "Select at most one version per model: a model has one active version.")
    ]
    assert "<textarea" not in response.content.decode()
    assert _status(*two) == ["registered", "registered"]


def test_refused_changes_are_error_messages(admin_client, admin_user, two, monkeypatch):
    v1, v2 = two
    services.version_activate(version=v1, user=admin_user, reason="go")
    services.version_deprecate(version=v2, user=admin_user, reason="old")
    response = _act(admin_client, VERSIONS, "promote", [v1], reason="again")
    assert response.status_code == 200
    assert _messages(response) == [("error", "credit v1 not promoted: credit v1 is already active.")]
    response = _act(admin_client, VERSIONS, "promote", [v2], reason="revive")
    assert _messages(response) == [
        ("error", "credit v2 not promoted: credit v2 is deprecated; it cannot be made active.")
    ]

    # Another admin promoted meanwhile: the database refused the second active version.
    v3 = _train(admin_user, v1.dataset_version.dataset_id, rounds=6)

    def collide(**kwargs):
        raise services.ConcurrentChange("The active version of credit changed meanwhile; try again.")

    monkeypatch.setattr(services, "version_activate", collide)
    response = _act(admin_client, VERSIONS, "promote", [v3], reason="race")
    assert response.status_code == 200
    assert _messages(response) == [
        ("error", "credit v3 not promoted: The active version of credit changed meanwhile; try again.")
    ]
    assert _status(v1, v2, v3) == ["active", "deprecated", "registered"]


def test_rollback_reactivates_the_selected_version(admin_client, admin_user, two):
    v1, v2 = two
    services.version_activate(version=v1, user=admin_user, reason="first")
    services.version_activate(version=v2, user=admin_user, reason="second")
    response = _act(admin_client, VERSIONS, "rollback_to", list(two))
    assert _messages(response) == [("error", "Select the one version to roll back to.")]

    page = _act(admin_client, VERSIONS, "rollback_to", [v1]).content.decode()
    assert "Roll credit back to v1" in page and "credit v1</strong>: inactive; v2 is active now" in page
    response = _act(admin_client, VERSIONS, "rollback_to", [v1], reason="v2 misfires on new applicants")
    assert _messages(response) == [("success", "Rolled back to credit v1.")]
    assert _status(v1, v2) == ["active", "inactive"]
    event = VersionEvent.objects.get(action="rollback")
    assert (event.version, event.previous_active, event.reason) == (v1, v2, "v2 misfires on new applicants")


def test_deprecate_one_message_per_version(admin_client, admin_user, two):
    v1, v2 = two
    services.version_activate(version=v1, user=admin_user, reason="go")
    response = _act(admin_client, VERSIONS, "deprecate", [v1, v2], reason="superseded")
    assert _messages(response) == [
        (
            "error",
            "credit v1 not deprecated: credit v1 is active; promote or roll back to another version first.",
        ),
        ("success", "Deprecated credit v2."),
    ]
    assert _status(v1, v2) == ["active", "deprecated"]
    assert VersionEvent.objects.get(action="deprecate").reason == "superseded"


def test_clear_review(admin_client, two):
    v1, v2 = two
    services.version_flag(version=v1, reason="PSI 0.3")
    page = _act(admin_client, VERSIONS, "clear_review", [v1]).content.decode()
    assert "credit v1</strong>: PSI 0.3" in page
    response = _act(admin_client, VERSIONS, "clear_review", [v1, v2], reason="drift is seasonal")
    assert _messages(response) == [
        ("success", "Review of credit v1 cleared."),
        ("error", "credit v2 review not cleared: credit v2 is not marked for review."),
    ]
    assert not ModelVersion.objects.get(pk=v1.pk).review_required
    assert VersionEvent.objects.get(action="review").reason == "drift is seasonal"


# --------------------------------------------------------------------------- maker-checker


def test_with_maker_checker_promote_files_a_request_a_different_admin_approves(admin_client, checker, two):
    v1, _ = two
    _config("models-promotion-approval", True)
    page = _act(admin_client, VERSIONS, "promote", [v1]).content.decode()
    assert "<title>Request promotion | OMM admin</title>" in page and "Maker-checker is on" in page
    response = _act(admin_client, VERSIONS, "promote", [v1], reason="ship it")
    assert _messages(response) == [
        ("info", "Promotion of credit v1 requested; a different admin must approve it.")
    ]
    assert _status(v1) == ["registered"]
    filed = PromotionRequest.objects.get()
    assert (filed.status, filed.reason) == (RequestStatus.PENDING, "ship it")

    # The requester cannot approve their own request.
    response = _act(admin_client, REQUESTS, "approve", [filed], reason="me")
    assert response.status_code == 200
    assert _messages(response) == [
        ("error", f"{filed} not approved: A different admin must decide on a promotion you requested.")
    ]
    assert PromotionRequest.objects.get().status == RequestStatus.PENDING and _status(v1) == ["registered"]

    client = admin_client
    client.force_login(checker)  # the same browser, now the checker
    listing = client.get(REQUESTS, {"status__exact": "pending"})
    assert listing.context["cl"].result_count == 1 and "ship it" in listing.content.decode()
    response = _act(client, REQUESTS, "approve", [filed], reason="checked the holdout")
    assert _messages(response) == [("success", "Approved: credit v1 is active.")]
    assert _status(v1) == ["active"]
    filed.refresh_from_db()
    assert (filed.status, filed.decided_by, filed.decision_reason) == (
        RequestStatus.APPROVED,
        checker,
        "checked the holdout",
    )
    event = VersionEvent.objects.get(action="approve")
    assert (event.actor, event.reason) == (checker, "checked the holdout")
    assert client.get(REQUESTS, {"status__exact": "pending"}).context["cl"].result_count == 0


def test_a_different_admin_rejects_with_a_reason(client, admin_user, checker, two):
    v1, _ = two
    filed = services.promotion_request(version=v1, user=admin_user, reason="try it")
    client.force_login(checker)
    response = _act(client, REQUESTS, "reject", [filed], reason="")
    assert "This field is required." in response.content.decode()
    response = _act(client, REQUESTS, "reject", [filed], reason="KS too low")
    assert _messages(response) == [("success", "Rejected the promotion of credit v1.")]
    filed.refresh_from_db()
    assert (filed.status, filed.decision_reason) == (RequestStatus.REJECTED, "KS too low")
    assert _status(v1) == ["registered"]
    again = _act(client, REQUESTS, "approve", [filed], reason="changed my mind")
    assert _messages(again)[0][0] == "error" and "already rejected" in _messages(again)[0][1]


# --------------------------------------------------------------------------- models


def test_archive_a_model(admin_client, admin_user, two):
    v1, _ = two
    services.version_activate(version=v1, user=admin_user, reason="go")
    page = _act(admin_client, MODELS, "archive", [v1.model]).content.decode()
    assert "<title>Archive models | OMM admin</title>" in page
    response = _act(admin_client, MODELS, "archive", [v1.model], reason="product closed")
    assert _messages(response) == [("success", "Archived credit.")]
    v1.model.refresh_from_db()
    assert v1.model.status == ModelStatus.ARCHIVED and _status(v1) == ["inactive"]
    assert VersionEvent.objects.get(action="archive").reason == "product closed"
    response = _act(admin_client, MODELS, "archive", [v1.model], reason="again")
    assert _messages(response) == [("error", "credit not archived: credit is already archived.")]


def test_model_page_answers_which_version_was_active_at(admin_client, admin_user, two):
    v1, v2 = two
    model = v1.model
    url = reverse("admin:models_model_change", args=[model.pk])
    before = timezone.now()
    services.version_activate(version=v1, user=admin_user, reason="first")
    between = timezone.now()
    services.version_activate(version=v2, user=admin_user, reason="second")
    services.ab_set(model=model, version=v1, percent=20, user=admin_user)

    def answer(value: str) -> str:
        response = admin_client.get(url, {"active_at": value})
        assert response.status_code == 200
        found = re.search(r'<p id="active-at-answer">(.*?)</p>', response.content.decode(), re.S)
        return found.group(1) if found else ""

    local = timezone.localtime(between).strftime("%Y-%m-%dT%H:%M:%S.%f")
    v1_url = reverse("admin:models_modelversion_change", args=[v1.pk])
    assert f'<a href="{v1_url}">credit v1</a> was active.' in answer(local)
    assert "credit v2</a> was active." in answer(timezone.now().isoformat())
    assert "no version was active." in answer((before - timedelta(days=6)).isoformat())
    assert answer("last tuesday") == ""

    page = admin_client.get(url, {"active_at": "last tuesday"}).content.decode()
    assert "Enter a date and time" in page
    page = admin_client.get(url).content.decode()
    assert 'id="active-at"' in page and 'name="active_at"' in page and 'id="active-at-answer"' not in page
    # The split and the serving version are shown, not editable.
    assert 'name="ab_percent"' not in page and 'name="ab_version"' not in page
    v1_link = f'<a href="{v1_url}">credit v1</a>'
    assert re.search(rf"field-ab_split.*?{re.escape(v1_link)} gets 20% of the requests", page, re.S)
    assert re.search(r"field-active_version_link.*?credit v2</a>", page, re.S)
    trail = page.split('id="lifecycle-trail"', 1)[1].split("</table>", 1)[0]
    assert "A/B split changed" in trail and "<td>Promote</td>" in trail and "second" in trail


def test_version_page_links_to_its_trace(admin_client, two):
    v1, _ = two
    page = admin_client.get(reverse("admin:models_modelversion_change", args=[v1.pk])).content.decode()
    assert f'href="/traceability/{v1.pk}/"' in page
    assert f"?version__id__exact={v1.pk}" in page
    events = admin_client.get(reverse("admin:models_versionevent_changelist"), {"version__id__exact": v1.pk})
    assert events.status_code == 200 and events.context["cl"].result_count == 1


# --------------------------------------------------------------------------- predictions


def test_prediction_logs_and_batch_predictions_are_read_only_with_filters(admin_client, admin_user, two):
    v1, v2 = two
    ext = services.model_create(name="ext", type="classification", algorithm="lightgbm", user=admin_user)
    uploaded = services.version_upload(model=ext, data=_lgb_text(), filename="m.txt", user=admin_user)
    batches = {}
    for i, version in enumerate((v1, v2, uploaded)):
        PredictionLogFactory(
            version=version,
            request_id=f"req-{i}",
            arm="active" if i else "b",
            inputs=[{"x": i}],
            scores=[0.25],
            latency_ms=1.5,
        )
        batches[version.pk] = BatchPredictionFactory(
            task__name="Score",
            task__created_by=admin_user,
            version=version,
            dataset_version=v1.dataset_version,
            file="predictions/s.csv",
            rows=10,
            size=99,
        )
    filters = [
        ({}, 3),
        ({"model__id__exact": v1.model_id}, 2),
        ({"model__id__exact": ext.pk}, 1),
        ({"version__id__exact": v1.pk}, 1),
        ({"arm": "b"}, 1),
        ({"q": "req-2"}, 1),
    ]
    logs = reverse("admin:models_predictionlog_changelist")
    for params, count in filters:
        response = admin_client.get(logs, params)
        assert response.status_code == 200 and response.context["cl"].result_count == count, params
    log = PredictionLog.objects.get(request_id="req-1")
    page = admin_client.get(reverse("admin:models_predictionlog_change", args=[log.pk])).content.decode()
    assert "&quot;x&quot;: 1" in page and 'name="request_id"' not in page

    listing = reverse("admin:models_batchprediction_changelist")
    for params, count in [
        ({}, 3),
        ({"version__model__id__exact": v1.model_id}, 2),
        ({"version__model__id__exact": ext.pk}, 1),
        ({"version__id__exact": v2.pk}, 1),
    ]:
        response = admin_client.get(listing, params)
        assert response.status_code == 200 and response.context["cl"].result_count == count, params
    batch = batches[v2.pk]
    assert f"/api/batch-predictions/{batch.pk}/download" in admin_client.get(listing).content.decode()
    assert (
        admin_client.get(reverse("admin:models_batchprediction_change", args=[batch.pk])).status_code == 200
    )

    for name, obj in (("predictionlog", log), ("batchprediction", batch), ("promotionrequest", None)):
        assert admin_client.get(reverse(f"admin:models_{name}_add")).status_code == 403
        if obj is not None:
            assert admin_client.get(reverse(f"admin:models_{name}_delete", args=[obj.pk])).status_code == 403


# --------------------------------------------------------------------------- who may act


def test_lifecycle_actions_need_the_change_permission(client, make_user, two):
    # A staff user who may only view the registry sees the lists, not the actions.
    v1, _ = two
    staff = make_user(Role.VIEWER)
    type(staff).objects.filter(pk=staff.pk).update(is_staff=True)  # save() derives it from the role
    client.force_login(staff)
    response = client.get(VERSIONS)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="promote"' not in page and 'value="rollback_to"' not in page
    response = _act(client, VERSIONS, "promote", [v1], reason="sneaky")
    assert _status(v1) == ["registered"]
    assert not VersionEvent.objects.filter(action="promote").exists()
    assert 'value="archive"' not in client.get(MODELS).content.decode()
