# The governance trail (apps.core.trail): read as the proxy TrailEntry, and on PostgreSQL kept
# append-only by the database itself, whatever connects to it.

from django.db import migrations

FUNCTION = "omm_audit_trail_append_only"
TRIGGER = "omm_audit_trail_append_only"

# One UPDATE stays allowed: the actor's account deleted (the foreign key is ON DELETE SET
# NULL), which changes nothing but actor_id to NULL; actor_email still says who it was.
CREATE = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % of entry % refused', TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
DROP TRIGGER IF EXISTS {TRIGGER} ON {{table}};
CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {{table}}
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
"""
DROP = f"""
DROP TRIGGER IF EXISTS {TRIGGER} ON {{table}};
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def _run(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return  # SQLite: the ORM refuses (apps.core.trail); a test flush deletes rows there
        table = schema_editor.quote_name(apps.get_model("auditlog", "LogEntry")._meta.db_table)
        schema_editor.execute(sql.format(table=table), params=None)  # "%" is plpgsql here

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("auditlog", "0017_add_actor_email"),
        ("core", "0002_names_translated"),
    ]

    operations = [
        migrations.CreateModel(
            name="TrailEntry",
            fields=[],
            options={
                "verbose_name": "audit trail entry",
                "verbose_name_plural": "audit trail",
                "ordering": ["-timestamp", "-id"],
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("auditlog.logentry",),
        ),
        migrations.RunPython(_run(CREATE), _run(DROP)),
    ]
