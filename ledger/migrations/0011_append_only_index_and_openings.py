"""Refuse UPDATE, DELETE and TRUNCATE on the subjects' index nodes and the sealed accesses' openings."""

from django.db import migrations

from ledger.triggers import LATER_APPEND_ONLY_TABLES, create_statements, drop_statements


def install(apps, schema_editor):
    for statement in create_statements(schema_editor.connection.vendor, LATER_APPEND_ONLY_TABLES):
        schema_editor.execute(statement, params=None)


def remove(apps, schema_editor):
    for statement in drop_statements(schema_editor.connection.vendor, LATER_APPEND_ONLY_TABLES, function=False):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0010_completeness_index_and_sealed_accesses")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
