"""The printable card prints anywhere: its fonts are embedded, rare characters included, and never the .notdef box."""

import io
import re

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.boundsPen import ControlBoundsPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageDraw
from pypdf import PdfReader

from cards import card_fonts, images
from cards.actions import card_printable_pdf, card_printable_png
from cards.tasks import card_printable_render
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory

pytestmark = pytest.mark.django_db

RARE_NAME = "刘䶮𠮷"  # 䶮 U+4DAE is CJK Extension A, 𠮷 U+20BB7 Extension B
NOT_IN_NOTO = "\U0002a6d6"  # the last character of Extension B: Noto Sans CJK has no glyph for it
NO_FONT_HAS = "\U0010fffd"  # a private-use code point no card font maps: drawn as .notdef


def _printed(name: str) -> tuple[bytes, bytes]:
    card = CardFactory(resident=ResidentFactory(full_name=name))
    card_printable_render(card.pk)
    return card_printable_png(card=card), card_printable_pdf(card=card)


def _embedded_fonts(document: bytes) -> list[dict]:
    """Return each font of the PDF's page: its dictionary, embedded TrueType file and {character: PDF code}."""
    page = PdfReader(io.BytesIO(document)).pages[0]
    fonts = []
    for reference in page["/Resources"]["/Font"].values():
        font = reference.get_object()
        descriptor = font["/FontDescriptor"].get_object()
        to_unicode = font["/ToUnicode"].get_object().get_data().decode().split("beginbfchar", 1)[1]
        codes = {
            bytes.fromhex(text).decode("utf-16-be"): int(code, 16)
            for code, text in re.findall(r"<([0-9A-F]{2})> <([0-9A-F]+)>", to_unicode)
        }
        fonts.append(
            {"font": font, "file": TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data())), "codes": codes}
        )
    return fonts


def _embedded_glyph(fonts: list[dict], character: str):
    """Return (glyph name, glyph, embedded font) drawing CHARACTER in the PDF, found through its ToUnicode map."""
    for font in fonts:
        if character in font["codes"]:
            embedded = font["file"]
            name = embedded["cmap"].getcmap(1, 0).cmap[font["codes"][character]]
            return name, embedded["glyf"][name], embedded
    raise AssertionError(f"{character!r} is drawn with no embedded font")


def _source_bounds(face: card_fonts.Face, character: str):
    source = TTFont(face.path, fontNumber=face.index, lazy=True)
    pen = ControlBoundsPen(None)
    source.getGlyphSet()[source.getBestCmap()[ord(character)]].draw(pen)
    return pen.bounds


def test_the_bundled_font_has_the_rare_characters():
    face = card_fonts.bundled_face()

    assert face.path.endswith("NotoSansCJK-Regular.ttc")
    assert all(card_fonts.face_has(face, character) for character in RARE_NAME)


def test_the_pdf_embeds_a_subset_holding_every_glyph_of_a_rare_name(caseworker_context):
    _png, document = _printed(RARE_NAME)

    fonts = _embedded_fonts(document)

    assert RARE_NAME in PdfReader(io.BytesIO(document)).pages[0].extract_text()
    for character in RARE_NAME:
        name, glyph, embedded = _embedded_glyph(fonts, character)
        assert name != ".notdef" and glyph.numberOfContours > 0, character
        # The very glyph of Noto Sans CJK SC: its outline has the source's extent, to a unit of rounding.
        glyph.recalcBounds(embedded["glyf"])
        source = _source_bounds(card_fonts.bundled_face(), character)
        bounds = (glyph.xMin, glyph.yMin, glyph.xMax, glyph.yMax)
        assert all(abs(a - b) <= 2 for a, b in zip(bounds, source, strict=True)), character


def test_every_font_of_the_pdf_is_an_embedded_subset_and_the_pdf_stays_small(caseworker_context):
    _png, document = _printed(RARE_NAME)

    fonts = _embedded_fonts(document)

    assert [f["font"]["/BaseFont"].split("+")[0].isupper() for f in fonts] == [True]  # "ABCDEF+" subset tag
    assert len(fonts[0]["file"].getGlyphOrder()) < 100  # of the 65,535 in the collection
    assert b"/BaseFont /Helvetica" not in document and b"STSong" not in document
    assert len(document) < 60_000


