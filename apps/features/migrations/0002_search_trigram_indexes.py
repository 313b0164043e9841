"""Trigram indexes for the feature search (name, display name, description) on PostgreSQL.

Django's ``icontains`` becomes ``UPPER(col::text) LIKE UPPER(...)``; these GIN indexes on
the same expression let it use an index instead of scanning every feature. SQLite (the
embedded default) needs none of this.
"""

from django.db import migrations

COLUMNS = ("name", "display_name", "description")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS feature_{column}_trgm ON features_feature "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS feature_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("features", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
