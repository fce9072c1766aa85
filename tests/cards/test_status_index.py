"""Each card's Token Status List index is drawn at random, and the list always has its full size.

With the row id as index (before), a credential's "idx" told any verifier
roughly when the card was issued and how many cards OneCard had issued, and
the list's length told everyone the second.
"""

import base64
import json
import zlib

import pytest
from django.utils import timezone

from cards import actions
from cards.actions import card_issue, card_revoke
from cards.credentials import token_status_list_claims
from cards.models import Card
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db


def _list_bytes() -> bytes:
    lst = token_status_list_claims(now=timezone.now())["status_list"]["lst"]
    return zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))


def test_indices_are_drawn_from_the_whole_list_not_counted_up(caseworker_context):
    cards = [card_issue(resident=ResidentFactory(), notify=False) for _ in range(20)]
    indices = [card.status_index for card in cards]

    assert len(set(indices)) == 20
    # Counted up, twenty cards would sit in a run of twenty; drawn from 2**24, they are spread over it.
    assert max(indices) - min(indices) > 1_000_000


def test_a_full_list_gives_every_free_index_and_then_refuses_clearly(settings, caseworker_context):
    settings.ONECARD_STATUS_LIST_SIZE = 4
    cards = [card_issue(resident=ResidentFactory(), notify=False) for _ in range(4)]

    assert sorted(card.status_index for card in cards) == [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match="ONECARD_STATUS_LIST_SIZE"):
        card_issue(resident=ResidentFactory(), notify=False)


def test_the_list_has_its_full_size_however_many_cards_exist(settings, caseworker_context):
    settings.ONECARD_STATUS_LIST_SIZE = 4096
    empty = len(_list_bytes())
    card_revoke(card=CardFactory(), reason="suspected-fraud")

    assert empty == len(_list_bytes()) == 4096 * 2 // 8


def test_a_card_indexed_by_its_row_id_before_beyond_the_size_is_still_covered(settings, caseworker_context):
    settings.ONECARD_STATUS_LIST_SIZE = 64
    old = card_revoke(card=CardFactory(status_index=1000), reason="suspected-fraud")

    raw = _list_bytes()

    assert (raw[old.status_index // 4] >> ((old.status_index % 4) * 2)) & 0b11 == 0x01


def test_two_cards_drawing_the_same_free_index_at_once_both_get_one(monkeypatch, caseworker_context):
    # The draw saw index 7 free; another card took it before this one was saved (as a concurrent
    # issuance would): the constraint refuses the clash and the card draws again.
    draws = iter([7, 8])
    monkeypatch.setattr(actions, "status_index_draw", lambda: next(draws))
    CardFactory(status_index=7)

    card = card_issue(resident=ResidentFactory(), notify=False)

    assert card.status_index == 8
    assert Card.objects.filter(status_index=7).count() == 1


def test_credentials_carry_the_drawn_index(caseworker_context):
    from cards.credentials import card_status_reference

    card = CardFactory()

    assert card_status_reference(card)["status_list"]["idx"] == card.status_index != card.pk
    assert json.dumps(card_status_reference(card))
