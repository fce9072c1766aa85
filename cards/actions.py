"""Write to the resident register and the cards it issues."""

import base64
import dataclasses
import datetime
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from cards import credentials, images, lock_objects, signing
from cards.crypto import national_id_lookup_hash
from cards.errors import (
    ActivationCodeInvalid,
    CardAlreadyIssued,
    CardReasonInvalid,
    CardTransitionRefused,
    HolderKeyInvalid,
    ImportRejected,
    IssuanceRefused,
    PhotoTransitionRefused,
    ResidentAlreadyRegistered,
    ResidentInvalid,
    SigningKeyUnknown,
)
from cards.models import (
    Card,
    CardPayment,
    CardRedemption,
    CardSigningKey,
    CredentialNonce,
    CredentialOffer,
    Resident,
    ResidentPhoto,
    status_index_draw,
)
from cards.numbers import card_number_generate
from cards.photos import photo_clean, photo_encrypt
from cards.reasons import CardReason
from cards.selectors import status_list_claims
from cards.tools import onecard_card_verify as offline
from cards.tools.onecard_card_verify import DYNAMIC_LIFETIME_SECONDS, STATUS_LIST_TYPE
from cards.validation import resident_fields_clean
from ledger.api import context_get, record, record_bulk

IMPORT_FIELDS = ("national_id", "full_name", "phone", "email")
_IMPORT_BATCH = 2000
_LOOKUP_CHUNK = 900


@transaction.atomic
def resident_register(*, national_id: str, full_name: str, phone: str = "", email: str = "", user=None) -> Resident:
    """Add one resident to the register."""
    cleaned, errors = resident_fields_clean(national_id=national_id, full_name=full_name, phone=phone, email=email)
    if errors:
        raise ResidentInvalid(errors)
    resident = Resident(full_name=cleaned["full_name"], phone=cleaned["phone"], email=cleaned["email"], user=user)
    resident.set_national_id(cleaned["national_id"])
    if Resident.objects.filter(national_id_hash=resident.national_id_hash).exists():
        raise ResidentAlreadyRegistered("a resident with this national ID is already registered")
    resident.full_clean(exclude=["national_id_hash"])
    resident.save()
    record(action="cards.residents.create", subject=resident)
    return resident


@transaction.atomic
def resident_update_contact(*, resident: Resident, full_name: str, phone: str, email: str) -> Resident:
    """Change a resident's name and contact details."""
    cleaned, errors = resident_fields_clean(
        national_id=resident.national_id, full_name=full_name, phone=phone, email=email
    )
    if errors:
        raise ResidentInvalid(errors)
    resident.full_name, resident.phone, resident.email = cleaned["full_name"], cleaned["phone"], cleaned["email"]
    resident.full_clean()
    resident.save(update_fields=["full_name", "phone", "email", "updated_at"])
    record(action="cards.residents.update", subject=resident)
    return resident


def residents_import(
    *,
    rows: Iterable[tuple[int, dict[str, str]]],
    dry_run: bool = False,
    progress: Callable[[Iterable], Iterator] = iter,
) -> int:
    """Validate every (line, row) and save them all, or raise ImportRejected and save none."""
    problems: list[tuple[int, str, str]] = []
    pending: list[tuple[int, Resident]] = []
    first_line_of: dict[str, int] = {}
    for line, row in progress(rows):
        cleaned, errors = resident_fields_clean(
            national_id=row.get("national_id", ""),
            full_name=row.get("full_name", ""),
            phone=row.get("phone", ""),
            email=row.get("email", ""),
        )
        problems.extend((line, field, message) for field, message in errors.items())
        if "national_id" in errors:
            continue
        lookup = national_id_lookup_hash(cleaned["national_id"])
        if lookup in first_line_of:
            problems.append((line, "national_id", f"duplicate of line {first_line_of[lookup]}"))
            continue
        first_line_of[lookup] = line
        if errors:
            continue
        resident = Resident(full_name=cleaned["full_name"], phone=cleaned["phone"], email=cleaned["email"])
        resident.set_national_id(cleaned["national_id"])
        pending.append((line, resident))

    hashes = list(first_line_of)
    for start in range(0, len(hashes), _LOOKUP_CHUNK):
        chunk = hashes[start : start + _LOOKUP_CHUNK]
        for existing in Resident.objects.filter(national_id_hash__in=chunk).values_list("national_id_hash", flat=True):
            problems.append((first_line_of[existing], "national_id", "already registered"))

    if problems:
        raise ImportRejected(sorted(problems))
    if dry_run:
        return len(pending)
    with transaction.atomic():
        residents = [resident for _, resident in pending]
        if connection.vendor == "postgresql":
            _residents_copy(residents)
        else:
            for start in range(0, len(residents), _IMPORT_BATCH):
                Resident.objects.bulk_create(residents[start : start + _IMPORT_BATCH])
        record_bulk(action="cards.residents.create", subjects=residents)
    return len(pending)


def _residents_copy(residents: list[Resident]) -> None:
    """Insert RESIDENTS with COPY, taking their ids from the table's sequence first so the ledger can name them."""
    if not residents:
        return
    table = Resident._meta.db_table
    fields = Resident._meta.concrete_fields
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(residents)]
        )
        for resident, (pk,) in zip(residents, cursor.fetchall(), strict=True):
            resident.pk = pk
        columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        with cursor.copy(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN") as copy:
            for resident in residents:
                copy.write_row([field.get_db_prep_save(field.pre_save(resident, True), connection) for field in fields])
    for resident in residents:
        resident._state.adding = False
        resident._state.db = connection.alias


# Card lifecycle. Each verb moves a card from one of the allowed statuses to the
# target; anything else raises CardTransitionRefused. docs/cards.md has the table.
S = Card.Status
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "activated": (frozenset({S.PENDING}), S.ACTIVE),
    "suspended": (frozenset({S.ACTIVE}), S.SUSPENDED),
    "resumed": (frozenset({S.SUSPENDED}), S.ACTIVE),
    "reported lost": (frozenset({S.ACTIVE, S.SUSPENDED}), S.LOST),
    "reissued": (frozenset({S.ACTIVE, S.SUSPENDED, S.LOST, S.EXPIRED}), S.REPLACED),
    "revoked": (frozenset({S.PENDING, S.ACTIVE, S.SUSPENDED, S.LOST}), S.REVOKED),
    "expired": (frozenset({S.PENDING, S.ACTIVE, S.SUSPENDED}), S.EXPIRED),
}
CARD_VALIDITY_YEARS = 10
ACTIVATION_CODE_LIFETIME = datetime.timedelta(days=14)
ACTIVATION_MAX_ATTEMPTS = 5
_ACTIVATION_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_ACTIVATION_LENGTH = 10
_DEFAULT_PURPOSE = "card-administration"


