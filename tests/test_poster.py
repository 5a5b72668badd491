"""The invite poster (src/liandong/web/posters): a 750×1334 PNG whose QR code reads back as the invite URL, cached
by what it shows, drawn in the shipped CJK font with no missing-glyph box whatever the member's name holds."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw

from liandong.web.posters import fonts, render
from liandong.web.posters.fonts import covers, drawable
from liandong.web.posters.render import InvitePoster, PosterProduct, cache_key, poster_png, render_invite_poster

URL = "https://shop.example.com/join/K7QM2XPA"


def photo(colour: tuple[int, int, int] = (60, 110, 90), size: tuple[int, int] = (900, 900)) -> bytes:
    image = Image.new("RGB", size, (236, 229, 218))
    ImageDraw.Draw(image).rounded_rectangle((300, 200, 600, 800), 60, fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def poster(**changes: Any) -> InvitePoster:
    base = InvitePoster(shop_name="小鹿优选", member_name="王小明", invite_url=URL, invite_code="K7QM2XPA",
                        headline="邀请你加入", language="zh-hans",
                        product=PosterProduct(name="山茶花精华油 30ml 礼盒装", price="¥199.00", image=photo()))
    return replace(base, **changes)


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    image.load()
    return image


@pytest.mark.parametrize("case", [
    poster(),
    poster(product=None, language="en", shop_name="Little Deer", headline="invites you to join"),
    poster(product=PosterProduct(name="新疆阿克苏冰糖心苹果 5kg 整箱装 产地直发 坏果包赔 超长", price="¥12,345.67")),
], ids=["with-image", "no-product", "product-without-image"])
def test_the_poster_is_a_750_by_1334_png_whose_qr_code_reads_back_the_invite_url(case: InvitePoster) -> None:
    image = decode(render_invite_poster(case))
    assert image.size == (750, 1334)
    codes = zxingcpp.read_barcodes(image.convert("RGB"))
    assert [(c.format, c.text, c.ec_level) for c in codes] == [(zxingcpp.BarcodeFormat.QRCode, URL, "M")]


def test_a_long_url_still_reads_back_and_its_modules_stay_at_least_6_px() -> None:
    url = "https://shop.example.com/join/K7QM2XPA?utm_source=poster&utm_medium=wechat&utm_campaign=spring-2027"
    image = decode(render_invite_poster(poster(invite_url=url))).convert("RGB")
    (code,) = zxingcpp.read_barcodes(image)
    assert code.text == url
    modules = 17 + 4 * int(code.extra["Version"])
    left = min(p.x for p in (code.position.top_left, code.position.bottom_left))
    right = max(p.x for p in (code.position.top_right, code.position.bottom_right))
    assert (right - left + 1) / modules >= 6


def test_a_url_too_long_to_scan_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="invite_url: 201 characters"):
        poster(invite_url="https://x.example/" + "a" * 183)


@pytest.mark.parametrize(("changes", "field"), [
    ({"invite_url": "ftp://shop.example.com/join/K7"}, "invite_url"),
    ({"invite_url": "https://shop.example.com/join/K7 QM"}, "invite_url"),
    ({"invite_code": ""}, "invite_code"),
    ({"invite_code": "K7😀"}, "invite_code"),
    ({"language": "Chinese"}, "language"),
    ({"member_name": "王" * 101}, "member_name"),
])
def test_bad_input_is_a_clear_error_naming_the_field(changes: dict[str, str], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        poster(**changes)


def test_an_image_that_cannot_be_read_is_an_error_naming_the_product_image() -> None:
    bad = poster(product=PosterProduct(name="茶", price="¥59.00", image=b"not an image"))
    with pytest.raises(ValueError, match=r"^product\.image: "):
        render_invite_poster(bad)


def test_the_cache_gives_the_same_bytes_for_the_same_poster_without_drawing_it_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = poster_png(poster(), tmp_path)
    monkeypatch.setattr(render, "render_invite_poster", lambda _p: pytest.fail("drawn again"))
    assert poster_png(poster(), tmp_path) == first  # an equal poster built anew: the same key, the file
    assert [p.name for p in tmp_path.rglob("*.png")] == [f"{cache_key(poster())}.png"]


@pytest.mark.parametrize("changes", [
    {"member_name": "李小明"},
    {"invite_url": URL + "X"},
    {"invite_code": "K7QM2XPB"},
    {"shop_name": "小鹿严选"},
    {"headline": "邀请您加入"},
    {"language": "en"},
    {"product": PosterProduct(name="山茶花精华油 30ml 礼盒装", price="¥189.00", image=photo())},
    {"product": PosterProduct(name="山茶花精华油 30ml 礼盒装", price="¥199.00", image=photo((200, 60, 60)))},
    {"product": None},
])
def test_a_poster_is_drawn_again_when_what_it_shows_changes(tmp_path: Path, changes: dict[str, Any]) -> None:
    before, after = poster(), poster(**changes)
    assert cache_key(before) != cache_key(after)
    first, second = poster_png(before, tmp_path), poster_png(after, tmp_path)
    assert len(list(tmp_path.rglob("*.png"))) == 2
    if "language" not in changes:  # this branch's catalogue may translate no label: then en draws as zh-hans
        assert first != second


def test_the_key_covers_the_font_and_the_layout_version(monkeypatch: pytest.MonkeyPatch) -> None:
    key = cache_key(poster())
    monkeypatch.setattr(render, "LAYOUT_VERSION", render.LAYOUT_VERSION + 1)
    assert cache_key(poster()) != key
    monkeypatch.undo()
    monkeypatch.setattr(fonts, "font_version", lambda: "another font")
    assert cache_key(poster()) != key


def test_the_shipped_font_covers_chinese_text_and_not_emoji() -> None:
    for text in ("小鹿优选", "邀请你加入", "联动社区团购·城南旗舰店（官方直营）", "¥199.00", "Ünïcødé Café", "“好”…—"):
        assert covers(text), [ch for ch in text if not covers(ch)]
    gb2312_hanzi = set()
    for high in range(0xB0, 0xF8):  # levels 1 (0xB0-0xD7) and 2 (0xD8-0xF7)
        for low in range(0xA1, 0xFF):
            try:
                gb2312_hanzi.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    assert len(gb2312_hanzi) == 6763
    assert covers("".join(sorted(gb2312_hanzi)))
    for text in ("😀", "王😀", "𠀋", "\n"):
        assert not covers(text)


def test_the_fonts_are_a_few_megabytes_with_their_licence_beside_them() -> None:
    for path in (fonts.REGULAR, fonts.BOLD):
        assert 1_000_000 < path.stat().st_size < 3_000_000
    assert "SIL OPEN FONT LICENSE Version 1.1" in (fonts.FONTS_DIR / "OFL.txt").read_text()


@pytest.mark.parametrize(("name", "drawn"), [
    ("王😀明", "王·明"),
    ("小明😀😀", "小明"),
    ("🍎 Li\nLei 👨‍👩‍👧", "Li Lei"),
    ("𠀋雨", "·雨"),
    ("👍🏽", ""),
    ("Rene\u0301", "René"),
])
def test_uncovered_characters_become_a_dot_or_decoration_is_dropped(name: str, drawn: str) -> None:
    assert drawable(name) == drawn
    assert covers(drawable(name))


@pytest.fixture
def texts_drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the renderer draws, as it is drawn."""
    seen: list[str] = []
    original = ImageDraw.ImageDraw.text

    def text(self: ImageDraw.ImageDraw, xy: Any, text: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(text)
        original(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", text)
    return seen


@pytest.mark.parametrize(("member_name", "username", "shown"), [
    ("李雷😀𠀋", "", "李雷·"),
    ("😀😀", "bea", "bea"),
    ("😀😀", "", None),
])
def test_no_text_drawn_holds_a_character_the_font_lacks(
        texts_drawn: list[str], member_name: str, username: str, shown: str | None) -> None:
    case = poster(member_name=member_name, member_username=username, shop_name="🍎 果园直供",
                  product=PosterProduct(name="苹果🍎 5kg", price="¥59.00"))
    render_invite_poster(case)
    assert texts_drawn and all(covers(t) for t in texts_drawn), [t for t in texts_drawn if not covers(t)]
    if shown is not None:
        assert shown in texts_drawn
    assert "果园直供" in texts_drawn and "苹果· 5kg" in texts_drawn


def glyph(ch: str) -> Image.Image:
    image = Image.new("L", (120, 120), 0)
    ImageDraw.Draw(image).text((60, 60), ch, font=fonts.font(96), fill=255, anchor="mm")
    return image


def test_hanzi_are_drawn_with_their_own_glyphs_not_a_missing_glyph_box() -> None:
    wang, ming = glyph("王"), glyph("明")
    assert wang.getbbox() is not None and ming.getbbox() is not None  # ink where the text is
    assert ImageChops.difference(wang, ming).getbbox() is not None  # two boxes would be the same picture
    tofu = glyph("𠀋")  # not in the font: what a missing glyph looks like
    assert ImageChops.difference(wang, tofu).getbbox() is not None


def test_the_members_name_is_drawn_on_the_poster() -> None:
    def name_area(name: str) -> Image.Image:
        image = decode(render_invite_poster(poster(member_name=name))).convert("L")
        return image.crop((render.CONTENT_LEFT, render.DIVIDER_Y + 30, 400, render.DIVIDER_Y + 100))

    wang, li = name_area("王小明"), name_area("李小明")
    assert wang.getextrema()[0] < 100  # dark ink on the white card
    diff = ImageChops.difference(wang, li).getbbox()
    assert diff is not None and diff[2] - diff[0] < 60  # only the first character differs
