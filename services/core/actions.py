"""Write agencies, their credentials and grants, resident consents and idempotency records."""

import base64
import datetime
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from cards.crypto import resident_data_seal
from cards.models import Resident
from ledger.api import record
from services.core.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from services.core.models import Agency, AgencyKey, AgencyPurpose, AgencyScope, Consent, IdempotentRequest


@transaction.atomic
def agency_create(
    *,
    code: str,
    name_en: str,
    name_zh_hans: str,
    kind: str,
    scopes: tuple[str, ...] = (),
    purposes: tuple[str, ...] = (),
    throttle_rate: str = "",
) -> Agency:
    """Add a partner agency with its granted scopes and purposes."""
    agency = Agency(code=code, name_en=name_en, name_zh_hans=name_zh_hans, kind=kind, throttle_rate=throttle_rate)
    agency.full_clean()
    agency.save()
    agency_grants_set(agency=agency, scopes=scopes, purposes=purposes)
    return agency


@transaction.atomic
def agency_grants_set(*, agency: Agency, scopes: tuple[str, ...], purposes: tuple[str, ...]) -> Agency:
    """Make AGENCY's granted scopes and purposes exactly SCOPES and PURPOSES."""
    agency.scope_grants.exclude(scope__in=scopes).delete()
    agency.purpose_grants.exclude(purpose__in=purposes).delete()
    held_scopes = set(agency.scope_grants.values_list("scope", flat=True))
    held_purposes = set(agency.purpose_grants.values_list("purpose", flat=True))
    for scope in scopes:
        if scope not in held_scopes:
            grant = AgencyScope(agency=agency, scope=scope)
            grant.full_clean()
            grant.save()
    for purpose in purposes:
        if purpose not in held_purposes:
            grant = AgencyPurpose(agency=agency, purpose=purpose)
            grant.full_clean()
            grant.save()
    return agency


@transaction.atomic
def agency_key_issue(
    *, agency: Agency, name: str, expires_at: datetime.datetime | None = None
) -> tuple[AgencyKey, str]:
    """Issue a new API key to AGENCY; return the stored key and the only copy of its secret."""
    key = AgencyKey(agency=agency, name=name, expiry_date=expires_at)
    secret = AgencyKey.objects.assign_key(key)
    key.full_clean()
    key.save()
    return key, secret


@transaction.atomic
def agency_key_rotate(
    *, key: AgencyKey, overlap: datetime.timedelta = datetime.timedelta(days=7)
) -> tuple[AgencyKey, str]:
    """Issue a successor to KEY and let KEY expire after OVERLAP, so the agency can switch without downtime."""
    key = AgencyKey.objects.select_for_update().get(pk=key.pk)
    successor, secret = agency_key_issue(agency=key.agency, name=key.name, expires_at=None)
    retire_at = timezone.now() + overlap
    if key.expiry_date is None or key.expiry_date > retire_at:
        key.expiry_date = retire_at
        key.save(update_fields=["expiry_date"])
    return successor, secret


@transaction.atomic
def agency_key_revoke(*, key: AgencyKey) -> AgencyKey:
    """Revoke KEY at once; revocation cannot be undone."""
    key.revoked = True
    key.save(update_fields=["revoked"])
    return key


@transaction.atomic
def consent_grant(
    *,
    resident: Resident,
    agency: Agency,
    scope: str,
    purpose: str,
    expires_at: datetime.datetime | None = None,
) -> Consent:
    """Record RESIDENT's consent for AGENCY to use SCOPE for PURPOSE."""
    consent = Consent(resident=resident, agency=agency, scope=scope, purpose=purpose, expires_at=expires_at)
    consent.full_clean()
    consent.save()
    record(
        action="services.consents.grant",
        subject=resident,
        purpose="consent-management",
        object=f"consent:{consent.receipt_id}",
    )
    return consent


