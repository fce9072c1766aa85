"""Read agencies, credentials and consents, and answer partner questions about residents."""

import base64
import contextlib
import contextvars
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cards.crypto import DecryptionError, national_id_lookup_hash, resident_data_open
from cards.models import Resident
from cards.national_id import parse_national_id
from ledger.api import record, record_bulk
from services.core import catalogue
from services.core.calls import AgencyCall
from services.core.declaration import CoreScope
from services.core.errors import (
    AgencyInactive,
    ConsentMissing,
    CredentialsExpired,
    CredentialsInvalid,
    CredentialsRevoked,
    IdempotencyKeyReused,
    NationalIdInvalid,
    ScopeWithdrawn,
)
from services.core.models import Agency, AgencyKey, Consent, IdempotentRequest


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


_consents_relied_on: contextvars.ContextVar[list[dict] | None] = contextvars.ContextVar(
    "onecard_consents_relied_on", default=None
)


@contextlib.contextmanager
def consents_relied_on() -> Iterator[list[dict]]:
    """Collect the consents found in force inside the block, so a replay of the answer can check them again."""
    collected: list[dict] = []
    token = _consents_relied_on.set(collected)
    try:
        yield collected
    finally:
        _consents_relied_on.reset(token)


def _consent_in_force(*, resident_id: int | None, agency: Agency, scope: str, purpose: str) -> bool:
    now = timezone.now()
    return Consent.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        resident_id=resident_id,
        agency=agency,
        scope=scope,
        purpose=purpose,
        revoked_at__isnull=True,
        granted_at__lte=now,
    ).exists()


def consent_active_exists(*, resident: Resident, agency: Agency, scope: str, purpose: str) -> bool:
    """Return whether RESIDENT has a consent in force for AGENCY, SCOPE and PURPOSE."""
    found = _consent_in_force(resident_id=resident.pk, agency=agency, scope=scope, purpose=purpose)
    collected = _consents_relied_on.get()
    if found and collected is not None:
        collected.append({"resident": resident.pk, "scope": scope, "purpose": purpose})
    return found


def consent_missing(*, call: AgencyCall, asked: str | None = None) -> ConsentMissing:
    """Return the one refusal for a resident who has not consented, and for a national ID nobody holds."""
    return ConsentMissing(
        f"the resident has not consented to {call.agency.code} asking {asked} for {call.purpose}"
        if asked
        else f"the resident has not consented to {call.agency.code} using {call.scope} for {call.purpose}"
    )


def consent_enforce(*, resident: Resident, call: AgencyCall, action: str) -> None:
    """Raise ConsentMissing, after recording the refusal, when CALL needs a consent RESIDENT has not given."""
    if not call.consent_required:
        return
    if consent_active_exists(resident=resident, agency=call.agency, scope=call.scope, purpose=call.purpose):
        return
    with transaction.atomic():
        record(action=action, subject=resident, outcome="denied", object="no-consent")
    raise consent_missing(call=call)


def unregistered_refuse(*, lookup: str, call: AgencyCall, actions: list[tuple[str, str]], scopes: list[str]) -> None:
    """Refuse a national ID nobody holds exactly as a registered resident without consent is refused.

    The same queries and ledger writes run as on that path (a consent lookup per
    scope in SCOPES, one denied entry per (action, object) in ACTIONS), so
    neither the answer nor its timing tells a partner who is registered. The
    entries' subject is a pseudonym of the lookup hash: no resident's history
    shows them, and an auditor sees the attempt.
    """
    for scope in scopes:
        _consent_in_force(resident_id=None, agency=call.agency, scope=scope, purpose=call.purpose)
    with transaction.atomic():
        for action, object in actions:
            record(action=action, subject=f"unregistered:{lookup}", outcome="denied", object=object)


def resident_get_for_partner(*, national_id: str, call: AgencyCall, action: str) -> Resident:
    """Return the resident a partner names once consent (where the scope needs it) is checked.

    Raise NationalIdInvalid for a malformed ID, and ConsentMissing, after
    recording the refusal, both for a resident without consent and for an
    unregistered ID (whether or not the scope needs consent: a partner learns
    nothing from a refusal that it could not learn from a registered resident).
    """
    lookup = national_id_lookup(national_id=national_id)
    resident = resident_find_by_lookup(lookup=lookup)
    if resident is None:
        unregistered_refuse(
            lookup=lookup,
            call=call,
            actions=[(action, "no-consent")],
            scopes=[call.scope] if call.consent_required else [],
        )
        raise consent_missing(call=call)
    consent_enforce(resident=resident, call=call, action=action)
    return resident


