"""QR codes and the printable card image."""

import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core.cache import cache
from PIL import Image, ImageDraw, ImageFont

from cards.models import Card

# ISO/IEC 7810 ID-1 at 300 dpi.
CARD_SIZE = (1012, 638)
PRINTABLE_CACHE_SECONDS = 7 * 24 * 60 * 60


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


def _font(size: int) -> ImageFont.ImageFont:
    if settings.ONECARD_CARD_FONT:
        return ImageFont.truetype(settings.ONECARD_CARD_FONT, size)
    return ImageFont.load_default(size)


def card_printable_render(*, card: Card, token: str) -> bytes:
    """Draw the printable card: name, masked ID, number, photo placeholder and QR code, as PNG."""
    image = Image.new("RGB", CARD_SIZE, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, CARD_SIZE[0], 90), fill="#1f4e79")
    draw.text((40, 22), "OneCard", fill="white", font=_font(44))
    # Photo placeholder: the photo is added at the print bureau, never stored here.
    draw.rectangle((40, 130, 260, 400), outline="#888888", width=3)
    draw.text((95, 255), "PHOTO", fill="#888888", font=_font(28))
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


def _printable_cache_key(card: Card) -> str:
    # Status and version in the key: a card that changes is never served from an old image.
    return f"cards:printable:{card.pk}:{card.version}:{card.status}:{card.updated_at.timestamp()}"


def card_printable_cached(*, card: Card) -> bytes | None:
    """Return the cached printable image of CARD, or None."""
    return cache.get(_printable_cache_key(card))


def card_printable_cache_fill(*, card: Card) -> bytes:
    """Render the printable image of CARD and cache it."""
    from cards.selectors import card_token_static

    image = card_printable_render(card=card, token=card_token_static(card=card))
    cache.set(_printable_cache_key(card), image, PRINTABLE_CACHE_SECONDS)
    return image
