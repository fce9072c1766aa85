from django.db import migrations

from ledger.triggers import pending_create_statements, pending_drop_statements


def install(apps, schema_editor):
    for statement in pending_create_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def remove(apps, schema_editor):
    for statement in pending_drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_entry_subject_plain_index")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
