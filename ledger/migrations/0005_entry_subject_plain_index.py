from django.db import migrations, models

from ledger.triggers import create_statements, drop_statements


def reinstall_triggers_on_sqlite(apps, schema_editor):
    # SQLite alters a column by rebuilding its table, and the rebuilt table has
    # none of the old one's triggers: put the append-only triggers back.
    vendor = schema_editor.connection.vendor
    if vendor != "sqlite":
        return
    for statement in drop_statements(vendor) + create_statements(vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_verification_progress")]

    operations = [
        # Unapplying rebuilds the table again, so the triggers go back after that too.
        migrations.RunPython(migrations.RunPython.noop, reinstall_triggers_on_sqlite, elidable=False),
        migrations.AlterField(model_name="entry", name="subject", field=models.CharField(max_length=80)),
        migrations.AddIndex(model_name="entry", index=models.Index(fields=["subject"], name="ledger_entry_subject")),
        migrations.RunPython(reinstall_triggers_on_sqlite, migrations.RunPython.noop, elidable=False),
    ]
