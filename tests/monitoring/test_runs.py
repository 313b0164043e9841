"""Monitoring runs, outcomes, the API and the pages, on a version whose baseline is given."""

from __future__ import annotations

import json
import sys
import types
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from django.utils import timezone

from apps.core.config import config_invalidate
from apps.core.models import SystemConfig
from apps.models.models import Decision, ModelType, VersionStatus
from apps.monitoring import services
from apps.monitoring.columns import columns_from_dicts, columns_from_json
from apps.monitoring.figures import complete_periods
from apps.monitoring.models import MonitoringPeriod, Outcome, PeriodStatus, Vintage
from apps.users.models import Role
from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 10)
# (month, rows, shift of the score): March is short, April drifts.
MONTHS = [(date(2026, 1, 1), 400, 0.0), (date(2026, 2, 1), 400, 0.0), (date(2026, 3, 1), 30, 0.0),
          (date(2026, 4, 1), 400, 1.5), (date(2026, 5, 1), 100, 0.0)]  # fmt: skip


def _logit(x):
    return 1 / (1 + np.exp(-x))


@pytest.fixture
def version(db):
    v = ModelVersionFactory(model__type=ModelType.CLASSIFICATION, status=VersionStatus.ACTIVE)
    rng = np.random.default_rng(5)
    z = rng.normal(size=4_000)
    services.baseline_store(
        version=v,
        scores=_logit(z - 2),
        features={"income": z, "channel": np.array(["app", "web"] * 2_000, dtype=object)},
    )
    rows, n = [], 0
    for start, count, shift in MONTHS:
        zs = rng.normal(size=count) + shift
        for z_i in zs:
            at = timezone.make_aware(datetime.combine(start, datetime.min.time())) + timedelta(
                hours=int(rng.integers(0, 24 * 27))
            )
            rows.append(
                Decision(
                    model_id=v.model_id,
                    version_id=v.pk,
                    request_id=f"r{n}",
                    position=0,
                    entity_key=f"E{n}",
                    inputs={"income": float(z_i), "channel": "app" if n % 2 else "web"},
                    score=float(_logit(z_i - 2)),
                    created_at=at,
                )
            )
            n += 1
    Decision.objects.bulk_create(rows)
    return v


@pytest.fixture
def rules(monkeypatch):
    """A stand-in for the alert rules: records what monitoring hands them."""
    calls = []

    def rules_evaluate(*, version, periods):
        calls.append((version.pk, periods))

    try:
        import apps.alerts.services as real
    except ImportError:  # not written yet: a module of its own
        real = types.ModuleType("apps.alerts.services")
        monkeypatch.setitem(sys.modules, "apps.alerts.services", real)
    monkeypatch.setattr(real, "rules_evaluate", rules_evaluate, raising=False)
    return calls


def test_a_run_stores_complete_periods_once_and_hands_new_ones_to_the_rules(version, rules):
    first = services.monitoring_run(version=version, granularity="month", today=TODAY)
    assert first["created"] == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]  # not May
    assert first["insufficient"] == ["2026-03-01"] and first["alerts"] is True
    periods = {p.period_start.month: p for p in MonitoringPeriod.objects.filter(version=version)}
    assert periods[3].status == PeriodStatus.INSUFFICIENT and periods[3].rows == 30
    assert periods[1].figures["score_psi"] < 0.1 and periods[4].figures["score_psi"] > 0.5
    assert periods[4].figures["csi_max_feature"] == "income"
    # One call per new period: the periods up to it, oldest first, the last one new.
    assert len(rules) == 4
    last = rules[-1][1]
    assert [start for start, _f in last] == [date(2026, m, 1) for m in (1, 2, 3, 4)]
    assert set(last[-1][1]) == set(services.ALERT_METRICS) and last[2][1]["insufficient"] is True

    again = services.monitoring_run(version=version, granularity="month", today=TODAY)
    assert again["created"] == [] and again["alerts"] is False
    assert MonitoringPeriod.objects.filter(version=version).count() == 4 and len(rules) == 4


def test_the_min_rows_setting_decides_what_is_insufficient(version, rules):
    SystemConfig.objects.update_or_create(
        key="monitoring-min-rows", defaults={"value": 20, "value_type": "number"}
    )
    config_invalidate("monitoring-min-rows")
    result = services.monitoring_run(version=version, granularity="month", today=TODAY)
    assert result["insufficient"] == []


