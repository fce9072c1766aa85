"""Give the pharmacy regulator the permissions of the pharmacy service."""

from django.db import migrations

from portal.roles import roles_sync_migration


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0005_roles_services"),
        ("pharmacy", "0002_otc_registry"),
    ]

    operations = [migrations.RunPython(roles_sync_migration, migrations.RunPython.noop)]
