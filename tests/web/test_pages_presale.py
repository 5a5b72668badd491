"""The pre-sale's page: before anyone pays it shows every rule that decides money (from the frozen published
parameters, the engine's figures); while it runs the real count, the tier and the price now, the joins to the next
tier and the next free draw, the deadline's countdown, the free winners by display name; joining and leaving go
through the API and show on the page; at the close, the rebate everyone got and each member's own entry, equal to
the engine's."""

from __future__ import annotations

import datetime as dt
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
KIND = {"zh-hans": "预售拼团返利", "en": "Pre-sale tiered rebate"}
RULES = {"zh-hans": "付款前请看规则", "en": "The rules, before you pay"}
TAKING_PART = {"zh-hans": "参与人数", "en": "Taking part"}
YOUR_ENTRY = {"zh-hans": "您的参与", "en": "Your entry"}
#: 99.00, 5.00 off for everyone every 2 participants (2 tiers at most), a free draw every 3, closing at 5
PARAMS: dict[str, Any] = {"sku": "TEA", "price": "99.00", "tier_size": 2, "tier_rebate": "5.00", "max_tiers": 2,
                          "free_every": 3, "target": 5, "secret": gc.SECRET}


def create_presale(campaign: str = "p1", **params: Any) -> None:
    deadline = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0).isoformat()
    log_event("create_presale", campaign=campaign, params={**PARAMS, "deadline": deadline, **params})
    drain()


@pytest.fixture
def people(db: None, api_settings: Any, register_member: Register) -> list[Caller]:
    make_shop(plans={}, start=timezone.now() - dt.timedelta(days=1), products=gc.PRODUCTS)
    create_presale()
    return [register_member(name) for name in ("alice", "bob", "carol", "dave", "erin")]


def view() -> dict[str, Any]:
    found: dict[str, Any] = CampaignState.objects.get(campaign="p1").view
    return found


def text_of(html: str, figure: str) -> str:
    found = re.search(rf'data-figure="{figure}">(.*?)</(?:div|li|dd|span|s)>', html, re.S)
    assert found, f"no figure {figure}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def rules_of(html: str) -> dict[str, str]:
    return {name: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()
            for name, text in re.findall(r'data-rule="([a-z_]+)">(.*?)</(?:dd|li)>', html, re.S)}


def join(caller: Caller) -> None:
    gc.act(caller, "join_presale", campaign="p1")


@pytest.mark.parametrize("lang", LANGS)
def test_every_rule_that_decides_money_is_shown_before_paying(people: list[Caller], lang: str) -> None:
    status, html = page(logged_in(people[0]), "/campaigns/p1", lang)
    assert status == 200 and f'<html lang="{lang}">' in html and KIND[lang] in html and RULES[lang] in html
    assert TAKING_PART[lang] in html
    v = view()
    rules = rules_of(html)
    assert rules["price"] == "¥99.00" == "¥" + v["params"]["price"]
    assert "2" in rules["tier_size"] and rules["tier_rebate"] == "¥5.00" and rules["max_tiers"] == "2"
    assert rules["lowest_price"] == "¥" + v["lowest_price"] == "¥89.00"
    assert "3" in rules["free_every"] and "5" in rules["target"]
    deadline = dt.datetime.fromisoformat(v["params"]["deadline"])
    assert deadline.strftime("%Y-%m-%d %H:%M") in rules["deadline"], "the deadline, in the shop's time zone"
    assert "¥99.00" in rules["escrow"] and "¥5.00" in rules["tiers"] and "¥89.00" in rules["tiers"]
    assert "¥99.00" in rules["free"] and {"close", "leave", "plans", "age"} <= rules.keys()
    assert v["commitment"] in html and 'href="/draws/p1"' in html
    assert html.index("data-rules-card") < html.index('data-api="/api/actions/join_presale"'), "rules, then pay"


def test_a_visitor_sees_the_rules_and_a_login_link_but_no_form(people: list[Caller]) -> None:
    status, html = page(Client(), "/campaigns/p1", "en")
    assert status == 200 and "data-rules-card" in html and "data-login-link" in html and "data-api=" not in html


