"""Give the registrar and the card officer the permissions of card photos."""

from django.db import migrations

from portal.roles import roles_sync_migration


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0012_otp_secrets_moved_sealed"),
        ("cards", "0005_resident_photos"),
    ]

    operations = [migrations.RunPython(roles_sync_migration, migrations.RunPython.noop)]
