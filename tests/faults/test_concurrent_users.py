"""Fifty users at once on the main API, over HTTP to gunicorn with 2 workers (as ``./ommctl up``).

Each user is a thread with its own analyst account, sending back-to-back requests: list and
detail reads of models, versions, tasks and datasets, single-record predictions and QA
questions. No answer may be a 5xx, and fewer than 0.1 % may fail at all.
"""

from __future__ import annotations

import random

import pytest

from apps.users.models import Role
from tests.faults.conftest import Request, on_postgres, run_load, token_for
from tests.qa.conftest import build  # noqa: F401 - the QA build fixture, used below

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

USERS = 50
# The issue asks for 5 minutes; a bounded run keeps the suite inside CI's budget. PostgreSQL
# is the production shape, so it gets a minute; the embedded default (SQLite, one writer at a
# time, on one analyst's machine) only has to show the same mix holds, in 20 s.
SECONDS = 60 if on_postgres() else 20
MAX_ERROR_SHARE = 0.001
QUESTIONS = 200


def test_fifty_users_on_the_main_api_get_no_server_error(
    omm_server,
    scoring,
    make_user,
    credit_version,
    bank_version,
    bank_frame,
    build,  # noqa: F811 - the fixture imported above
    figures,
):
    build(bank_version)
    tokens = [token_for(make_user(Role.ANALYST, username=f"user{k}")) for k in range(USERS)]
    # Names of the records, not the few lines broken on purpose (an empty name is a 400).
    names = [name for name in bank_frame.iloc[:, 0].tolist() if isinstance(name, str) and name][:QUESTIONS]
    reads = [
        Request("list", "GET", "/api/models"),
        Request("list", "GET", "/api/model-versions?pageSize=50"),
        Request("list", "GET", "/api/tasks"),
        Request("list", "GET", "/api/datasets"),
        Request("detail", "GET", f"/api/models/{scoring.model_id}"),
        Request("detail", "GET", f"/api/model-versions/{scoring.version_id}"),
        Request("detail", "GET", f"/api/datasets/{credit_version.dataset_id}"),
    ]

    def pick(rng: random.Random) -> Request:
        roll = rng.random()
        if roll < 0.4:
            return scoring.predict(rng)
        if roll < 0.6:
            return Request("ask", "POST", "/api/qa/ask", {"question": names[rng.randrange(len(names))]})
        return reads[rng.randrange(len(reads))]

    result = run_load(omm_server, users=USERS, seconds=SECONDS, pick=pick, tokens=tokens)
    by_kind = {
        kind: sum(1 for r in result.replies if r.kind == kind)
        for kind in ("predict", "ask", "list", "detail")
    }
    failed = result.failed()
    figures(
        "concurrent-users",
        f"{USERS} users for {SECONDS} s: {result.summary()}; "
        + ", ".join(f"{kind} {n}" for kind, n in by_kind.items())
        + f"; failed {len(failed)} ({len(failed) / len(result.replies):.3%})",
    )
    assert all(by_kind.values()), by_kind
    assert result.server_errors() == [], result.server_errors()[:5]
    assert len(failed) / len(result.replies) < MAX_ERROR_SHARE, failed[:5]
