"""Let auditors queue a verification of the log from the admin ("Verify now")."""

from django.db import migrations

from portal.roles import roles_sync_migration


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0007_roles_grants"),
        ("ledger", "0004_verification_progress"),
    ]

    operations = [migrations.RunPython(roles_sync_migration, migrations.RunPython.noop)]