def test_outcomes_arriving_later_fill_realised_figures_and_vintages(version, rules, client_for, make_user):
    services.monitoring_run(version=version, granularity="month", today=TODAY)
    jan = MonitoringPeriod.objects.get(version=version, period_start=date(2026, 1, 1))
    assert jan.figures["auc"] is None and jan.figures["estimated_auc"] > 0.5
    keys = list(
        Decision.objects.filter(
            version_id=version.pk, created_at__lt=timezone.make_aware(datetime(2026, 2, 1))
        ).values_list("entity_key", "score")
    )
    rng = np.random.default_rng(2)
    payload = [
        {"entityKey": k, "outcome": int(rng.random() < s), "outcomeAt": "2026-03-15"} for k, s in keys
    ] + [{"entityKey": "nobody-1", "outcome": 1, "outcomeAt": "2026-03-15"}]
    api = client_for(make_user(Role.INTEGRATOR))
    response = api.post(
        "/api/monitoring/outcomes", {"model": version.model_id, "outcomes": payload}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()["data"]
    assert body["recorded"] == len(keys) and body["unknown"] == 1 and body["unknownKeys"] == ["nobody-1"]
    assert not Outcome.objects.filter(entity_key="nobody-1").exists()

    rerun = services.monitoring_run(version=version, granularity="month", today=TODAY)
    assert rerun["created"] == [] and "2026-01-01" in rerun["updated"]
    jan.refresh_from_db()
    assert jan.figures["labelled"] == len(keys) and 0.5 < jan.figures["auc"] <= 1
    assert MonitoringPeriod.objects.filter(version=version).count() == 4
    cohort = Vintage.objects.get(version=version, cohort=date(2026, 1, 1))
    assert cohort.size == len(keys) and cohort.age == 3
    # Outcomes dated in March are month 2 on book for January: month 1 shows none yet.
    assert cohort.points[0]["event_rate"] == 0 and cohort.points[1]["event_rate"] > 0


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"model": 0, "outcomes": []}, None),
        ({"model": "x", "outcomes": [{"entityKey": "E1", "outcome": 1, "outcomeAt": "2026-01-01"}]}, "model"),
        ({"outcomes": [{"entityKey": "E1", "outcome": 2, "outcomeAt": "2026-01-01"}]}, "0"),
        ({"outcomes": [{"entityKey": "", "outcome": 1, "outcomeAt": "2026-01-01"}]}, "0"),
        ({"outcomes": [{"entityKey": "E1", "outcome": 1, "outcomeAt": "yesterday"}]}, "0"),
        ({"outcomes": "E1"}, None),
    ],
)
def test_bad_outcomes_are_refused_in_the_error_format(version, api, payload, field):
    if "model" not in payload:
        payload = {"model": version.model_id, **payload}
    response = api.post("/api/monitoring/outcomes", payload, format="json")
    body = response.json()
    assert response.status_code in (400, 404), body
    assert body["success"] is False and body["code"] in ("validation_error", "not_found")
    if field is not None:
        assert field in body["errors"]
    assert Outcome.objects.count() == 0


def test_too_many_outcomes_are_refused(version, api):
    rows = [
        {"entityKey": f"E{i}", "outcome": 0, "outcomeAt": "2026-01-01"}
        for i in range(services.OUTCOMES_MAX + 1)
    ]
    response = api.post(
        "/api/monitoring/outcomes", {"model": version.model_id, "outcomes": rows}, format="json"
    )
    assert response.status_code == 400


def test_api_periods_vintages_and_run(version, api, rules):
    response = api.post(f"/api/monitoring/versions/{version.pk}/run", {"granularity": "week"}, format="json")
    assert response.status_code == 200, response.content
    assert len(response.json()["data"]["created"]) >= 15
    response = api.post(f"/api/monitoring/versions/{version.pk}/run", {}, format="json")
    months = complete_periods(date(2026, 1, 1), timezone.localdate(), "month")  # month: the setting
    assert response.status_code == 200 and len(response.json()["data"]["created"]) == len(months)

    body = api.get(f"/api/monitoring/versions/{version.pk}/periods?granularity=month").json()
    assert [p["periodStart"] for p in body["periods"]][:2] == ["2026-01-01", "2026-02-01"]
    april = body["periods"][3]
    assert april["metrics"]["scorePsi"] > 0.5 and april["csi"][0]["feature"] == "income"
    assert len(april["bands"]) >= 5 and "baselineShare" in april["bands"][0]
    assert (
        api.get(f"/api/monitoring/versions/{version.pk}/vintages").json()["vintages"][0]["cohort"]
        == "2026-01"
    )


