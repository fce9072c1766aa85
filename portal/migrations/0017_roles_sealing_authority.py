"""Add the sealing authority's group, and let auditors list sealed accesses."""

from django.db import migrations

from portal.roles import roles_sync_migration


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0016_translatable_labels"),
        ("ledger", "0011_append_only_index_and_openings"),
    ]

    operations = [migrations.RunPython(roles_sync_migration, migrations.RunPython.noop)]
