"""Write resident accounts, their one-time password devices, reports of unrecognised access, and staff enrolment."""

import base64
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from cards.actions import card_activate, card_activation_code_check
from cards.errors import ActivationCodeInvalid
from cards.models import Card, Resident
from ledger.api import record
from portal.errors import AccountAlreadyActive, ActivationRefused, OneTimePasswordInvalid
from portal.models import AccessReport, BackupCode, BackupCodeDevice, TOTPDevice, backup_code_hash

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator app"
BACKUP_DEVICE_NAME = "backup codes"


def _pending_card(resident: Resident) -> Card | None:
    return Card.objects.filter(resident=resident, status=Card.Status.PENDING).order_by("-id").first()


def resident_account_activate(*, resident: Resident, code: str, username: str, password: str):
    """Activate RESIDENT's pending card with CODE and create their account; return the new user.

    A wrong code is counted against the card's code (five tries) even though the
    call raises, so the count is committed before ActivationRefused is raised.
    A resident who already has an account is told so only when CODE is right:
    to anyone else the two refusals are the same.
    """
    User = get_user_model()
    user = User(username=username, email=resident.email)
    validate_password(password, user=user)
    user.set_password(password)
    if resident.user_id is not None:
        card = _pending_card(resident)
        try:
            if card is None:
                raise ActivationCodeInvalid("no card is waiting for activation")
            card_activation_code_check(card=card, code=code)
        except ActivationCodeInvalid as error:
            raise ActivationRefused(str(error)) from None
        raise AccountAlreadyActive("this resident already has an account")
    user.full_clean()
    refused = None
    with transaction.atomic():
        card = _pending_card(resident)
        if card is None:
            refused = ActivationRefused("no card is waiting for activation")
        else:
            try:
                card_activate(card=card, code=code)
            except ActivationCodeInvalid as error:
                refused = ActivationRefused(str(error))
        if refused is None:
            user.save()
            resident.user = user
            resident.full_clean(exclude=["national_id_hash"])
            resident.save(update_fields=["user", "updated_at"])
            record(action="portal.accounts.activate", subject=resident, object=f"user:{user.pk}")
    if refused is not None:
        raise refused
    return user


def resident_card_activate(*, resident: Resident, code: str) -> Card:
    """Activate the pending card (a replacement) of RESIDENT, who already has an account, with its CODE.

    The wrong-code count commits inside card_activate even though the call raises.
    """
    card = _pending_card(resident)
    if card is None:
        raise ActivationRefused("no card is waiting for activation")
    try:
        return card_activate(card=card, code=code)
    except ActivationCodeInvalid as error:
        raise ActivationRefused(str(error)) from None


@transaction.atomic
def totp_device_start(*, user) -> TOTPDevice:
    """Return a new unconfirmed TOTP device for USER, replacing any earlier unconfirmed one."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    device.full_clean()
    device.save()
    return device


ENROLMENT_PROOFS = ("activation-code", "email-code", "otp")


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str, proof: str) -> list[str]:
    """Confirm DEVICE with a code it shows; replace the user's other devices and return new backup codes.

    PROOF names the second factor that let the resident enrol (one of ENROLMENT_PROOFS); the
    enrolment is recorded with it.
    """
    if proof not in ENROLMENT_PROOFS:
        raise ValueError(f"unknown enrolment proof {proof!r}")
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if not device.verify_token(token.strip()):
        raise OneTimePasswordInvalid("the code does not match the authenticator app")
    replaced = TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()[0]
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    resident = Resident.objects.get(user=device.user)
    kind = "replace" if replaced else "first"
    record(action="portal.otp_devices.enrol", subject=resident, object=f"totp {kind} by {proof}")
    return backup_codes_regenerate(user=device.user)


@transaction.atomic
def backup_codes_regenerate(*, user) -> list[str]:
    """Replace USER's backup codes with fresh ones, each usable once; return them to show once."""
    device, _created = BackupCodeDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME)
    device.codes.all().delete()
    codes = [backup_code_new() for _ in range(BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create([BackupCode(device=device, code_hash=backup_code_hash(code)) for code in codes])
    return codes


def backup_code_new() -> str:
    """Return a fresh random backup code: 8 base32 letters (40 bits), as django-otp's static tokens."""
    return base64.b32encode(os.urandom(5)).decode().lower()


@transaction.atomic
def access_report_open(*, resident: Resident, entry_index: int | None, entry_summary: str, text: str) -> AccessReport:
    """Open a case for caseworkers about an access RESIDENT does not recognise."""
    report = AccessReport(
        resident=resident, entry_index=entry_index, entry_summary=entry_summary[:500], text=text.strip()
    )
    report.full_clean()
    report.save()
    record(action="portal.access_reports.open", subject=resident, object=f"access-report:{report.pk}")
    return report


@transaction.atomic
def access_report_answer(*, report: AccessReport, status: str, caseworker_note: str) -> AccessReport:
    """Set REPORT's status and the caseworker's answer, recording the change against its resident."""
    report = AccessReport.objects.select_for_update().select_related("resident").get(pk=report.pk)
    previous, previous_note = report.status, report.caseworker_note
    report.status = status
    report.caseworker_note = caseworker_note.strip()
    if report.caseworker_note and report.caseworker_note != previous_note:
        # A new or changed answer: the resident sees it with its time, and may reply to it.
        report.answered_at = timezone.now()
    report.full_clean()
    report.save(update_fields=["status", "caseworker_note", "answered_at", "updated_at"])
    record(
        action="portal.access_reports.answer",
        subject=report.resident,
        object=f"access-report:{report.pk} status {previous}->{report.status}",
    )
    return report


class ReplyRefused(Exception):
    """The report has no answer to reply to yet, or the resident has replied already."""


@transaction.atomic
def access_report_reply(*, resident: Resident, report_id: int, text: str) -> AccessReport:
    """Record RESIDENT's one reply to the caseworker's answer on their report REPORT_ID; back to the worklist."""
    report = AccessReport.objects.select_for_update().filter(pk=report_id, resident=resident).first()
    if report is None:
        raise AccessReport.DoesNotExist(f"no report {report_id} of this resident")
    if not report.may_reply:
        raise ReplyRefused("this report has no answer to reply to, or was replied to already")
    report.resident_reply = text.strip()
    report.replied_at = timezone.now()
    report.status = AccessReport.Status.REPLIED
    report.full_clean()
    report.save(update_fields=["resident_reply", "replied_at", "status", "updated_at"])
    record(action="portal.access_reports.reply", subject=resident, object=f"access-report:{report.pk}")
    return report


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
