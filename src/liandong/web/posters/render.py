"""The invite poster (推广海报): a 750×1334 PNG a member shares, with the QR code of their invite link.

Top to bottom: the shop's name on the brand colour; a white card with the product's image (or, without a product, a
coloured panel with the shop's initial), the product's name and price; the member's name, the caller's headline
("邀请你加入" / "invites you to join") and the shop; the invite code; the QR code of the invite URL (error correction
M, modules of 6-9 px, at least four modules of white around it); a one-line footer. About 30-45 ms a poster.

Every text goes through ``fonts.drawable`` first, so a character the shipped font lacks is a "·" (or, an emoji at
either end, dropped), never a box; a member name left with nothing ("😀") gives way to ``member_username``, and
without one the name line is left out.
The few fixed labels ("Invite code", "Scan to join", the footer) are translated here, in ``poster.language``.

``poster_png(poster, cache_dir)`` keeps each PNG under its ``cache_key``: the sha256 of every field (the image by
its own sha256), the labels as translated, the font files' digest and ``LAYOUT_VERSION``. A poster is drawn again
exactly when something it shows changes; bump ``LAYOUT_VERSION`` with any change to this drawing code.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import qrcode
from django.utils.translation import gettext, override
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from . import fonts

LAYOUT_VERSION = 1
WIDTH, HEIGHT = 750, 1334

BRAND = (228, 57, 60)  # the pages' --brand
BRAND_DEEP = (184, 32, 40)
INK = (29, 29, 31)
MUTED = (110, 110, 115)
LINE = (229, 229, 234)
WHITE = (255, 255, 255)
CODE_BG = (253, 236, 236)
PHOTO_BACKDROP = (245, 245, 247)  # behind a product image's transparent parts, the pages' --bg
# The panel shown without a product image: one colour per shop, chosen by its name.
PANEL_COLOURS = ((47, 128, 237), (34, 150, 120), (240, 136, 62), (112, 72, 232), (12, 133, 153), (194, 37, 92))

CARD = (30, 110, 720, 1262)  # left, top, right, bottom
PAD = 30
CONTENT_LEFT, CONTENT_RIGHT = CARD[0] + PAD, CARD[2] - PAD
PRODUCT_BOX = (CONTENT_LEFT, CARD[1] + PAD, CONTENT_RIGHT, CARD[1] + PAD + 580)
PANEL_BOX = (CONTENT_LEFT, CARD[1] + PAD, CONTENT_RIGHT, CARD[1] + PAD + 760)  # no product: the panel goes lower
DIVIDER_Y = 930
QR_SIZE_MAX = 248
QR_QUIET_PX = 36  # white between the code and the card's edge: four modules of up to 9 px
QR_RIGHT = CONTENT_RIGHT - 6

INVITE_URL_MAX = 200  # a longer URL needs modules too small to scan from a phone's screen
TEXT_MAX = 100
IMAGE_BYTES_MAX = 10 * 1024 * 1024
IMAGE_PIXELS_MAX = 40_000_000
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")


def _check_text(field: str, value: str, maximum: int = TEXT_MAX) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{field}: {value!r} is not a string")
    if len(value) > maximum:
        raise ValueError(f"{field}: {len(value)} characters ({value[:20]!r}…), at most {maximum}")


@dataclass(frozen=True)
class PosterProduct:
    """The product shown: its name, its price as the caller formats it ("¥199.00"), optionally its image."""

    name: str
    price: str
    image: bytes | None = None

    def __post_init__(self) -> None:
        _check_text("product.name", self.name)
        _check_text("product.price", self.price, 20)
        if not self.name.strip():
            raise ValueError(f"product.name: {self.name!r} is empty")
        if self.image is not None and len(self.image) > IMAGE_BYTES_MAX:
            raise ValueError(f"product.image: {len(self.image)} bytes, at most {IMAGE_BYTES_MAX}")


@dataclass(frozen=True)
class InvitePoster:
    """What an invite poster shows. Texts are the caller's, already translated; ``language`` picks the labels'."""

    shop_name: str
    member_name: str  # the display name
    invite_url: str
    invite_code: str
    headline: str  # e.g. "邀请你加入" / "invites you to join"
    language: str  # "zh-hans", "en"
    product: PosterProduct | None = None
    member_username: str = ""  # shown when the display name has nothing the font draws

    def __post_init__(self) -> None:
        for field in ("shop_name", "member_name", "headline", "member_username"):
            _check_text(field, getattr(self, field))
        _check_text("invite_url", self.invite_url, INVITE_URL_MAX)
        _check_text("invite_code", self.invite_code, 32)
        _check_text("language", self.language, 20)
        if not re.fullmatch(r"https?://\S+", self.invite_url):
            raise ValueError(f"invite_url: {self.invite_url!r} is not an http(s) URL without spaces")
        if not self.invite_code or not fonts.covers(self.invite_code) or " " in self.invite_code:
            raise ValueError(f"invite_code: {self.invite_code!r} is not a code of printable characters")
        if not _LANGUAGE.fullmatch(self.language):
            raise ValueError(f"language: {self.language!r} is not a language code such as 'zh-hans' or 'en'")
        if self.product is not None and not isinstance(self.product, PosterProduct):
            raise TypeError(f"product: {self.product!r} is not a PosterProduct")


@dataclass(frozen=True)
class _Labels:
    invite_code: str
    scan: str
    footer: str


def _labels(language: str) -> _Labels:
    with override(language):
        return _Labels(
            invite_code=gettext("Invite code"),
            scan=gettext("Scan to join"),
            footer=gettext("Long-press the QR code to join, or register with the invite code"),
        )


def cache_key(poster: InvitePoster) -> str:
    """The sha256 naming this poster's PNG: every field, the translated labels, the font and the layout version."""
    fields = asdict(poster)
    if poster.product is not None and poster.product.image is not None:
        fields["product"]["image"] = hashlib.sha256(poster.product.image).hexdigest()
    material = {
        "poster": fields,
        "labels": asdict(_labels(poster.language)),
        "font": fonts.font_version(),
        "layout": LAYOUT_VERSION,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def poster_png(poster: InvitePoster, cache_dir: Path) -> bytes:
    """The poster's PNG, drawn once per ``cache_key`` and kept as ``cache_dir/<2 hex>/<key>.png``.

    The file appears whole or not at all (written aside, then renamed), so processes drawing the same poster at once
    each write a complete file and every reader gets a complete one.
    """
    key = cache_key(poster)
    path = cache_dir / key[:2] / f"{key}.png"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    png = render_invite_poster(poster)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(png)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return png


def render_invite_poster(poster: InvitePoster) -> bytes:
    """The poster as PNG bytes, 750×1334."""
    labels = _labels(poster.language)
    canvas = _background()
    draw = ImageDraw.Draw(canvas)
    shop = fonts.drawable(poster.shop_name)
    _header(draw, shop)
    _paste_rounded(canvas, Image.new("RGB", _size(CARD), WHITE), CARD[:2], 28)
    if poster.product is not None and poster.product.image is not None:
        _paste_rounded(canvas, _product_image(poster.product.image), PRODUCT_BOX[:2], 20)
    else:
        _panel(canvas, shop, PRODUCT_BOX if poster.product is not None else PANEL_BOX)
    if poster.product is not None:
        _product_text(draw, poster.product)
    draw.line((CONTENT_LEFT, DIVIDER_Y, CONTENT_RIGHT, DIVIDER_Y), fill=LINE, width=2)
    qr_left = _qr(canvas, poster.invite_url, DIVIDER_Y + 26)
    _inviter(draw, poster, shop, labels, qr_left - 24)
    footer = _fit(fonts.drawable(labels.footer), 22, 16, WIDTH - 2 * CARD[0], bold=False)
    draw.text((WIDTH // 2, (CARD[3] + HEIGHT) // 2), footer[0], font=footer[1], fill=WHITE, anchor="mm")
    out = io.BytesIO()
    canvas.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _size(box: tuple[int, int, int, int]) -> tuple[int, int]:
    return box[2] - box[0], box[3] - box[1]


@cache
def _gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    """A vertical gradient; cached, so callers copy it before drawing on it."""
    return ImageOps.colorize(Image.linear_gradient("L").resize(size), black=top, white=bottom)


def _background() -> Image.Image:
    return _gradient((WIDTH, HEIGHT), BRAND, BRAND_DEEP).copy()


@cache
def _rounded_mask(size: tuple[int, int], radius: int) -> Image.Image:
    """An anti-aliased rounded-rectangle mask (drawn at 4× and reduced); cached, never drawn on."""
    big = Image.new("L", (size[0] * 4, size[1] * 4), 0)
    ImageDraw.Draw(big).rounded_rectangle((0, 0, big.width - 1, big.height - 1), radius * 4, fill=255)
    return big.resize(size, Image.Resampling.LANCZOS)


def _paste_rounded(canvas: Image.Image, image: Image.Image, at: tuple[int, int], radius: int) -> None:
    canvas.paste(image, at, _rounded_mask(image.size, radius))


def _fit(text: str, size: int, min_size: int, width: int, *, bold: bool) -> tuple[str, ImageFont.FreeTypeFont]:
    """``text`` on one line of ``width``: the largest size down to ``min_size``, then cut with "…"."""
    for candidate in range(size, min_size - 1, -2):
        face = fonts.font(candidate, bold=bold)
        if face.getlength(text) <= width:
            return text, face
    face = fonts.font(min_size, bold=bold)
    return _truncate(text, face, width), face


def _truncate(text: str, face: ImageFont.FreeTypeFont, width: int) -> str:
    while text and face.getlength(text + fonts.ellipsis_after(text)) > width:
        text = text[:-1]
    return text.rstrip() + fonts.ellipsis_after(text)


_TOKENS = re.compile(r"[0-9A-Za-z\u00c0-\u00ff'’.,\-]+\s*|\s+|.")
_NO_LINE_START = set("，。、；：？！）》」』】,.;:?!)%")


def _wrap(text: str, face: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    """Greedy lines of ``width``: Latin words stay whole, hanzi break anywhere, closing punctuation hangs."""
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(text):
        if face.getlength(line + token.rstrip()) <= width or not line or token[0] in _NO_LINE_START:
            line += token
            continue
        lines.append(line.rstrip())
        line = token.lstrip()
        while face.getlength(line) > width and len(line) > 1:  # one word wider than the line
            cut = len(line)
            while cut > 1 and face.getlength(line[:cut]) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _truncate("".join(lines[max_lines - 1 :]), face, width)]
    return lines


def _header(draw: ImageDraw.ImageDraw, shop: str) -> None:
    """The shop's mark (its initial in a white disc) and its name, on the brand colour above the card."""
    left, centre_y, radius = CARD[0] + 4, 56, 28
    initial = _initial(shop)
    if initial:
        draw.ellipse((left, centre_y - radius, left + 2 * radius, centre_y + radius), fill=WHITE)
        draw.text((left + radius, centre_y), initial, font=fonts.font(30, bold=True), fill=BRAND, anchor="mm")
        left += 2 * radius + 16
    text, face = _fit(shop, 34, 24, CARD[2] - left, bold=True)
    draw.text((left, centre_y), text, font=face, fill=WHITE, anchor="lm")


def _initial(shop: str) -> str:
    return next((ch.upper() for ch in shop if ch not in (fonts.PLACEHOLDER, " ")), "")


def _panel(canvas: Image.Image, shop: str, box: tuple[int, int, int, int]) -> None:
    """The product area without an image: the shop's colour, its initial large, its name below."""
    colour = PANEL_COLOURS[hashlib.sha256(shop.encode()).digest()[0] % len(PANEL_COLOURS)]
    deep = (int(colour[0] * 0.78), int(colour[1] * 0.78), int(colour[2] * 0.78))
    size = _size(box)
    panel = _gradient(size, colour, deep).copy()
    draw = ImageDraw.Draw(panel, "RGBA")  # RGBA fills blend over the gradient
    centre_x, centre_y = size[0] // 2, size[1] // 2 - 40
    for radius, alpha in ((330, 14), (240, 22)):
        draw.ellipse((centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius), fill=(*WHITE, alpha))
    draw.ellipse((centre_x - 150, centre_y - 150, centre_x + 150, centre_y + 150), fill=WHITE)
    initial = _initial(shop)
    if initial:
        draw.text((centre_x, centre_y), initial, font=fonts.font(150, bold=True), fill=colour, anchor="mm")
    text, face = _fit(shop, 40, 26, size[0] - 80, bold=True)
    draw.text((centre_x, centre_y + 230), text, font=face, fill=WHITE, anchor="mm")
    _paste_rounded(canvas, panel, box[:2], 20)


def _product_image(data: bytes) -> Image.Image:
    try:
        image: Image.Image = Image.open(io.BytesIO(data))
        if image.width * image.height > IMAGE_PIXELS_MAX:
            raise ValueError(f"product.image: {image.width}×{image.height} pixels, at most {IMAGE_PIXELS_MAX}")
        image = ImageOps.exif_transpose(image)
        if image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info:
            flat = Image.new("RGB", image.size, PHOTO_BACKDROP)
            flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
            image = flat
        image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"product.image: not an image that can be read ({error})") from error
    return ImageOps.fit(image, _size(PRODUCT_BOX), Image.Resampling.LANCZOS)


def _product_text(draw: ImageDraw.ImageDraw, product: PosterProduct) -> None:
    face = fonts.font(32, bold=True)
    top = PRODUCT_BOX[3] + 22
    for i, line in enumerate(_wrap(fonts.drawable(product.name), face, CONTENT_RIGHT - CONTENT_LEFT, 2)):
        draw.text((CONTENT_LEFT, top + 44 * i), line, font=face, fill=INK, anchor="la")
    price, price_face = _fit(fonts.drawable(product.price), 56, 32, CONTENT_RIGHT - CONTENT_LEFT, bold=True)
    draw.text((CONTENT_LEFT - 2, DIVIDER_Y - 24), price, font=price_face, fill=BRAND, anchor="ls")


def _qr(canvas: Image.Image, url: str, top: int) -> int:
    """Draw the QR code with its bottom-right inside the card; return its left edge."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    modules = len(matrix)
    box = min(QR_SIZE_MAX // modules, QR_QUIET_PX // 4)
    small = Image.new("1", (modules, modules), 1)
    small.putdata([0 if dark else 1 for row in matrix for dark in row])
    image = small.resize((modules * box, modules * box), Image.Resampling.NEAREST).convert("RGB")
    slot = QR_SIZE_MAX
    left = QR_RIGHT - slot + (slot - image.width) // 2
    canvas.paste(image, (left, top + (slot - image.height) // 2))
    return QR_RIGHT - slot


def _code_face(code: str, width: int) -> tuple[ImageFont.FreeTypeFont, int]:
    """The invite code's size and letter spacing: 34 px spaced by 6, smaller and tighter when it is long."""
    for size, tracking in ((34, 6), (30, 4), (26, 2), (22, 1), (18, 0), (16, 0)):
        face = fonts.font(size, bold=True)
        if face.getlength(code) + tracking * (len(code) - 1) <= width:
            break
    return face, tracking


def _inviter(draw: ImageDraw.ImageDraw, poster: InvitePoster, shop: str, labels: _Labels, right: int) -> None:
    """The left column: who invites, to what, with which code; the QR code's label under it on the right."""
    width = right - CONTENT_LEFT
    y = DIVIDER_Y + 40
    name = fonts.drawable(poster.member_name)
    if not fonts.has_letters(name):
        name = fonts.drawable(poster.member_username)
    if fonts.has_letters(name):
        text, face = _fit(name, 40, 28, width, bold=True)
        draw.text((CONTENT_LEFT, y + (40 - int(face.size)) // 2), text, font=face, fill=INK, anchor="la")
        y += 58
    headline = fonts.drawable(poster.headline)
    one_line, headline_face = _fit(headline, 28, 24, width, bold=False)
    lines = [one_line] if one_line == headline else _wrap(headline, headline_face, width, 2)
    for line in lines:
        draw.text((CONTENT_LEFT, y), line, font=headline_face, fill=MUTED, anchor="la")
        y += int(headline_face.size) + 12
    text, face = _fit(shop, 30, 22, width, bold=True)
    draw.text((CONTENT_LEFT, y + 2), text, font=face, fill=BRAND, anchor="la")

    label, label_face = _fit(fonts.drawable(labels.invite_code), 22, 16, width - 44, bold=False)
    code_face, tracking = _code_face(poster.invite_code, width - 44)
    code_width = code_face.getlength(poster.invite_code) + tracking * (len(poster.invite_code) - 1)
    pill_top, pill_bottom = 1148, 1232
    pill_right = CONTENT_LEFT + int(max(label_face.getlength(label), code_width)) + 44
    draw.rounded_rectangle((CONTENT_LEFT, pill_top, pill_right, pill_bottom), 16, fill=CODE_BG)
    draw.text((CONTENT_LEFT + 22, pill_top + 12), label, font=label_face, fill=BRAND, anchor="la")
    x = float(CONTENT_LEFT + 22)
    for ch in poster.invite_code:  # spaced letter by letter: easier to read out and type
        draw.text((x, pill_bottom - 14), ch, font=code_face, fill=INK, anchor="ls")
        x += code_face.getlength(ch) + tracking

    scan, scan_face = _fit(fonts.drawable(labels.scan), 22, 16, QR_SIZE_MAX, bold=False)
    draw.text((QR_RIGHT - QR_SIZE_MAX // 2, CARD[3] - 20), scan, font=scan_face, fill=MUTED, anchor="ms")