def _card_record(*, action: str, card: Card, detail: str = "", outcome: str = "ok") -> None:
    # Staff contexts opened for another purpose still record card changes under card administration.
    purpose = None if context_get().purpose else _DEFAULT_PURPOSE
    record(
        action=action,
        subject=card.resident,
        purpose=purpose,
        object=f"{card.ledger_object} v{card.version} {detail}".strip(),
        outcome=outcome,
    )


def _reason_check(reason: str) -> str:
    if reason not in CardReason.values:
        raise CardReasonInvalid(f"unknown reason {reason!r}; use one of: {', '.join(CardReason.values)}")
    return reason


def _transition(*, card: Card, verb: str, reason: str, action: str) -> Card:
    _reason_check(reason)
    card = lock_objects.card_lock(card_id=card.pk)
    allowed, target = TRANSITIONS[verb]
    if card.status not in allowed:
        raise CardTransitionRefused(verb=verb, status=card.status)
    previous = card.status
    card.status = target
    card.status_reason = reason
    card.full_clean()
    card.save(update_fields=["status", "status_reason", "activated_at", "activation_code_hash", "updated_at"])
    _card_record(action=action, card=card, detail=f"{previous}->{target} {reason}")
    return card


def _number_unused() -> str:
    while True:
        number = card_number_generate()
        if not Card.objects.filter(number=number).exists():
            return number


def _expiry_from(issued_on: datetime.date) -> datetime.date:
    try:
        return issued_on.replace(year=issued_on.year + CARD_VALIDITY_YEARS)
    except ValueError:  # 29 February
        return issued_on.replace(year=issued_on.year + CARD_VALIDITY_YEARS, day=28)


def _activation_code_hash(*, card_id: int, code: str) -> str:
    message = f"card-activation:{card_id}:{code.strip().upper().replace('-', '')}".encode()
    return hmac.new(settings.ONECARD_CARD_KEY_ENCRYPTION_KEY, message, hashlib.sha256).hexdigest()


def _activation_send_after_commit(card: Card, *, locked: bool = False) -> None:
    from cards.tasks import card_activation_code_send

    card_id = card.pk
    if locked:
        transaction.on_commit(lambda: card_activation_code_send.delay(card_id, locked=True))
    else:
        transaction.on_commit(lambda: card_activation_code_send.delay(card_id))


@transaction.atomic
def card_issue(*, resident: Resident, reason: str = CardReason.FIRST_ISSUE, notify: bool = True) -> Card:
    """Issue a pending card to RESIDENT; with NOTIFY, email a one-time activation code after commit."""
    _reason_check(reason)
    lock_objects.resident_lock(resident_id=resident.pk)
    current = [c for c in lock_objects.cards_of_resident_lock(resident_id=resident.pk) if c.status in _HELD]
    if current:
        raise CardAlreadyIssued(f"the resident already holds a {current[0].status} card; reissue it instead")
    card = _card_create(resident=resident, number=_number_unused(), version=1, reason=reason)
    _card_record(action="cards.cards.issue", card=card, detail=f"->pending {reason}")
    if notify:
        _activation_send_after_commit(card)
    return card


_HELD = (S.PENDING, S.ACTIVE, S.SUSPENDED)


def _card_create(*, resident: Resident, number: str, version: int, reason: str) -> Card:
    today = timezone.localdate()
    card = Card(
        resident=resident,
        number=number,
        version=version,
        status=S.PENDING,
        status_reason=reason,
        issued_on=today,
        expires_on=_expiry_from(today),
    )
    card.status_index = status_index_draw()
    # The index is checked free by the draw and unique by the database; a clash is retried below.
    card.full_clean(exclude=["status_index"])
    for attempt in range(3):
        try:
            with transaction.atomic():  # a savepoint: a clash on the drawn index leaves the transaction usable
                card.save()
        except IntegrityError as error:
            # Two cards drew the same free index at the same moment: the constraint refused one; draw again.
            if "status_index" not in str(error) or attempt == 2:
                raise
            card.status_index = status_index_draw()
        else:
            return card
    raise AssertionError("unreachable")


@transaction.atomic
def card_activation_code_create(*, card: Card) -> str:
    """Give the pending CARD a fresh one-time activation code and return it; only its keyed hash is kept."""
    card = lock_objects.card_lock(card_id=card.pk)
    if card.status != S.PENDING:
        raise CardTransitionRefused(verb="given an activation code", status=card.status)
    code = "".join(secrets.choice(_ACTIVATION_ALPHABET) for _ in range(_ACTIVATION_LENGTH))
    card.activation_code_hash = _activation_code_hash(card_id=card.pk, code=code)
    card.activation_code_expires_at = timezone.now() + ACTIVATION_CODE_LIFETIME
    card.activation_attempts = 0
    card.save(update_fields=["activation_code_hash", "activation_code_expires_at", "activation_attempts", "updated_at"])
    _card_record(action="cards.cards.activation_code.create", card=card)
    return code


