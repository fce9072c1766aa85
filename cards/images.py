"""QR codes and the printable card image."""

import contextlib
import functools
import io
import threading
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from django.core.cache import cache
from PIL import Image, ImageDraw, ImageFont, ImageOps

from cards import card_fonts
from cards.crypto import DecryptionError, resident_data_open, resident_data_seal
from cards.models import Card, ResidentPhoto

# ISO/IEC 7810 ID-1 at 300 dpi.
CARD_SIZE = (1012, 638)
CARD_WIDTH_MM, CARD_HEIGHT_MM = 85.6, 53.98
# A render holds the photo and the name: kept an hour at most, then drawn again on the next download.
PRINTABLE_CACHE_SECONDS = 60 * 60
# The photo box of the card layout, in PNG pixels: left, top, right, bottom.
PHOTO_BOX = (40, 130, 260, 400)
_PHOTO_BORDER = 3
# The QR code's square, in PNG pixels, at the bottom right.
QR_SIDE, QR_MARGIN = 330, 30
# Where a line of text sits: its baseline is this share of the size below the top of the line.
_BASELINE = 0.88


@dataclass(frozen=True)
class CardText:
    """One line of the card: its top-left corner in PNG pixels, its size in pixels, text and colour."""

    left: int
    top: int
    size: int
    text: str
    color: str


def card_texts(*, card: Card, photo: bool) -> list[CardText]:
    """Return every line of text on the printable card, labels in Chinese and English, for the PNG and the PDF."""
    resident = card.resident
    grey, label = "#444444", "#666666"
    texts = [
        CardText(40, 22, 44, "OneCard 一卡通", "white"),
        CardText(300, 108, 20, "姓名 Name", label),
        CardText(300, 134, 44, resident.full_name, "black"),
        CardText(300, 196, 20, "公民身份号码 ID number", label),
        CardText(300, 220, 32, resident.national_id_masked, "black"),
        CardText(300, 266, 20, f"有效期至 Valid until {card.expires_on.isoformat()}", grey),
        CardText(40, 424, 20, "卡号 Card number", label),
        CardText(40, 450, 48, card.number_display, "black"),
        CardText(40, 540, 24, f"版本 Version {card.version}", grey),
    ]
    if not photo:
        texts.append(CardText(88, 250, 28, "照片 Photo", "#888888"))
    return texts


def _qr(text: str, **kwargs) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, **kwargs)
    code.add_data(text)
    code.make(fit=True)
    return code


def qr_svg(text: str) -> str:
    """Return TEXT as an SVG QR code (a single path, scalable on pages)."""
    image = _qr(text, box_size=10).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


def qr_png(text: str, *, box_size: int = 8) -> bytes:
    """Return TEXT as a PNG QR code."""
    buffer = io.BytesIO()
    _qr(text, box_size=box_size).make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


@functools.lru_cache(maxsize=64)
def _pillow_font(face: card_fonts.Face, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(face.path, size, index=face.index)


def card_text_draw(draw: ImageDraw.ImageDraw, line: CardText, *, faces: tuple[card_fonts.Face, ...]) -> None:
    """Draw LINE with Pillow, each run of characters in the first of FACES that has them, on one baseline."""
    x, baseline = float(line.left), line.top + line.size * _BASELINE
    for face, run in card_fonts.text_runs(line.text, faces):
        font = _pillow_font(face, line.size)
        draw.text((x, baseline), run, fill=line.color, font=font, anchor="ls")
        x += draw.textlength(run, font=font)


def _photo_fitted(photo: bytes) -> Image.Image:
    left, top, right, bottom = PHOTO_BOX
    inner = (right - left - 2 * _PHOTO_BORDER, bottom - top - 2 * _PHOTO_BORDER)
    return ImageOps.fit(Image.open(io.BytesIO(photo), formats=["JPEG"]).convert("RGB"), inner)


def card_printable_render(*, card: Card, token: str, photo: bytes | None = None) -> bytes:
    """Draw the printable card: name, masked ID, number, photo (or its empty box) and QR code, as PNG."""
    faces = card_fonts.card_faces()
    image = Image.new("RGB", CARD_SIZE, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, CARD_SIZE[0], 90), fill="#1f4e79")
    draw.rectangle(PHOTO_BOX, outline="#888888", width=_PHOTO_BORDER)
    if photo is not None:
        image.paste(_photo_fitted(photo), (PHOTO_BOX[0] + _PHOTO_BORDER, PHOTO_BOX[1] + _PHOTO_BORDER))
    for line in card_texts(card=card, photo=photo is not None):
        card_text_draw(draw, line, faces=faces)
    qr = Image.open(io.BytesIO(qr_png(token, box_size=3))).convert("RGB")
    qr.thumbnail((QR_SIDE, QR_SIDE))
    image.paste(qr, (CARD_SIZE[0] - qr.width - QR_MARGIN, CARD_SIZE[1] - qr.height - QR_MARGIN))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# reportlab keeps registered fonts in process-wide tables; one PDF registers, draws and forgets at a time.
_PDF_FONTS_LOCK = threading.Lock()


@contextlib.contextmanager
def _pdf_fonts(runs_by_face: dict[card_fonts.Face, str]):
    """Register a subset of each face with the characters it draws; yield {face: reportlab font name}."""
    from reportlab.lib import fonts as reportlab_fonts
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with _PDF_FONTS_LOCK:
        names = {}
        try:
            for face, characters in runs_by_face.items():
                name, data = card_fonts.face_subset(face, characters)
                pdfmetrics.registerFont(TTFont(name, io.BytesIO(data)))
                names[face] = name
            yield names
        finally:
            for name in names.values():
                font = pdfmetrics._fonts.pop(name, None)
                if font is not None:
                    pdfmetrics._dynFaceNames.pop(font.face.name, None)
                for bold, italic in ((0, 0), (0, 1), (1, 0), (1, 1)):
                    reportlab_fonts._tt2ps_map.pop((name.lower(), bold, italic), None)
                reportlab_fonts._ps2tt_map.pop(name.lower(), None)


