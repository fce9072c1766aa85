"""Helpers for admin tests: staff with a role and a TOTP device, logged in through the real OTP admin form."""

import pytest
from django.contrib.auth.models import Group
from django_otp.oath import totp

from portal.models import TOTPDevice
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"


def staff_create(*roles: str, device: bool = True, **fields):
    """Return a staff user in the groups ROLES (superuser sets is_superuser), with a confirmed TOTP device."""
    user = UserFactory(is_staff=True, is_superuser="superuser" in roles, **fields)
    user.save()  # the factory sets the password after its own save
    wanted = set(roles) - {"superuser"}
    if Group.objects.filter(name__in=wanted).count() < len(wanted):
        # A transactional test before this one flushed the groups the migrations made: make them again.
        from portal.roles import roles_sync

        roles_sync()
    user.groups.set(Group.objects.filter(name__in=roles))
    if device:
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def role_group(name: str) -> Group:
    """Return the role group NAME, made again if a transactional test flushed the migrations' groups."""
    if not Group.objects.filter(name=name).exists():
        from portal.roles import roles_sync

        roles_sync()
    return Group.objects.get(name=name)


def token_now(device: TOTPDevice) -> str:
    """Return the device's current six-digit code."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def admin_login(client, user, *, token: str | None = None):
    """Post the admin login form with password and the current (or the given) code; return the response."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    data = {"username": user.username, "password": PASSWORD, "otp_token": token_now(device) if token is None else token}
    return client.post("/admin/login/?next=/admin/", data)


def purpose_state(client, purpose: str):
    """State PURPOSE for the working session through the admin form."""
    return client.post("/admin/purpose/", {"purpose": purpose, "next": "/admin/"})


def ledger_rows(**filters) -> list[dict]:
    """Return the recorded ledger rows (pending and, when sequenced, in the log) matching FILTERS."""
    import json

    from ledger import models

    fields = ("actor_type", "role", "channel", "action", "purpose", "subject", "object", "outcome")
    rows = [dict(zip(fields, values, strict=True)) for values in models.PendingEntry.objects.values_list(*fields)]
    entry = getattr(models, "Entry", None)
    if entry is not None:
        for entry_bytes in entry.objects.values_list("entry_bytes", flat=True):
            data = json.loads(bytes(entry_bytes))
            actor = data.get("actor") or {}
            rows.append(
                {
                    "actor_type": actor.get("type"),
                    "role": actor.get("role"),
                    **{name: data.get(name) for name in fields if name not in ("actor_type", "role")},
                }
            )
    return [row for row in rows if all(row.get(key) == value for key, value in filters.items())]


@pytest.fixture
def fast_password_hashing(settings):
    """Hash test passwords cheaply: the admin tests log in hundreds of times through the real form."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
