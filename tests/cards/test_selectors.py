"""Reads of the card register: each records one entry for the resident."""

import pytest

from cards.selectors import card_history, card_list_for_resident
from ledger.api import subject_pseudonym
from ledger.models import PendingEntry
from tests.factories.cards import CardFactory


def _recorded(card) -> list[tuple[str, str]]:
    rows = PendingEntry.objects.filter(subject=subject_pseudonym(card.resident)).order_by("id")
    return [(row.action, row.purpose) for row in rows]


@pytest.mark.django_db
def test_listing_a_residents_cards_records_one_entry(caseworker_context):
    card = CardFactory()
    before = len(_recorded(card))

    cards = card_list_for_resident(resident=card.resident)

    assert cards == [card]
    assert _recorded(card)[before:] == [("cards.cards.list", "card-administration")]


@pytest.mark.django_db
def test_reading_a_cards_history_records_one_entry(caseworker_context):
    card = CardFactory()
    before = len(_recorded(card))

    card_history(card=card)

    assert _recorded(card)[before:] == [("cards.cards.history", "card-administration")]
