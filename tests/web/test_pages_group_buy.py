"""The group-buy lottery's pages: ``/campaigns`` lists it with real counts; its page shows every rule that decides
money before anyone pays (from the frozen published parameters) and links the public draw page; a group's page shows
the members who really joined (never more than its entries), how many are missing, the countdown; join and leave go
through the API and show on the page; the full group's result (winners, what each got, the draw record) is on the
page and in the group's SSE stream, whose generator yields each change."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import group_campaigns as gc
import pytest
from api_client import Caller, Register, make_shop
from django.test import Client
from django.utils import timezone
from page_client import logged_in, page

from liandong.service.store.models import CampaignState
from liandong.service.worker import drain
from liandong.web.api.group_stream import group_events, group_state, group_states

pytest_plugins = ["api_fixtures"]

LANGS = ("zh-hans", "en")
KIND = {"zh-hans": "拼团中奖", "en": "Group-buy lottery"}
RULES = {"zh-hans": "付款前请看规则", "en": "The rules, before you pay"}
WHO = {"zh-hans": "参团成员", "en": "Who joined"}
MISSING_TWO = {"zh-hans": "还差 2 人成团", "en": "2 more to fill the group"}
FUND = {"zh-hans": "购物金", "en": "Shopping fund"}


@pytest.fixture
def group_shop(db: None, api_settings: Any) -> None:
    make_shop(plans={}, start=timezone.now() - dt.timedelta(days=1), products=gc.PRODUCTS)
    gc.create_group_buy()


@pytest.fixture
def trio(group_shop: None, register_member: Register) -> tuple[Caller, Caller, Caller]:
    alice = register_member("alice")
    return alice, register_member("bob", inviter=alice), register_member("carol")


def members_shown(html: str) -> list[str]:
    block = re.search(r"<ul class=\"list members\" data-members>(.*?)</ul>", html, re.S)
    assert block, "no member list"
    return re.findall(r'<span class="name">(.*?)</span>', block.group(1))


def live_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="group-live-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "no live data block"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def start_group(alice: Caller) -> str:
    answer = gc.act(alice, "start_group_buy", campaign="gb1")
    group: str = answer["action"]["group"]
    return group


@pytest.mark.parametrize("lang", LANGS)
def test_the_campaign_list_shows_kind_price_status_expiry_and_real_counts(trio: Any, lang: str) -> None:
    status, html = page(Client(), "/campaigns", lang)
    assert status == 200 and f'<html lang="{lang}">' in html
    item = re.search(r'<li data-campaign="gb1".*?</li>', html, re.S)
    assert item, "gb1 is not listed"
    assert KIND[lang] in item.group(0) and "¥99.00" in item.group(0) and "Spring tea" in item.group(0)
    assert 'data-status="open"' in item.group(0)
    assert re.search(r"\b24\b", item.group(0)), "the group's 24 hours to fill"
    assert re.search(r'data-figure="participants">\s*0\D', item.group(0)), "nobody has joined yet"
    start_group(trio[0])
    _status, html = page(Client(), "/campaigns", lang)
    item = re.search(r'<li data-campaign="gb1".*?</li>', html, re.S)
    assert item and re.search(r'data-figure="participants">\s*1\D+1\D', item.group(0)), "1 seated in 1 open group"


@pytest.mark.parametrize("lang", LANGS)
def test_the_campaign_page_shows_every_money_rule_from_the_published_parameters(trio: Any, lang: str) -> None:
    gc.create_group_buy("gb2", group_size=5, winners=2, loser_bonus="7.50", unlock_on_join="0.10",
                        unlock_on_invite="0.05", expire_hours=36)
    status, html = page(Client(), "/campaigns/gb2", lang)
    assert status == 200 and KIND[lang] in html and RULES[lang] in html
    view = CampaignState.objects.get(campaign="gb2").view
    rules = {name: re.sub(r"<[^>]+>", "", text).strip()
             for name, text in re.findall(r'data-rule="([a-z_]+)">(.*?)</(?:dd|li)>', html, re.S)}
    assert rules["price"] == "¥99.00" == "¥" + view["price"]
    assert "5" in rules["group_size"] and rules["winners"] == "2" and rules["expire_hours"] == "36"
    assert "¥7.50" in rules["loser"], "what losers get back besides their payment"
    assert "¥99.00" in rules["winner"], "the shopping fund equals the price"
    assert "10%" in rules["unlock"] and "5%" in rules["unlock"], "how the fund unlocks"
    assert "36" in rules["expiry"] and {"escrow", "draw", "plans", "age"} <= rules.keys()
    assert view["commitment"] in html
    assert 'href="/draws/gb2"' in html
    gc.create_group_buy("gb3", winner_fund="50.00")
    _status, html = page(Client(), "/campaigns/gb3", lang)
    assert "¥50.00" in re.search(r'data-rule="winner">(.*?)</li>', html, re.S).group(1)  # type: ignore[union-attr]


def test_a_visitor_sees_the_rules_and_a_login_link_but_no_form(trio: Any) -> None:
    group = start_group(trio[0])
    for path in ("/campaigns/gb1", f"/campaigns/gb1/groups/{group}"):
        status, html = page(Client(), path, "en")
        assert status == 200 and "data-rules-card" in html
        assert "data-login-link" in html and "data-api=" not in html


@pytest.mark.parametrize("lang", LANGS)
def test_join_and_leave_through_the_api_show_on_the_group_page(trio: tuple[Caller, Caller, Caller],
                                                                lang: str) -> None:
    alice, bob, _carol = trio
    group = start_group(alice)
    path = f"/campaigns/gb1/groups/{group}"
    status, html = page(logged_in(bob), path, lang)
    assert status == 200
    assert members_shown(html) == ["alice"] and WHO[lang] in html and MISSING_TWO[lang] in html
    assert re.search(r'data-figure="missing">2<', html) and re.search(r'data-figure="joined">1<', html)
    assert f'data-countdown="{gc.group_view("gb1", group)["deadline"]}"' in html
    assert 'data-api="/api/actions/join_group_buy"' in html and "data-leave" not in html

    gc.act(bob, "join_group_buy", group=group)
    _status, html = page(logged_in(bob), path, lang)
    assert members_shown(html) == ["alice", "bob"]
    assert re.search(r'data-figure="missing">1<', html)
    assert 'data-api="/api/actions/leave_group"' in html and "data-join" not in html  # bob is in: leave, share
    assert "data-share-link" in html and f"/campaigns/gb1/groups/{group}/poster.png" in html

    left = bob.post("/api/actions/leave_group", {"group": group})
    assert left.status == 200, left.body
    drain()
    _status, html = page(logged_in(bob), path, lang)
    assert members_shown(html) == ["alice"] and re.search(r'data-figure="missing">2<', html)


def test_a_group_never_shows_more_members_than_entries(trio: tuple[Caller, Caller, Caller]) -> None:
    alice, bob, carol = trio
    group = start_group(alice)
    steps = [lambda: None, lambda: gc.act(bob, "join_group_buy", group=group),
             lambda: bob.post("/api/actions/leave_group", {"group": group}),
             lambda: gc.act(carol, "join_group_buy", group=group)]
    for step in steps:
        step()
        drain()
        entries = gc.group_view("gb1", group)["members"]
        for lang in LANGS:
            _status, html = page(Client(), f"/campaigns/gb1/groups/{group}", lang)
            shown = members_shown(html)
            assert len(shown) == len(entries) == html.count("<li class=\"row\" data-member>")
            assert len(live_data(html)["state"]["members"]) == len(entries)
    _status, html = page(Client(), "/campaigns/gb1", "en")
    assert "1 of 3 joined" not in html and "2 of 3 joined" in html


@pytest.mark.parametrize("lang", LANGS)
def test_the_full_group_shows_who_won_what_each_got_and_the_draw_record(trio: tuple[Caller, Caller, Caller],
                                                                         lang: str) -> None:
    alice, bob, carol = trio
    group = start_group(alice)
    gc.act(bob, "join_group_buy", group=group)
    gc.act(carol, "join_group_buy", group=group)
    view = gc.group_view("gb1", group)
    assert view["status"] == "drawn" and len(view["winners"]) == 1
    names = {alice.member: "alice", bob.member: "bob", carol.member: "carol"}
    winner = names[view["winners"][0]]
    status, html = page(Client(), f"/campaigns/gb1/groups/{group}", lang)
    assert status == 200 and 'data-status="drawn"' in html
    winners = re.search(r"<ol class=\"winners\" data-winners>(.*?)</ol>", html, re.S)
    assert winners and re.findall(r"<li>(.*?)</li>", winners.group(1)) == [winner]
    got = dict(re.findall(r'<span class="name">(.*?)</span><br><small data-got>(.*?)</small>', html))
    assert set(got) == {"alice", "bob", "carol"}
    assert "¥99.00" in got[winner], "the winner's shopping fund"
    for loser in {"alice", "bob", "carol"} - {winner}:
        assert "¥99.00" in got[loser] and "¥10.00" in got[loser], "paid back in full, and the bonus"
    assert 'href="/draws/gb1"' in html and "data-join" not in html and "data-leave" not in html
    for member in names:
        assert member not in re.sub(r"<script\b.*?</script>", "", html, flags=re.S), "ids stay out of the text"


def test_the_stream_generator_yields_each_change_and_ends_when_drawn(trio: tuple[Caller, Caller, Caller]) -> None:
    alice, bob, carol = trio
    group = start_group(alice)
    moves = iter([lambda: None, lambda: gc.act(bob, "join_group_buy", group=group), lambda: None,
                  lambda: gc.act(carol, "join_group_buy", group=group)])

    def sleep(_seconds: float) -> None:  # between two polls the members act
        next(moves, lambda: None)()

    states = [s for s in group_states("gb1", group, poll=0, lifetime=60, sleep=sleep) if s is not None]
    assert [(s["joined"], s["seats_left"], s["status"]) for s in states] == [(1, 2, "open"), (2, 1, "open"),
                                                                             (3, 0, "drawn")]
    assert [m["name"] for m in states[1]["members"]] == ["alice", "bob"]
    final = states[-1]
    assert final["winners"] and final["draw_url"] == "/draws/gb1"
    assert sorted(m["outcome"] for m in final["members"]) == ["lost", "lost", "won"]
    assert all(m.get("fund") == "99.00" for m in final["members"] if m["outcome"] == "won")
    assert all(m.get("bonus") == "10.00" and m.get("returned") == "99.00"
               for m in final["members"] if m["outcome"] == "lost")
    text = json.dumps(final)
    assert alice.member not in text and "invite_code" not in text


def test_the_stream_ends_after_its_lifetime_and_keeps_the_connection_alive(trio: Any, settings: Any) -> None:
    group = start_group(trio[0])
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += 10.0

    settings.GROUP_STREAM_KEEPALIVE_SECONDS = 15
    chunks = list(group_events("gb1", group, "en", poll=1, lifetime=60, sleep=sleep, clock=lambda: now[0]))
    assert chunks[0].startswith("retry:")
    assert sum(c.startswith("event: group") for c in chunks) == 1, "nothing changed: one state"
    assert any(c.startswith(": keepalive") for c in chunks)
    assert now[0] <= 70, "the stream ended at its lifetime"


def test_the_stream_endpoint_sends_the_drawn_state_and_404s_what_does_not_exist(
        trio: tuple[Caller, Caller, Caller]) -> None:
    alice, bob, carol = trio
    group = start_group(alice)
    gc.act(bob, "join_group_buy", group=group)
    gc.act(carol, "join_group_buy", group=group)
    r = Client().get(f"/api/campaigns/gb1/groups/{group}/stream")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/event-stream")
    body = b"".join(r.streaming_content).decode()  # type: ignore[attr-defined]
    events = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    assert len(events) == 1 and events[0]["status"] == "drawn" and events[0] == group_state("gb1", group)
    for path in ("/api/campaigns/gb1/groups/nope/stream", f"/api/campaigns/nope/groups/{group}/stream"):
        missing = Client().get(path)
        assert missing.status_code == 404 and missing.json()["error"]["field"] == "group"


def test_unknown_groups_and_drafts_are_the_404_page(trio: Any) -> None:
    gc.log_event("create_group_buy", campaign="gb-draft", params={"sku": "TEA", "secret": gc.SECRET},
                 publish=False)
    drain()
    for path in ("/campaigns/gb-draft", "/campaigns/nope", "/campaigns/gb1/groups/nope", "/campaigns/gb1/groups/%2F"):
        status, _html = page(Client(), path, "en")
        assert status == 404, path
    _status, html = page(Client(), "/campaigns", "en")
    assert "gb-draft" not in html


def test_the_group_poster_is_a_png_for_a_member(trio: tuple[Caller, Caller, Caller]) -> None:
    alice, bob, _carol = trio
    group = start_group(alice)
    r = logged_in(bob).get(f"/campaigns/gb1/groups/{group}/poster.png")
    assert r.status_code == 200 and r["Content-Type"] == "image/png" and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert Client().get(f"/campaigns/gb1/groups/{group}/poster.png").status_code == 302  # to the login page


@pytest.mark.parametrize("lang", LANGS)
def test_the_earnings_page_shows_the_winners_shopping_fund_and_what_unlocks_it(
        trio: tuple[Caller, Caller, Caller], lang: str) -> None:
    alice, bob, carol = trio
    group = start_group(alice)
    gc.act(bob, "join_group_buy", group=group)
    gc.act(carol, "join_group_buy", group=group)
    callers = {c.member: c for c in trio}
    winner = callers[gc.group_view("gb1", group)["winners"][0]]
    _status, html = page(logged_in(winner), "/earnings", lang)
    fund = re.search(r"<div class=\"card\" data-shopping-fund>.*?</ul>", html, re.S)
    assert fund, "no shopping fund section"
    assert FUND[lang] in fund.group(0)
    assert re.search(r'data-figure="locked_fund">¥99.00<', fund.group(0))
    assert re.search(r'data-figure="unlocked">¥0.00<', fund.group(0))
    step = re.search(r"data-next-step>(.*?)</p>", fund.group(0), re.S)
    assert step and "¥9.90" in step.group(1) and "¥4.95" in step.group(1), "10% and 5% of 99.00, from the engine"
    for loser in (c for c in trio if c is not winner):
        _status, html = page(logged_in(loser), "/earnings", lang)
        assert "data-shopping-fund" not in html


def test_a_seats_order_page_links_back_to_its_group(trio: tuple[Caller, Caller, Caller]) -> None:
    alice, bob, _carol = trio
    started = gc.act(alice, "start_group_buy", campaign="gb1")
    group = started["action"]["group"]
    joined = gc.act(bob, "join_group_buy", group=group)
    for caller, order in ((alice, started["order"]), (bob, joined["order"])):
        _status, html = page(logged_in(caller), f"/orders/{order}", "en")
        assert f'href="/campaigns/gb1/groups/{group}" data-group-link' in html


def test_the_shop_links_to_the_campaigns_while_one_is_open(trio: Any) -> None:
    _status, html = page(Client(), "/", "en")
    assert 'href="/campaigns"' in html
    gc.log_event("close_group_buy", campaign="gb1")
    drain()
    _status, html = page(Client(), "/", "en")
    assert 'href="/campaigns"' not in html
