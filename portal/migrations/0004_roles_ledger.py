"""Give the roles the permissions of the ledger's models, which came after 0002."""

from django.db import migrations

from portal.roles import roles_sync_migration

class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0003_roles"),
        ("ledger", "0003_append_only_triggers"),
    ]

    operations = [migrations.RunPython(roles_sync_migration, migrations.RunPython.noop)]
