"""Cards fitted once per session on the seeded synthetic credit data (train/holdout split)."""

from __future__ import annotations

import pytest

from apps.models.training import scorecard as S
from tests.models.scorecard.synthetic import SPECIAL, credit_data


@pytest.fixture(scope="session")
def data():
    X, y, names, levels = credit_data()
    cut = int(len(y) * 0.7)
    return {"X": X[:cut], "y": y[:cut], "Xh": X[cut:], "yh": y[cut:], "names": names, "levels": levels}


@pytest.fixture(scope="session")
def card(data):
    """The default card (whole points) with -999 as a special value."""
    return S.fit_scorecard(data["X"], data["y"], data["names"], data["levels"], {"special_values": [SPECIAL]})


@pytest.fixture(scope="session")
def exact_card(data):
    """The same card without rounding: points are the regression's exact values."""
    params = {"special_values": [SPECIAL], "rounding": None}
    return S.fit_scorecard(data["X"], data["y"], data["names"], data["levels"], params)
