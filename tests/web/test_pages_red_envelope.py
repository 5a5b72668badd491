"""The red-envelope group's pages: every rule that decides money (price, envelope, sizes, both splits, expiry) before
anyone pays; a private group's invite code shown only to its members, and a join without it refused by the engine
(the member is not seated); the full group's page shows who won and each member's share of the envelope, as the
engine split it; the stream carries the shares; both languages."""

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

from liandong.service.store.models import CampaignState, EventOutcome
from liandong.web.api.group_stream import group_state

pytest_plugins = ["api_fixtures"]

LANGS = ("zh-hans", "en")
KIND = {"zh-hans": "红包拼团", "en": "Red-envelope group"}
SPLIT_RULE = {"zh-hans": "随机分：", "en": "Random split:"}
PRIVATE = {"zh-hans": "这是私密团", "en": "This group is private"}


@pytest.fixture
def trio(db: None, api_settings: Any, register_member: Register) -> tuple[Caller, Caller, Caller]:
    make_shop(plans={}, start=timezone.now() - dt.timedelta(days=1), products=gc.PRODUCTS)
    gc.create_red_envelope()
    return register_member("alice"), register_member("bob"), register_member("carol")


def members_shown(html: str) -> list[str]:
    block = re.search(r"<ul class=\"list members\" data-members>(.*?)</ul>", html, re.S)
    assert block, "no member list"
    return re.findall(r'<span class="name">(.*?)</span>', block.group(1))


def start(alice: Caller, **terms: Any) -> tuple[str, dict[str, Any]]:
    answer = gc.act(alice, "start_red_envelope", campaign="re1", **{"size": 3, "winners": 1, **terms})
    return answer["action"]["group"], answer


@pytest.mark.parametrize("lang", LANGS)
def test_the_campaign_page_shows_the_envelope_and_how_it_splits(trio: Any, lang: str) -> None:
    status, html = page(Client(), "/campaigns/re1", lang)
    assert status == 200 and KIND[lang] in html and f'<html lang="{lang}">' in html
    view = CampaignState.objects.get(campaign="re1").view
    rules = {name: re.sub(r"<[^>]+>", "", text).strip()
             for name, text in re.findall(r'data-rule="([a-z_]+)">(.*?)</(?:dd|li)>', html, re.S)}
    assert rules["price"] == "¥99.00" and rules["red_envelope"] == "¥10.00" == "¥" + view["red_envelope"]
    assert "5" in rules["size"] and rules["expire_hours"] == "24"
    assert "¥10.00" in rules["envelope"] and "0.01" in rules["split_random"] and SPLIT_RULE[lang] in html
    assert {"split_equal", "start", "escrow", "draw", "expiry", "plans", "age"} <= rules.keys()
    assert view["commitment"] in html and 'href="/draws/re1"' in html
    _status, html = page(logged_in(trio[0]), "/campaigns/re1", lang)
    form = re.search(r"<form[^>]*data-start-group.*?</form>", html, re.S)
    assert form and 'data-api="/api/actions/start_red_envelope"' in form.group(0)
    assert all(f'name="{name}"' in form.group(0) for name in ("size", "winners", "split", "visibility"))


@pytest.mark.parametrize("lang", LANGS)
def test_a_private_group_is_joined_only_with_its_code(trio: tuple[Caller, Caller, Caller], lang: str) -> None:
    alice, bob, carol = trio
    _status, html = page(logged_in(alice), "/campaigns/re1", lang)  # the form comes with a code for a private group
    made = re.search(r'name="invite_code" value="([A-Z0-9]{10})" data-when="visibility=private"', html)
    assert made is not None, "the page makes the private group's code, sent only when private is chosen"
    group, answer = start(alice, visibility="private", invite_code=made.group(1))
    code = answer["action"]["invite_code"]
    assert code == made.group(1)
    path = f"/campaigns/re1/groups/{group}"

    _status, html = page(logged_in(alice), path, lang)  # the starter sees the code and a link that carries it
    assert re.search(rf"data-invite-code>{code}<", html) and f"?code={code}" in html and PRIVATE[lang] in html
    for viewer in (Client(), logged_in(bob)):  # nobody else does
        _status, html = page(viewer, path, lang)
        assert code not in html and "data-private" in html
    _status, html = page(logged_in(bob), path + "?code=" + code, lang)  # the share link fills the form in
    assert re.search(rf'name="invite_code" value="{code}"', html)
    assert CampaignState.objects.get(campaign="re1").view["group_views"][0]["invite_code"] == code
    assert "invite_code" not in Client().get("/api/campaigns/re1").json()["group_views"][0]

    wrong = bob.post("/api/actions/join_red_envelope", {"group": group, "invite_code": "WRONGCODE1"})
    assert wrong.status == 201
    gc.pay(bob, wrong.body)
    refused = EventOutcome.objects.order_by("-event_id").first()
    assert refused is not None and not refused.applied and refused.refusal["field"] == "invite_code"
    _status, html = page(logged_in(bob), path, lang)
    assert members_shown(html) == ["alice"], "the refused join took no seat"

    gc.act(bob, "join_red_envelope", group=group, invite_code=code)
    _status, html = page(logged_in(bob), path, lang)
    assert members_shown(html) == ["alice", "bob"]
    assert re.search(rf"data-invite-code>{code}<", html), "a member of the group may share its code"
    _status, html = page(logged_in(carol), path, lang)
    assert code not in html


@pytest.mark.parametrize("lang", LANGS)
def test_the_full_group_shows_each_share_of_the_envelope(trio: tuple[Caller, Caller, Caller], lang: str) -> None:
    alice, bob, carol = trio
    group, _answer = start(alice, split="random")
    gc.act(bob, "join_red_envelope", group=group)
    gc.act(carol, "join_red_envelope", group=group)
    view = gc.group_view("re1", group)
    assert view["status"] == "drawn"
    names = {alice.member: "alice", bob.member: "bob", carol.member: "carol"}
    status, html = page(Client(), f"/campaigns/re1/groups/{group}", lang)
    assert status == 200 and 'data-status="drawn"' in html
    got = dict(re.findall(r'<span class="name">(.*?)</span><br><small data-got>(.*?)</small>', html))
    assert list(got) == ["alice", "bob", "carol"], "in join order, the real members only"
    for member, share in view["shares"].items():
        assert f"¥{share}" in got[names[member]], "each share as the engine split it"
    for member in set(names) - set(view["winners"]):
        assert "¥99.00" in got[names[member]], "the others paid back in full"
    winners = re.search(r"<ol class=\"winners\" data-winners>(.*?)</ol>", html, re.S)
    assert winners and re.findall(r"<li>(.*?)</li>", winners.group(1)) == [names[m] for m in view["winners"]]
    state = group_state("re1", group)
    assert state is not None
    assert {m["name"]: m["share"] for m in state["members"]} == {names[m]: s for m, s in view["shares"].items()}


def test_an_open_group_shows_its_terms_and_the_missing_seats(trio: tuple[Caller, Caller, Caller]) -> None:
    alice, _bob, _carol = trio
    group, _answer = start(alice, size=4, winners=2, split="equal")
    for lang in LANGS:
        _status, html = page(Client(), f"/campaigns/re1/groups/{group}", lang)
        assert re.search(r'data-figure="size">4<', html) and re.search(r'data-figure="winners-count">2<', html)
        assert re.search(r'data-figure="missing">3<', html) and "¥10.00" in html
        assert members_shown(html) == ["alice"]
        assert "data-private" not in html
