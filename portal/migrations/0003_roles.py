"""Create the staff role groups with their permissions (portal/roles.py)."""

from django.db import migrations

from portal.roles import roles_sync_migration

class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_accessreport"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cards", "0003_cards_and_credentials"),
        ("services_core", "0001_initial"),
        ("ledger", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_sync_migration, migrations.RunPython.noop)]