def test_api_refuses_unknown_versions_and_granularities(version, api):
    assert api.get("/api/monitoring/versions/999999/periods").status_code == 404
    assert api.get("/api/monitoring/versions/999999/vintages").status_code == 404
    assert api.post("/api/monitoring/versions/999999/run", {}, format="json").status_code == 404
    bad = api.get(f"/api/monitoring/versions/{version.pk}/periods?granularity=day")
    assert bad.status_code == 400 and "granularity" in bad.json()["errors"]
    bad = api.post(f"/api/monitoring/versions/{version.pk}/run", {"granularity": "year"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"
    assert MonitoringPeriod.objects.count() == 0


def test_a_viewer_reads_but_does_not_run(version, client_for, make_user):
    viewer = client_for(make_user(Role.VIEWER))
    assert viewer.get(f"/api/monitoring/versions/{version.pk}/periods").status_code == 200
    assert viewer.post(f"/api/monitoring/versions/{version.pk}/run", {}, format="json").status_code == 403


def test_pages_list_versions_and_draw_the_charts(version, rules, client, make_user, password):
    services.monitoring_run(version=version, granularity="month", today=TODAY)
    user = make_user(Role.VIEWER)
    client.force_login(user)
    page = client.get("/monitoring/")
    assert page.status_code == 200
    assert f'href="/monitoring/versions/{version.pk}/"' in page.content.decode()
    page = client.get(f"/monitoring/versions/{version.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="monitoring-data"' in html and 'id="psi-chart"' in html and "monitoring.js" in html
    data = page.context["data"]
    assert len(data["periods"]) == 4 and data["psiThreshold"] == 0.25 and len(data["bands"]) >= 5
    assert 'data-status="insufficient"' in html
    assert client.get("/monitoring/versions/999999/").status_code == 404


def test_the_page_is_in_the_navigation_and_served_in_the_default_language(
    version, client, make_user, settings
):
    # Chinese texts come with the catalogue update (new msgids are listed in the report).
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(make_user(Role.VIEWER))
    html = client.get("/monitoring/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert 'href="/monitoring/"' in html.split("</nav>")[0]


def test_the_drifting_month_opens_an_alert_through_the_real_rules(version):
    from apps.alerts.models import Alert, AlertRule

    AlertRule.objects.create(
        name="score drift",
        model_id=version.model_id,
        metric="score_psi",
        comparison="gte",
        threshold=0.25,
        window=1,
    )
    services.monitoring_run(version=version, granularity="month", today=TODAY)
    opened = list(Alert.objects.filter(version=version))
    assert [a.period_start for a in opened] == [date(2026, 4, 1)]
    services.monitoring_run(version=version, granularity="month", today=TODAY)  # re-run: no second alert
    assert Alert.objects.filter(version=version).count() == 1


@pytest.mark.parametrize("parse", ["json", "dicts"])
def test_decision_inputs_become_columns_whatever_their_types(parse):
    kinds = {"n": "numeric", "c": "categorical", "absent": "numeric"}

    def columns(records):
        if parse == "json":
            return columns_from_json([json.dumps(r) for r in records], kinds)
        return columns_from_dicts(records, kinds)

    cols = columns([{"n": 1, "c": "x"}, {"n": None}, None])
    assert np.isnan(cols["n"][1:]).all() and cols["n"][0] == 1.0 and list(cols["c"]) == ["x", None, None]
    assert np.isnan(cols["absent"]).all() and len(cols["absent"]) == 3
    mixed = columns([{"n": "2.5", "c": 1}, {"n": 3, "c": "y"}])
    assert list(mixed["n"]) == [2.5, 3.0] and list(mixed["c"]) == [1, "y"]
    assert {k: len(v) for k, v in columns([]).items()} == {"n": 0, "c": 0, "absent": 0}


def test_each_day_over_is_sketched_once_and_a_period_adds_up_its_days(version, rules):
    from apps.monitoring.models import MonitoringDay

    services.monitoring_run(version=version, granularity="month", today=TODAY)
    first = timezone.localdate(
        Decision.objects.filter(version_id=version.pk).earliest("created_at").created_at
    )
    days = MonitoringDay.objects.filter(version=version)
    assert days.count() == (TODAY - first).days  # every day before today, empty ones too
    assert (
        sum(days.values_list("rows", flat=True))
        == Decision.objects.filter(
            version_id=version.pk,
            created_at__lt=timezone.make_aware(datetime.combine(TODAY, datetime.min.time())),
        ).count()
    )
    jan = MonitoringPeriod.objects.get(version=version, period_start=date(2026, 1, 1))
    # The log's January goes (retention); January is recomputed from its days' sketches alone.
    Decision.objects.filter(created_at__lt=timezone.make_aware(datetime(2026, 2, 1))).delete()
    figures = dict(jan.figures)
    jan.delete()
    again = services.monitoring_run(version=version, granularity="month", today=TODAY)
    assert again["created"] == ["2026-01-01"]
    rebuilt = MonitoringPeriod.objects.get(version=version, period_start=date(2026, 1, 1)).figures
    for key in ("rows", "score_psi", "csi", "csi_max", "bands", "estimated_event_rate", "estimated_auc"):
        assert rebuilt[key] == figures[key], key
    assert days.count() == (TODAY - first).days  # nothing sketched twice


def test_a_day_not_over_is_not_kept_and_a_new_baseline_drops_the_sketches(version, rules):
    from apps.monitoring.models import MonitoringDay

    now = timezone.now()
    Decision.objects.create(
        model_id=version.model_id, version_id=version.pk, request_id="today", position=0,
        entity_key="T1", inputs={"income": 0.1, "channel": "app"}, score=0.2, created_at=now,
    )  # fmt: skip
    services.monitoring_run(version=version, granularity="month", today=timezone.localdate(now))
    assert not MonitoringDay.objects.filter(version=version, day=timezone.localdate(now)).exists()
    assert MonitoringDay.objects.filter(version=version, day=date(2026, 1, 5)).exists()
    services.baseline_store(version=version, scores=_logit(np.linspace(-3, 3, 500)), features={})
    assert not MonitoringDay.objects.filter(version=version).exists()  # counted on the old bins
