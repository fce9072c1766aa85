"""Card photos: check an upload, re-encode it without metadata, and seal it at rest.

An upload is decoded by Pillow, never trusted as bytes: only the decoded
pixels are kept and written out again as a fresh JPEG, so EXIF, XMP, ICC,
comments, trailing data and anything else a file carries (a polyglot's
second format included) are gone. The result is sealed with AES-256-GCM under
ONECARD_NATIONAL_ID_KEY, bound to the resident, like the national ID.
"""

import io
import os
import warnings

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from cards.errors import PhotoInvalid

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MIN_SIZE = (240, 320)
PHOTO_MAX_SIDE = 4000
# What is stored and printed: 3:4 portrait, as on ID-1 cards' photo boxes.
PHOTO_STORED_SIZE = (360, 480)
PHOTO_JPEG_QUALITY = 85
PHOTO_FORMATS = ("JPEG", "PNG")

_VERSION = b"\x01"


def _associated_data(resident_id: int) -> bytes:
    return b"onecard:resident.photo:" + str(resident_id).encode()


def photo_clean(data: bytes) -> bytes:
    """Check an uploaded JPEG or PNG and return it re-encoded as a metadata-free 360 x 480 JPEG."""
    if not data:
        raise PhotoInvalid(_("The file is empty."))
    if len(data) > PHOTO_MAX_BYTES:
        raise PhotoInvalid(
            _("The file is %(size)d KB; the limit is %(limit)d MB.")
            % {"size": len(data) // 1024, "limit": PHOTO_MAX_BYTES // (1024 * 1024)}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=PHOTO_FORMATS)
            if image.format not in PHOTO_FORMATS:
                raise PhotoInvalid(_("This is not a JPEG or PNG image."))
            width, height = image.size
            if max(width, height) > PHOTO_MAX_SIDE:
                raise PhotoInvalid(
                    _("The photo is %(width)d x %(height)d pixels; neither side may exceed %(limit)d.")
                    % {"width": width, "height": height, "limit": PHOTO_MAX_SIDE}
                )
            min_width, min_height = PHOTO_MIN_SIZE
            if width < min_width or height < min_height:
                raise PhotoInvalid(
                    _("The photo is %(width)d x %(height)d pixels; it must be at least %(min_width)d x %(min_height)d.")
                    % {"width": width, "height": height, "min_width": min_width, "min_height": min_height}
                )
            image.load()
    except PhotoInvalid:
        raise
    except UnidentifiedImageError:
        raise PhotoInvalid(_("This is not a JPEG or PNG image.")) from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise PhotoInvalid(_("The image is damaged or cannot be read.")) from None
    # Honour the camera's orientation before the EXIF that states it is dropped.
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image = ImageOps.fit(image.convert("RGB"), PHOTO_STORED_SIZE, method=Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    # A new image from pixels only: no exif, icc_profile, comment or xmp is passed, so none is written.
    Image.frombytes("RGB", image.size, image.tobytes()).save(
        buffer, format="JPEG", quality=PHOTO_JPEG_QUALITY, optimize=True
    )
    return buffer.getvalue()


def photo_encrypt(jpeg: bytes, *, resident_id: int) -> bytes:
    """Return version || nonce || AES-256-GCM ciphertext of JPEG, bound to the resident."""
    nonce = os.urandom(12)
    sealed = AESGCM(settings.ONECARD_NATIONAL_ID_KEY[:32]).encrypt(nonce, jpeg, _associated_data(resident_id))
    return _VERSION + nonce + sealed


def photo_decrypt(blob: bytes, *, resident_id: int) -> bytes:
    """Return the JPEG sealed in BLOB for the resident; a blob moved to another resident does not open."""
    blob = bytes(blob)
    if blob[:1] != _VERSION:
        raise PhotoInvalid("unknown photo ciphertext version")
    key = AESGCM(settings.ONECARD_NATIONAL_ID_KEY[:32])
    try:
        return key.decrypt(blob[1:13], blob[13:], _associated_data(resident_id))
    except InvalidTag:
        raise PhotoInvalid("the stored photo does not authenticate") from None
