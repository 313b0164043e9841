"""The demo loads the seed features; the analyst pages and admin work."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.features.models import Feature, FeatureSet
from apps.users.models import Role

pytestmark = pytest.mark.django_db


def test_demo_registers_the_seed_features_with_statistics_and_a_set(demo):
    for name in ("user_age", "transaction_amount", "credit_score"):
        feature = Feature.objects.get(name=name)
        assert feature.tags.filter(name="seed").exists() and feature.description
        stats = feature.current_version().statistics
        assert stats["count"] > 0 and stats["iv"]["iv"] > 0
    credit_score = Feature.objects.get(name="credit_score").current_version().statistics["iv"]["iv"]
    assert credit_score > 0.1  # the generator makes credit_score genuinely predictive
    feature_set = FeatureSet.objects.get(name="demo-credit-features")
    assert feature_set.items.count() == Feature.objects.count()
    call_command("demo")  # a second run changes nothing
    assert FeatureSet.objects.count() == 1 and Feature.objects.get(name="user_age").version == 1


def test_feature_pages(demo, client, make_user):
    client.force_login(make_user(Role.ANALYST))
    page = client.get("/features/", {"tag": "seed"}).content.decode()
    assert "user_age" in page and "credit_score" in page and "monthly_income" not in page
    feature = Feature.objects.get(name="credit_score")
    detail = client.get(f"/features/{feature.pk}/").content.decode()
    assert "iv-bins" in detail and "demo-credit-features" in detail
    proposals = client.get(
        "/features/register/", {"dataset": feature.current_version().dataset_version.dataset_id}
    )
    assert proposals.status_code == 200 and b"proposals" in proposals.content


def test_register_page_posts_and_viewers_cannot(demo, client, make_user):
    dataset_id = Feature.objects.get(name="user_age").current_version().dataset_version.dataset_id
    client.force_login(make_user(Role.VIEWER))
    assert client.get("/features/register/", {"dataset": dataset_id}).status_code == 403
    client.force_login(make_user(Role.ANALYST))
    response = client.post(
        "/features/register/",
        {
            "dataset": dataset_id,
            "column": ["user_age"],
            "name-user_age": "age_years",
            "tags": "mine",
            "feature_set": "",
        },
    )
    assert response.status_code == 302
    assert Feature.objects.get(name="age_years").tags.filter(name="mine").exists()


def test_admin_feature_pages_and_dataset_action(demo, client, admin_user):
    client.force_login(admin_user)
    feature = Feature.objects.get(name="user_age")
    for url in [
        "/admin/features/feature/",
        f"/admin/features/feature/{feature.pk}/change/",
        "/admin/features/featureset/",
        "/admin/features/tag/",
    ]:
        assert client.get(url).status_code == 200, url
    from apps.datasets.models import Dataset

    dataset = Dataset.objects.get(name="demo-credit")
    client.post("/admin/datasets/dataset/", {"action": "register_features", "_selected_action": [dataset.pk]})
    assert Feature.objects.get(name="user_age").version == 2
