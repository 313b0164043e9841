"""Registry test isolation."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_loaded_versions():
    """Each test starts with no model loaded in this process: with SQLite a rolled-back
    test's version ids are given again, and a version is loaded once per id."""
    from apps.models import serving

    serving._loaded.clear()
    yield
    serving._loaded.clear()
