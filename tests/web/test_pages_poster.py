"""The invite poster page and its PNG: the member's invite link in the QR code; a product not on sale is a 404."""

from __future__ import annotations

import io
from typing import Any

import zxingcpp
from django.test import Client
from PIL import Image

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
