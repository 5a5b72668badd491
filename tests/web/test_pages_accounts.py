"""The members' pages: joining through an invite link, registering, logging in and out, the shop's home and 我的."""

from __future__ import annotations

from typing import Any

from api_client import buy
from django.test import Client
from page_client import logged_in, page

pytest_plugins = ["api_fixtures"]




def test_the_invite_link_names_the_inviter_and_what_joining_binds(api_shop: None, register_member: Any) -> None:
    ann = register_member("ann")
    status, html = page(Client(), f"/join/{ann.invite_code}")
    assert status == 200
    assert "ann" in html and ann.member not in html  # by name, never by member id
    assert "邀请码" in html and ann.invite_code in html
    assert "推荐人永久绑定" in html
    status, html = page(Client(), f"/join/{ann.invite_code}", "en")
    assert "You are invited by" in html and "Chain 2+1" in html


def test_an_unknown_invite_code_is_a_404_page_and_counts_toward_the_limit(api_shop: None, settings: Any) -> None:
    settings.INVITE_FAILURES_PER_CLIENT_PER_HOUR = 3
    client = Client()
    for _ in range(3):
        assert page(client, "/join/NOPE2345")[0] == 404
    assert page(client, "/join/NOPE2345")[0] == 429


def test_a_member_page_sends_a_visitor_to_log_in_and_back(api_shop: None) -> None:
    r = Client().get("/me")
    assert r.status_code == 302 and r["Location"] == "/login?next=%2Fme"


def test_me_shows_the_rank_and_exactly_what_is_left_to_the_next(api_shop: None, register_member: Any) -> None:
    ann = register_member("ann")
    status, html = page(logged_in(ann), "/me")
    assert status == 200 and 'data-rank="member"' in html and "购买礼包即可成为代理" in html
    buy(ann, "GIFT")
    html = page(logged_in(ann), "/me")[1]
    assert 'data-rank="agent"' in html and "0 / 2" not in html and "2 个代理中的 0 个" in html
    assert f"/join/{ann.invite_code}" in html


def test_the_home_page_lists_the_products_with_the_gift_pack_marked(api_shop: None) -> None:
    status, html = page(Client(), "/")
    assert status == 200 and "¥699.00" in html and "¥59.00" in html and "礼包" in html


def test_logout_is_a_post(api_shop: None, register_member: Any) -> None:
    client = logged_in(register_member("ann"))
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/me").status_code == 302
