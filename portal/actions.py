"""Write resident accounts, their one-time password devices, reports of unrecognised access, and staff enrolment."""

import base64
import datetime
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.actions import card_activate, card_activation_code_check, resident_photo_submit
from cards.crypto import secret_keyed_hash
from cards.errors import ActivationCodeInvalid
from cards.models import Card, Resident
from ledger.api import context_get, record
from portal.errors import AccountAlreadyActive, ActivationRefused, OneTimePasswordInvalid, ProxyRefused
from portal.models import (
    AccessReport,
    BackupCode,
    BackupCodeDevice,
    ProxyGrant,
    TOTPDevice,
    adulthood_date,
    backup_code_hash,
)
from portal.selectors import scope_is_health_data
from services.core.actions import consent_grant

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


PROXY_INVITATION_LIFETIME = datetime.timedelta(hours=48)
PROXY_PURPOSE = "family-proxy"
PROXY_INVITATION_HASH_CONTEXT = "portal.proxy_invitation"


def proxy_invitation_code_hash(code: str) -> str:
    """Return the keyed hash an invitation CODE is stored and looked up by, ignoring case, spaces and dashes."""
    normalized = "".join(character for character in code.upper() if character.isalnum())
    return secret_keyed_hash(normalized, context=PROXY_INVITATION_HASH_CONTEXT)


def _is_adult(resident: Resident, today: datetime.date) -> bool:
    return today >= adulthood_date(resident.birth_date)


def _proxy_record(action: str, grant: ProxyGrant, *, detail: str = "") -> None:
    """Record ACTION under both people of GRANT (the dependant only while an invitation has no proxy)."""
    object = f"{grant.ledger_object} {detail}".strip()
    # A resident's own step (invite, accept, start, stop, end) is for the family proxy; a caseworker's
    # link or ending is under the purpose stated for their working session.
    purpose = PROXY_PURPOSE if context_get().actor.type == "resident" else None
    record(action=action, subject=grant.dependant, object=object, purpose=purpose)
    if grant.proxy_id is not None:
        record(action=action, subject=grant.proxy, object=object, purpose=purpose)


def _end_outgrown(*, proxy: Resident, dependant: Resident, today: datetime.date) -> None:
    """End an open grant of the pair that has run out (a child who turned 18), so a new one may start."""
    for grant in ProxyGrant.objects.select_for_update().filter(proxy=proxy, dependant=dependant, ended_at=None):
        if grant.ends_on is not None and today >= grant.ends_on:
            grant.ended_at = timezone.now()
            grant.ended_by = ProxyGrant.EndedBy.ADULTHOOD
            grant.save(update_fields=["ended_at", "ended_by"])
            _proxy_record("portal.proxies.end", grant, detail=f"by {grant.ended_by}")


def proxy_minor_link_check(
    *, proxy: Resident, dependant: Resident, relationship: str, reason: str, document_reference: str
) -> None:
    """Raise ProxyRefused, with a message for the caseworker, unless PROXY may be linked to DEPENDANT as asked."""
    if not reason.strip() or not document_reference.strip():
        raise ProxyRefused(_("A reason and a document reference are required."))
    if relationship not in (ProxyGrant.Relationship.PARENT, ProxyGrant.Relationship.GUARDIAN):
        raise ProxyRefused(_("Only a parent or a legal guardian is linked to a minor."))
    if proxy.pk == dependant.pk:
        raise ProxyRefused(_("A resident cannot act for themself."))
    today = timezone.localdate()
    if _is_adult(dependant, today):
        raise ProxyRefused(_("The child is 18 or older: an adult chooses who acts for them in the portal."))
    if not _is_adult(proxy, today):
        raise ProxyRefused(_("The parent or guardian must be 18 or older."))
    open_grants = ProxyGrant.objects.filter(proxy=proxy, dependant=dependant, ended_at=None)
    if any(grant.ends_on is None or today < grant.ends_on for grant in open_grants):
        raise ProxyRefused(_("These two residents are already linked."))


@transaction.atomic
def proxy_minor_link(
    *, proxy: Resident, dependant: Resident, relationship: str, reason: str, document_reference: str
) -> ProxyGrant:
    """Let PROXY, a parent or guardian, act for DEPENDANT, a minor, until their 18th birthday.

    A caseworker does this from documents: REASON and DOCUMENT_REFERENCE are required and recorded.
    """
    reason, document_reference = reason.strip(), document_reference.strip()
    proxy_minor_link_check(
        proxy=proxy,
        dependant=dependant,
        relationship=relationship,
        reason=reason,
        document_reference=document_reference,
    )
    _end_outgrown(proxy=proxy, dependant=dependant, today=timezone.localdate())
    if ProxyGrant.objects.filter(proxy=proxy, dependant=dependant, ended_at=None).exists():
        raise ProxyRefused("these two residents are already linked")
    grant = ProxyGrant(
        proxy=proxy,
        dependant=dependant,
        kind=ProxyGrant.Kind.MINOR,
        relationship=relationship,
        reason=reason,
        document_reference=document_reference,
        accepted_at=timezone.now(),
        ends_on=adulthood_date(dependant.birth_date),
    )
    grant.full_clean()
    grant.save()
    _proxy_record("portal.proxies.link", grant)
    return grant


