"""Fixtures for the work-queue tests: a small validated credit dataset."""

from __future__ import annotations

import pytest

from apps.datasets.demo_data import credit_frame


@pytest.fixture
def credit_csv() -> str:
    return credit_frame(3000, seed=11).to_csv(index=False)


@pytest.fixture
def credit_version(upload, credit_csv):
    """A validated tabular dataset version (label is_bad, time application_date)."""
    from apps.datasets.models import DatasetVersion

    response = upload(
        credit_csv,
        "credit.csv",
        name="credit",
        kind="tabular",
        labelColumn="is_bad",
        timeColumn="application_date",
        keyColumns=["application_id"],
    )
    assert response.status_code == 201, response.content
    version = DatasetVersion.objects.get(pk=response.json()["data"]["id"])
    assert version.status == "validated", version.error_message
    return version