def _activation_attempt(card: Card, code: str) -> bool:
    """Return whether CODE is the locked CARD's live code; count and record a wrong one."""
    matches = (
        bool(card.activation_code_hash)
        and card.activation_attempts < ACTIVATION_MAX_ATTEMPTS
        and card.activation_code_expires_at is not None
        and card.activation_code_expires_at > timezone.now()
        and hmac.compare_digest(card.activation_code_hash, _activation_code_hash(card_id=card.pk, code=code))
    )
    if not matches:
        card.activation_attempts += 1
        card.save(update_fields=["activation_attempts", "updated_at"])
        _card_record(action="cards.cards.activate", card=card, detail="wrong-code", outcome="denied")
        if card.activation_attempts == ACTIVATION_MAX_ATTEMPTS and card.activation_code_hash:
            # Lock the code, not the card: whoever typed the wrong codes, the holder is told
            # and gets a fresh code, so a stranger who knows the national ID cannot block the card.
            _activation_send_after_commit(card, locked=True)
    return matches


def card_activate(*, card: Card, code: str) -> Card:
    """Activate the pending CARD with its one-time code (the resident's step)."""
    with transaction.atomic():
        card = lock_objects.card_lock(card_id=card.pk)
        allowed, _ = TRANSITIONS["activated"]
        if card.status not in allowed:
            raise CardTransitionRefused(verb="activated", status=card.status)
        if _activation_attempt(card, code):
            card.activated_at = timezone.now()
            card.activation_code_hash = ""
            card.save(update_fields=["activated_at", "activation_code_hash", "updated_at"])
            return _transition(card=card, verb="activated", reason=CardReason.ACTIVATED, action="cards.cards.activate")
        # The failed attempt is counted and recorded (committed here) even though the caller gets an error.
    raise ActivationCodeInvalid("the activation code is wrong, expired, or has been tried too often")


def card_activation_code_check(*, card: Card, code: str) -> None:
    """Raise ActivationCodeInvalid unless CODE is the pending CARD's live code; a wrong one counts as an attempt."""
    with transaction.atomic():
        card = lock_objects.card_lock(card_id=card.pk)
        if card.status == S.PENDING and _activation_attempt(card, code):
            return
    raise ActivationCodeInvalid("the activation code is wrong, expired, or has been tried too often")


@transaction.atomic
def card_suspend(*, card: Card, reason: str) -> Card:
    """Suspend an active card; it fails verification until resumed."""
    return _transition(card=card, verb="suspended", reason=reason, action="cards.cards.suspend")


@transaction.atomic
def card_resume(*, card: Card, reason: str) -> Card:
    """Make a suspended card active again."""
    return _transition(card=card, verb="resumed", reason=reason, action="cards.cards.resume")


@transaction.atomic
def card_report_lost(*, card: Card) -> Card:
    """Mark the card lost at the resident's report; it stops verifying at once and can only be reissued."""
    return _transition(card=card, verb="reported lost", reason=CardReason.REPORTED_LOST, action="cards.cards.lose")


@transaction.atomic
def card_revoke(*, card: Card, reason: str) -> Card:
    """Revoke the card for good."""
    return _transition(card=card, verb="revoked", reason=reason, action="cards.cards.revoke")


@transaction.atomic
def card_reissue(*, card: Card, reason: str, new_number: bool | None = None, notify: bool = True) -> Card:
    """Replace CARD with a pending successor: a new number if it was lost (or when asked), else the next version."""
    _reason_check(reason)
    lock_objects.resident_lock(resident_id=card.resident_id)
    lock_objects.cards_of_resident_lock(resident_id=card.resident_id)
    previous_status = Card.objects.values_list("status", flat=True).get(pk=card.pk)
    old = _transition(card=card, verb="reissued", reason=reason, action="cards.cards.replace")
    if new_number is None:
        # A lost card's number may be in other hands; a damaged one's is not.
        new_number = previous_status == S.LOST or reason in (CardReason.REPORTED_LOST, CardReason.SUSPECTED_FRAUD)
    if new_number:
        successor = _card_create(resident=old.resident, number=_number_unused(), version=1, reason=reason)
    else:
        latest = Card.objects.filter(number=old.number).order_by("-version").values_list("version", flat=True)[0]
        successor = _card_create(resident=old.resident, number=old.number, version=latest + 1, reason=reason)
    old.replaced_by = successor
    old.save(update_fields=["replaced_by", "updated_at"])
    _card_record(action="cards.cards.issue", card=successor, detail=f"->pending {reason} replaces {old.ledger_object}")
    if notify:
        _activation_send_after_commit(successor)
    return successor


def cards_expire(*, today: datetime.date | None = None) -> int:
    """Mark every pending, active or suspended card past its expiry date expired; return how many."""
    today = today or timezone.localdate()
    due = TRANSITIONS["expired"][0]
    with transaction.atomic():
        resident_ids = sorted(
            set(Card.objects.filter(expires_on__lt=today, status__in=due).values_list("resident_id", flat=True))
        )
        list(Resident.objects.select_for_update().filter(pk__in=resident_ids).order_by("id"))
        cards = list(
            Card.objects.select_for_update()
            .select_related("resident")
            .filter(resident_id__in=resident_ids, expires_on__lt=today, status__in=due)
            .order_by("id")
        )
        for card in cards:
            _transition(card=card, verb="expired", reason=CardReason.EXPIRED, action="cards.cards.expire")
        # A jti only matters until its token expires; keep a day of margin.
        CardRedemption.objects.filter(expires_at__lt=timezone.now() - datetime.timedelta(days=1)).delete()
    return len(cards)


# Credentials.
STATUS_REASONS = {
    S.PENDING: "not_activated",
    S.SUSPENDED: "suspended",
    S.LOST: "lost",
    S.REVOKED: "revoked",
    S.EXPIRED: "card_expired",
    S.REPLACED: "replaced",
}
UNKNOWN_CARD = "unknown_card"
KEY_RETIRED = "key_retired"
ALREADY_USED = "already_used"
UNRESOLVED_SUBJECT = "cards:unresolved-credential"