@transaction.atomic
def proxy_invitation_create(*, dependant: Resident, relationship: str) -> tuple[ProxyGrant, str]:
    """Invite someone to act for DEPENDANT, an adult; return the grant-to-be and its code, shown once.

    The invitation is taken up by the first resident who enters the code within
    PROXY_INVITATION_LIFETIME: no national ID is typed, so nobody learns from the
    portal whether someone else is registered.
    """
    if not _is_adult(dependant, timezone.localdate()):
        raise ProxyRefused("a minor's parent or guardian is linked by a caseworker")
    code = base64.b32encode(os.urandom(10)).decode()[:10]
    grant = ProxyGrant(
        dependant=dependant,
        kind=ProxyGrant.Kind.ADULT,
        relationship=relationship,
        invitation_code_hash=proxy_invitation_code_hash(code),
        invitation_expires_at=timezone.now() + PROXY_INVITATION_LIFETIME,
    )
    grant.full_clean()
    grant.save()
    _proxy_record("portal.proxies.invite", grant)
    return grant, f"{code[:5]}-{code[5:]}"


@transaction.atomic
def proxy_invitation_accept(*, proxy: Resident, code: str) -> ProxyGrant:
    """Make PROXY the one who acts for the resident who gave out invitation CODE; it is used up.

    Unknown, expired, withdrawn and used codes, one's own code and a pair already
    linked are refused alike, so the answer tells nothing about whose code it is.
    """
    # Lock order: the invitation, then the pair's open grants.
    grant = (
        ProxyGrant.objects.select_for_update()
        .filter(invitation_code_hash=proxy_invitation_code_hash(code), proxy=None, ended_at=None)
        .first()
    )
    now = timezone.now()
    if grant is None or grant.invitation_expires_at is None or grant.invitation_expires_at <= now:
        raise ProxyRefused("the invitation code is wrong, expired or already used")
    dependant = Resident.objects.get(pk=grant.dependant_id)
    if dependant.pk == proxy.pk or not _is_adult(proxy, timezone.localdate()):
        raise ProxyRefused("the invitation code is wrong, expired or already used")
    _end_outgrown(proxy=proxy, dependant=dependant, today=timezone.localdate())
    if ProxyGrant.objects.filter(proxy=proxy, dependant=dependant, ended_at=None).exists():
        raise ProxyRefused("the invitation code is wrong, expired or already used")
    grant.proxy = proxy
    grant.accepted_at = now
    grant.invitation_code_hash = ""
    grant.save(update_fields=["proxy", "accepted_at", "invitation_code_hash"])
    _proxy_record("portal.proxies.accept", grant)
    return grant


@transaction.atomic
def proxy_grant_end(*, grant: ProxyGrant, by: str) -> ProxyGrant:
    """End GRANT (or withdraw an invitation) from now on; BY is one of ProxyGrant.EndedBy. Ending twice is a no-op."""
    if by not in ProxyGrant.EndedBy.values:
        raise ValueError(f"unknown ender {by!r}")
    grant = ProxyGrant.objects.select_for_update(of=("self",)).select_related("dependant", "proxy").get(pk=grant.pk)
    if grant.ended_at is not None:
        return grant
    grant.ended_at = timezone.now()
    grant.ended_by = by
    grant.invitation_code_hash = ""
    grant.save(update_fields=["ended_at", "ended_by", "invitation_code_hash"])
    _proxy_record("portal.proxies.end", grant, detail=f"by {by}")
    return grant


@transaction.atomic
def proxy_session_start(*, grant: ProxyGrant) -> None:
    """Record that GRANT's proxy starts acting for its dependant, under both of them."""
    _proxy_record("portal.proxies.start", grant)


@transaction.atomic
def proxy_session_stop(*, grant: ProxyGrant) -> None:
    """Record that GRANT's proxy stops acting for its dependant, under both of them."""
    _proxy_record("portal.proxies.stop", grant)


def proxy_accesses_record(*, grant: ProxyGrant, actions: list[str]) -> None:
    """Record under the proxy's own subject that they accessed their dependant's data: ACTIONS, in order.

    Each of those accesses is recorded under the dependant, with the proxy as
    actor; this entry puts the same request in the proxy's history.
    """
    names = ",".join(dict.fromkeys(actions))
    record(action="portal.proxies.act", subject=grant.proxy, object=f"{grant.ledger_object} {names}")


def resident_consent_grant(*, resident: Resident, agency, scope: str, purpose: str, proxy_grant: ProxyGrant | None):
    """Give RESIDENT's consent to AGENCY; a proxy (PROXY_GRANT) of an adult may not open their health data.

    An adult's health data opens only with their own confirmation: they give
    that consent themselves. A minor's parent or guardian may give it.
    """
    if proxy_grant is not None and proxy_grant.kind == ProxyGrant.Kind.ADULT and scope_is_health_data(scope):
        raise ProxyRefused("an adult gives a consent to their health data themselves")
    return consent_grant(resident=resident, agency=agency, scope=scope, purpose=purpose)


def resident_card_photo_submit(*, resident: Resident, data: bytes, proxy_grant: ProxyGrant | None):
    """Send RESIDENT's card photo for approval; a proxy (PROXY_GRANT) of an adult may not.

    The photo is the face a pharmacist compares with the person at the counter
    and the portrait in the card's credentials: an adult sends their own, as
    they bind a wallet to the card themselves. A minor's parent or guardian may.
    """
    if proxy_grant is not None and proxy_grant.kind == ProxyGrant.Kind.ADULT:
        raise ProxyRefused("an adult sends the photo for their card themselves")
    return resident_photo_submit(resident=resident, data=data)
