"""Row locks for card actions.

Lock order, always: the resident row first, then that resident's card rows in
ascending id, then its photo rows in ascending id. Signing keys are locked on their own (key rotation touches no
card). Taking locks in this one order keeps two actions on the same resident
from deadlocking.
"""

from django.db.models import QuerySet

from cards.models import Card, CardSigningKey, Resident, ResidentPhoto


def resident_lock(*, resident_id: int) -> Resident:
    """Lock and return the resident row; take this before any of its cards."""
    return Resident.objects.select_for_update().get(pk=resident_id)


def cards_of_resident_lock(*, resident_id: int) -> list[Card]:
    """Lock and return every card of the resident, in ascending id."""
    return list(Card.objects.select_for_update().filter(resident_id=resident_id).order_by("id"))


def card_lock(*, card_id: int) -> Card:
    """Lock the card's resident, then the card, and return the fresh card."""
    resident_id = Card.objects.values_list("resident_id", flat=True).get(pk=card_id)
    resident_lock(resident_id=resident_id)
    return Card.objects.select_for_update().select_related("resident").get(pk=card_id)


def signing_keys_lock() -> QuerySet[CardSigningKey]:
    """Lock every signing key row, newest (highest id) first."""
    return CardSigningKey.objects.select_for_update().order_by("-id")


def photos_of_resident_lock(*, resident_id: int) -> list[ResidentPhoto]:
    """Lock and return every photo row of the resident, in ascending id; take the resident lock first."""
    return list(ResidentPhoto.objects.select_for_update().filter(resident_id=resident_id).order_by("id"))