@pytest.mark.parametrize("lang", LANGS)
def test_joining_and_leaving_through_the_api_show_the_engines_figures(people: list[Caller], lang: str) -> None:
    alice, bob, carol = people[:3]
    _status, html = page(logged_in(alice), "/campaigns/p1", lang)
    assert text_of(html, "participants") == "0" and "data-entry " not in html
    assert f'data-countdown="{view()["params"]["deadline"]}"' in html

    join(alice)
    join(bob)
    v = view()
    _status, html = page(logged_in(alice), "/campaigns/p1", lang)
    assert text_of(html, "participants") == str(v["participants"]) == "2"
    assert text_of(html, "tiers") == f"{v['tiers']} / 2" == "1 / 2"
    assert text_of(html, "price-now") == "¥" + v["price_now"] == "¥94.00"
    next_tier, next_free = text_of(html, "next-tier"), text_of(html, "next-free")
    assert str(v["joins_to_next_tier"]) in next_tier and "¥" + v["price_at_next_tier"] in next_tier
    assert v["price_at_next_tier"] == "89.00" and v["joins_to_next_free"] == 1 and "1" in next_free
    assert "¥" + v["rebate_now"] in text_of(html, "rebate-now")
    assert 'data-entry-status="in"' in html and text_of(html, "entry-paid") == "¥99.00" and YOUR_ENTRY[lang] in html
    assert 'data-api="/api/actions/leave_presale"' in html and "data-join" not in html

    left = bob.post("/api/actions/leave_presale", {"campaign": "p1"})
    assert left.status == 200, left.body
    drain()
    _status, html = page(logged_in(bob), "/campaigns/p1", lang)
    assert text_of(html, "participants") == "1" and 'data-entry-status="left"' in html
    assert text_of(html, "entry-returned") == "¥99.00" and text_of(html, "entry-net") == "¥0.00"
    assert 'data-api="/api/actions/join_presale"' in html, "a member who left may join again"
    _status, html = page(logged_in(carol), "/campaigns/p1", lang)
    assert "data-entry " not in html and 'data-api="/api/actions/join_presale"' in html


def test_the_free_winners_are_shown_by_display_name_and_counts_are_real(people: list[Caller]) -> None:
    names = {p.member: p.username for p in people}
    for n, caller in enumerate(people[:4], start=1):
        join(caller)
        v = view()
        for lang in LANGS:
            _status, html = page(Client(), "/campaigns/p1", lang)
            assert text_of(html, "participants") == str(v["participants"]) == str(n), "never more than entries"
            shown = re.search(r"<ol class=\"winners\" data-free-winners>(.*?)</ol>", html, re.S)
            winners = re.findall(r"<li>(.*?)</li>", shown.group(1)) if shown else []
            assert winners == [names[m] for m in v["free"]] and len(winners) == n // 3
            assert text_of(html, "free-count") == str(len(v["free"]))
            for member in names:
                assert member not in re.sub(r"<script\b.*?</script>", "", html, flags=re.S), "ids stay out"
    _status, html = page(Client(), "/campaigns", "en")
    item = re.search(r'<li data-campaign="p1".*?</li>', html, re.S)
    assert item and re.search(r'data-figure="participants">\s*4\D', item.group(0))


@pytest.mark.parametrize("lang", LANGS)
def test_at_the_close_each_member_sees_their_own_rebate_equal_to_the_engines(people: list[Caller],
                                                                             lang: str) -> None:
    for caller in people:
        join(caller)  # the 5th join reaches the target: closed, 2 tiers, 10.00 back to everyone
    v = view()
    assert v["status"] == "closed" and v["rebate_now"] == "10.00" and v["price_now"] == "89.00"
    _status, html = page(Client(), "/campaigns/p1", lang)
    result = text_of(html, "price-now")
    assert result == "¥89.00" and "data-closed-result" in html
    closed = re.search(r"data-closed-result>(.*?)</p>", html, re.S)
    assert closed and "¥10.00" in closed.group(1) and "¥89.00" in closed.group(1) and "5" in closed.group(1)
    assert "data-api=" not in html and "data-countdown" not in html
    for caller in people:
        entry = MemberState.objects.get(member=caller.member).view["presales"]["p1"]
        _status, html = page(logged_in(caller), "/campaigns/p1", lang)
        assert 'data-entry-status="delivered"' in html
        assert text_of(html, "entry-rebate") == "¥" + entry["rebate"] == "¥10.00"
        assert text_of(html, "entry-returned") == "¥" + entry["returned"]
        assert text_of(html, "entry-net").replace("-¥", "¥-") == "¥" + entry["net"]
        assert ("data-entry-free" in html) == entry["free"]
        assert "data-api=" not in html


def test_an_entrys_order_page_links_back_to_the_pre_sale(people: list[Caller]) -> None:
    answer = gc.act(people[0], "join_presale", campaign="p1")
    status, html = page(logged_in(people[0]), f"/orders/{answer['order']}", "en")
    assert status == 200 and 'href="/campaigns/p1" data-campaign-link' in html and "data-group-link" not in html
