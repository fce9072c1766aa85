"""Read the resident register."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cards.crypto import national_id_decrypt, national_id_lookup_hash
from cards.models import Card, CardPayment, Resident, ResidentPhoto
from cards.national_id import normalize_national_id, parse_national_id
from cards.photos import photo_decrypt
from ledger.api import entry_list_for_subject, record


def resident_get_by_national_id(*, national_id: str) -> Resident | None:
    """Return the resident with this national ID, found through its keyed hash."""
    lookup = national_id_lookup_hash(normalize_national_id(national_id))
    resident = Resident.objects.filter(national_id_hash=lookup).first()
    if resident is not None:
        record(action="cards.residents.lookup", subject=resident)
    return resident


def resident_account_id_by_national_id(*, national_id: str) -> int | None:
    """Return the id of the account of the resident with this national ID, or None; nothing is recorded.

    Only sign-in throttling uses it, to count failures per account: the id never
    leaves the process and shows nothing about the resident to anyone.
    """
    lookup = national_id_lookup_hash(normalize_national_id(national_id))
    return Resident.objects.filter(national_id_hash=lookup).values_list("user_id", flat=True).first()


def resident_search(*, term: str, queryset: QuerySet[Resident] | None = None) -> QuerySet[Resident]:
    """Return residents whose national ID equals TERM, or whose name or phone contains it."""
    queryset = Resident.objects.all() if queryset is None else queryset
    term = term.strip()
    if not term:
        return queryset
    lookup = national_id_lookup_hash(normalize_national_id(term))
    return queryset.filter(Q(national_id_hash=lookup) | Q(full_name__icontains=term) | Q(phone__contains=term))


def card_get_for_user(*, user) -> Card | None:
    """Return the user's current card (pending, active or suspended; else the latest), recording the read."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        # The reverse one-to-one is cached on the user, which the request's middleware already loaded.
        resident = user.resident
    except Resident.DoesNotExist:
        return None
    return card_get_for_resident(resident=resident)


def card_get_for_resident(*, resident: Resident) -> Card | None:
    """Return RESIDENT's current card (pending, active or suspended; else the latest), recording the read."""
    cards = list(Card.objects.filter(resident=resident).order_by("-id")[:20])
    for card in cards:
        card.resident = resident
    held = [card for card in cards if card.status in (Card.Status.PENDING, *Card.IN_FORCE)]
    card = held[0] if held else (cards[0] if cards else None)
    if card is not None:
        record(action="cards.cards.read", subject=resident, object=card.ledger_object)
    return card


def card_is_active_for_resident(*, resident: Resident) -> bool:
    """Return whether RESIDENT holds an active card; the caller records the access (a yes/no check)."""
    return Card.objects.filter(resident=resident, status=Card.Status.ACTIVE).exists()


def card_list_for_resident(*, resident: Resident) -> list[Card]:
    """Return every card of RESIDENT, newest first, recording the read."""
    cards = list(Card.objects.filter(resident=resident).order_by("-id"))
    record(action="cards.cards.list", subject=resident)
    return cards


def card_history(*, card: Card, limit: int = 100) -> list[dict]:
    """Return the newest LIMIT sequenced ledger entries about CARD, oldest first, recording the read."""
    record(action="cards.cards.history", subject=card.resident, object=card.ledger_object)
    prefix = f"{card.ledger_object} "
    found: list[dict] = []
    before = None
    while len(found) < limit:
        page = entry_list_for_subject(subject=card.resident, limit=_HISTORY_PAGE, before=before)
        # A sealed access (ledger.sealing) names no object until its date, so it is in no card's history.
        found.extend(item["entry"] for item in page if item["entry"].get("object", "").startswith(prefix))
        if len(page) < _HISTORY_PAGE:
            break
        before = page[-1]["index"]
    return found[:limit][::-1]


_HISTORY_PAGE = 500


