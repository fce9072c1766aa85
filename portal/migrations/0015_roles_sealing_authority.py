"""Add the sealing authority's group, and let auditors list sealed accesses."""

from django.db import migrations

from portal.roles import roles_sync_migration


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0014_proxy_grants"),
        ("ledger", "0009_sealed_accesses"),
    ]

    operations = [migrations.RunPython(roles_sync_migration, migrations.RunPython.noop)]
