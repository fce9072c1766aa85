import io
import re

import pytest
from PIL import Image

from cards.actions import card_printable_pdf, card_printable_png, card_qr_png, card_qr_svg
from cards.images import CARD_SIZE
from cards.models import Card
from cards.selectors import card_get_for_user
from cards.tasks import card_printable_render
from ledger.models import PendingEntry
from tests.factories import ResidentFactory, UserFactory
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db


def test_qr_svg_is_an_svg_document(caseworker_context):
    svg = card_qr_svg(card=CardFactory())

    assert svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
    assert "<path" in svg


def test_qr_png_is_a_png(caseworker_context):
    image = Image.open(io.BytesIO(card_qr_png(card=CardFactory())))

    assert image.format == "PNG" and image.width == image.height


def test_printable_card_rendered_by_the_task_is_served_from_the_cache(caseworker_context):
    card = CardFactory()
    card_printable_render(card.pk)  # what the worker does after a cache miss
    issued_before = PendingEntry.objects.filter(action="cards.credentials.static.issue").count()

    first = card_printable_png(card=card)
    second = card_printable_png(card=card)

    assert first is not None and first == second
    assert PendingEntry.objects.filter(action="cards.credentials.static.issue").count() == issued_before
    assert PendingEntry.objects.filter(action="cards.cards.print").count() == 2
    image = Image.open(io.BytesIO(first))
    assert (image.format, image.size) == ("PNG", CARD_SIZE)


def test_printable_card_cache_misses_after_a_status_change(caseworker_context):
    from cards.actions import card_suspend

    card = CardFactory()
    card_printable_render(card.pk)
    card_suspend(card=card, reason="suspected-fraud")
    card.refresh_from_db()

    from cards.images import card_printable_cached

    assert card_printable_cached(card=card) is None


def test_the_cached_printable_card_is_sealed_and_bound_to_its_card(caseworker_context):
    from django.core.cache import cache

    from cards.images import _printable_cache_key, card_printable_cached

    card, other = CardFactory(), CardFactory()
    card_printable_render(card.pk)
    card_printable_render(other.pk)
    key, other_key = _printable_cache_key(card, "png"), _printable_cache_key(other, "png")

    # The cache holds no PNG (nor the name it shows): only ciphertext.
    assert not cache.get(key).startswith(b"\x89PNG")
    assert card.resident.full_name.encode() not in cache.get(key)
    # A render copied under another card's key does not open there: that card is rendered again.
    cache.set(other_key, cache.get(key))
    assert card_printable_cached(card=other) is None
    assert card_printable_cached(card=card).startswith(b"\x89PNG")


def test_card_get_for_user_returns_the_held_card_and_records_the_read(caseworker_context):
    user = UserFactory()
    resident = ResidentFactory(user=user)
    CardFactory(resident=resident, status="replaced")
    held = CardFactory(resident=resident, status="active")

    assert card_get_for_user(user=user) == held
    assert PendingEntry.objects.filter(action="cards.cards.read", object=f"card:{held.pk}").count() == 1


def test_card_get_for_user_without_a_resident_is_none(caseworker_context):
    assert card_get_for_user(user=UserFactory()) is None
    assert Card.objects.count() == 0


def test_printable_card_pdf_is_one_card_sized_vector_page(caseworker_context):
    card = CardFactory()
    card_printable_render(card.pk)

    document = card_printable_pdf(card=card)

    assert document.startswith(b"%PDF-1.") and document.rstrip().endswith(b"%%EOF")
    assert document.count(b"/Type /Page\n") + document.count(b"/Type /Page ") == 1
    box = [float(n) for n in re.search(rb"/MediaBox \[\s*([\d. ]+)\]", document).group(1).split()]
    assert box[:2] == [0, 0] and round(box[2] / 72 * 25.4, 1) == 85.6 and round(box[3] / 72 * 25.4, 1) == 54.0
    assert b"/Subtype /Image" not in document  # drawn, not the PNG embedded
    assert PendingEntry.objects.filter(action="cards.cards.print").count() == 1


def test_printable_card_pdf_is_served_from_the_cache_without_a_new_credential(caseworker_context):
    card = CardFactory()
    card_printable_render(card.pk)
    issued_before = PendingEntry.objects.filter(action="cards.credentials.static.issue").count()

    first = card_printable_pdf(card=card)
    second = card_printable_pdf(card=card)

    assert first is not None and first == second
    assert PendingEntry.objects.filter(action="cards.credentials.static.issue").count() == issued_before
