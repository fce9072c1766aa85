"""Create the staff role groups with their permissions (portal/roles.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def roles_create(apps, schema_editor):
    from portal.roles import roles_sync

    # Permissions are normally made after all migrations (post_migrate); make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cards", "0003_cards_and_credentials"),
        ("services_core", "0001_initial"),
        ("ledger", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_create, migrations.RunPython.noop)]
