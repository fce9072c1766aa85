"""Give the roles the permissions of social security, health and access reports."""

from django.db import migrations

from portal.roles import roles_sync_migration

class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0004_roles_ledger"),
        ("social_security", "0001_initial"),
        ("health", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_sync_migration, migrations.RunPython.noop)]
