"""Each audit entry is chained to the one before it by a hash of its content, and keeps the
caller's X-Request-ID apart from the server's request id. Entries already recorded are
chained here, in the order they were written (their ids).
"""

import django.utils.timezone
from django.db import migrations, models

from clinic.audit_chain import CHAINED_FIELDS, GENESIS, entry_hash

TABLE = "clinic_auditevent"
ROW_TRIGGER = "clinic_auditevent_append_only"


def chain_existing_entries(apps, schema_editor):
    AuditEvent = apps.get_model("clinic", "AuditEvent")
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        # The owner lifts the append-only trigger for this transaction only, to write the
        # new hash columns of existing rows; nothing else in them changes.
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {ROW_TRIGGER}", params=None)
    previous = GENESIS
    entries = (AuditEvent.objects.using(schema_editor.connection.alias).order_by("id")
               .values("id", *CHAINED_FIELDS))
    for entry in entries.iterator(chunk_size=2000):
        current = entry_hash(entry, previous)
        AuditEvent.objects.using(schema_editor.connection.alias).filter(pk=entry["id"]).update(
            previous_hash=previous, entry_hash=current)
        previous = current
    if postgresql:
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {ROW_TRIGGER}", params=None)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0007_audit_trail_no_truncate")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now,
                                       editable=False, verbose_name="when"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="client_request_id",
            field=models.CharField(blank=True, default="", max_length=64,
                                   verbose_name="caller's request id"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64,
                                   verbose_name="previous entry's hash"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="entry_hash",
            field=models.CharField(default="", editable=False, max_length=64,
                                   verbose_name="hash"),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop),
    ]
