"""The blind-box set's page: before anyone pays it shows the set's rules from its frozen published parameters, the
window the prize is in first of all; opening the next box (with the prize choice) and starting a set of one's own go
through the API and show on the page; the boxes opened are the real openings by display name; the starter's running
share, where the prize can still be, and at the win the prize's box, who opened it and what they took, all equal
to the engine's read."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import re
from typing import Any

import group_campaigns as gc
import pytest
from api_client import Caller, Register, make_shop
from django.test import Client
from django.utils import timezone
from page_client import logged_in, page

from conftest import log_event
from liandong.service.store.models import CampaignState, MemberState
from liandong.service.worker import drain

pytest_plugins = ["api_fixtures"]

LANGS = ("zh-hans", "en")
KIND = {"zh-hans": "盲盒", "en": "Blind box"}
RULES = {"zh-hans": "付款前请看规则", "en": "The rules, before you pay"}
WINDOW = {"zh-hans": "大奖在第 7–24 号盒子之一", "en": "The prize is in one of boxes 7–24"}
OPENED = {"zh-hans": "已开盒数", "en": "Boxes opened"}
PRODUCTS: list[dict[str, Any]] = [{"sku": "BOX", "price": "99.00", "name": "Tea chest"}]
ADULT = "1990-05-01"


@pytest.fixture
def people(db: None, api_settings: Any, register_member: Register) -> list[Caller]:
    """alice starts, bob carol dave open; everyone registered with a birth date (100 seed coupons each)."""
    make_shop(plans={}, start=timezone.now() - dt.timedelta(days=1), products=PRODUCTS)
    alice = register_member("alice", birth_date=ADULT)
    return [alice, register_member("bob", inviter=alice, birth_date=ADULT),
            register_member("carol", birth_date=ADULT), register_member("dave", birth_date=ADULT)]


def start_set(starter: Caller, campaign: str = "b1", **params: Any) -> None:
    """``starter`` starts set ``campaign`` with the rulebook's secret (b1's prize: box 10 of 7–24; box 2 of 2–4)."""
    log_event("start_blind_box", member=starter.member, campaign=campaign, order=f"ord-{campaign}-start",
              params={"prize_sku": "BOX", "secret": gc.SECRET, **params})
    drain()


def view(campaign: str = "b1") -> dict[str, Any]:
    found: dict[str, Any] = CampaignState.objects.get(campaign=campaign).view
    return found


def open_box(caller: Caller, campaign: str = "b1", take: str = "prize") -> None:
    gc.act(caller, "open_blind_box", campaign=campaign, take=take)


def text_of(html: str, figure: str) -> str:
    found = re.search(rf'data-figure="{figure}">(.*?)</(?:div|p|dd|span)>', html, re.S)
    assert found, f"no figure {figure}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def rules_of(html: str) -> dict[str, str]:
    return {name: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()
            for name, text in re.findall(r'data-rule="([a-z_]+)">(.*?)</(?:dd|li|p)>', html, re.S)}


def opens_shown(html: str) -> list[tuple[str, str, str]]:
    return re.findall(r'data-open data-box="(\d+)" data-result="([a-z]+)">.*?<span class="name">(.*?)</span>', html,
                      re.S)


@pytest.mark.parametrize("lang", LANGS)
def test_the_sets_rules_and_its_window_are_shown_before_paying(people: list[Caller], lang: str) -> None:
    start_set(people[0])
    status, html = page(logged_in(people[1]), "/campaigns/b1", lang)
    assert status == 200 and f'<html lang="{lang}">' in html and KIND[lang] in html and RULES[lang] in html
    v = view()
    rules = rules_of(html)
    assert v["window"] == [7, 24] and WINDOW[lang] in text_of(html, "window") and WINDOW[lang] in rules["window"]
    assert "Tea chest" in rules["prize"] and "¥" + v["prize"]["value"] in rules["prize"] and "¥99.00" in rules["prize"]
    assert rules["boxes"] == "24" and rules["open_price"] == "¥5.00" == "¥" + v["params"]["open_price"]
    assert rules["starter_share"] == "¥4.50" and rules["promoter_share"] == "¥0.50"
    assert "99" in rules["miss_coupons"] and "198" in rules["win"] and "Tea chest" in rules["win"]
    assert "¥30.00" in rules["start"] and "69" in rules["start"]
    assert "¥" + v["rest_of_open"] in rules["open"]
    assert "¥10.00" in rules["start_rule"] and "¥4.00" in rules["start_rule"]
    assert "¥" + v["leader_promotion"] in rules["start_rule"] and v["leader_promotion"] == "6.00"
    assert [f"¥{v['starter_nets'][0]}", f"¥{v['starter_nets'][1]}"] == ["¥1.50", "¥78.00"]
    assert "¥1.50" in rules["starter_nets"] and "¥78.00" in rules["starter_nets"]
    assert "¥200.00" in rules["limits"] and "8" in rules["age"] and "18" in rules["age"]
    assert {"outcome", "expiry", "coupons", "plans"} <= rules.keys()
    assert v["commitment"] in html and 'href="/draws/b1"' in html
    assert html.index("data-rules-card") < html.index('data-api="/api/actions/open_blind_box"'), "rules, then pay"
    assert str(v.get("prize_box")) == "None" and 'data-figure="prize-box"' not in html, "the prize box stays secret"


def test_a_visitor_sees_the_rules_and_login_links_but_no_form(people: list[Caller]) -> None:
    start_set(people[0])
    status, html = page(Client(), "/campaigns/b1", "en")
    assert status == 200 and "data-rules-card" in html and "data-login-link" in html and "data-api=" not in html


@pytest.mark.parametrize("lang", LANGS)
def test_opening_boxes_through_the_api_shows_the_real_openings_and_the_starters_share(people: list[Caller],
                                                                                      lang: str) -> None:
    alice, bob, carol, _dave = people
    start_set(alice)
    _status, html = page(logged_in(alice), "/campaigns/b1", lang)
    assert "data-own-set" in html and "data-open-box" not in html, "a starter cannot open its own boxes"
    assert text_of(html, "opened") == "0" and "data-no-opens" in html and OPENED[lang] in html
    open_box(bob)
    open_box(carol, take="coupons")
    open_box(bob)
    v = view()
    _status, html = page(logged_in(carol), "/campaigns/b1", lang)
    assert text_of(html, "opened") == str(v["opened"]) == "3" and text_of(html, "next-box") == "4"
    shown = opens_shown(html)
    assert [(box, result) for box, result, _name in shown] == [("1", "miss"), ("2", "miss"), ("3", "miss")]
    assert [name.split("·")[-1].strip() for _box, _result, name in shown] == ["bob", "carol", "bob"]
    assert len(opens_shown(html)) == len(v["opens"]), "never more openings than the engine's"
    assert text_of(html, "starter-income") == "¥" + v["starter_income"] == "¥13.50"
    assert "-¥16.50" in text_of(html, "starter-net") and v["starter_net"] == "-16.50"
    assert v["still_possible"] == [7, 24] and re.search(r"7\s*–\s*24", text_of(html, "still-possible"))
    assert 'name="take" value="prize" checked' in html and 'name="take" value="coupons"' in html
    assert "198" in html and 'data-api="/api/actions/open_blind_box"' in html
    coupons = MemberState.objects.get(member=carol.member).view["coupons"]
    assert coupons == 199 and str(coupons) in text_of(html, "coupons-held"), "100 seeded + 99 for a miss"
    for member in (p.member for p in people):
        assert member not in re.sub(r"<script\b.*?</script>|<input[^>]*>", "", html, flags=re.S), "ids stay out"
    _status, html = page(Client(), "/campaigns", lang)  # the list: the window and the real count of boxes opened
    item = re.search(r'<li data-campaign="b1".*?</li>', html, re.S)
    assert item and WINDOW[lang] in item.group(0) and re.search(r'data-figure="participants">\D*3\D', item.group(0))


@pytest.mark.parametrize(("take", "lang"), [("prize", "en"), ("coupons", "en"), ("prize", "zh-hans")])
def test_the_win_shows_the_prizes_box_who_opened_it_and_what_they_took(people: list[Caller], take: str,
                                                                        lang: str) -> None:
    alice, bob, carol, _dave = people
    start_set(alice, boxes=5, win_from=2, win_to=4)  # b1's prize: box 2
    _status, html = page(logged_in(bob), "/campaigns/b1", lang)
    assert re.search(r"2\s*–\s*4", text_of(html, "window"))
    open_box(bob)
    open_box(carol, take=take)
    v = view()
    assert v["status"] == "closed" and v["prize_box"] == 2 and v["taken"] == take and v["winner"] == carol.member
    _status, html = page(logged_in(bob), "/campaigns/b1", lang)
    result = re.search(r"data-closed-result>(.*?)</p>", html, re.S)
    assert result and "2" in result.group(1) and "carol" in result.group(1)
    assert ("Tea chest" in result.group(1)) == (take == "prize") and ("198" in result.group(1)) == (take == "coupons")
    assert opens_shown(html)[-1][:2] == ("2", take)
    assert "data-open-box" not in html and text_of(html, "next-box") == "—"
    assert text_of(html, "starter-income") == "¥" + v["starter_income"] == "¥9.00"
    assert v["secret"] and 'href="/draws/b1"' in html


@pytest.mark.parametrize("lang", LANGS)
def test_starting_a_set_on_the_same_terms_through_the_api(people: list[Caller], lang: str) -> None:
    alice, bob, _carol, dave = people
    start_set(alice, open_price="6.00", starter_share="5.00")
    _status, html = page(logged_in(dave), "/campaigns/b1", lang)
    assert "100" in text_of(html, "coupons-held") and "data-start-set" in html
    form = re.search(r"<form[^>]*data-start-set>.*?</form>", html, re.S)
    assert form and 'data-api="/api/actions/start_blind_box"' in form.group(0)
    terms = json.loads(html_lib.unescape(re.search(r'name="params" value="([^"]*)"', form.group(0)).group(1)))  # type: ignore[union-attr]
    assert terms == view()["params"] and "secret" not in terms
    answer = gc.act(dave, "start_blind_box", params=terms)
    new = answer["action"]["campaign"]
    started = view(new)
    assert started["starter"] == dave.member and started["params"] == view()["params"]
    assert started["commitment"] != view()["commitment"], "a new set, a new secret"
    _status, html = page(logged_in(dave), f"/campaigns/{new}", lang)
    assert "data-own-set" in html and "31" in text_of(html, "coupons-held"), "100 - 69"
    assert "data-not-enough-coupons" in html and "data-start-set" not in html
    _status, html = page(logged_in(bob), f"/campaigns/{new}", lang)
    starter = re.search(r"data-starter>(.*?)</p>", html, re.S)
    assert starter and "dave" in starter.group(1)
    assert "data-open-box" in html and rules_of(html)["open_price"] == "¥6.00"


def test_an_opened_boxs_order_page_links_back_to_the_set(people: list[Caller]) -> None:
    start_set(people[0])
    answer = gc.act(people[1], "open_blind_box", campaign="b1", take="prize")
    status, html = page(logged_in(people[1]), f"/orders/{answer['order']}", "en")
    assert status == 200 and 'href="/campaigns/b1" data-campaign-link' in html
