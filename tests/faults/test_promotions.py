"""Fifty promotions of versions of one model at the same moment, over HTTP to gunicorn.

Each version is promoted by several admins at once. Promotions serialise on the model row:
whoever finds the version already active is refused with 409, never a 500; at the end
exactly one version is active and the model's trail holds one consistent event per success.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from apps.models.models import EventAction, ModelVersion, VersionEvent, VersionStatus
from tests.faults.conftest import token_for

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

PROMOTIONS = 50
VERSIONS = 5  # ten promotions of each, interleaved


def test_fifty_concurrent_promotions_leave_one_active_and_losers_get_409(
    omm_server, admin_user, credit_version, figures
):
    from tests.models.test_serving import _train

    versions = [_train(admin_user, credit_version.dataset_id, seed=i, rounds=5) for i in range(VERSIONS)]
    model_id = versions[0].model_id
    token = token_for(admin_user)
    start = threading.Barrier(PROMOTIONS)
    statuses: list[int] = [0] * PROMOTIONS

    def promote(i: int) -> None:
        version = versions[i % VERSIONS]
        start.wait()
        try:
            statuses[i] = omm_server.call(
                "POST", f"/api/model-versions/{version.pk}/promote", {"reason": f"race {i}"}, token
            )[0]
        except OSError:
            statuses[i] = 0

    threads = [threading.Thread(target=promote, args=(i,)) for i in range(PROMOTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    counts = Counter(statuses)
    active = list(ModelVersion.objects.filter(model_id=model_id, status=VersionStatus.ACTIVE))
    events = list(VersionEvent.objects.filter(model_id=model_id, action=EventAction.PROMOTE))
    figures(
        "promotions",
        f"{PROMOTIONS} concurrent promotions of {VERSIONS} versions: "
        + ", ".join(f"{code} x{n}" for code, n in sorted(counts.items()))
        + f"; active at the end {len(active)}; promote events in the trail {len(events)}",
    )
    assert set(counts) <= {200, 409}, counts
    assert counts[409] >= 1  # the same version was promoted twice in a row somewhere
    assert len(active) == 1
    # One event per success, each naming a real change.
    assert len(events) == counts[200]
    for event in events:
        assert event.from_status != VersionStatus.ACTIVE and event.previous_active_id != event.version_id
    # Replaying the trail ends on the version that is active.
    last = max(events, key=lambda e: (e.created_at, e.pk))
    assert last.version_id == active[0].pk
