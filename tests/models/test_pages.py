"""The registry's analyst pages through the Django test client: a model's serving state,
A/B split, review flags, audit trail, batch files and "active at"; metrics across versions
with the best marked; traceability back to the data and forward to predictions, with
reproduce; who may see and do what; bad input answered with a form error or a 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.models import services, serving
from apps.models.decisions import decisions_write
from apps.models.display import metric_table
from apps.models.models import BatchPrediction, ModelVersion
from apps.tasks import runner as task_runner
from apps.tasks.models import Task
from apps.users.models import Role
from tests.factories import BatchPredictionFactory
from tests.models.test_governance import _lgb_text, _train

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(make_user):
    return make_user(Role.ANALYST)


@pytest.fixture
def two(admin_user, credit_version) -> tuple[ModelVersion, ModelVersion]:
    """Two trained versions of model "credit" (v2 with more rounds, so other metrics)."""
    v1 = _train(admin_user, credit_version.dataset_id, rounds=5)
    v2 = _train(admin_user, credit_version.dataset_id, rounds=20)
    return v1, v2


def _text(response) -> str:
    """The page's HTML with the white space between tags removed."""
    return re.sub(r">\s+<", "><", response.content.decode())


def _section(page: str, element_id: str) -> str:
    """The HTML of the element with ``id`` up to the end of its section or table."""
    rest = page.split(f'id="{element_id}"', 1)[1]
    return re.split(r"</section>|</table>", rest, maxsplit=1)[0]


def _batch(version: ModelVersion, user) -> BatchPrediction:
    """A finished batch prediction row (its task and file as the prediction task leaves them)."""
    return BatchPredictionFactory(
        task__name=f"Score with {version}",
        task__created_by=user,
        version=version,
        dataset_version=version.dataset_version,
        file="predictions/scores.csv",
        rows=3000,
        size=42_000,
    )


# --------------------------------------------------------------------------- a model's page


def test_model_page_shows_serving_split_review_trail_requests_and_batches(client, admin_user, two):
    v1, v2 = two
    model = v1.model
    services.version_activate(version=v1, user=admin_user, reason="first release")
    services.version_activate(version=v2, user=admin_user, reason="beats v1 on the holdout")
    services.ab_set(model=model, version=v1, percent=30, user=admin_user, reason="shadow the old one")
    services.version_flag(version=v1, reason="PSI 0.31 on application_amount")
    filed = services.promotion_request(version=v1, user=admin_user, reason="v1 is steadier")
    batch = _batch(v2, admin_user)
    # The per-version counters as the predict path keeps them.
    serving._count(model.pk, v2.pk, 7)
    serving._count(model.pk, v1.pk, 3)

    client.force_login(admin_user)
    page = _text(client.get(f"/models/{model.pk}/"))

    assert f'Active version: <a href="/traceability/{v2.pk}/">v2</a>' in page
    ab = _section(page, "ab")
    assert re.search(r'data-arm="active"><td>active</td><td><a [^>]+>v2</a></td><td>70%</td><td>7</td>', ab)
    assert re.search(r'data-arm="B"><td>B</td><td><a [^>]+>v1</a></td><td>30%</td><td>3</td>', ab)
    assert "v1</a>: PSI 0.31 on application_amount" in _section(page, "review")
    pending = _section(page, "pending")
    assert "v1 is steadier" in pending and admin_user.username in pending and filed.status == "pending"

    # Newest first: the A/B change, then the request, the flag, v2's promotion...
    events = _section(page, "events")
    actions = re.findall(r'data-action="(\w+)"', events)
    assert actions == ["request", "flag", "ab", "promote", "promote", "register", "register"]
    promote_v2 = events.split('data-action="promote"', 1)[1].split("</tr>", 1)[0]
    assert "<td>v2</td><td>Promote</td><td>registered</td><td>active</td><td>v1</td>" in promote_v2
    assert f"<td>{admin_user.username}</td><td>beats v1 on the holdout</td>" in promote_v2
    ab_event = events.split('data-action="ab"', 1)[1].split("</tr>", 1)[0]
    assert "abPercent <code>30</code>" in ab_event and "abVersion <code>1</code>" in ab_event

    versions = _section(page, "versions")
    assert f'<a href="/traceability/{v1.pk}/">Trace</a>' in versions
    assert f'<a href="/traceability/{v2.pk}/">Trace</a>' in versions
    assert "<td>7</td>" in versions.split('data-version="2">', 1)[1].split("</tr>", 1)[0]
    assert 'v1</a><span class="badge pending"' in versions  # the review badge

    batches = _section(page, "batches")
    assert f'href="/api/batch-predictions/{batch.pk}/download"' in batches
    assert "credit v1</td><td>3000</td>" in batches and f'href="/tasks/{batch.task_id}/"' in batches
    assert f'href="/admin/models/model/{model.pk}/change/"' in page  # an admin manages it there


