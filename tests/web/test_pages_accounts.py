"""The members' pages: joining through an invite link, registering, logging in and out, the shop's home and 我的."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
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


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', html)
    assert found is not None, name
    return unescape(found.group(1)).strip()


def test_the_invite_link_names_the_inviter_as_the_one_joining_binds_to_with_the_plans_figures(
        api_shop: None, register_member: Any) -> None:
    ann = register_member("ann")
    earns = ann.get("/api/me/plans/chain21").body["earns"]  # the plan's figures as the API publishes them
    for lang, binds in (("zh-hans", "ann 将成为你的推荐人：推荐人永久绑定，不会更改。"),
                        ("en", "ann becomes your referrer, for good: it never changes.")):
        status, html = page(Client(), f"/join/{ann.invite_code}", lang)
        assert status == 200
        shown = re.search(r"<p data-binds-to>(.*?)</p>", html, re.S)
        assert shown is not None and unescape(" ".join(shown.group(1).split())) == binds, lang
        terms = unescape(html.split("data-binds-to")[1])
        for value in (earns["agent"]["self_rebate"], earns["partner"]["self_rebate"],
                      earns["agent"]["direct_reward"], earns["partner"]["direct_reward"],
                      earns["partner"]["team_reward"]):
            assert f"¥{value}" in terms, (lang, value)
    _s, register = page(Client(), f"/register?invite={ann.invite_code}", "en")  # the code typed in a link
    assert "data-inviter>ann<" in register and "ann becomes your referrer" in register
    _s, register = page(Client(), "/register", "en")  # no code: the rule, naming nobody
    assert "data-binds-to" not in register and "the member whose invite you used" in register
    _s, register = page(Client(), "/register?invite=NOPE2345", "en")
    assert "data-inviter" not in register and "the member whose invite you used" in register


@pytest.mark.parametrize("lang", ("zh-hans", "en"))
def test_every_figure_of_me_is_the_apis(api_shop: None, register_member: Any, lang: str) -> None:
    ann = register_member("ann")
    buy(ann, "GIFT")
    buy(register_member("bob", inviter=ann), "GIFT")  # ann: an agent with 1 of 2 agents, +100.00
    register_member("cat", inviter=ann)  # a referral who is no agent: does not count
    balances, rank = ann.get("/api/me/balances").body, ann.get("/api/me/rank").body
    html = page(logged_in(ann), "/me", lang)[1]
    for book in ("available", "pending", "help_fund"):
        assert figure(html, book) == f"¥{balances[book]}", book
    assert f'data-rank="{rank["rank"]}"' in html.split("data-next-rank")[0] and rank["rank"] == "agent"
    progress = re.search(r"<p data-progress>(.*?)</p>", html, re.S)
    assert progress is not None
    have, need = rank["direct_agents"], rank["promote_after"]
    expected = f"{need} 个代理中的 {have} 个" if lang == "zh-hans" else f"{have} of {need} agents"
    assert " ".join(progress.group(1).split()) == expected == ("2 个代理中的 1 个" if lang == "zh-hans"
                                                                else "1 of 2 agents")
    assert f'aria-valuenow="{have}"' in html and f'aria-valuemax="{need}"' in html


@pytest.mark.parametrize("lang", ("zh-hans", "en"))
def test_the_shops_products_and_prices_are_the_apis(api_shop: None, anonymous_caller: Any, lang: str) -> None:
    products = anonymous_caller.get("/api/products").body
    html = page(Client(), "/", lang)[1]
    listed = re.findall(r'data-sku="([^"]+)">.*?<div class="price">([^<]*)<', html, re.S)
    assert sorted(listed) == sorted((p["sku"], f"¥{p['price']}") for p in products if p["active"])


def test_the_register_form_asks_for_an_optional_phone_and_email(api_shop: None) -> None:
    status, html = page(Client(), "/register", "en")
    assert status == 200
    assert re.search(r'<input id="r-phone" name="phone" type="tel"', html) and 'data-error-for="phone"' in html
    assert re.search(r'<input id="r-email" name="email" type="email"', html) and 'data-error-for="email"' in html
    assert "Mobile phone (optional)" in html and "E-mail (optional)" in html
    assert 'required' not in re.search(r'<input id="r-phone"[^>]*>', html).group(0)  # type: ignore[union-attr]


def test_me_shows_the_members_own_contacts_and_no_one_elses(api_shop: None, register_member: Any) -> None:
    ann = register_member("ann", phone="138 0013 8000", email="ann@example.com")
    ben = register_member("ben", inviter=ann)
    html = page(logged_in(ann), "/me", "en")[1]
    assert 'data-phone>13800138000<' in html and 'data-email>ann@example.com<' in html
    assert "My contacts" in html
    html = page(logged_in(ben), "/me", "en")[1]
    assert "13800138000" not in html and "ann@example.com" not in html
    assert re.search(r"data-phone><span class=\"muted\">not given<", html)
    for path in ("/team", "/earnings"):
        assert "13800138000" not in page(logged_in(ben), path, "en")[1], path
