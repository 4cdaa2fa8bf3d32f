"""The audit trail cannot be emptied either: PostgreSQL refuses TRUNCATE on it, as it already
refuses UPDATE and DELETE (0003). Row triggers do not fire on TRUNCATE, hence a statement
trigger.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE TRIGGER clinic_auditevent_no_truncate
    BEFORE TRUNCATE ON clinic_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION clinic_auditevent_append_only();
"""
POSTGRES_DOWN = "DROP TRIGGER IF EXISTS clinic_auditevent_no_truncate ON clinic_auditevent;"


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0006_outgoing_email")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
