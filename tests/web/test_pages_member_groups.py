"""The shop's pages with member groups: a product exclusive to groups is hidden from visitors and from members
outside its groups (not listed, its URL the shop's 404 page, its name nowhere), and shown to members inside with the
"Members' exclusive · <group>" mark, the group names as the API's shop read has them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from api_client import Caller, Register, buy, make_shop
from django.test import Client
from django.utils import timezone
from page_client import logged_in, page

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db

LANGS = ("zh-hans", "en")
MARK = {"zh-hans": "会员专享", "en": "Members' exclusive"}
PLANS: dict[str, Any] = {
    "chain21": {"skus": ["GIFT"]},
    "member_groups": {
        "groups": {"agents": {"name": "代理专区", "rank": {"plan": "chain21", "at_least": "agent"}},
                   "friends": {"name": "Friends", "by_hand": True}},
        "exclusive": {"CAVIAR": ["agents", "friends"], "WINE": ["friends"]},
    },
}
PRODUCTS = [{"sku": "GIFT", "price": "699.00", "gift_pack": True, "name": "Gift box"},
            {"sku": "CAVIAR", "price": "88.00", "name": "Sturgeon caviar"},
            {"sku": "WINE", "price": "120.00", "name": "Friends' wine"},
            {"sku": "TEA", "price": "59.00", "name": "Oolong"}]


@pytest.fixture
def groups_shop(api_settings: Any) -> None:
    make_shop(PLANS, start=timezone.now() - dt.timedelta(hours=1), products=PRODUCTS)


def add_friend(operator: Caller, member: str, verb: str = "add_to_member_group") -> None:
    r = operator.post(f"/api/operator/actions/{verb}", {"member": member, "group": "friends"})
    assert r.status == 200, r.body


def listed(html: str) -> set[str]:
    return {sku for sku in ("GIFT", "CAVIAR", "WINE", "TEA") if f'data-sku="{sku}"' in html}


def assert_hidden(client: Client, lang: str, skus: tuple[str, ...]) -> None:
    for sku in skus:
        status, html = page(client, f"/products/{sku}", lang)
        assert status == 404 and "data-problem" in html
        name = next(p["name"] for p in PRODUCTS if p["sku"] == sku)
        assert name not in html and MARK[lang] not in html
        assert sku not in html.replace(f"/products/{sku}", "")  # only the path asked for (the language switch)


@pytest.mark.parametrize("lang", LANGS)
def test_a_visitor_sees_no_exclusive_product(groups_shop: None, lang: str) -> None:
    status, html = page(Client(), "/", lang)
    assert status == 200
    assert listed(html) == {"GIFT", "TEA"}
    assert "Sturgeon caviar" not in html and MARK[lang] not in html
    assert_hidden(Client(), lang, ("CAVIAR", "WINE"))
    assert page(Client(), "/products/TEA", lang)[0] == 200


@pytest.mark.parametrize("lang", LANGS)
def test_a_member_outside_the_groups_sees_none_of_them(groups_shop: None, register_member: Register,
                                                       lang: str) -> None:
    ann = register_member("ann")
    assert ann.get("/api/me/plans/member_groups").body == {"groups": []}
    client = logged_in(ann)
    status, html = page(client, "/", lang)
    assert status == 200 and listed(html) == {"GIFT", "TEA"}
    assert_hidden(client, lang, ("CAVIAR", "WINE"))


@pytest.mark.parametrize("lang", LANGS)
def test_a_member_added_by_hand_sees_them_marked_with_the_group(groups_shop: None, register_member: Register,
                                                                api_operator: Caller, anonymous_caller: Caller,
                                                                lang: str) -> None:
    bea = register_member("bea")
    add_friend(api_operator, bea.member)
    names = {g["group"]: g["name"] for g in anonymous_caller.get("/api/plans/member_groups").body["groups"]}
    mine = [g["group"] for g in bea.get("/api/me/plans/member_groups").body["groups"]]
    assert mine == ["friends"]
    client = logged_in(bea)
    status, html = page(client, "/", lang)
    assert status == 200 and listed(html) == {"GIFT", "CAVIAR", "WINE", "TEA"}
    assert f"{MARK[lang]} · {names['agents']} / {names['friends']}" in html  # CAVIAR: agents or friends
    assert f"{MARK[lang]} · {names['friends']}</span>" in html  # WINE
    status, product = page(client, "/products/WINE", lang)
    assert status == 200 and "data-exclusive" in product and f"{MARK[lang]} · Friends" in product
    assert f"¥{anonymous_caller.get('/api/products/WINE').body['price']}" in product
    assert 'data-api="/api/orders"' in product
    status, tea = page(client, "/products/TEA", lang)
    assert status == 200 and "data-exclusive" not in tea

    add_friend(api_operator, bea.member, verb="remove_from_member_group")  # out again: hidden again
    status, html = page(client, "/", lang)
    assert listed(html) == {"GIFT", "TEA"}
    assert_hidden(client, lang, ("CAVIAR", "WINE"))


def test_an_agent_sees_the_rank_groups_product_and_orders_it(groups_shop: None, register_member: Register) -> None:
    cy = register_member("cy")
    buy(cy, "GIFT")
    assert [g["group"] for g in cy.get("/api/me/plans/member_groups").body["groups"]] == ["agents"]
    client = logged_in(cy)
    status, html = page(client, "/")
    assert listed(html) == {"GIFT", "CAVIAR", "TEA"}  # not WINE: friends only
    status, product = page(client, "/products/CAVIAR")
    assert status == 200 and "会员专享 · 代理专区 / Friends" in product
    assert "只有 代理专区 / Friends 的成员可以购买" in product
    assert_hidden(client, "zh-hans", ("WINE",))
    order = buy(cy, "CAVIAR")
    assert cy.get(f"/api/orders/{order}").body["status"] == "paid"
