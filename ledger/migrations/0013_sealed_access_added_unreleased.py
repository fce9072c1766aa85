"""Refuse a sealed access inserted with released_at already set: only its release sets it."""

from django.db import migrations

from ledger.triggers import sealed_unreleased_drop_statements, sealed_unreleased_statements


def install(apps, schema_editor):
    for statement in sealed_unreleased_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def remove(apps, schema_editor):
    for statement in sealed_unreleased_drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0012_model_names_translated")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
