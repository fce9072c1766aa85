"""Give the grants reviewer and approver roles the grants permissions."""

from django.db import migrations

from portal.roles import roles_sync_migration


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0006_roles_pharmacy"),
        ("grants", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_sync_migration, migrations.RunPython.noop)]
