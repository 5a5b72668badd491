"""The posters' font (Noto Sans SC, shipped in fonts/) and what it can draw.

The font is a subset (scripts/build-poster-font): ASCII, Latin-1, general and CJK punctuation, fullwidth forms, all of
GB2312 (6,763 hanzi) and every character of the project's texts. A member's name may hold a character outside it, a
rare hanzi (𠀋) or an emoji (😀); drawn, it would be a missing-glyph box ("tofu"). So nothing is drawn before it goes
through ``drawable``: an uncovered character becomes "·" (``drawable("王😀明") == "王·明"``), emoji at either end
of a text are dropped (``drawable("小明😀") == "小明"``).

``covers`` reads the font's own character map (its ``cmap`` table), so it stays right when the font is rebuilt.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from functools import cache
from pathlib import Path

from PIL import ImageFont

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = FONTS_DIR / "NotoSansSC-Regular.otf"
BOLD = FONTS_DIR / "NotoSansSC-Bold.otf"
PLACEHOLDER = "·"  # stands for a run of characters the font cannot draw
ELLIPSIS = "…"

# Invisible characters that only modify their neighbour (emoji presentation and skin tones, joiners, tags): dropped
# rather than replaced, so that "👍🏽" or a ZWJ family is one placeholder, not three.
_INVISIBLE_RANGES = (
    (0x200B, 0x200D),  # zero-width space, non-joiner, joiner
    (0x2060, 0x2064),  # word joiner, invisible operators
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # byte-order mark
    (0x1F3FB, 0x1F3FF),  # skin-tone modifiers
    (0xE0000, 0xE007F),  # tags
    (0xE0100, 0xE01EF),  # variation selectors supplement
)


def _cmap_codepoints(data: bytes) -> frozenset[int]:
    """The code points of an OpenType font's Unicode cmap subtable (format 12 if present, else format 4)."""
    (num_tables,) = struct.unpack_from(">H", data, 4)
    cmap_offset = None
    for i in range(num_tables):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        if tag == b"cmap":
            cmap_offset = offset
    if cmap_offset is None:
        raise ValueError("the font has no cmap table")
    (_version, count) = struct.unpack_from(">HH", data, cmap_offset)
    subtables: dict[int, int] = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap_offset + 4 + 8 * i)
        if (platform, encoding) in {(3, 10), (0, 4), (0, 6), (3, 1), (0, 3)}:
            start = cmap_offset + offset
            (fmt,) = struct.unpack_from(">H", data, start)
            subtables.setdefault(fmt, start)
    found: set[int] = set()
    if 12 in subtables:
        start = subtables[12]
        (groups,) = struct.unpack_from(">I", data, start + 12)
        for g in range(groups):
            first, last, glyph = struct.unpack_from(">III", data, start + 16 + 12 * g)
            found.update(cp for cp in range(first, last + 1) if glyph + cp - first)
        return frozenset(found)
    if 4 not in subtables:
        raise ValueError("the font has no Unicode cmap subtable of format 4 or 12")
    start = subtables[4]
    (seg_x2,) = struct.unpack_from(">H", data, start + 6)
    ends = start + 14
    starts = ends + seg_x2 + 2
    deltas = starts + seg_x2
    range_offsets = deltas + seg_x2
    for s in range(seg_x2 // 2):
        (end,) = struct.unpack_from(">H", data, ends + 2 * s)
        (first,) = struct.unpack_from(">H", data, starts + 2 * s)
        (delta,) = struct.unpack_from(">h", data, deltas + 2 * s)
        (range_offset,) = struct.unpack_from(">H", data, range_offsets + 2 * s)
        for cp in range(first, end + 1):
            if cp == 0xFFFF:
                continue
            if range_offset == 0:
                glyph = (cp + delta) & 0xFFFF
            else:
                at = range_offsets + 2 * s + range_offset + 2 * (cp - first)
                (glyph,) = struct.unpack_from(">H", data, at)
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                found.add(cp)
    return frozenset(found)


@cache
def _codepoints() -> frozenset[int]:
    """What both weights draw (the build gives them the same characters; the intersection keeps that honest)."""
    return _cmap_codepoints(REGULAR.read_bytes()) & _cmap_codepoints(BOLD.read_bytes())


@cache
def font_version() -> str:
    """The shipped font files' sha256, for the posters' cache key: a rebuilt subset is a new version."""
    digest = hashlib.sha256()
    for path in (REGULAR, BOLD):
        digest.update(path.read_bytes())
    return digest.hexdigest()


@cache
def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(BOLD if bold else REGULAR), size)


def covers(text: str) -> bool:
    """Whether the posters' font has a glyph for every character of ``text`` (a newline or a tab has none)."""
    codepoints = _codepoints()
    return all(ord(ch) in codepoints for ch in text)


def _invisible(ch: str) -> bool:
    cp = ord(ch)
    return any(low <= cp <= high for low, high in _INVISIBLE_RANGES)


def drawable(text: str) -> str:
    """``text`` as the posters draw it, with nothing the font lacks.

    NFC first (an "e" with a combining accent is the font's "é"); line breaks, tabs and other spacing collapse to
    single spaces; emoji modifiers, joiners and variation selectors vanish. Then each run of characters the font
    lacks (with the spaces inside it) becomes one "·", except a run of symbols only (emoji) at the start or the end,
    which is decoration and is dropped. A letter the font lacks, a rare hanzi, always leaves its "·": a name is not
    silently shortened. The result ``covers`` itself:

    >>> drawable("小明😀😀"), drawable("王😀明"), drawable("🍎 Li\nLei 👨‍👩‍👧"), drawable("𠀋雨"), drawable("😀")
    ('小明', '王·明', 'Li Lei', '·雨', '')
    """
    codepoints = _codepoints()
    pieces: list[tuple[bool, str]] = []  # (drawn, text): runs of drawn characters and of missing ones
    for ch in unicodedata.normalize("NFC", text):
        category = unicodedata.category(ch)
        if category in {"Zs", "Zl", "Zp"} or ch in "\t\n\r\v\f":
            ch = " "
        elif _invisible(ch):
            continue
        drawn = ch == " " or (ord(ch) in codepoints and category[0] != "C")
        if pieces and (pieces[-1][0] == drawn or (ch == " " and not pieces[-1][0])):
            pieces[-1] = (pieces[-1][0], pieces[-1][1] + ch)
        else:
            pieces.append((drawn, ch))
    out: list[str] = []
    for i, (drawn, run) in enumerate(pieces):
        if drawn:
            out.append(run)
        elif 0 < i < len(pieces) - 1 or any(unicodedata.category(ch)[0] in "LN" for ch in run):
            out.append(PLACEHOLDER + (" " if run.endswith(" ") else ""))
    return re.sub(" +", " ", "".join(out)).strip()


def ellipsis_after(text: str) -> str:
    """The ellipsis that suits ``text``: "..." after Latin (the font's "…" is the centred CJK one), else "…"."""
    return "..." if text and ord(text.rstrip()[-1]) < 0x2000 else ELLIPSIS


def has_letters(text: str) -> bool:
    """Whether ``text`` (already drawable) shows more than placeholders and spaces."""
    return any(ch not in (PLACEHOLDER, " ") for ch in text)
