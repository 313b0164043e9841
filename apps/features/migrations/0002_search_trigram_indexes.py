"""Trigram indexes on the features' search and tag text, on PostgreSQL.

Search filters ``search_text LIKE '%word%'`` and the tag filter ``tag_text LIKE '% tag %'``;
GIN trigram indexes on both let PostgreSQL AND the two index bitmaps instead of reading
every feature. SQLite (the embedded default) needs none of this.
"""

from django.db import migrations

COLUMNS = ("search_text", "tag_text")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS feature_{column}_trgm ON features_feature USING gin ({column} gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in COLUMNS:
            schema_editor.execute(f"DROP INDEX IF EXISTS feature_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("features", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