def test_the_labels_are_in_chinese_and_english_on_the_pdf(caseworker_context):
    _png, document = _printed(RARE_NAME)

    text = PdfReader(io.BytesIO(document)).pages[0].extract_text()

    for label in ("OneCard 一卡通", "姓名 Name", "公民身份号码 ID number", "有效期至 Valid until", "卡号 Card number"):
        assert label in text
    assert "版本 Version 1" in text and "照片 Photo" in text


def _drawn(text: str, faces, size: int = 64) -> Image.Image:
    image = Image.new("L", (size * 3, size * 2), 255)
    images.card_text_draw(ImageDraw.Draw(image), images.CardText(4, 4, size, text, "black"), faces=faces)
    return image


def _differs(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is not None


def test_the_png_draws_each_rare_character_and_not_the_notdef_box():
    faces = card_fonts.card_faces(candidates=())
    notdef = _drawn(NO_FONT_HAS, faces)

    assert _differs(notdef, Image.new("L", notdef.size, 255))  # the box is drawn: the comparison means something
    for character in RARE_NAME:
        drawn = _drawn(character, faces)
        assert _differs(drawn, notdef), f"{character!r} came out as .notdef"
        assert _differs(drawn, Image.new("L", drawn.size, 255)), f"{character!r} drew nothing"


def test_the_png_card_shows_the_rare_name_not_boxes(caseworker_context):
    png, _pdf = _printed(RARE_NAME)
    boxes, _pdf = _printed(NO_FONT_HAS * len(RARE_NAME))
    name_area = (300, 134, 700, 192)

    shown = Image.open(io.BytesIO(png)).convert("L").crop(name_area)
    notdef = Image.open(io.BytesIO(boxes)).convert("L").crop(name_area)

    assert _differs(shown, notdef)
    # Each character's own glyph, drawn where the card draws it: the card's name is exactly these pixels.
    alone = Image.new("L", images.CARD_SIZE, 255)
    images.card_text_draw(
        ImageDraw.Draw(alone), images.CardText(300, 134, 44, RARE_NAME, "black"), faces=card_fonts.card_faces()
    )
    assert not _differs(shown, alone.crop(name_area))


def _square_font(path, character: str) -> None:
    """Write a TrueType font whose only glyph, for CHARACTER, is a filled square."""
    pen = TTGlyphPen(None)
    for points in ([(100, 0), (100, 800), (900, 800), (900, 0)],):
        pen.moveTo(points[0])
        for point in points[1:]:
            pen.lineTo(point)
        pen.closePath()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "square"])
    builder.setupCharacterMap({ord(character): "square"})
    builder.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "square": pen.glyph()})
    builder.setupHorizontalMetrics({".notdef": (500, 0), "square": (1000, 100)})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "Test Square", "styleName": "Regular", "psName": "TestSquare-Regular"})
    builder.setupOS2(fsType=0, sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(str(path))


def test_a_character_no_bundled_glyph_has_comes_from_a_fallback_font(tmp_path, monkeypatch, caseworker_context):
    assert not card_fonts.face_has(card_fonts.bundled_face(), NOT_IN_NOTO)
    fallback = tmp_path / "square.ttf"
    _square_font(fallback, NOT_IN_NOTO)
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    monkeypatch.setattr(card_fonts, "FALLBACK_FONT_CANDIDATES", (str(broken), str(fallback)))

    png, document = _printed("王" + NOT_IN_NOTO)

    fonts = _embedded_fonts(document)
    assert len(fonts) == 2  # Noto Sans CJK SC and the fallback, both embedded
    name, glyph, _embedded = _embedded_glyph(fonts, NOT_IN_NOTO)
    assert name != ".notdef" and glyph.numberOfContours == 1
    assert _embedded_glyph(fonts, "王")[2] is not _embedded_glyph(fonts, NOT_IN_NOTO)[2]
    # In the PNG the square is drawn where the name's second character goes.
    name_line = Image.open(io.BytesIO(png)).convert("L").crop((344, 140, 390, 180))
    assert name_line.getextrema()[0] < 50


def test_the_configured_font_comes_first(settings, tmp_path):
    chosen = tmp_path / "square.ttf"
    _square_font(chosen, "王")
    settings.ONECARD_CARD_FONT = str(chosen)

    faces = card_fonts.card_faces(candidates=())

    assert faces == (card_fonts.Face(str(chosen)), card_fonts.bundled_face())
    assert [face for face, _run in card_fonts.text_runs("王一", faces)] == list(faces)
