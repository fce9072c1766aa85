import base64
import io
import re
import zlib

import pytest
from PIL import Image

from cards.actions import card_printable_pdf, card_printable_png, card_qr_png, card_qr_svg
from cards.images import CARD_SIZE, card_font_path
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


def _pdf_strings(document: bytes) -> list[str]:
    """Return the strings drawn by Tj in DOCUMENT's content streams, CID text decoded from UCS-2."""
    streams = re.findall(
        rb"/Filter \[ /ASCII85Decode /FlateDecode \][^>]*>>\s*stream\r?\n(.*?)endstream", document, re.S
    )
    strings = []
    for stream in streams:
        content = zlib.decompress(base64.a85decode(stream.strip().removesuffix(b"~>")))
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", content, re.S):
            raw = re.sub(rb"\\([0-7]{1,3}|.)", _pdf_unescape, literal, flags=re.S)
            strings.append(raw.decode("utf-16-be"))
    return strings


def _pdf_unescape(match: re.Match) -> bytes:
    escaped = match.group(1)
    if escaped[:1].isdigit():
        return bytes([int(escaped, 8)])
    return {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(escaped, escaped)


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


def test_printable_card_pdf_draws_the_chinese_name_in_the_cid_font(caseworker_context):
    card = CardFactory(resident=ResidentFactory(full_name="欧阳娜娜"))
    card_printable_render(card.pk)

    document = card_printable_pdf(card=card)

    assert b"/BaseFont /STSong-Light" in document and b"/Encoding /UniGB-UCS2-H" in document
    assert b"/FontFile" not in document  # the reader supplies the font: nothing to install or embed
    strings = _pdf_strings(document)
    assert "欧阳娜娜" in strings
    assert card.number_display in strings
    assert card.resident.national_id_masked in strings


def test_printable_card_pdf_is_served_from_the_cache_without_a_new_credential(caseworker_context):
    card = CardFactory()
    card_printable_render(card.pk)
    issued_before = PendingEntry.objects.filter(action="cards.credentials.static.issue").count()

    first = card_printable_pdf(card=card)
    second = card_printable_pdf(card=card)

    assert first is not None and first == second
    assert PendingEntry.objects.filter(action="cards.credentials.static.issue").count() == issued_before


def test_card_font_path_prefers_the_setting(settings, tmp_path):
    found = tmp_path / "found.ttc"
    found.write_bytes(b"")
    settings.ONECARD_CARD_FONT = "/srv/fonts/chosen.otf"

    assert card_font_path(candidates=(str(found),)) == "/srv/fonts/chosen.otf"


def test_card_font_path_without_the_setting_takes_the_first_font_found(settings, tmp_path):
    found = tmp_path / "wqy-microhei.ttc"
    found.write_bytes(b"")
    settings.ONECARD_CARD_FONT = ""

    assert card_font_path(candidates=(str(tmp_path / "missing.ttc"), str(found))) == str(found)
    assert card_font_path(candidates=(str(tmp_path / "missing.ttc"),)) == ""


def test_printable_png_renders_when_a_found_font_is_unreadable(settings, tmp_path, monkeypatch, caseworker_context):
    from cards import images

    broken = tmp_path / "broken.ttc"
    broken.write_bytes(b"not a font")
    settings.ONECARD_CARD_FONT = ""
    monkeypatch.setattr(images, "CJK_FONT_CANDIDATES", (str(broken),))
    card = CardFactory()

    card_printable_render(card.pk)

    image = Image.open(io.BytesIO(card_printable_png(card=card)))
    assert (image.format, image.size) == ("PNG", CARD_SIZE)