@dataclass(frozen=True)
class CardVerification:
    valid: bool
    card_number: str | None
    status: str | None
    reason: str | None
    # Set for a valid dynamic credential, so a counter can tie what it opens to this one use.
    jti: str | None = None
    card_id: int | None = None


def _verification_record(*, subject, card: Card | None, reason: str | None, dynamic: bool | None) -> None:
    kind = "dynamic" if dynamic else "static" if dynamic is not None else "unparsed"
    detail = f"{card.ledger_object} v{card.version} " if card else ""
    record(
        action="cards.credentials.verify",
        subject=subject,
        object=f"{detail}{kind} {reason or 'valid'}",
        outcome="ok" if reason is None else "invalid",
    )


@transaction.atomic
def card_token_verify(*, token: str) -> CardVerification:
    """Verify a QR credential online: signature, kid, claims, card status and one use; record the check."""
    now = timezone.now().timestamp()
    try:
        header, payload = offline.jws_verify(token, signing.verification_keys())
        claims = offline.claims_check(header, payload, now=now, issuer=settings.ONECARD_CARD_ISSUER)
    except offline.CredentialRefused as refused:
        reason = refused.reason
        if reason == offline.UNKNOWN_KEY and offline.jws_kid(token) in signing.retired_kids():
            reason = KEY_RETIRED
        _verification_record(subject=UNRESOLVED_SUBJECT, card=None, reason=reason, dynamic=None)
        return CardVerification(valid=False, card_number=None, status=None, reason=reason)
    card = Card.objects.select_related("resident").filter(number=claims.card_number, version=claims.version).first()
    if card is None:
        _verification_record(subject=UNRESOLVED_SUBJECT, card=None, reason=UNKNOWN_CARD, dynamic=claims.dynamic)
        return CardVerification(valid=False, card_number=claims.card_number, status=None, reason=UNKNOWN_CARD)
    reason = STATUS_REASONS.get(card.status)
    if reason is None and claims.dynamic:
        try:
            with transaction.atomic():
                CardRedemption.objects.create(
                    jti=claims.jti,
                    card=card,
                    expires_at=datetime.datetime.fromtimestamp(claims.expires_at, tz=datetime.UTC),
                    redeemed_by=context_get().actor.id[:80],
                )
        except IntegrityError:
            reason = ALREADY_USED
    _verification_record(subject=card.resident, card=card, reason=reason, dynamic=claims.dynamic)
    valid = reason is None
    return CardVerification(
        valid=valid,
        card_number=card.number,
        status=card.status,
        reason=reason,
        jti=claims.jti if valid and claims.dynamic else None,
        card_id=card.pk if valid else None,
    )


@transaction.atomic
def signing_key_rotate() -> CardSigningKey:
    """Add a new signing key; it signs from now on and older keys keep verifying until retired."""
    list(lock_objects.signing_keys_lock())
    key = signing.signing_key_create()
    transaction.on_commit(signing.keys_cache_clear)
    return key


@transaction.atomic
def signing_key_retire(*, kid: str) -> CardSigningKey:
    """Retire the key KID: it leaves the JWKS and credentials it signed stop verifying."""
    key = next((row for row in lock_objects.signing_keys_lock() if row.kid == kid), None)
    if key is None or key.retired_at is not None:
        raise SigningKeyUnknown(f"no signing key in use has kid {kid!r}")
    key.retired_at = timezone.now()
    key.save(update_fields=["retired_at"])
    transaction.on_commit(signing.keys_cache_clear)
    signing.keys_cache_clear()
    return key


@transaction.atomic
def card_payment_credit(
    *, card: Card, amount, reference: str, description_en: str, description_zh_hans: str
) -> tuple[CardPayment, bool]:
    """Credit AMOUNT to CARD's account once per REFERENCE; return the payment and whether it is new."""
    existing = CardPayment.objects.filter(reference=reference).first()
    if existing is not None:
        return existing, False
    payment = CardPayment(
        card=card,
        amount=amount,
        reference=reference,
        description_en=description_en,
        description_zh_hans=description_zh_hans,
    )
    payment.full_clean()
    payment.save()
    record(action="cards.payments.credit", subject=card.resident, object=f"{card.ledger_object} {reference}")
    return payment, True


# Credentials and printable cards: signing and rendering are writes, recorded as issued.


def _credential_claims(card: Card, now: datetime.datetime) -> dict:
    if card.status != Card.Status.ACTIVE:
        raise CardTransitionRefused(verb="given a credential", status=card.status)
    return {
        "iss": settings.ONECARD_CARD_ISSUER,
        "sub": card.number,
        "ver": card.version,
        "iat": int(now.timestamp()),
        "status": credentials.card_status_reference(card),
    }


def card_token_static(*, card: Card) -> str:
    """Return the static QR credential of an active card, valid until the card expires."""
    now = timezone.now()
    claims = _credential_claims(card, now)
    end_of_expiry_day = datetime.datetime.combine(card.expires_on, datetime.time.max, tzinfo=datetime.UTC)
    claims["exp"] = int(end_of_expiry_day.timestamp())
    token = signing.jws_sign(claims)
    record(action="cards.credentials.static.issue", subject=card.resident, object=card.ledger_object)
    return token


def card_token_dynamic(*, card: Card) -> str:
    """Return a one-use QR credential of an active card, valid for 60 seconds."""
    now = timezone.now()
    claims = _credential_claims(card, now)
    claims["exp"] = claims["iat"] + DYNAMIC_LIFETIME_SECONDS
    claims["jti"] = uuid.uuid4().hex
    token = signing.jws_sign(claims)
    record(action="cards.credentials.dynamic.issue", subject=card.resident, object=card.ledger_object)
    return token