def test_model_page_for_an_analyst_has_no_admin_link_and_no_split(client, analyst, two):
    v1, _ = two
    client.force_login(analyst)
    page = _text(client.get(f"/models/{v1.model_id}/"))
    assert "Manage in the admin" not in page
    assert 'id="ab"' not in page
    assert 'Active version: <span class="muted">none</span>' in page
    assert "No batch predictions yet." in page


def test_active_at_answers_from_the_trail(client, admin_user, two):
    v1, v2 = two
    model = v1.model
    client.force_login(admin_user)
    before = timezone.now()
    services.version_activate(version=v1, user=admin_user, reason="first")
    between = timezone.now()
    services.version_activate(version=v2, user=admin_user, reason="second")
    after = timezone.now()

    def ask(value: str) -> str:
        response = client.get(f"/models/{model.pk}/", {"active_at": value})
        assert response.status_code == 200, value
        return _section(_text(response), "active-at-answer")

    # An ISO time with its offset, and the browser's local date-time (platform time zone).
    assert f'<a href="/traceability/{v1.pk}/">v1</a> was active.' in ask(between.isoformat())
    local = timezone.localtime(after).strftime("%Y-%m-%dT%H:%M:%S.%f")
    assert f'<a href="/traceability/{v2.pk}/">v2</a> was active.' in ask(local)
    assert "no version was active." in ask(before.isoformat())
    assert "no version was active." in ask((before - timedelta(days=7)).strftime("%Y-%m-%d %H:%M"))


@pytest.mark.parametrize("value", ["last tuesday", "2026-13-45T25:00", "", "2" * 100])
def test_a_bad_active_at_is_a_form_error(client, admin_user, two, value):
    client.force_login(admin_user)
    response = client.get(f"/models/{two[0].model_id}/", {"active_at": value})
    assert response.status_code == 400
    page = _text(response)
    assert 'class="error" role="alert"' in page and 'id="active-at-answer"' not in page


# --------------------------------------------------------------------------- metrics across versions


def test_versions_page_puts_metrics_side_by_side_and_marks_the_best(client, analyst, two):
    v1, v2 = two
    client.force_login(analyst)
    response = client.get(f"/models/{v1.model_id}/versions/")
    assert response.status_code == 200
    table = _section(_text(response), "version-metrics")
    headers = re.findall(r'data-metric="([^"]+)"', table)
    assert headers[:3] == ["auc", "ks", "accuracy"] and "logloss" in headers
    assert "logloss ↓" in table and "auc ↓" not in table

    rows = {int(n): row for n, row in re.findall(r'data-version="(\d+)">(.*?)</tr>', table)}
    assert f'<a href="/traceability/{v1.pk}/">v1</a>' in rows[1]
    assert f'<a href="/traceability/{v2.pk}/">v2</a>' in rows[2]
    assert "<td>Trained</td>" in rows[1]
    # The metric cells follow five fixed columns: (class attribute, content) each.
    cells = {n: re.findall(r"<td( class=\"best\")?>(.*?)</td>", row)[5:] for n, row in rows.items()}
    for name, pick in (("auc", max), ("logloss", min)):
        winner = pick((v1, v2), key=lambda v: v.metrics[name])
        i = headers.index(name)
        for version in (v1, v2):
            marked, content = cells[version.version][i]
            assert re.sub(r"</?strong>", "", content) == f"{version.metrics[name]:.4f}"
            assert bool(marked) is (version == winner), (name, version)
            assert ("<strong>" in content) is (version == winner)


