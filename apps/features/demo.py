"""Demo features: every column of the demo credit dataset, described, in one feature set."""

from __future__ import annotations

from django.utils.translation import gettext

from apps.datasets.demo import CREDIT
from apps.datasets.demo_data import credit_feature_descriptions
from apps.datasets.models import Dataset
from apps.datasets.selectors import dataset_version

from . import services
from .models import Feature

SET_NAME = "demo-credit-features"
# The design documents' own examples, tagged so they are easy to find.
SEED_FEATURES = {"user_age", "transaction_amount", "credit_score"}


def load_demo_features(*, user, write=print) -> None:
    if Feature.objects.filter(name__in=SEED_FEATURES).exists():
        return
    dataset = Dataset.objects.filter(name=CREDIT[0]).first()
    version = dataset_version(dataset, None) if dataset else None
    if version is None:
        return
    descriptions = credit_feature_descriptions()
    proposals = services.features_propose(dataset_version=version)
    columns = [
        {
            "column": p["column"],
            "display_name": descriptions.get(p["column"], "").split(" / ")[0] or p["column"],
            "description": descriptions.get(p["column"], ""),
            "tags": ["seed"] if p["column"] in SEED_FEATURES else [],
        }
        for p in proposals
        if p["column"] != "application_id"
    ]
    features, feature_set = services.features_register(
        dataset_version=version,
        columns=columns,
        user=user,
        tags=["credit", "demo"],
        feature_set_name=SET_NAME,
        feature_set_description="All demo credit features, drawn from demo-credit.",
        proposals=proposals,
    )
    write(
        gettext("  %(count)s features registered, feature set %(set)s")
        % {"count": len(features), "set": feature_set}
    )
