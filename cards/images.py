"""QR codes and the printable card image."""

import functools
import io
import os

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core.cache import cache
from PIL import Image, ImageDraw, ImageFont, ImageOps

from cards.models import Card, ResidentPhoto

# ISO/IEC 7810 ID-1 at 300 dpi.
CARD_SIZE = (1012, 638)
CARD_WIDTH_MM, CARD_HEIGHT_MM = 85.6, 53.98
# Adobe's Simplified Chinese CID font: every PDF reader supplies it, so no font file ships or is embedded.
PDF_CJK_FONT = "STSong-Light"
# Common locations of a CJK font on Debian/Ubuntu, Fedora, Arch, Alpine and macOS, for the PNG.
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
)
# A render holds the photo and the name: kept an hour at most, then drawn again on the next download.
PRINTABLE_CACHE_SECONDS = 60 * 60
# The photo box of the card layout, in PNG pixels: left, top, right, bottom.
PHOTO_BOX = (40, 130, 260, 400)
_PHOTO_BORDER = 3


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


def card_font_path(*, candidates: tuple[str, ...] | None = None) -> str:
    """Return ONECARD_CARD_FONT, else the first CJK font found among CANDIDATES, else an empty string."""
    if settings.ONECARD_CARD_FONT:
        return settings.ONECARD_CARD_FONT
    candidates = CJK_FONT_CANDIDATES if candidates is None else candidates
    return next((path for path in candidates if os.path.isfile(path)), "")


def _font(size: int) -> ImageFont.ImageFont:
    path = card_font_path()
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            if path == settings.ONECARD_CARD_FONT:
                raise
            # A found system file that Pillow cannot read must not stop the card from printing.
    return ImageFont.load_default(size)


def _photo_fitted(photo: bytes) -> Image.Image:
    left, top, right, bottom = PHOTO_BOX
    inner = (right - left - 2 * _PHOTO_BORDER, bottom - top - 2 * _PHOTO_BORDER)
    return ImageOps.fit(Image.open(io.BytesIO(photo), formats=["JPEG"]).convert("RGB"), inner)


def card_printable_render(*, card: Card, token: str, photo: bytes | None = None) -> bytes:
    """Draw the printable card: name, masked ID, number, photo (or its empty box) and QR code, as PNG."""
    image = Image.new("RGB", CARD_SIZE, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, CARD_SIZE[0], 90), fill="#1f4e79")
    draw.text((40, 22), "OneCard", fill="white", font=_font(44))
    draw.rectangle(PHOTO_BOX, outline="#888888", width=_PHOTO_BORDER)
    if photo is None:
        draw.text((95, 255), "PHOTO", fill="#888888", font=_font(28))
    else:
        image.paste(_photo_fitted(photo), (PHOTO_BOX[0] + _PHOTO_BORDER, PHOTO_BOX[1] + _PHOTO_BORDER))
    resident = card.resident
    draw.text((300, 140), resident.full_name, fill="black", font=_font(44))
    draw.text((300, 210), resident.national_id_masked, fill="black", font=_font(32))
    draw.text((300, 270), f"Valid until {card.expires_on.isoformat()}", fill="#444444", font=_font(26))
    draw.text((40, 470), card.number_display, fill="black", font=_font(48))
    draw.text((40, 540), f"Version {card.version}", fill="#444444", font=_font(24))
    qr = Image.open(io.BytesIO(qr_png(token, box_size=3))).convert("RGB")
    qr.thumbnail((330, 330))
    image.paste(qr, (CARD_SIZE[0] - qr.width - 30, CARD_SIZE[1] - qr.height - 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@functools.cache
def _pdf_cjk_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(PDF_CJK_FONT))
    return PDF_CJK_FONT


def card_printable_render_pdf(*, card: Card, token: str, photo: bytes | None = None) -> bytes:
    """Draw the printable card as a one-page vector PDF at ID-1 size, the layout of the PNG, text in a CJK font."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    width, height = CARD_WIDTH_MM * mm, CARD_HEIGHT_MM * mm
    scale = width / CARD_SIZE[0]  # points per pixel of the PNG layout
    font = _pdf_cjk_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(width, height), pageCompression=1)
    pdf.setTitle(f"OneCard {card.number_display}")

    def box(left, top, right, bottom, **kwargs):
        pdf.rect(left * scale, height - bottom * scale, (right - left) * scale, (bottom - top) * scale, **kwargs)

    def text(left, top, size, value, color):
        # Pillow places the top of the text at TOP; PDF places the baseline, about 0.85 of the size lower.
        pdf.setFillColor(color)
        pdf.setFont(font, size * scale)
        pdf.drawString(left * scale, height - (top + size * 0.85) * scale, value)

    pdf.setFillColor("#1f4e79")
    box(0, 0, CARD_SIZE[0], 90, stroke=0, fill=1)
    text(40, 22, 44, "OneCard 一卡通", "white")
    pdf.setStrokeColor("#888888")
    pdf.setLineWidth(_PHOTO_BORDER * scale)
    box(*PHOTO_BOX, stroke=1, fill=0)
    if photo is None:
        text(122, 255, 28, "照片", "#888888")
    else:
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
    resident = card.resident
    text(300, 140, 44, resident.full_name, "black")
    text(300, 210, 32, resident.national_id_masked, "black")
    text(300, 270, 26, f"有效期至 {card.expires_on.isoformat()}", "#444444")
    text(40, 470, 48, card.number_display, "black")
    text(40, 540, 24, f"版本 {card.version}", "#444444")
    _pdf_qr(pdf, token, left=(CARD_SIZE[0] - 330 - 30) * scale, bottom=30 * scale, side=330 * scale)
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


def card_printable_cached(*, card: Card, kind: str = "png") -> bytes | None:
    """Return the cached printable card of CARD as KIND (png or pdf), or None."""
    return cache.get(_printable_cache_key(card, kind))


def card_printable_cache_set(*, card: Card, rendered: dict[str, bytes]) -> None:
    """Cache the printable card of CARD, RENDERED by kind (png and pdf)."""
    cache.set_many(
        {_printable_cache_key(card, kind): rendered[kind] for kind in PRINTABLE_KINDS}, PRINTABLE_CACHE_SECONDS
    )
