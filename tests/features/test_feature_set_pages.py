"""Feature-set pages: the list (search, dataset filter, pages) linked from the features
list, and a set's page with its features in order, its versions and the model versions
trained on it."""

from __future__ import annotations

import pytest

from apps.features.models import FeatureSet
from apps.users.models import Role
from tests.factories import ModelVersionFactory
from tests.sample_data import CREDIT_CSV

pytestmark = pytest.mark.django_db


@pytest.fixture
def feature_sets(api, upload):
    """Set "risk" v1 (user_age, income, city) from a registration, its v2 (income only), and
    "other" v1 (city)."""
    dataset_id = upload(CREDIT_CSV, "credit.csv", name="credit", labelColumn="is_bad").json()["data"][
        "dataset"
    ]
    body = api.post(
        "/api/features/register",
        {
            "dataset": dataset_id,
            "columns": [{"column": "user_age"}, {"column": "income"}, {"column": "city"}],
            "featureSet": {"name": "risk", "description": "age and income for the scorecard"},
        },
        format="json",
    ).json()["data"]
    ids = {f["name"]: f["id"] for f in body["features"]}
    risk = FeatureSet.objects.get(name="risk")
    v2 = api.post(f"/api/feature-sets/{risk.pk}/new-version", {"features": [ids["income"]]}, format="json")
    assert v2.status_code == 201, v2.content
    other = api.post(
        "/api/feature-sets",
        {"name": "other", "dataset": dataset_id, "features": [ids["city"]]},
        format="json",
    )
    assert other.status_code == 201, other.content
    return FeatureSet.objects.order_by("name", "version")


def test_feature_set_list_is_linked_from_the_features_list(client, make_user, feature_sets):
    client.force_login(make_user(Role.VIEWER))
    assert 'href="/features/sets/"' in client.get("/features/").content.decode()
    page = client.get("/features/sets/").content.decode()
    for fs in feature_sets:
        assert f'href="/features/sets/{fs.pk}/"' in page
    assert "3 feature sets" in page


def test_feature_set_list_searches_and_filters(client, make_user, feature_sets):
    client.force_login(make_user(Role.VIEWER))
    found = client.get("/features/sets/", {"q": "scorecard"})
    assert [s.name for s in found.context["page"]] == ["risk", "risk"]
    assert client.get("/features/sets/", {"q": "nothing-like-this"}).context["page"].paginator.count == 0
    dataset_id = feature_sets[0].dataset_version.dataset_id
    assert client.get("/features/sets/", {"dataset": dataset_id}).context["page"].paginator.count == 3
    assert client.get("/features/sets/", {"dataset": dataset_id + 1}).context["page"].paginator.count == 0
    # Junk in the query string is ignored, never an error.
    for junk in ({"dataset": "abc"}, {"dataset": "9" * 40}, {"page": "-3"}, {"q": "x" * 5000}):
        assert client.get("/features/sets/", junk).status_code == 200


def test_feature_set_page_shows_features_in_order_versions_and_users(client, make_user, feature_sets):
    risk_v1 = FeatureSet.objects.get(name="risk", version=1)
    risk_v2 = FeatureSet.objects.get(name="risk", version=2)
    client.force_login(make_user(Role.ANALYST))
    response = client.get(f"/features/sets/{risk_v1.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        page.index('data-feature="user_age"')
        < page.index('data-feature="income"')
        < page.index('data-feature="city"')
    )
    assert "age and income for the scorecard" in page and "<code>is_bad</code>" in page
    assert f'href="/features/sets/{risk_v2.pk}/"' in page
    assert "No model version was trained on this set yet." in page
    used = ModelVersionFactory(feature_set=risk_v1, model__name="scorecard", version=3)
    page = client.get(f"/features/sets/{risk_v1.pk}/").content.decode()
    assert f'href="/models/{used.model_id}/#v3"' in page and "scorecard v3" in page
    assert "1 model version" in client.get("/features/sets/").content.decode()
    v2_page = client.get(f"/features/sets/{risk_v2.pk}/").content.decode()
    assert 'data-feature="income"' in v2_page and 'data-feature="user_age"' not in v2_page
    assert client.get("/features/sets/999999/").status_code == 404


def test_feature_pages_ask_for_a_login(client, feature_sets):
    assert client.get("/features/sets/").status_code == 302
    assert client.get(f"/features/sets/{feature_sets[0].pk}/").status_code == 302


def test_feature_set_pages_render_in_chinese(client, make_user, feature_sets):
    client.cookies["omm_language"] = "zh-hans"
    client.force_login(make_user(Role.VIEWER))
    page = client.get("/features/sets/").content.decode()
    assert "特征集" in page and "Feature sets" not in page
    detail = client.get(f"/features/sets/{feature_sets[0].pk}/").content.decode()
    assert "特征集" in detail and "Versions of this set" not in detail
