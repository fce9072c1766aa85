"""Writes of the portal app: staff second-factor enrolment."""

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

ENROLMENT_DEVICE_NAME = "admin-enrolment"


class EnrolmentRefused(Exception):
    """The staff member already has a confirmed device: enrolment is closed to a password alone."""


@transaction.atomic
def staff_totp_enrolment_start(*, user) -> TOTPDevice:
    """Return USER's unconfirmed TOTP device, creating it on the first call."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise EnrolmentRefused("this account already has a confirmed authenticator")
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=ENROLMENT_DEVICE_NAME).first()
    if device is None:
        device = TOTPDevice(user=user, name=ENROLMENT_DEVICE_NAME, confirmed=False)
        device.full_clean()
        device.save()
    return device


@transaction.atomic
def staff_totp_enrolment_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm DEVICE when TOKEN is its current code; return whether it was."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device.confirmed or not device.verify_token(token.strip()):
        return False
    device.confirmed = True
    device.full_clean()
    device.save(update_fields=["confirmed"])
    return True
