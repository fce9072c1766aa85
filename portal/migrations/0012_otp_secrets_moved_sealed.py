"""Move django-otp's TOTP keys and backup codes, stored in clear, into the portal's sealed and hashed devices.

django_otp.plugins.otp_totp and otp_static are no longer installed, so their
tables are read with SQL where an older database still has them; their rows
are deleted once copied, and the emptied tables are left for the operator.
"""

from binascii import unhexlify

from django.db import migrations

from portal.models import backup_code_hash, totp_key_seal

TOTP_COLUMNS = ["id", "user_id", "name", "confirmed", "key", "step", "t0", "digits", "tolerance", "drift", "last_t"]


def _rows(cursor, table, columns):
    cursor.execute(f"SELECT {', '.join(columns)} FROM {table}")
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def move_otp_secrets(apps, schema_editor):
    connection = schema_editor.connection
    tables = set(connection.introspection.table_names())
    TOTPDevice = apps.get_model("portal", "TOTPDevice")
    BackupCodeDevice = apps.get_model("portal", "BackupCodeDevice")
    BackupCode = apps.get_model("portal", "BackupCode")
    with connection.cursor() as cursor:
        if "otp_totp_totpdevice" in tables:
            for row in _rows(cursor, "otp_totp_totpdevice", TOTP_COLUMNS):
                TOTPDevice.objects.create(
                    user_id=row["user_id"],
                    name=row["name"],
                    confirmed=row["confirmed"],
                    key_sealed=totp_key_seal(unhexlify(row["key"])),
                    **{field: row[field] for field in ("step", "t0", "digits", "tolerance", "drift", "last_t")},
                )
            cursor.execute("DELETE FROM otp_totp_totpdevice")
        if "otp_static_staticdevice" in tables and "otp_static_statictoken" in tables:
            for row in _rows(cursor, "otp_static_staticdevice", ["id", "user_id", "name", "confirmed"]):
                device = BackupCodeDevice.objects.create(
                    user_id=row["user_id"], name=row["name"], confirmed=row["confirmed"]
                )
                cursor.execute("SELECT token FROM otp_static_statictoken WHERE device_id = %s", [row["id"]])
                BackupCode.objects.bulk_create(
                    [BackupCode(device=device, code_hash=backup_code_hash(token)) for (token,) in cursor.fetchall()]
                )
            cursor.execute("DELETE FROM otp_static_statictoken")
            cursor.execute("DELETE FROM otp_static_staticdevice")


class Migration(migrations.Migration):
    dependencies = [("portal", "0011_otp_devices_sealed")]

    operations = [migrations.RunPython(move_otp_secrets, migrations.RunPython.noop)]
