"""The dashboard gathers each domain's figures; the demo command belongs to the overview app."""

from __future__ import annotations

import pytest
from django.core.management import get_commands
from django.urls import resolve, reverse

from apps.overview import views
from apps.overview.selectors import dashboard_counts

pytestmark = pytest.mark.django_db


def test_dashboard_shows_counts_quality_alerts_and_recent_uploads(client, make_user, upload):
    from tests.sample_data import CREDIT_CSV

    # Two duplicate application ids: an error-level alert on the key column.
    upload(
        CREDIT_CSV + "A1,2024-01-07,30,北京,8000,0\n", "c.csv", name="credit", keyColumns=["application_id"]
    )
    client.force_login(make_user("viewer"))
    page = client.get("/").content.decode()
    assert 'id="counts"' in page and ">1</div>" in page
    assert "credit v1" in page and "application_id" in page
    assert "No data quality alerts." not in page


def test_the_dashboard_keeps_its_url_name_and_template(client, make_user):
    assert reverse("dashboard") == "/" and resolve("/").func is views.dashboard
    client.force_login(make_user("viewer"))
    response = client.get("/")
    assert response.status_code == 200
    assert response.templates[0].name == "overview/dashboard.html"


def test_the_dashboard_asks_for_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_dashboard_counts_come_from_the_datasets_and_features_domains(api, upload):
    from tests.sample_data import CREDIT_CSV

    dataset_id = upload(CREDIT_CSV, "credit.csv", name="credit").json()["data"]["dataset"]
    pending = upload(CREDIT_CSV + "A9,2024-01-09,41,上海,9000,0\n", "p.csv", name="pending", validate=False)
    assert pending.status_code == 201, pending.content
    assert dashboard_counts() == {"datasets": 2, "validating": 1, "features": 0, "feature_sets": 0}
    api.post(
        "/api/features/register",
        {
            "dataset": dataset_id,
            "columns": [{"column": "user_age"}, {"column": "income"}],
            "featureSet": {"name": "s"},
        },
        format="json",
    )
    assert dashboard_counts() == {"datasets": 2, "validating": 1, "features": 2, "feature_sets": 1}


def test_the_demo_command_is_the_overview_apps():
    assert get_commands()["demo"] == "apps.overview"