@dataclass(frozen=True)
class StoredResponse:
    body: bytes
    accesses: list[dict]
    consents: list[dict]


def idempotent_response_open(*, idempotent: IdempotentRequest) -> StoredResponse:
    """Return the sealed response of a finished idempotent request, with what its replay must check."""
    try:
        envelope = json.loads(resident_data_open(idempotent.body, label=idempotent.seal_label))
    except DecryptionError:
        raise IdempotencyKeyReused("the first answer to this key can no longer be replayed; use a new key") from None
    return StoredResponse(
        body=base64.b64decode(envelope["body"]), accesses=envelope["accesses"], consents=envelope["consents"]
    )


# Accesses whose answer holds a resident's photo: a replay of it needs the photo scope still.
PHOTO_ACTIONS = frozenset({"cards.photos.view"})
PHOTO_SCOPE = CoreScope.CARDS_PHOTO


def photo_allowed(*, call: AgencyCall) -> bool:
    """Return whether CALL may be shown a resident's photo: the agency holds cards:photo, for a purpose allowing it."""
    return PHOTO_SCOPE in agency_scopes(agency=call.agency) and catalogue.purpose_allows_scope(
        call.purpose, PHOTO_SCOPE
    )


def idempotent_replay_authorise(*, accesses: list[dict], consents: list[dict], call: AgencyCall) -> None:
    """Check again the consents (and the photo scope) a stored answer relied on; record its accesses as before.

    Raise ConsentMissing, after recording each access as refused, when any of
    those consents has ended since, or ScopeWithdrawn when the answer holds a
    photo and the agency may no longer see photos: a replay serves nothing the
    first call could not serve now.
    """
    if any(access["action"] in PHOTO_ACTIONS for access in accesses) and not photo_allowed(call=call):
        with transaction.atomic():
            for access in accesses:
                record(**{**access, "outcome": "denied", "object": "replay:no-photo-scope"})
        raise ScopeWithdrawn(
            f"this answer holds a photo, and {call.agency.code} no longer holds {PHOTO_SCOPE} for {call.purpose}"
        )
    ended = [
        consent
        for consent in consents
        if not _consent_in_force(
            resident_id=consent["resident"], agency=call.agency, scope=consent["scope"], purpose=consent["purpose"]
        )
    ]
    with transaction.atomic():
        for access in accesses:
            # The same action and subject, marked as a replay: it showed the first answer again, it did not
            # act again (a replayed payment confirmation credited nothing).
            if ended:
                record(**{**access, "outcome": "denied", "object": "replay:no-consent"})
            else:
                record(**{**access, "object": f"replay:{access['object']}" if access["object"] else "replay"})
    if ended:
        scopes = sorted({consent["scope"] for consent in ended})
        raise consent_missing(call=call, asked=None if scopes == [call.scope] else ", ".join(scopes))


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
    resident = resident_get_for_partner(national_id=national_id, call=call, action="services.residents.verify")
    match = hmac.compare_digest(" ".join(full_name.split()).casefold().encode(), resident.full_name.casefold().encode())
    with transaction.atomic():
        record(action="services.residents.verify", subject=resident, object="match" if match else "mismatch")
    return match


def resident_find_for_partner(*, national_id: str) -> Resident | None:
    """Return the resident a partner names by NATIONAL_ID, None when unregistered; raise NationalIdInvalid if malformed.

    Nothing is recorded here: the caller records the access it makes, under its own action.
    """
    return resident_find_by_lookup(lookup=national_id_lookup(national_id=national_id))


def resident_find_by_lookup(*, lookup: str) -> Resident | None:
    """Return the resident whose national ID has the lookup hash LOOKUP, None when unregistered; record nothing."""
    return Resident.objects.filter(national_id_hash=lookup).first()


def national_id_lookup(*, national_id: str) -> str:
    """Return the lookup hash of NATIONAL_ID, or raise NationalIdInvalid if it is malformed."""
    try:
        number = parse_national_id(national_id).number
    except ValidationError as error:
        raise NationalIdInvalid(str(error.messages[0])) from None
    return national_id_lookup_hash(number)


def consent_resident_ids(*, agency: Agency, scope: str, purpose: str) -> set[int]:
    """Return the ids of residents whose consent for AGENCY, SCOPE and PURPOSE is in force now."""
    now = timezone.now()
    rows = Consent.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        agency=agency,
        scope=scope,
        purpose=purpose,
        revoked_at__isnull=True,
        granted_at__lte=now,
    )
    return set(rows.values_list("resident_id", flat=True))