def card_qr_svg(*, card: Card, dynamic: bool = False) -> str:
    """Return an SVG QR code of the card's static (or a fresh dynamic) credential, for pages."""
    token = card_token_dynamic(card=card) if dynamic else card_token_static(card=card)
    return images.qr_svg(token)


def card_qr_png(*, card: Card) -> bytes:
    """Return a PNG QR code of the card's static credential, for download."""
    return images.qr_png(card_token_static(card=card))


def _card_printable(card: Card, kind: str) -> bytes | None:
    if card.status != Card.Status.ACTIVE:
        raise CardTransitionRefused(verb="printed", status=card.status)
    record(action="cards.cards.print", subject=card.resident, object=card.ledger_object)
    cached = images.card_printable_cached(card=card, kind=kind)
    if cached is None:
        from cards.tasks import card_printable_render

        card_printable_render.delay(card.pk)
        cached = images.card_printable_cached(card=card, kind=kind)
    return cached


def card_printable_png(*, card: Card) -> bytes | None:
    """Return the printable card image, queueing its rendering on a cache miss (None while it renders)."""
    return _card_printable(card, "png")


def card_printable_pdf(*, card: Card) -> bytes | None:
    """Return the printable card as a one-page vector PDF at ID-1 size, or None while it renders."""
    return _card_printable(card, "pdf")


def status_list_token() -> str:
    """Return the signed status list: every listed card number with its non-valid versions."""
    return signing.jws_sign(status_list_claims(), typ=STATUS_LIST_TYPE)


def token_status_list_token() -> str:
    """Return the signed Token Status List of every card (no resident data: indexes and 2-bit statuses)."""
    return credentials.token_status_list_token(now=timezone.now())


def residents_shown_record(*, residents: list[Resident], action: str, object: str = "") -> int:
    """Record that a caseworker was shown RESIDENTS (one entry each, duplicates once); return how many."""
    unique = list({resident.pk: resident for resident in residents}.values())
    with transaction.atomic():
        if object:
            for resident in unique:
                record(action=action, subject=resident, object=object)
        else:
            record_bulk(action=action, subjects=unique)
    return len(unique)


def card_printable_cache_fill(*, card: Card) -> dict[str, bytes]:
    """Render the printable card of CARD as PNG and PDF, with one static credential and the photo, and cache both."""
    from cards.selectors import resident_photo_jpeg

    token = card_token_static(card=card)
    photo = resident_photo_jpeg(resident=card.resident, shown_to="print")
    rendered = {
        "png": images.card_printable_render(card=card, token=token, photo=photo),
        "pdf": images.card_printable_render_pdf(card=card, token=token, photo=photo),
    }
    images.card_printable_cache_set(card=card, rendered=rendered)
    return rendered


# Card photos. Lock order: the resident row, then the resident's photo rows (cards/lock_objects.py).
_PHOTO_PURPOSE = "registration"


def _photo_record(*, action: str, photo: ResidentPhoto, detail: str = "") -> None:
    purpose = None if context_get().purpose else _PHOTO_PURPOSE
    record(action=action, subject=photo.resident, purpose=purpose, object=f"{photo.ledger_object} {detail}".strip())


def _photo_create(*, resident: Resident, data: bytes, status: str, source: str) -> ResidentPhoto:
    # Checked and re-encoded before any lock: a bad upload costs no row lock.
    jpeg = photo_clean(data)
    lock_objects.resident_lock(resident_id=resident.pk)
    photos = lock_objects.photos_of_resident_lock(resident_id=resident.pk)
    now = timezone.now()
    for old in photos:
        # A caseworker's photo replaces the approved one; a resident's submission, their earlier one still waiting.
        if old.status == status:
            old.status = ResidentPhoto.Status.SUPERSEDED
            old.decided_at = now
            old.save(update_fields=["status", "decided_at"])
    photo = ResidentPhoto(
        resident=resident,
        status=status,
        source=source,
        jpeg_ciphertext=photo_encrypt(jpeg, resident_id=resident.pk),
        decided_at=now if status == ResidentPhoto.Status.APPROVED else None,
    )
    photo.full_clean(exclude=["jpeg_ciphertext"])
    photo.save()
    return photo


@transaction.atomic
def resident_photo_set(*, resident: Resident, data: bytes) -> ResidentPhoto:
    """Check, re-encode and store a caseworker's upload as the resident's approved card photo."""
    photo = _photo_create(
        resident=resident, data=data, status=ResidentPhoto.Status.APPROVED, source=ResidentPhoto.Source.CASEWORKER
    )
    _photo_record(action="cards.photos.update", photo=photo, detail="caseworker")
    return photo


@transaction.atomic
def resident_photo_submit(*, resident: Resident, data: bytes) -> ResidentPhoto:
    """Check, re-encode and store the resident's own photo, to wait for a caseworker's approval."""
    photo = _photo_create(
        resident=resident, data=data, status=ResidentPhoto.Status.PENDING, source=ResidentPhoto.Source.RESIDENT
    )
    _photo_record(action="cards.photos.submit", photo=photo)
    return photo


