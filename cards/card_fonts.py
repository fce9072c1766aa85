"""The printable card's fonts: Noto Sans CJK SC from a pinned package, embedded in the PDF as a subset.

The card must print anywhere: on a server with no font installed, in a PDF
reader that has no Chinese font, and for names with rare characters (CJK
Extension A and B, e.g. 䶮 U+4DAE and 𠮷 U+20BB7). So its text is set in
Noto Sans CJK SC (SIL Open Font License 1.1), shipped by the PyPI package
``noto-cjk-sans-otc`` that requirements.txt pins, and each PDF embeds only the
glyphs it draws, built here with fontTools. The Pillow PNG uses the same
faces.

Faces are tried in order for each character: ``ONECARD_CARD_FONT`` when set,
then Noto Sans CJK SC, then any font of ``FALLBACK_FONT_CANDIDATES`` present on
the machine (HanaMin, BabelStone Han: they cover the whole of Extension B).
A character no face has is drawn with the first face's .notdef.
"""

import functools
import hashlib
import io
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.boundsPen import ControlBoundsPen
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, TTLibError
from reportlab.pdfbase import ttfonts

BUNDLED_FAMILY = "Noto Sans CJK SC"
# Fonts with the rest of CJK Extension B and later, where a system has them (Debian: fonts-hanazono).
FALLBACK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
    "/usr/share/fonts/truetype/babelstone/BabelStoneHan.ttf",
    "/usr/share/fonts/TTF/BabelStoneHan.ttf",
)
# Name records copied into each subset: copyright, family, style, unique id, full name, version,
# PostScript name, licence and licence URL, so an embedded subset still carries its notice.
_NAME_IDS = (0, 1, 2, 3, 4, 5, 6, 13, 14)


@dataclass(frozen=True)
class Face:
    """One font of the chain: a file and, for a collection (.ttc), the font's index in it."""

    path: str
    index: int = 0


def bundled_face() -> Face:
    """Return Noto Sans CJK SC in the font collection shipped by the noto-cjk-sans-otc package."""
    from noto_cjk_sans_otc import FONT_PATH

    return _bundled_face(str(FONT_PATH))


@functools.cache
def _bundled_face(path: str) -> Face:
    collection = TTCollection(path, lazy=True)
    for index, font in enumerate(collection.fonts):
        if font["name"].getDebugName(1) == BUNDLED_FAMILY:
            return Face(path, index)
    raise TTLibError(f"{path} has no {BUNDLED_FAMILY}")


def card_faces(*, candidates: tuple[str, ...] | None = None) -> tuple[Face, ...]:
    """Return the faces tried in order: ONECARD_CARD_FONT if set, Noto Sans CJK SC, then fallbacks found."""
    chosen = (Face(settings.ONECARD_CARD_FONT),) if settings.ONECARD_CARD_FONT else ()
    candidates = FALLBACK_FONT_CANDIDATES if candidates is None else candidates
    found = tuple(Face(path) for path in candidates if os.path.isfile(path) and _readable(Face(path)))
    return (*chosen, bundled_face(), *found)


def _readable(face: Face) -> bool:
    # A fallback found on the system that fontTools cannot read must not stop the card from printing.
    try:
        _loaded(face)
    except (OSError, TTLibError, AssertionError, KeyError, ValueError):
        return False
    return True


class _LoadedFace:
    """A face opened once per process: its cmap, metrics and outlines, read under a lock."""

    def __init__(self, face: Face) -> None:
        self.font = TTFont(face.path, fontNumber=face.index, lazy=True)
        self.cmap = self.font.getBestCmap()
        self.glyph_set = self.font.getGlyphSet()
        self.units_per_em = self.font["head"].unitsPerEm
        self.lock = threading.Lock()


@functools.lru_cache(maxsize=8)
def _loaded(face: Face) -> _LoadedFace:
    return _LoadedFace(face)


def face_has(face: Face, character: str) -> bool:
    """Return whether FACE maps CHARACTER to a glyph."""
    return ord(character) in _loaded(face).cmap


