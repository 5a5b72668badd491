"""The invite poster page and its PNG: the member's invite link in the QR code; a product not on sale is a 404."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from django.test import Client
from PIL import Image, ImageDraw

from liandong.web.posters.fonts import covers

pytest_plugins = ["api_fixtures"]


def test_the_poster_png_holds_the_members_invite_link(api_shop: None, register_member: Any) -> None:
    ann = register_member("ann")
    client = Client()
    client.force_login(ann.user)
    assert client.get("/me/poster").status_code == 200
    r = client.get("/me/poster.png?sku=GIFT")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(r.content)))
    assert [code.text for code in found] == [f"http://testserver/join/{ann.invite_code}?sku=GIFT"]
    assert client.get("/me/poster.png?sku=NOPE").status_code == 404
    assert Client().get("/me/poster.png").status_code == 302  # a visitor logs in first


def poster_of(client: Client, query: str = "?sku=GIFT") -> bytes:
    r = client.get("/me/poster.png" + query)
    assert r.status_code == 200
    return bytes(r.content)


def test_the_poster_is_drawn_again_when_the_product_it_shows_changes(api_shop: None, register_member: Any,
                                                                      api_operator: Any, settings: Any,
                                                                      tmp_path: Path) -> None:
    settings.HOME = tmp_path  # posters are cached under HOME/posters
    ann = register_member("ann")
    client = Client()
    client.force_login(ann.user)
    first = poster_of(client)
    assert poster_of(client) == first and len(list(tmp_path.rglob("*.png"))) == 1  # the same poster: not redrawn
    changed = api_operator.request("PUT", "/api/operator/products/GIFT", {"price": "799.00", "gift_pack": True,
                                                               "name": "新春礼包"})
    assert changed.status == 200, changed.body
    second = poster_of(client)
    assert second != first and len(list(tmp_path.rglob("*.png"))) == 2
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(second)))
    assert [code.text for code in found] == [f"http://testserver/join/{ann.invite_code}?sku=GIFT"]


def test_every_text_on_a_chinese_members_poster_is_in_the_font(api_shop: None, register_member: Any,
                                                               api_operator: Any, settings: Any, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """No tofu: the member's Chinese name, the product's and the labels in the page's language are all drawn with
    glyphs the shipped font has."""
    settings.HOME = tmp_path
    assert api_operator.request("PUT", "/api/operator/products/GIFT", {"price": "699.00", "gift_pack": True,
                                                            "name": "山茶花精华油礼盒"}).status == 200
    drawn: list[str] = []
    original = ImageDraw.ImageDraw.text

    def text(self: ImageDraw.ImageDraw, xy: Any, shown: Any, *args: Any, **kwargs: Any) -> None:
        drawn.append(shown)
        original(self, xy, shown, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", text)
    xiaoming = register_member("王小明")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(xiaoming.user)
    poster_of(client)
    assert "王小明" in drawn and any("山茶花精华油礼盒" in t for t in drawn)
    assert all(covers(t) for t in drawn), [t for t in drawn if not covers(t)]
    assert any(re.search(r"[\u4e00-\u9fff]", t) for t in drawn if t not in ("王小明", "山茶花精华油礼盒"))  # labels