STATUS_LIST_STATUSES = (
    Card.Status.SUSPENDED,
    Card.Status.LOST,
    Card.Status.REVOKED,
    Card.Status.REPLACED,
    Card.Status.EXPIRED,
)
STATUS_LIST_LIFETIME_SECONDS = 24 * 60 * 60


def status_list_claims() -> dict:
    """Return the claims of the status list document."""
    now = int(timezone.now().timestamp())
    cards: dict[str, dict[str, str]] = {}
    # A credential's exp is the end of its card's expiry day in UTC (card_token_static), up to
    # a day after that day ends in local time: a card is listed until no credential of it can run.
    no_credential_runs_before = timezone.now().astimezone(datetime.UTC).date() - datetime.timedelta(days=1)
    rows = Card.objects.filter(status__in=STATUS_LIST_STATUSES, expires_on__gte=no_credential_runs_before)
    for number, version, status in rows.order_by("number", "version").values_list("number", "version", "status"):
        cards.setdefault(number, {})[str(version)] = status
    return {"iss": settings.ONECARD_CARD_ISSUER, "iat": now, "exp": now + STATUS_LIST_LIFETIME_SECONDS, "cards": cards}


def search_term_is_national_id(term: str) -> bool:
    """Return whether TERM is a well-formed national ID, so a search by it is told apart from a name search."""
    try:
        parse_national_id(term)
    except ValidationError:
        return False
    return True


def card_counts_by_status() -> dict[str, int]:
    """Return the number of cards in each status, every status present (zero when none)."""
    counts = dict.fromkeys(Card.Status.values, 0)
    for row in Card.objects.values("status").annotate(count=Count("id")).order_by():
        counts[row["status"]] = row["count"]
    return counts


def card_payment_list_for_resident(*, resident: Resident, limit: int = 50) -> list[CardPayment]:
    """Return the latest payments credited to any card of RESIDENT, recording the read."""
    payments = list(CardPayment.objects.filter(card__resident=resident).select_related("card")[:limit])
    record(action="cards.payments.list", subject=resident)
    return payments


def resident_photo_approved(*, resident: Resident) -> ResidentPhoto | None:
    """Return the resident's approved photo row, without opening it (no ledger entry: no pixels are read)."""
    return ResidentPhoto.objects.filter(resident=resident, status=ResidentPhoto.Status.APPROVED).first()


def resident_photo_jpeg(*, resident: Resident, shown_to: str) -> bytes | None:
    """Return the resident's approved photo as JPEG, recording this one view and where it is shown."""
    photo = resident_photo_approved(resident=resident)
    if photo is None:
        return None
    return resident_photo_open(photo=photo, shown_to=shown_to)


def resident_photo_open(*, photo: ResidentPhoto, shown_to: str) -> bytes:
    """Return PHOTO as JPEG, recording this one view; SHOWN_TO says where (print, portal, admin, session:<id>...)."""
    jpeg = photo_decrypt(photo.jpeg_ciphertext, resident_id=photo.resident_id)
    record(action="cards.photos.view", subject=photo.resident, object=f"{photo.ledger_object} {shown_to}".strip())
    return jpeg


def resident_photo_list(*, resident: Resident, limit: int = 10) -> list[ResidentPhoto]:
    """Return the resident's latest photo rows (status only, no pixels), recording the read."""
    photos = list(ResidentPhoto.objects.filter(resident=resident).order_by("-id")[:limit])
    record(action="cards.photos.list", subject=resident)
    return photos


def resident_ids_with_active_card() -> list[int]:
    """Return the ids of every resident holding an active card; the caller records what it reveals of whom."""
    return list(Card.objects.filter(status=Card.Status.ACTIVE).values_list("resident_id", flat=True).distinct())


def national_ids_for_residents(*, resident_ids) -> dict[int, str]:
    """Return {resident id: national ID} for RESIDENT_IDS; the caller records what it reveals of whom."""
    rows = Resident.objects.filter(pk__in=list(resident_ids)).values_list("pk", "national_id_ciphertext")
    return {pk: national_id_decrypt(ciphertext) for pk, ciphertext in rows.iterator(chunk_size=5000)}
