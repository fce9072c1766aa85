"""TOTP keys are stored sealed and backup codes as keyed hashes; both still verify, and no admin shows them."""

import importlib
import os
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django_otp import devices_for_user, match_token
from django_otp.models import Device
from django_otp.oath import totp

from cards.crypto import DecryptionError
from portal.actions import backup_codes_regenerate
from portal.models import BackupCode, BackupCodeDevice, TOTPDevice
from tests.factories import UserFactory
from tests.portal.staff import PASSWORD, admin_login, fast_password_hashing, staff_create  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

move_otp_secrets = importlib.import_module("portal.migrations.0012_otp_secrets_moved_sealed").move_otp_secrets


def code_of(key: bytes, *, step: int = 30) -> str:
    return f"{totp(key, step=step):06d}"


def test_a_totp_device_stores_its_key_only_sealed_and_verifies_a_code():
    device = TOTPDevice.objects.create(user=UserFactory(), name="phone")
    key = device.bin_key

    stored = bytes(TOTPDevice.objects.values_list("key_sealed", flat=True).get(pk=device.pk))

    assert len(key) == 20
    assert key not in stored and key.hex().encode() not in stored
    assert device.verify_token(code_of(key))
    assert not device.verify_token(code_of(key))  # a code is good once


def test_a_sealed_totp_key_does_not_open_as_a_national_id():
    from cards.crypto import national_id_decrypt

    device = TOTPDevice.objects.create(user=UserFactory(), name="phone")

    with pytest.raises(DecryptionError):
        national_id_decrypt(device.key_sealed)


def test_the_enrolment_url_carries_the_unsealed_key():
    device = TOTPDevice.objects.create(user=UserFactory(username="li.na"), name="phone")

    url = device.config_url

    assert url.startswith("otpauth://totp/OneCard%3Ali.na?secret=")
    assert "&issuer=OneCard" in url


def test_backup_codes_are_stored_as_keyed_hashes_and_each_works_once():
    user = UserFactory()
    user.save()

    codes = backup_codes_regenerate(user=user)

    stored = list(BackupCode.objects.filter(device__user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert all(code not in value for code in codes for value in stored)
    assert match_token(user, codes[3].upper()) is not None
    assert match_token(user, codes[3]) is None
    assert BackupCode.objects.filter(device__user=user).count() == 9


def test_django_otp_sees_only_the_portals_devices():
    device_models = {model for model in apps.get_models() if issubclass(model, Device)}
    user = UserFactory()
    user.save()
    totp_device = TOTPDevice.objects.create(user=user, name="phone")
    backup_codes_regenerate(user=user)

    assert device_models == {TOTPDevice, BackupCodeDevice}
    assert {type(d) for d in devices_for_user(user)} == {TOTPDevice, BackupCodeDevice}
    assert match_token(user, code_of(totp_device.bin_key)) == totp_device


def test_the_device_admins_show_no_key_or_code_and_django_otps_own_are_gone(client):
    superuser = staff_create("superuser")
    admin_login(client, superuser)
    device = TOTPDevice.objects.get(user=superuser)
    codes = backup_codes_regenerate(user=superuser)
    backup = BackupCodeDevice.objects.get(user=superuser)

    shown = [
        client.get(path)
        for path in (
            "/admin/portal/totpdevice/",
            f"/admin/portal/totpdevice/{device.pk}/change/",
            f"/admin/portal/backupcodedevice/{backup.pk}/change/",
        )
    ]
    gone = [client.get(path).status_code for path in ("/admin/otp_totp/totpdevice/", "/admin/otp_static/staticdevice/")]

    assert BackupCode not in admin.site._registry
    assert [page.status_code for page in shown] == [200, 200, 200] and gone == [404, 404]
    for page in shown:
        assert device.bin_key.hex().encode() not in page.content and b"key_sealed" not in page.content
        assert not any(code.encode() in page.content for code in codes)


def test_the_migration_moves_django_otps_clear_keys_and_codes_into_sealed_devices():
    # Given a database from before: django-otp's own tables, holding a TOTP key and two backup codes in clear.
    user = UserFactory()
    user.save()
    key = os.urandom(20)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE otp_totp_totpdevice (id integer PRIMARY KEY, user_id bigint, name varchar(64),"
            " confirmed boolean, key varchar(80), step smallint, t0 bigint, digits smallint, tolerance smallint,"
            " drift smallint, last_t bigint)"
        )
        cursor.execute(
            "INSERT INTO otp_totp_totpdevice VALUES (1, %s, 'phone', %s, %s, 30, 0, 6, 1, 0, -1)",
            [user.pk, True, key.hex()],
        )
        cursor.execute(
            "CREATE TABLE otp_static_staticdevice (id integer PRIMARY KEY, user_id bigint, name varchar(64),"
            " confirmed boolean)"
        )
        cursor.execute("INSERT INTO otp_static_staticdevice VALUES (7, %s, 'backup codes', %s)", [user.pk, True])
        cursor.execute(
            "CREATE TABLE otp_static_statictoken (id integer PRIMARY KEY, device_id integer, token varchar(16))"
        )
        cursor.execute("INSERT INTO otp_static_statictoken VALUES (1, 7, 'abcdefgh'), (2, 7, 'ijklmnop')")

    # When the data migration runs.
    move_otp_secrets(apps, SimpleNamespace(connection=connection))  # it uses only the editor's connection

    # Then the old rows are gone, and the same key and codes verify through the portal's devices.
    with connection.cursor() as cursor:
        left = []
        for table in ("otp_totp_totpdevice", "otp_static_staticdevice", "otp_static_statictoken"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            left.append(cursor.fetchone()[0])
    device = TOTPDevice.objects.get(user=user)
    assert left == [0, 0, 0]
    assert device.confirmed and device.bin_key == key
    assert key.hex().encode() not in bytes(device.key_sealed)
    assert match_token(user, code_of(key)) == device
    assert isinstance(match_token(user, "ijklmnop"), BackupCodeDevice)
    assert BackupCode.objects.filter(device__user=user).count() == 1