def _photo_decide(*, photo: ResidentPhoto, status: str, action: str) -> ResidentPhoto:
    # The statuses are read only once both locks are held: a decision that committed while this one
    # waited is seen here, so two caseworkers deciding at once are decided one after the other.
    lock_objects.resident_lock(resident_id=photo.resident_id)
    photos = lock_objects.photos_of_resident_lock(resident_id=photo.resident_id)
    current = next((row for row in photos if row.pk == photo.pk), None)
    if current is None or current.status != ResidentPhoto.Status.PENDING:
        state = current.get_status_display() if current is not None else gettext("gone")
        raise PhotoTransitionRefused(
            gettext("photo %(photo)s is not waiting for a decision (it is %(state)s)")
            % {"photo": photo.pk, "state": state}
        )
    now = timezone.now()
    if status == ResidentPhoto.Status.APPROVED:
        newer = [
            row
            for row in photos
            if row.status == ResidentPhoto.Status.APPROVED and row.decided_at and row.decided_at >= current.created_at
        ]
        if newer:
            # Approving would silently replace a photo someone approved after this one was sent.
            raise PhotoTransitionRefused(
                gettext(
                    "photo %(newer)s of this resident was approved after photo %(photo)s was sent; "
                    "look at the resident's photos again"
                )
                % {"newer": newer[0].pk, "photo": photo.pk}
            )
        for old in photos:
            if old.status == ResidentPhoto.Status.APPROVED:
                old.status = ResidentPhoto.Status.SUPERSEDED
                old.save(update_fields=["status"])
            elif old.status == ResidentPhoto.Status.PENDING and old.pk != current.pk:
                # Only one photo waits at a time; the decision closes any other still waiting.
                old.status = ResidentPhoto.Status.SUPERSEDED
                old.decided_at = now
                old.save(update_fields=["status", "decided_at"])
    current.status = status
    current.decided_at = now
    current.save(update_fields=["status", "decided_at"])
    current.resident = photo.resident
    _photo_record(action=action, photo=current)
    return current


@transaction.atomic
def resident_photo_approve(*, photo: ResidentPhoto) -> ResidentPhoto:
    """Approve the resident's submitted photo: it becomes the one printed and shown."""
    return _photo_decide(photo=photo, status=ResidentPhoto.Status.APPROVED, action="cards.photos.approve")


@transaction.atomic
def resident_photo_reject(*, photo: ResidentPhoto) -> ResidentPhoto:
    """Reject the resident's submitted photo; the approved one, if any, stays."""
    return _photo_decide(photo=photo, status=ResidentPhoto.Status.REJECTED, action="cards.photos.reject")


# Standard credentials: SD-JWT VC (RFC 9901, draft-ietf-oauth-sd-jwt-vc).
def _card_credential_claims(
    *, card: Card, insured: bool, holder_jwk: dict | None, kind: str, via: str = ""
) -> tuple[dict, dict]:
    from cards.selectors import resident_photo_jpeg

    if card.status != S.ACTIVE:
        raise CardTransitionRefused(verb="given a credential", status=card.status)
    if holder_jwk is not None:
        try:
            holder_jwk = credentials.holder_jwk_clean(holder_jwk)
        except offline.CredentialRefused:
            raise HolderKeyInvalid("the wallet key must be a public Ed25519 (OKP) or P-256 (EC) JWK") from None
    portrait = resident_photo_jpeg(resident=card.resident, shown_to="credential")
    claims = credentials.card_claims(card=card, insured=insured, portrait=portrait, today=timezone.localdate())
    bound = "bound" if holder_jwk is not None else "unbound"
    record(
        action=f"cards.credentials.{kind}.issue",
        subject=card.resident,
        object=f"{card.ledger_object} {bound}" + (f" {via}" if via else ""),
    )
    return claims, holder_jwk


def card_credential_sd_jwt_issue(*, card: Card, insured: bool, holder_jwk: dict | None = None, via: str = "") -> str:
    """Sign an SD-JWT VC of an active card with every disclosure, bound to HOLDER_JWK when a wallet gave one."""
    claims, holder_jwk = _card_credential_claims(
        card=card, insured=insured, holder_jwk=holder_jwk, kind="sd_jwt", via=via
    )
    token, _ = credentials.sd_jwt_vc_build(card=card, claims=claims, holder_jwk=holder_jwk, now=timezone.now())
    return token


def card_credential_mdoc_issue(*, card: Card, insured: bool, holder_jwk: dict | None = None, via: str = "") -> bytes:
    """Sign an issuer-signed mdoc (ISO/IEC 18013-5 Document, CBOR) of an active card, bound to the device key."""
    if holder_jwk is None:
        # ISO/IEC 18013-5 requires deviceKeyInfo: without the device key no reader can check the holder.
        raise HolderKeyInvalid(gettext("An mdoc needs the wallet's device key: send it as holder_jwk."))
    claims, holder_jwk = _card_credential_claims(
        card=card, insured=insured, holder_jwk=holder_jwk, kind="mdoc", via=via
    )
    return credentials.mdoc_build(card=card, claims=claims, holder_jwk=holder_jwk, now=timezone.now())


@dataclass(frozen=True)
class PresentationVerification:
    valid: bool
    format: str
    status: str | None
    reason: str | None
    claims: dict | None
    holder_bound: bool | None
    # Disclosed claims left out of the answer: the portrait, for a verifier not allowed to see photos.
    withheld: tuple[str, ...] = ()


def _claims_for_verifier(*, card: Card, claims: dict, kind: str, portrait_allowed: bool) -> tuple[dict, tuple]:
    """Return the disclosed claims a verifier may see and those withheld; record a portrait shown as a photo view.

    A portrait is a photo: it goes only to a verifier holding ``cards:photo``
    under a purpose that allows it, and each time it is its own
    ``cards.photos.view`` entry, like a photo shown at a pharmacy counter.
    """
    if "portrait" not in claims:
        return claims, ()
    if not portrait_allowed:
        return {name: value for name, value in claims.items() if name != "portrait"}, ("portrait",)
    record(action="cards.photos.view", subject=card.resident, object=f"{card.ledger_object} portrait {kind}")
    return claims, ()


HOLDER_BINDING_UNCHECKED = "holder_binding_unchecked"
HOLDER_BINDING_REPLAYED = "holder_binding_replayed"


def _holder_binding_online_check(*, presentation: str, aud: str | None, nonce: str | None) -> str | None:
    """Return why a holder-bound presentation is refused online, or None.

    RFC 9901 (section 7.3) has the verifier check the KB-JWT's aud and nonce
    against the values it chose, so a presentation made for one verifier, or
    once, cannot be played again: OneCard checks them only if the caller names
    them, so it must. Each bound presentation is accepted once while its KB-JWT
    is fresh; the same one again is a replay.
    """
    if not aud or not nonce:
        return HOLDER_BINDING_UNCHECKED
    seen = "cards:kb-presented:" + hashlib.sha256(presentation.encode("ascii")).hexdigest()
    lifetime = offline.KB_JWT_MAX_AGE_SECONDS + offline.CLOCK_LEEWAY_SECONDS
    return None if cache.add(seen, 1, timeout=lifetime) else HOLDER_BINDING_REPLAYED