def test_metric_table_best_values_ties_gaps_and_directions():
    versions = [
        ModelVersion(version=3, metrics={"auc": 0.7, "valid_binary_logloss": 0.5, "note": "x", "rmse": 2.0}),
        ModelVersion(version=2, metrics={"auc": 0.8, "valid_binary_logloss": 0.4, "rmse": float("nan")}),
        ModelVersion(version=1, metrics={"auc": 0.8, "flag": True}),
    ]
    table = metric_table(versions)
    assert table["columns"] == [("auc", False), ("rmse", True), ("valid_binary_logloss", True)]
    cells = {v.version: c for v, c in table["rows"]}
    assert cells[3] == [(0.7, False), (2.0, True), (0.5, False)]
    assert cells[2] == [(0.8, True), (None, False), (0.4, True)]  # NaN is no value
    assert cells[1] == [(0.8, True), (None, False), (None, False)]  # a tie: both best
    assert metric_table([]) == {"columns": [], "rows": []}


# --------------------------------------------------------------------------- traceability


def test_traceability_picks_a_model_then_a_version(client, analyst, two):
    v1, v2 = two
    client.force_login(analyst)
    response = client.get("/traceability/")
    page = _text(response)
    assert response.status_code == 200 and 'id="trace-pick"' in page
    assert 'href="/traceability/" class="active" aria-current="page">Traceability<' in page

    listed = _section(_text(client.get("/traceability/", {"model": v1.model_id})), "listed")
    assert f'<a href="/traceability/{v2.pk}/">v2</a>' in listed
    assert f'<a href="/traceability/{v1.pk}/">v1</a>' in listed and "credit v1" in listed

    response = client.get("/traceability/", {"model": v1.model_id, "version": 2})
    assert response.status_code == 302 and response["Location"] == f"/traceability/{v2.pk}/"
    response = client.get("/traceability/", {"version_id": v1.pk})
    assert response.status_code == 302 and response["Location"] == f"/traceability/{v1.pk}/"


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"version_id": "999999"}, "No model version has id 999999."),
        ({"model": "MODEL", "version": "9"}, "credit has no version 9."),
        ({"version": "1"}, "Choose the model of version 1."),
        ({"version_id": "abc"}, "Enter a whole number."),
        ({"version_id": str(10**30)}, "less than or equal to"),
        ({"model": "999999"}, "Select a valid choice."),
        ({"model": ""}, "Choose a model, or give a version id."),
    ],
)
def test_traceability_bad_picks_are_form_errors(client, analyst, two, params, needle):
    client.force_login(analyst)
    params = {k: str(two[0].model_id) if v == "MODEL" else v for k, v in params.items()}
    response = client.get("/traceability/", params)
    assert response.status_code == 400
    assert needle in _text(response)


def test_trace_page_walks_back_to_the_data_and_forward_to_predictions(
    client, analyst, admin_user, two, credit_version
):
    v1, _ = two
    batch = _batch(v1, admin_user)
    decisions_write(
        [
            {
                "model_id": v1.model_id,
                "version_id": v1.pk,
                "request_id": "r-1",
                "position": i,
                "inputs": {},
                "created_at": timezone.now(),
            }
            for i in range(2)
        ]
    )
    client.force_login(analyst)
    response = client.get(f"/traceability/{v1.pk}/")
    assert response.status_code == 200
    page = _text(response)
    back = _section(page, "back")
    assert f'<a href="/tasks/{v1.task_id}/">#{v1.task_id} Train credit</a>' in back
    assert f'href="/datasets/{credit_version.dataset_id}/?version=1">credit v1</a>' in back
    assert f'<code class="sha256">{credit_version.sha256}</code>' in back
    assert "none (columns chosen directly)" in back
    assert re.search(r'data-row="seed"><th>Seed</th><td>42</td>', back)
    assert "lightgbm <code>" in back and admin_user.username in back
    assert "<th>num_boost_round</th><td>5</td>" in page
    assert f"<code>{v1.checksum}</code>" in back

    forward = page.split('id="forward"', 1)[1]
    assert f'href="/api/batch-predictions/{batch.pk}/download"' in forward
    assert "Decisions on record made by this version: 2." in forward
    assert "Not reproduced yet." in forward and "No evaluations of this version." in forward
    assert 'id="reproduce-form"' in forward and "csrfmiddlewaretoken" in forward
    assert 'data-action="register"' in _section(page, "trace-events")


