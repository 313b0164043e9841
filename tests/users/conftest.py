"""Fixtures borrowed for the access tests: a promoted credit model and a promoted QA model."""

from tests.models.test_serving import active, frame, two_versions  # noqa: F401 - fixtures
from tests.qa.conftest import build, qa_version  # noqa: F401 - fixtures