@transaction.atomic
def card_presentation_verify(
    *, presentation: str, aud: str | None = None, nonce: str | None = None, portrait_allowed: bool = False
) -> PresentationVerification:
    """Verify an SD-JWT VC presentation online: signature, disclosures, key binding, and the card's status now.

    A disclosed portrait is returned only when PORTRAIT_ALLOWED (the verifier holds ``cards:photo``).
    """
    verdict = offline.sd_jwt_vc_verify(
        presentation,
        keys=signing.verification_keys(),
        status_list=None,
        issuer=credentials.issuer_url(),
        aud=aud,
        nonce=nonce,
    )
    if verdict.claims is not None and verdict.holder_bound:
        refused = _holder_binding_online_check(presentation=presentation, aud=aud, nonce=nonce)
        if refused is not None:
            verdict = dataclasses.replace(verdict, claims=None, reason=refused)
    if verdict.claims is None:
        _verification_record(subject=UNRESOLVED_SUBJECT, card=None, reason=verdict.reason, dynamic=None)
        return PresentationVerification(False, verdict.format, None, verdict.reason, None, None)
    entry = (verdict.status_reference or {}).get("status_list")
    index = entry.get("idx") if isinstance(entry, dict) else None
    card = (
        Card.objects.select_related("resident").filter(status_index=index).first() if isinstance(index, int) else None
    )
    if card is None:
        _verification_record(subject=UNRESOLVED_SUBJECT, card=None, reason=UNKNOWN_CARD, dynamic=None)
        return PresentationVerification(False, verdict.format, None, UNKNOWN_CARD, None, verdict.holder_bound)
    reason = STATUS_REASONS.get(card.status)
    claims, withheld = _claims_for_verifier(
        card=card, claims=verdict.claims, kind="sd-jwt-vc", portrait_allowed=portrait_allowed
    )
    record(
        action="cards.credentials.verify",
        subject=card.resident,
        object=f"{card.ledger_object} v{card.version} sd-jwt-vc {reason or 'valid'} " + ",".join(sorted(claims)),
        outcome="ok" if reason is None else "invalid",
    )
    return PresentationVerification(
        valid=reason is None,
        format=verdict.format,
        status="valid" if reason is None else reason,
        reason=reason,
        claims=claims,
        holder_bound=verdict.holder_bound,
        withheld=withheld,
    )


@transaction.atomic
def card_mdoc_presentation_verify(
    *, device_response: bytes, session_transcript: bytes, portrait_allowed: bool = False
) -> PresentationVerification:
    """Verify an ISO/IEC 18013-5 DeviceResponse a reader received in a session, and the card's status now.

    The reader sends the decrypted response and its SessionTranscript; the device
    must have signed (deviceSignature): a deviceMac only its reader can check.
    A portrait is returned only when PORTRAIT_ALLOWED (the verifier holds ``cards:photo``).
    """
    _, _, iaca = signing.mdoc_document_signer()
    verdict = offline.mdoc_device_response_verify(
        device_response, session_transcript=session_transcript, trust_anchors=[iaca], status_list=None
    )
    if verdict.claims is None:
        _verification_record(subject=UNRESOLVED_SUBJECT, card=None, reason=verdict.reason, dynamic=None)
        return PresentationVerification(False, verdict.format, None, verdict.reason, None, None)
    entry = (verdict.status_reference or {}).get("status_list")
    index = entry.get("idx") if isinstance(entry, dict) else None
    card = (
        Card.objects.select_related("resident").filter(status_index=index).first() if isinstance(index, int) else None
    )
    if card is None:
        _verification_record(subject=UNRESOLVED_SUBJECT, card=None, reason=UNKNOWN_CARD, dynamic=None)
        return PresentationVerification(False, verdict.format, None, UNKNOWN_CARD, None, True)
    reason = STATUS_REASONS.get(card.status)
    shown, withheld = _claims_for_verifier(
        card=card, claims=verdict.claims, kind="mdoc", portrait_allowed=portrait_allowed
    )
    record(
        action="cards.credentials.verify",
        subject=card.resident,
        object=f"{card.ledger_object} v{card.version} mdoc {reason or 'valid'} " + ",".join(sorted(shown)),
        outcome="ok" if reason is None else "invalid",
    )
    claims = {}
    for name, value in shown.items():
        if name == "portrait" and isinstance(value, bytes):
            value = "data:image/jpeg;base64," + base64.b64encode(value).decode("ascii")
        elif isinstance(value, bytes):
            value = offline.b64url_encode(value)
        claims[name] = value
    return PresentationVerification(
        valid=reason is None,
        format=verdict.format,
        status="valid" if reason is None else reason,
        reason=reason,
        claims=claims,
        holder_bound=True,
        withheld=withheld,
    )


# OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow (cards/oid4vci.py, portal/web/oid4vci.py).
CREDENTIAL_OFFER_LIFETIME = datetime.timedelta(minutes=5)
CREDENTIAL_ACCESS_TOKEN_LIFETIME = datetime.timedelta(minutes=5)
CREDENTIAL_NONCE_LIFETIME = datetime.timedelta(minutes=5)


def _secret_hash(secret: str) -> str:
    # The secrets are 256-bit random strings, so a plain digest cannot be reversed or guessed.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@transaction.atomic
