"""Evaluation pages through the Django test client: the list with its create form, the
report, the comparison, who may do what; and the read-only admin."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from apps.evaluations import services
from apps.evaluations.models import Evaluation
from apps.tasks.models import Task
from apps.users.models import Role
from tests.evaluations.conftest import run, train

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst_client(client, make_user):
    client.force_login(make_user(Role.ANALYST))
    return client


def _form(version, data, **overrides) -> dict:
    return {
        "model_version": str(version.pk),
        "dataset": str(data.dataset_id),
        "dataset_version": "",
        "threshold": "",
        "bins": "10",
        **overrides,
    }


def test_analyst_evaluates_from_the_list_and_reads_the_report(analyst_client, trained, holdout):
    page = analyst_client.get("/evaluation/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="evaluation-form"' in html and "No evaluations match." in html
    assert f'<option value="{trained.pk}">credit v1 (registered, binary)</option>' in html

    tasks_before = Task.objects.count()  # the training's
    refused = analyst_client.post("/evaluation/", _form(trained, holdout, threshold="2"))
    assert refused.status_code == 400 and "Must be between 0 and 1" in refused.content.decode()
    assert not Evaluation.objects.exists() and Task.objects.count() == tasks_before

    response = analyst_client.post("/evaluation/", _form(trained, holdout, threshold="0.3"))
    ev = Evaluation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/evaluation/report/{ev.pk}/"
    assert ev.threshold == 0.3 and ev.options == {"bins": 10, "permutation_importance": False}

    pending = analyst_client.get(response["Location"]).content.decode()
    assert 'id="status">pending<' in pending and 'data-final="0"' in pending
    assert f'data-status-url="/api/tasks/{ev.task_id}/status"' in pending and "evaluation-data" not in pending

    ev = run(ev)
    report = analyst_client.get(f"/evaluation/report/{ev.pk}/").content.decode()
    for metric in ("ks", "gini", "psi", "auc"):
        block = re.search(rf'data-metric="{metric}" title="([^"]+)">.*?stat-value">([^<]+)<', report, re.S)
        assert block is not None, metric
        assert block.group(2) == f"{ev.metrics[metric]:.4f}"
    assert 'id="deciles"' in report and 'id="confusion"' in report and 'id="psi-table"' in report
    assert 'id="csi"' in report and 'id="importance"' in report and 'id="definitions"' in report
    assert f"/api/evaluation/{ev.pk}/export.html" in report and "table=deciles" in report
    data = json.loads(
        re.search(r'<script id="evaluation-data" type="application/json">(.*?)</script>', report, re.S).group(
            1
        )
    )
    assert data["metrics"]["ks"] == ev.metrics["ks"] and len(data["deciles"]) == 10 and data["rocCurve"]


def test_viewer_reads_but_cannot_create(client, make_user, admin_user, trained, holdout):
    ev = run(
        services.evaluation_create(
            user=admin_user,
            request={"model_version": trained.pk, "dataset": holdout.dataset_id},
            enqueue=False,
        )
    )
    client.force_login(make_user(Role.VIEWER))
    page = client.get("/evaluation/").content.decode()
    assert 'id="evaluation-form"' not in page and f'href="/evaluation/report/{ev.pk}/"' in page
    assert client.post("/evaluation/", _form(trained, holdout)).status_code == 403
    assert client.get(f"/evaluation/report/{ev.pk}/").status_code == 200
    assert not Evaluation.objects.exclude(pk=ev.pk).exists()


def test_list_filters_and_compare_page(analyst_client, admin_user, trained, holdout, credit_version):
    challenger = train(admin_user, credit_version.dataset_id, rounds=40, seed=3)
    a, b = (
        run(
            services.evaluation_create(
                user=admin_user, request={"model_version": v.pk, "dataset": holdout.dataset_id}, enqueue=False
            )
        )
        for v in (trained, challenger)
    )
    c = services.evaluation_create(
        user=admin_user,
        request={"model_version": trained.pk, "dataset": credit_version.dataset_id},
        enqueue=False,
    )
    rows = lambda html: re.findall(r'<tr data-id="(\d+)"', html)  # noqa: E731
    assert rows(analyst_client.get("/evaluation/").content.decode()) == [str(c.pk), str(b.pk), str(a.pk)]
    assert rows(analyst_client.get(f"/evaluation/?version={challenger.pk}").content.decode()) == [str(b.pk)]
    assert rows(analyst_client.get("/evaluation/?status=pending").content.decode()) == [str(c.pk)]
    assert rows(analyst_client.get(f"/evaluation/?dataset={holdout.dataset_id}").content.decode()) == [
        str(b.pk),
        str(a.pk),
    ]

    page = analyst_client.get(f"/evaluation/compare/?ids={a.pk}&ids={b.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Compare on holdout v1" in html and 'id="compare-roc"' in html
    auc_row = re.search(r'<tr data-metric="auc">(.*?)</tr>', html, re.S).group(1)
    assert f"{a.metrics['auc']:.4f}" in auc_row and f"{b.metrics['auc']:.4f}" in auc_row and "best" in auc_row
    refused = analyst_client.get(f"/evaluation/compare/?ids={a.pk}&ids={c.pk}", follow=True)
    assert f"#{c.pk} is pending" in refused.content.decode()


def test_admin_shows_evaluations_read_only(client, admin_user, trained, holdout):
    ev = run(
        services.evaluation_create(
            user=admin_user,
            request={"model_version": trained.pk, "dataset": holdout.dataset_id},
            enqueue=False,
        )
    )
    client.force_login(admin_user)
    changelist = client.get(reverse("admin:evaluations_evaluation_changelist"))
    assert changelist.status_code == 200
    html = changelist.content.decode()
    assert f"{ev.metrics['auc']:.4f}" in html and "holdout v1" in html
    assert (
        client.get(reverse("admin:evaluations_evaluation_changelist") + "?status=completed").status_code
        == 200
    )
    assert (
        client.get(reverse("admin:evaluations_evaluation_changelist") + "?status=failed")
        .content.decode()
        .count("holdout v1")
        == 0
    )
    change = client.get(reverse("admin:evaluations_evaluation_change", args=[ev.pk]))
    assert change.status_code == 200 and "analyst report page" in change.content.decode()
    assert 'name="_save"' not in change.content.decode()
    assert client.get(reverse("admin:evaluations_evaluation_add")).status_code == 403
    assert client.get(reverse("admin:evaluations_evaluation_delete", args=[ev.pk])).status_code == 403


def test_model_page_links_to_the_versions_evaluations(analyst_client, trained):
    page = analyst_client.get(f"/models/{trained.model_id}/").content.decode()
    assert f'href="/evaluation/?version={trained.pk}"' in page
    listing = analyst_client.get(f"/evaluation/?version={trained.pk}").content.decode()
    # The create form starts on that version.
    assert f'<option value="{trained.pk}" selected>' in listing