def card_printable_render_pdf(*, card: Card, token: str, photo: bytes | None = None) -> bytes:
    """Draw the printable card as a one-page vector PDF at ID-1 size, the PNG's layout, with its fonts embedded."""
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen import canvas

    width, height = CARD_WIDTH_MM * mm, CARD_HEIGHT_MM * mm
    scale = width / CARD_SIZE[0]  # points per pixel of the PNG layout
    faces = card_fonts.card_faces()
    lines = [(line, card_fonts.text_runs(line.text, faces)) for line in card_texts(card=card, photo=photo is not None)]
    characters: dict[card_fonts.Face, str] = {}
    for _line, runs in lines:
        for face, run in runs:
            characters[face] = characters.get(face, "") + run
    buffer = io.BytesIO()
    with _pdf_fonts(characters) as font_names:
        first_font = next(iter(font_names.values()))
        pdf = canvas.Canvas(
            buffer, pagesize=(width, height), pageCompression=1, initialFontName=first_font, initialFontSize=10
        )
        pdf.setTitle(f"OneCard {card.number_display}")

        def box(left, top, right, bottom, **kwargs):
            pdf.rect(left * scale, height - bottom * scale, (right - left) * scale, (bottom - top) * scale, **kwargs)

        pdf.setFillColor("#1f4e79")
        box(0, 0, CARD_SIZE[0], 90, stroke=0, fill=1)
        pdf.setStrokeColor("#888888")
        pdf.setLineWidth(_PHOTO_BORDER * scale)
        box(*PHOTO_BOX, stroke=1, fill=0)
        if photo is not None:
            from reportlab.lib.utils import ImageReader

            left, top, right, bottom = PHOTO_BOX
            fitted = _photo_fitted(photo)
            pdf.drawImage(
                ImageReader(fitted),
                (left + _PHOTO_BORDER) * scale,
                height - (bottom - _PHOTO_BORDER) * scale,
                width=fitted.width * scale,
                height=fitted.height * scale,
            )
        for line, runs in lines:
            # The same baseline as the PNG; each run in its own face, one after the other.
            x, baseline = line.left * scale, height - (line.top + line.size * _BASELINE) * scale
            pdf.setFillColor(line.color)
            for face, run in runs:
                name = font_names[face]
                pdf.setFont(name, line.size * scale)
                pdf.drawString(x, baseline, run)
                x += pdfmetrics.stringWidth(run, name, line.size * scale)
        side = QR_SIDE * scale
        _pdf_qr(pdf, token, left=(CARD_SIZE[0] - QR_SIDE - QR_MARGIN) * scale, bottom=QR_MARGIN * scale, side=side)
        pdf.showPage()
        pdf.save()
    return buffer.getvalue()


def _pdf_qr(pdf, token: str, *, left: float, bottom: float, side: float) -> None:
    # Vector modules stay sharp at any printer resolution; runs of dark modules are one rectangle each.
    matrix = _qr(token).get_matrix()
    module = side / len(matrix)
    pdf.setFillColor("white")
    pdf.rect(left, bottom, side, side, stroke=0, fill=1)
    pdf.setFillColor("black")
    path = pdf.beginPath()
    for row, cells in enumerate(matrix):
        column = 0
        while column < len(cells):
            if not cells[column]:
                column += 1
                continue
            start = column
            while column < len(cells) and cells[column]:
                column += 1
            top = bottom + side - row * module
            path.rect(left + start * module, top - module, (column - start) * module, module)
    pdf.drawPath(path, stroke=0, fill=1)


PRINTABLE_KINDS = ("png", "pdf")


def _printable_cache_key(card: Card, kind: str) -> str:
    # Status, version and photo in the key: a card or photo that changes is never served from an old image.
    photo_id = (
        ResidentPhoto.objects.filter(resident_id=card.resident_id, status=ResidentPhoto.Status.APPROVED)
        .values_list("pk", flat=True)
        .first()
    )
    return f"cards:printable:{kind}:{card.pk}:{card.version}:{card.status}:{card.updated_at.timestamp()}:{photo_id}"


def _printable_label(key: str) -> bytes:
    # The ciphertext is bound to its cache key (card, version, status, photo): it opens under no other.
    return b"onecard:printable:" + key.encode()


def card_printable_cached(*, card: Card, kind: str = "png") -> bytes | None:
    """Return the cached printable card of CARD as KIND (png or pdf), or None."""
    key = _printable_cache_key(card, kind)
    sealed = cache.get(key)
    if sealed is None:
        return None
    try:
        return resident_data_open(sealed, label=_printable_label(key))
    except DecryptionError:
        return None  # sealed under an older key, or not by OneCard: render again


def card_printable_cache_set(*, card: Card, rendered: dict[str, bytes]) -> None:
    """Cache the printable card of CARD, RENDERED by kind (png and pdf), sealed: it shows the photo and name."""
    entries = {}
    for kind in PRINTABLE_KINDS:
        key = _printable_cache_key(card, kind)
        entries[key] = resident_data_seal(rendered[kind], label=_printable_label(key))
    cache.set_many(entries, PRINTABLE_CACHE_SECONDS)