def credential_offer_create(*, card: Card) -> str:
    """Make a one-use pre-authorized code that lets a wallet fetch CARD's credentials; return the code."""
    if card.status != S.ACTIVE:
        raise CardTransitionRefused(verb="offered to a wallet", status=card.status)
    code = secrets.token_urlsafe(32)
    offer = CredentialOffer(
        card=card, code_hash=_secret_hash(code), expires_at=timezone.now() + CREDENTIAL_OFFER_LIFETIME
    )
    offer.full_clean()
    offer.save()
    record(action="cards.credentials.offer.create", subject=card.resident, object=f"{card.ledger_object} oid4vci")
    return code


def credential_offer_redeem(*, code: str) -> tuple[str, int]:
    """Exchange a pre-authorized code for an access token once; return (token, lifetime in seconds).

    A second use of the code is refused and also withdraws the token the first
    use got, as RFC 6749 section 4.1.2 asks for a reused authorization code.
    """
    refused = None
    with transaction.atomic():
        offer = (
            CredentialOffer.objects.select_for_update().filter(code_hash=_secret_hash(code)).first()
            if isinstance(code, str) and code
            else None
        )
        now = timezone.now()
        if offer is None:
            refused = IssuanceRefused("invalid_grant", "the pre-authorized code is not known")
        elif offer.redeemed_at is not None:
            offer.access_token_hash = offer.access_token_expires_at = None
            offer.save(update_fields=["access_token_hash", "access_token_expires_at"])
            refused = IssuanceRefused("invalid_grant", "the pre-authorized code was already used")
        elif offer.expires_at <= now:
            refused = IssuanceRefused("invalid_grant", "the pre-authorized code has expired")
        else:
            token = secrets.token_urlsafe(32)
            offer.redeemed_at = now
            offer.access_token_hash = _secret_hash(token)
            offer.access_token_expires_at = now + CREDENTIAL_ACCESS_TOKEN_LIFETIME
            offer.save(update_fields=["redeemed_at", "access_token_hash", "access_token_expires_at"])
    if refused is not None:
        raise refused
    return token, int(CREDENTIAL_ACCESS_TOKEN_LIFETIME.total_seconds())


@transaction.atomic
def credential_nonce_create() -> str:
    """Make a c_nonce for one key proof."""
    nonce = secrets.token_urlsafe(32)
    CredentialNonce.objects.create(
        value_hash=_secret_hash(nonce), expires_at=timezone.now() + CREDENTIAL_NONCE_LIFETIME
    )
    return nonce


def credential_offer_card(*, access_token: str) -> Card:
    """Return the card an OpenID4VCI access token was granted for, or raise IssuanceRefused (invalid_token)."""
    offer = (
        CredentialOffer.objects.select_related("card__resident")
        .filter(access_token_hash=_secret_hash(access_token), access_token_expires_at__gt=timezone.now())
        .first()
        if access_token
        else None
    )
    if offer is None:
        raise IssuanceRefused("invalid_token", "the access token is unknown, expired or withdrawn", status=401)
    return offer.card


@transaction.atomic
def card_credential_oid4vci_issue(
    *, card: Card, configuration: str, holder_jwk: dict, nonce: str, insured: bool
) -> str:
    """Issue CARD's credential of CONFIGURATION to a wallet whose key proof carried NONCE; the nonce is used up."""
    from cards.oid4vci import MDOC_CONFIGURATION, SD_JWT_CONFIGURATION

    used = CredentialNonce.objects.filter(
        value_hash=_secret_hash(nonce), used_at__isnull=True, expires_at__gt=timezone.now()
    ).update(used_at=timezone.now())
    if used != 1:
        raise IssuanceRefused("invalid_nonce", "the c_nonce is unknown, already used or expired")
    if card.status != S.ACTIVE:
        raise IssuanceRefused("credential_request_denied", "the card is not active")
    if configuration == SD_JWT_CONFIGURATION:
        return card_credential_sd_jwt_issue(card=card, insured=insured, holder_jwk=holder_jwk, via="oid4vci")
    if configuration == MDOC_CONFIGURATION:
        document = offline.cbor_decode(
            card_credential_mdoc_issue(card=card, insured=insured, holder_jwk=holder_jwk, via="oid4vci")
        )
        # OpenID4VCI Appendix A.2.4: an mso_mdoc credential is the base64url IssuerSigned structure.
        return offline.b64url_encode(offline.cbor_encode(document["issuerSigned"]))
    raise IssuanceRefused("unknown_credential_configuration", "no such credential configuration")


# Retention: what OneCard no longer needs is erased (docs/cards.md, "Retention").


@transaction.atomic
def photos_erase_expired(*, now: datetime.datetime | None = None) -> int:
    """Erase the image of every rejected or superseded photo decided over ONECARD_PHOTO_RETENTION_DAYS ago.

    The row stays (status, dates, who sent it) and the erasure is recorded under the resident; the
    approved photo and one still waiting are never erased. Return how many images were erased.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.ONECARD_PHOTO_RETENTION_DAYS)
    expired = (
        ResidentPhoto.objects.select_for_update()
        .select_related("resident")
        .filter(
            status__in=[ResidentPhoto.Status.REJECTED, ResidentPhoto.Status.SUPERSEDED],
            decided_at__lt=cutoff,
            erased_at__isnull=True,
        )
    )
    erased = 0
    for photo in expired:
        photo.jpeg_ciphertext = b""
        photo.erased_at = now
        photo.save(update_fields=["jpeg_ciphertext", "erased_at"])
        record(action="cards.photos.erase", subject=photo.resident, object=photo.ledger_object)
        erased += 1
    return erased


def credential_offers_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete wallet offers and nonces that can no longer be used (a day past their last expiry); return how many.

    They hold only digests of one-use secrets; the issuance itself is in the ledger.
    """
    cutoff = (now or timezone.now()) - datetime.timedelta(days=1)
    offers, _ = (
        CredentialOffer.objects.filter(expires_at__lt=cutoff).exclude(access_token_expires_at__gte=cutoff).delete()
    )
    nonces, _ = CredentialNonce.objects.filter(expires_at__lt=cutoff).delete()
    return offers + nonces