@pytest.mark.parametrize("version_id", ["999999", str(10**20)])
def test_an_unknown_version_is_a_404(client, analyst, two, version_id):
    client.force_login(analyst)
    assert client.get(f"/traceability/{version_id}/").status_code == 404
    assert client.post(f"/traceability/{version_id}/reproduce/").status_code == 404


def test_reproduce_from_the_trace_page(client, analyst, two, django_capture_on_commit_callbacks):
    v1, _ = two
    client.force_login(analyst)
    assert client.get(f"/traceability/{v1.pk}/reproduce/").status_code == 405
    with django_capture_on_commit_callbacks(execute=False) as sends:
        response = client.post(f"/traceability/{v1.pk}/reproduce/")
    task = Task.objects.get(parameters__reproduce_of=v1.pk)
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}/"
    assert len(sends) == 1 and task.created_by == analyst and task.name == "Reproduce credit v1"

    assert task_runner.task_execute(task_id=task.pk, worker="w:1") == "completed"
    page = _text(client.get(f"/tasks/{task.pk}/"))
    assert "Reproduced credit v1: metrics match, artifact identical." in page  # the task's log
    rows = _section(_text(client.get(f"/traceability/{v1.pk}/")), "reproductions")
    assert f'<a href="/tasks/{task.pk}/">#{task.pk}</a>' in rows
    assert '<span class="ok">match</span>' in rows and '<span class="ok">identical</span>' in rows
    assert ModelVersion.objects.filter(model=v1.model).count() == 2  # nothing new registered


def test_an_uploaded_version_cannot_be_reproduced(client, admin_user, analyst):
    model = services.model_create(name="ext", type="classification", algorithm="lightgbm", user=admin_user)
    version = services.version_upload(model=model, data=_lgb_text(), filename="m.txt", user=admin_user)
    client.force_login(analyst)
    page = _text(client.get(f"/traceability/{version.pk}/"))
    assert 'id="reproduce-form"' not in page and "An uploaded version has no training to re-run." in page
    assert "none: the model file was uploaded (m.txt)" in page
    response = client.post(f"/traceability/{version.pk}/reproduce/", follow=True)
    assert response.redirect_chain[-1][0] == f"/traceability/{version.pk}/"
    assert "was uploaded; there is no training to re-run." in _text(response)
    assert not Task.objects.exists()


# --------------------------------------------------------------------------- who may do what


def test_viewers_read_the_trace_but_cannot_reproduce(client, make_user, two):
    v1, _ = two
    client.force_login(make_user(Role.VIEWER))
    page = _text(client.get(f"/traceability/{v1.pk}/"))
    assert 'id="reproduce-form"' not in page and "credit" in page
    assert client.post(f"/traceability/{v1.pk}/reproduce/").status_code == 403
    assert client.get(f"/models/{v1.model_id}/versions/").status_code == 200
    assert not Task.objects.filter(parameters__reproduce_of=v1.pk).exists()


def test_pages_need_a_login_and_the_view_permission(client, make_user, two):
    v1, _ = two
    urls = [
        f"/models/{v1.model_id}/",
        f"/models/{v1.model_id}/versions/",
        "/traceability/",
        f"/traceability/{v1.pk}/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    response = client.post(f"/traceability/{v1.pk}/reproduce/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")

    nobody = make_user(Role.VIEWER)
    client.force_login(nobody)
    nobody.groups.clear()  # after the login, which re-syncs the role group: no permission at all
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_reproduce_needs_the_csrf_token(analyst, two):
    v1, _ = two
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(analyst)
    assert strict.post(f"/traceability/{v1.pk}/reproduce/").status_code == 403
    assert not Task.objects.filter(parameters__reproduce_of=v1.pk).exists()
