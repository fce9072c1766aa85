from django.db import migrations

from ledger.triggers import LOG_TABLES, create_statements, drop_statements


def install(apps, schema_editor):
    for statement in create_statements(schema_editor.connection.vendor, LOG_TABLES):
        schema_editor.execute(statement, params=None)


def remove(apps, schema_editor):
    for statement in drop_statements(schema_editor.connection.vendor, LOG_TABLES):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_log")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