@transaction.atomic
def consent_revoke(*, consent: Consent) -> Consent:
    """Withdraw CONSENT from now on; revoking twice keeps the first time."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.revoked_at is None:
        consent.revoked_at = timezone.now()
        consent.save(update_fields=["revoked_at"])
    record(
        action="services.consents.revoke",
        subject=consent.resident,
        purpose="consent-management",
        object=f"consent:{consent.receipt_id}",
    )
    return consent


def idempotent_request_claim(
    *, agency: Agency, key: str, method: str, path: str, fingerprint: str
) -> tuple[IdempotentRequest, bool]:
    """Claim KEY for this request; return (record, True) when first, or the finished record to replay.

    A key is remembered for ONECARD_IDEMPOTENCY_KEY_HOURS, and a claim whose
    request never finished (its process died) for
    ONECARD_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS; past those the key is free
    again, whether or not the purge has run. Raises IdempotencyKeyReused when
    KEY came with another request, and IdempotencyKeyInFlight when the first
    request has not finished.
    """
    for _ in range(3):
        try:
            with transaction.atomic():
                claimed = IdempotentRequest.objects.create(
                    agency=agency, key=key, method=method, path=path, fingerprint=fingerprint
                )
            return claimed, True
        except IntegrityError:
            earlier = IdempotentRequest.objects.filter(agency=agency, key=key).first()
        if earlier is None:
            continue  # purged between the two queries: claim it again
        # Free the key if this record has expired. A concurrent claimer may delete it
        # first; its fresh claim then stops this one on the next pass.
        if IdempotentRequest.objects.filter(_idempotency_expired(timezone.now()), pk=earlier.pk).delete()[0]:
            continue
        if (earlier.method, earlier.path, earlier.fingerprint) != (method, path, fingerprint):
            raise IdempotencyKeyReused("this Idempotency-Key was first used with a different request")
        if earlier.status_code is None:
            raise IdempotencyKeyInFlight("the first request with this Idempotency-Key is still being processed")
        return earlier, False
    raise IdempotencyKeyInFlight("the first request with this Idempotency-Key is still being processed")


def _idempotency_expired(now: datetime.datetime) -> Q:
    """Match the records past their retention at NOW, and the claims whose request never finished."""
    kept_since = now - datetime.timedelta(hours=settings.ONECARD_IDEMPOTENCY_KEY_HOURS)
    claims_kept_since = now - datetime.timedelta(seconds=settings.ONECARD_IDEMPOTENCY_CLAIM_TIMEOUT_SECONDS)
    return Q(created_at__lt=kept_since) | Q(status_code__isnull=True, created_at__lt=claims_kept_since)


def idempotent_requests_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete stored responses past their retention and claims whose request never finished; return how many.

    The stored body of a response can hold a resident's data, so it is kept
    no longer than a retry needs it.
    """
    deleted, _ = IdempotentRequest.objects.filter(_idempotency_expired(now or timezone.now())).delete()
    return deleted


def idempotent_request_complete(
    *,
    claimed: IdempotentRequest,
    status_code: int,
    content_type: str,
    body: bytes,
    accesses: list[dict],
    consents: list[dict],
) -> IdempotentRequest:
    """Store the response to replay for repeats of the claimed request, sealed with what a replay must check.

    ACCESSES are the ledger accesses the request recorded (a replay records them
    again), CONSENTS the consents it relied on (a replay checks them again).
    Sealed, because the body can hold a resident's data.
    """
    envelope = {"body": base64.b64encode(body).decode("ascii"), "accesses": accesses, "consents": consents}
    claimed.status_code = status_code
    claimed.content_type = content_type
    claimed.body = resident_data_seal(json.dumps(envelope, separators=(",", ":")).encode(), label=claimed.seal_label)
    claimed.save(update_fields=["status_code", "content_type", "body"])
    return claimed


def idempotent_request_release(*, claimed: IdempotentRequest) -> None:
    """Forget a claim whose request failed on the server, so the agency may retry with the same key."""
    IdempotentRequest.objects.filter(pk=claimed.pk, status_code__isnull=True).delete()
