"""The decision log on PostgreSQL: a table partitioned by month, written by COPY, with the
coming months created ahead and months past retention dropped whole."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.config import config_invalidate
from apps.core.models import SystemConfig
from apps.models import decisions
from apps.models.models import Decision

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's"),
]


def _month(moment: datetime) -> date:
    local = timezone.localtime(moment)
    return date(local.year, local.month, 1)


def _row(when: datetime, key: str) -> dict:
    return {
        "created_at": when,
        "model_id": 1,
        "version_id": 1,
        "request_id": f"req-{key}",
        "entity_key": key,
        "inputs": {"income": 1.5, "城市": "上海"},
        "score": 0.25,
        "reasons": [{"feature": "income", "code": "R1"}],
    }


def test_the_table_is_partitioned_by_month_with_a_default():
    assert decisions.is_partitioned()
    parts = decisions.partitions()
    assert (
        f"{Decision._meta.db_table}_default" in parts and parts[f"{Decision._meta.db_table}_default"] is None
    )
    this_month = _month(timezone.now())
    assert decisions.partition_name(this_month) in parts
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
            [Decision._meta.db_table],
        )
        assert {r[0] for r in cursor.fetchall()} == {"id", "created_at"}


def test_rows_written_by_copy_land_in_their_month_and_read_back_as_written():
    now = timezone.now()
    old = now - timedelta(days=200)
    assert decisions.decisions_write([_row(old, "a"), _row(now, "b")]) == 2
    assert decisions.partition_name(_month(old)) in decisions.partitions()  # created for the history
    a = Decision.objects.get(entity_key="a")
    assert a.inputs == {"income": 1.5, "城市": "上海"} and a.reasons[0]["code"] == "R1" and a.score == 0.25
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {Decision._meta.db_table}_default")  # noqa: S608
        assert cursor.fetchone()[0] == 0
    assert Decision.objects.get(pk=a.pk).created_at == old  # one id, looked up alone


def test_maintenance_creates_months_ahead_drops_months_past_retention_and_is_idempotent():
    SystemConfig.objects.update_or_create(
        key="models-decision-log-retention-months", defaults={"value": 24, "value_type": "number"}
    )
    config_invalidate("models-decision-log-retention-months")
    now = timezone.now()
    expired, kept = now - timedelta(days=31 * 27), now - timedelta(days=31 * 15)
    decisions.decisions_write([_row(expired, "expired"), _row(kept, "kept")])
    # A row that reached DEFAULT (its month had no partition when written) and is past retention.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Decision._meta.db_table}_default (id, model_id, version_id, request_id, "  # noqa: S608
            "position, arm, entity_key, caller, inputs, created_at) "
            "VALUES (nextval(%s), 1, 1, 'r', 0, '', 'stray', '', '{}', %s)",
            [f"{Decision._meta.db_table}_id_seq", now - timedelta(days=31 * 40)],
        )
    later = now + timedelta(days=31 * 5)  # run as if five months on: new months are due
    result = decisions.decision_log_maintain(now=later)
    assert decisions.partition_name(_month(later)) in result["created"]
    assert decisions.partition_name(_month(expired)) in result["dropped"]
    assert decisions.partition_name(_month(kept)) not in result["dropped"]
    assert result["deleted"] == 1
    assert set(Decision.objects.values_list("entity_key", flat=True)) == {"kept"}
    again = decisions.decision_log_maintain(now=later)
    assert again["created"] == [] and again["dropped"] == [] and again["deleted"] == 0


def test_a_new_month_takes_its_rows_out_of_the_default_partition():
    far = timezone.now() + timedelta(days=31 * 9)  # beyond the months created ahead
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Decision._meta.db_table} (model_id, version_id, request_id, position, arm, "  # noqa: S608
            "entity_key, caller, inputs, created_at) VALUES (1, 1, 'r', 0, '', 'future', '', '{}', %s)",
            [far],
        )
    assert decisions.partition_name(_month(far)) not in decisions.partitions()
    assert decisions.partitions_ensure([_month(far)]) == [decisions.partition_name(_month(far))]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT entity_key FROM {decisions.partition_name(_month(far))}")  # noqa: S608
        assert cursor.fetchall() == [("future",)]
    assert decisions.partitions_ensure([_month(far)]) == []
