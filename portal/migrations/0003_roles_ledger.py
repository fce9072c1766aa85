"""Give the roles the permissions of the ledger's models, which came after 0002."""

from django.db import migrations


def roles_resync(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from portal.roles import roles_sync

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_roles"),
        ("ledger", "0003_append_only_triggers"),
    ]

    operations = [migrations.RunPython(roles_resync, migrations.RunPython.noop)]
