"""On PostgreSQL, the decision log becomes a table partitioned by month of ``created_at``.

The primary key becomes (id, created_at) (a partitioned table's unique keys must hold the
partition key); ``id`` still comes from one sequence. Partitions: a DEFAULT one, this month
and the next three (the daily ``models.maintain_decision_log`` job keeps creating them and
drops months past the retention setting). Rows already logged are copied over. Other
databases keep the plain table; the model (and Django's view of it) does not change.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import migrations
from django.utils import timezone

TABLE = "models_decision"
INDEXES = {
    "decision_entity_time": "(entity_key, created_at)",
    "decision_request": "(request_id)",
    "decision_version_time": "(version_id, created_at)",
    "decision_time": "(created_at)",
}


def _month(k: int) -> date:
    return date(k // 12, k % 12 + 1, 1)


def partition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    new, seq = f"{TABLE}_new", f"{TABLE}_id_seq"
    run(
        f"CREATE TABLE {new} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        "PARTITION BY RANGE (created_at)"
    )
    run(f"ALTER TABLE {new} ALTER COLUMN id DROP IDENTITY IF EXISTS")
    run(f"ALTER TABLE {new} ADD CONSTRAINT {new}_pkey PRIMARY KEY (id, created_at)")
    run(f"CREATE TABLE {TABLE}_default PARTITION OF {new} DEFAULT")
    now = timezone.localtime()
    first = now.year * 12 + now.month - 1
    for k in range(first, first + 4):
        low, high = _month(k), _month(k + 1)
        run(
            f"CREATE TABLE {TABLE}_p{low.year:04d}{low.month:02d} PARTITION OF {new} "
            "FOR VALUES FROM (%s) TO (%s)",
            [
                timezone.make_aware(datetime(low.year, low.month, 1)),
                timezone.make_aware(datetime(high.year, high.month, 1)),
            ],
        )
    run(f"INSERT INTO {new} SELECT * FROM {TABLE}")  # noqa: S608 - constant names
    run(f"DROP TABLE {TABLE}")  # its identity sequence goes with it
    run(f"ALTER TABLE {new} RENAME TO {TABLE}")
    run(f"ALTER TABLE {TABLE} RENAME CONSTRAINT {new}_pkey TO {TABLE}_pkey")
    run(f"CREATE SEQUENCE {seq} OWNED BY {TABLE}.id")
    run(f"SELECT setval('{seq}', COALESCE((SELECT MAX(id) FROM {TABLE}), 0) + 1, false)")  # noqa: S608
    run(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{seq}')")
    for name, columns in INDEXES.items():
        run(f"CREATE INDEX {name} ON {TABLE} {columns}")


class Migration(migrations.Migration):
    dependencies = [
        ("models", "0007_decision_log"),
    ]

    # Going back leaves the partitioned table: 0007's reverse drops it as it would a plain one.
    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