def text_runs(text: str, faces: tuple[Face, ...]) -> list[tuple[Face, str]]:
    """Split TEXT into runs, each set in the first of FACES that has its characters."""
    runs: list[tuple[Face, str]] = []
    for character in text:
        face = next((f for f in faces if face_has(f, character)), faces[0])
        if character.isspace() and runs:
            face = runs[-1][0]  # a space never starts a run of its own
        if runs and runs[-1][0] == face:
            runs[-1] = (face, runs[-1][1] + character)
        else:
            runs.append((face, character))
    return runs


def face_subset(face: Face, characters: Iterable[str]) -> tuple[str, bytes]:
    """Return (PostScript name, TrueType bytes) of FACE cut down to CHARACTERS (and .notdef).

    CFF outlines (Noto Sans CJK) become quadratic TrueType outlines, which
    reportlab embeds; the name is unique to the face and the characters.
    """
    loaded = _loaded(face)
    wanted = sorted({ord(c) for c in characters if ord(c) in loaded.cmap})
    with loaded.lock:
        names = [".notdef", *dict.fromkeys(loaded.cmap[code] for code in wanted)]
        source_metrics = loaded.font["hmtx"].metrics
        glyphs, metrics = {}, {}
        for name in names:
            recording = DecomposingRecordingPen(loaded.glyph_set)
            loaded.glyph_set[name].draw(recording)
            pen = TTGlyphPen(None)
            recording.replay(Cu2QuPen(pen, max_err=1.0, reverse_direction=loaded.font.has_key("CFF ")))
            glyphs[name] = pen.glyph()
            bounds = ControlBoundsPen(None)
            recording.replay(bounds)
            metrics[name] = (source_metrics[name][0], int(bounds.bounds[0]) if bounds.bounds else 0)
        hhea, os2, post = loaded.font["hhea"], loaded.font["OS/2"], loaded.font["post"]
        names_table = {
            record.nameID: record.toUnicode()
            for record in loaded.font["name"].names
            if record.platformID == 3 and record.langID == 0x409 and record.nameID in _NAME_IDS
        }
    digest = hashlib.sha256(f"{face.path}:{face.index}:{wanted}".encode()).hexdigest()[:10].upper()
    postscript_name = f"{names_table.get(6, 'OneCardFont')}-{digest}"
    names_table[6] = postscript_name
    builder = FontBuilder(loaded.units_per_em, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({code: loaded.cmap[code] for code in wanted})
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent)
    builder.setupNameTable({_NAME_KEYS[n]: value for n, value in names_table.items() if n in _NAME_KEYS})
    # fsType 0: installable embedding, as the Open Font License allows.
    builder.setupOS2(
        fsType=0,
        sTypoAscender=os2.sTypoAscender,
        sTypoDescender=os2.sTypoDescender,
        usWinAscent=os2.usWinAscent,
        usWinDescent=os2.usWinDescent,
        achVendID=os2.achVendID,
    )
    builder.setupPost(underlinePosition=post.underlinePosition, underlineThickness=post.underlineThickness)
    buffer = io.BytesIO()
    builder.save(buffer)
    return postscript_name, buffer.getvalue()


_NAME_KEYS = {
    0: "copyright",
    1: "familyName",
    2: "styleName",
    3: "uniqueFontIdentifier",
    4: "fullName",
    5: "version",
    6: "psName",
    13: "licenseDescription",
    14: "licenseInfoURL",
}


def _to_unicode_cmap(fontname, subset):
    """Return the ToUnicode CMap of a reportlab font subset, characters beyond the BMP as UTF-16 pairs.

    reportlab 5.1 writes a code point above U+FFFF as five hex digits, which
    readers cut to four, so copying 𠮷 U+20BB7 gave ₻ U+20BB. The PDF
    reference asks for the UTF-16BE code units.
    """
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        f"<< /Registry ({fontname})",
        f"/Ordering ({fontname})",
        "/Supplement 0",
        ">> def",
        f"/CMapName /{fontname} def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        f"<00> <{len(subset) - 1:02X}>",
        "endcodespacerange",
        f"{len(subset)} beginbfchar",
        *(f"<{code:02X}> <{chr(value).encode('utf-16-be').hex().upper()}>" for code, value in enumerate(subset)),
        "endbfchar",
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ]
    return "\n".join(lines)


# reportlab looks the function up when it writes each font, so every PDF it makes gets the fix.
ttfonts.makeToUnicodeCMap = _to_unicode_cmap
