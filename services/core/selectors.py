"""Read agencies, credentials and consents, and answer partner questions about residents."""

import hmac

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cards.crypto import national_id_lookup_hash
from cards.models import Resident
from cards.national_id import parse_national_id
from ledger.api import record, record_bulk
from services.core import catalogue
from services.core.calls import AgencyCall
from services.core.errors import (
    AgencyInactive,
    ConsentMissing,
    CredentialsExpired,
    CredentialsInvalid,
    CredentialsRevoked,
    NationalIdInvalid,
)
from services.core.models import Agency, AgencyKey, Consent


def agency_key_authenticate(*, secret: str) -> AgencyKey:
    """Return the usable key matching SECRET, or raise why it is refused."""
    prefix, dot, _rest = secret.partition(".")
    if not dot or not prefix:
        raise CredentialsInvalid("the API key is not in the form PREFIX.SECRET")
    key = AgencyKey.objects.select_related("agency").filter(prefix=prefix).first()
    if key is None or not key.is_valid(secret):
        raise CredentialsInvalid("no API key matches the one presented")
    if key.revoked:
        raise CredentialsRevoked(f"the API key {key.prefix} was revoked")
    if key.has_expired:
        raise CredentialsExpired(f"the API key {key.prefix} expired at {key.expiry_date.isoformat()}")
    if not key.agency.is_active:
        raise AgencyInactive(f"the agency {key.agency.code} is suspended")
    return key


def agency_scopes(*, agency: Agency) -> list[str]:
    """Return the scopes granted to AGENCY that the catalogue still knows."""
    known = catalogue.scopes_all()
    return [scope for scope in agency.scope_grants.values_list("scope", flat=True) if scope in known]


def agency_purposes(*, agency: Agency) -> list[str]:
    """Return the purposes AGENCY may name that the catalogue still knows."""
    known = catalogue.purposes_all()
    return [purpose for purpose in agency.purpose_grants.values_list("purpose", flat=True) if purpose in known]


def consent_active_exists(*, resident: Resident, agency: Agency, scope: str, purpose: str) -> bool:
    """Return whether RESIDENT has a consent in force for AGENCY, SCOPE and PURPOSE."""
    now = timezone.now()
    return Consent.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        resident=resident,
        agency=agency,
        scope=scope,
        purpose=purpose,
        revoked_at__isnull=True,
        granted_at__lte=now,
    ).exists()


def consent_enforce(*, resident: Resident, call: AgencyCall, action: str) -> None:
    """Raise ConsentMissing, after recording the refusal, when CALL needs a consent RESIDENT has not given."""
    if not call.consent_required:
        return
    if consent_active_exists(resident=resident, agency=call.agency, scope=call.scope, purpose=call.purpose):
        return
    with transaction.atomic():
        record(action=action, subject=resident, outcome="denied", object="no-consent")
    raise ConsentMissing(f"the resident has not consented to {call.agency.code} using {call.scope} for {call.purpose}")


def consent_list_for_agency(
    *, agency: Agency, scope: str | None = None, purpose: str | None = None, active: bool | None = None
) -> QuerySet[Consent]:
    """Return AGENCY's consents, newest first, filtered by scope, purpose and whether in force."""
    queryset = Consent.objects.filter(agency=agency).select_related("resident", "agency")
    if scope:
        queryset = queryset.filter(scope=scope)
    if purpose:
        queryset = queryset.filter(purpose=purpose)
    now = timezone.now()
    in_force = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    if active is True:
        queryset = queryset.filter(in_force)
    elif active is False:
        queryset = queryset.exclude(in_force)
    return queryset


def consent_list_record(*, consents: list[Consent]) -> list[Consent]:
    """Record that the consents shown to a partner were read; return them."""
    record_bulk(action="services.consents.list", subjects=[consent.resident for consent in consents])
    return consents


def consent_list_for_resident(*, resident: Resident) -> QuerySet[Consent]:
    """Return RESIDENT's consents, newest first, for the portal's consent page."""
    record(action="services.consents.list", subject=resident)
    return Consent.objects.filter(resident=resident).select_related("agency")


def consent_receipt(*, consent: Consent) -> dict:
    """Return the consent receipt a resident can download, as JSON-ready data."""
    record(action="services.consents.receipt", subject=consent.resident, object=f"consent:{consent.receipt_id}")
    scope = catalogue.scopes_all().get(consent.scope)
    purpose = catalogue.purposes_all().get(consent.purpose)
    return {
        "receipt_id": str(consent.receipt_id),
        "resident": {"name": consent.resident.full_name, "national_id": consent.resident.national_id_masked},
        "agency": {
            "code": consent.agency.code,
            "name_en": consent.agency.name_en,
            "name_zh_hans": consent.agency.name_zh_hans,
            "kind": consent.agency.kind,
        },
        "scope": {"code": consent.scope, "description": scope.description if scope else ""},
        "purpose": {
            "code": consent.purpose,
            "name_en": purpose.name_en if purpose else "",
            "name_zh_hans": purpose.name_zh_hans if purpose else "",
            "legal_basis": purpose.legal_basis if purpose else "",
        },
        "granted_at": consent.granted_at.isoformat(),
        "expires_at": consent.expires_at.isoformat() if consent.expires_at else None,
        "revoked_at": consent.revoked_at.isoformat() if consent.revoked_at else None,
        "active": consent.is_active(),
    }


def resident_identity_verify(*, national_id: str, full_name: str, call: AgencyCall) -> bool:
    """Return whether NATIONAL_ID and FULL_NAME belong to the same registered resident.

    An unknown national ID is refused like a missing consent, so the answer
    never tells a partner who is in the register without their consent.
    """
    try:
        number = parse_national_id(national_id).number
    except ValidationError as error:
        raise NationalIdInvalid(str(error.messages[0])) from None
    resident = Resident.objects.filter(national_id_hash=national_id_lookup_hash(number)).first()
    if resident is None:
        raise ConsentMissing("no consent on record for this resident")
    consent_enforce(resident=resident, call=call, action="services.residents.verify")
    match = hmac.compare_digest(" ".join(full_name.split()).casefold().encode(), resident.full_name.casefold().encode())
    with transaction.atomic():
        record(action="services.residents.verify", subject=resident, object="match" if match else "mismatch")
    return match


def resident_find_for_partner(*, national_id: str) -> Resident | None:
    """Return the resident a partner names by NATIONAL_ID, None when unregistered; raise NationalIdInvalid if malformed.

    Nothing is recorded here: the caller records the access it makes, under its own action.
    """
    try:
        number = parse_national_id(national_id).number
    except ValidationError as error:
        raise NationalIdInvalid(str(error.messages[0])) from None
    return Resident.objects.filter(national_id_hash=national_id_lookup_hash(number)).first()
