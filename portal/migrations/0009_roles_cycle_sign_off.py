"""Let grants approvers sign off a payment cycle before its batch runs."""

from django.db import migrations

from portal.roles import roles_sync_migration


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0008_roles_verification"),
        ("grants", "0002_cycle_sign_off"),
    ]

    operations = [migrations.RunPython(roles_sync_migration, migrations.RunPython.noop)]
