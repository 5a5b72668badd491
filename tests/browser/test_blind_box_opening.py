"""A blind box opened until the win, in Chromium at phone size, on a live server with the engine's worker running.

bob starts a set of his own from alice's set's page (the fee, the coupons it takes and the coupons he holds are
shown; he pays on the order page) and keeps his set's page open; carol opens its boxes one by one on the page, each
paid on its order page, until the prize's box: after each open her page and bob's open page (updated live, not
reloaded) show the boxes opened, the next box, where the prize can still be and bob's running share; at the win
she has chosen what the prize's box gives (the product, or the coupons instead), and both pages show the prize's
box, who opened it and what was taken. Every figure is compared with the engine's read of the set
(``BlindBox.campaign_view``, ``GET /api/campaigns/<id>``) and the members' coupons; the prize's box with the set's
own secret (the engine's ``position`` draw). Screenshots: ``screenshots/<lang>/campaign-blind-box-*.png``."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
from api_client import Caller, make_shop, register
from campaign_pages import (
    LIVE_MS,
    mark_not_reloaded,
    no_problems,
    pay_on_the_order_page,
    quick_streams,
    screenshot,
    still_open,
    streams_end_with_the_test,  # noqa: F401  (an autouse fixture)
)
from django.utils import timezone, translation
from live_pages import Live, MemberPage

from every_page import take_seat
from liandong.engine.draw import position
from liandong.engine.money import format_fen, parse_yuan
from liandong.service.store.models import CampaignState, LoggedEvent, MemberState
from liandong.web.pages.views.blind_box import opening_text

PRODUCTS: list[dict[str, Any]] = [{"sku": "BOX", "price": "99.00", "name": "Tea chest"}]
ADULT = "1990-05-01"
#: A small set, so that the prize's box comes within a few opens: boxes 1–4, the prize in one of 2–4.
TERMS: dict[str, Any] = {"prize_sku": "BOX", "boxes": 4, "win_from": 2, "win_to": 4}


@dataclass
class BoxShop:
    alice: Caller
    bob: Caller
    carol: Caller
    first: str  # alice's set


@pytest.fixture
def box_shop(live: Live, browser_settings: Any) -> BoxShop:
    """A shop (no plan) selling the tea chest BOX; three adult members (100 seed coupons each, the module's
    default); alice's set (started and paid through the API), whose page offers its terms to others. Made before
    any page opens (applied in its requests)."""
    quick_streams(browser_settings)
    make_shop(plans={}, start=timezone.now() - dt.timedelta(days=1), products=PRODUCTS)
    alice, bob, carol = (register(name, birth_date=ADULT) for name in ("alice", "bob", "carol"))
    take_seat(alice, "start_blind_box", {"params": TERMS})
    [first] = CampaignState.objects.filter(kind="blind_box").values_list("campaign", flat=True)
    return BoxShop(alice, bob, carol, first)


# --- what the engine says -------------------------------------------------------------------------------------------


def engine_set(campaign: str) -> dict[str, Any]:
    found: dict[str, Any] = CampaignState.objects.get(campaign=campaign).view
    return found


def coupons(caller: Caller) -> int:
    held: int = MemberState.objects.get(member=caller.member).view["coupons"]
    return held


def prize_box(campaign: str) -> int:
    """The set's prize box, from its own secret (in the log, made by the service at the start) and its window, as
    the engine draws it; the pages never show it before the set closes."""
    started = next(e for e in LoggedEvent.objects.filter(verb="start_blind_box") if e.payload["campaign"] == campaign)
    params = started.payload["params"]
    return position(params["secret"], campaign, params["win_from"], params["win_to"])


# --- what the page shows --------------------------------------------------------------------------------------------

READ_SET = """() => {
  const q = (s) => document.querySelector(s);
  const text = (s) => (q(s) ? q(s).textContent.replace(/\\s+/g, ' ').trim() : null);
  return {
    status: q('[data-campaign]').dataset.status,
    window: text('[data-figure=window]'), opened: text('[data-figure=opened]'),
    next_box: text('[data-figure=next-box]'),
    boxes: text('[data-figure=boxes]'), income: text('[data-figure=starter-income]'),
    net: text('[data-figure=starter-net]'), still: text('[data-figure=still-possible]'),
    result: text('[data-closed-result]'),
    opens: Array.from(document.querySelectorAll('[data-opens] [data-open]')).map((li) => ({
      box: li.dataset.box, result: li.dataset.result, name: li.querySelector('.name').textContent.trim(),
      text: li.querySelector('small').textContent.trim()})),
    open_title: text('[data-open-box] h2'), open_button: text('[data-open-box] button[type=submit]'),
    actions_shown: !!q('[data-actions]') && !q('[data-actions]').hidden,
  };
}"""


def shown(opened: MemberPage) -> dict[str, Any]:
    figures: dict[str, Any] = opened.page.evaluate(READ_SET)
    return figures


def expected(campaign: str, names: dict[str, str], lang: str) -> dict[str, Any]:
    """What both pages should show of the set, from the engine's read, worded as the page words it."""
    v = engine_set(campaign)
    with translation.override(lang):
        opens = [{"box": str(o["box"]), "result": o["result"], "who": names[o["member"]],
                  "text": opening_text(o["result"], v["params"], "Tea chest")} for o in v["opens"]]
    return {"status": v["status"], "opened": str(v["opened"]), "income": "¥" + v["starter_income"],
            "next_box": str(v["next_box"]) if v["next_box"] else "—", "opens": opens, "view": v}


def same_set(page_figures: dict[str, Any], want: dict[str, Any]) -> bool:
    """The page's figures are the engine's: the count, the next box, the share, each opened box and its opener."""
    opens = page_figures["opens"]
    return (page_figures["status"] == want["status"] and page_figures["opened"] == want["opened"]
            and page_figures["next_box"] == want["next_box"] and page_figures["income"] == want["income"]
            and [(o["box"], o["result"], o["text"]) for o in opens]
            == [(o["box"], o["result"], o["text"]) for o in want["opens"]]
            and all(o["name"].endswith(w["who"]) for o, w in zip(opens, want["opens"], strict=True)))


def wait_for_opened(opened: MemberPage, count: int) -> float:
    """Wait until the open page shows ``count`` boxes opened; the seconds it took."""
    since = time.monotonic()
    opened.page.wait_for_function(f"(() => ({READ_SET})().opened === '{count}')()", timeout=LIVE_MS)
    return time.monotonic() - since


# --- the test -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "take"), [("en", "prize"), ("zh-hans", "coupons")])
def test_a_blind_box_is_opened_box_by_box_until_the_win(live: Live, box_shop: BoxShop, lang: str, take: str) -> None:
    shop = box_shop
    names = {c.member: c.username for c in (shop.alice, shop.bob, shop.carol) if c.member and c.username}
    terms = engine_set(shop.first)["params"]

    # bob, on alice's set: what a start costs, the coupons it takes and those he holds; he starts his own set
    bob = live.open(shop.bob, f"/campaigns/{shop.first}", lang)
    held = coupons(shop.bob)
    assert held == 100, "the seed coupons"
    start_card = bob.page.inner_text("[data-start-card]")
    assert f"¥{terms['start_fee']}" in start_card and str(terms["start_coupons"]) in start_card
    assert bob.page.inner_text("[data-figure=coupons-held]").count(str(held)) == 1
    screenshot(bob, lang, "campaign-blind-box-start")
    before = set(CampaignState.objects.filter(kind="blind_box").values_list("campaign", flat=True))
    bob.page.click("form[data-start-set] button[type=submit]")
    pay_on_the_order_page(bob)
    [campaign] = set(CampaignState.objects.filter(kind="blind_box").values_list("campaign", flat=True)) - before
    assert coupons(shop.bob) == held - terms["start_coupons"], "the start took its coupons"
    bob.page.click("[data-campaign-link]")
    bob.page.wait_for_url(f"**/campaigns/{campaign}")
    mark_not_reloaded(bob)
    v = engine_set(campaign)
    assert v["starter"] == shop.bob.member and v["window"] == [2, 4]
    first = shown(bob)
    assert first["window"] is not None and re.search(r"2\s*–\s*4", first["window"]), first["window"]
    assert (first["opened"], first["next_box"], first["boxes"], first["income"]) == ("0", "1", "4", "¥0.00")
    assert not bob.page.locator("[data-open-box]").count(), "a starter cannot open its own boxes"
    assert bob.page.locator("[data-own-set]").is_visible()

    # carol opens the boxes one by one on the page until the prize's box
    win = prize_box(campaign)
    assert 2 <= win <= 4
    carol = live.open(shop.carol, f"/campaigns/{campaign}", lang)
    for box in range(1, win + 1):
        carol.goto(f"/campaigns/{campaign}")
        page_figures = shown(carol)
        assert page_figures["next_box"] == str(box) and str(box) in page_figures["open_title"]
        assert str(box) in page_figures["open_button"] and f"¥{terms['open_price']}" in page_figures["open_button"]
        assert re.search(rf"{max(2, box)}\s*–\s*4", page_figures["still"]), page_figures["still"]
        choice = take if box == win else ("coupons" if take == "prize" else "prize")  # only the win's counts
        carol.page.check(f"form[data-open-box] input[name=take][value={choice}]")
        coupons_before = coupons(shop.carol)
        carol.page.click("form[data-open-box] button[type=submit]")
        pay_on_the_order_page(carol)
        took = wait_for_opened(bob, box)  # bob's open page shows it, live
        assert took < LIVE_MS / 1000 and still_open(bob), "shown without a reload"
        live.settle()
        want = expected(campaign, names, lang)
        assert want["view"]["opened"] == box
        carol.page.click("[data-campaign-link]")
        carol.page.wait_for_url(f"**/campaigns/{campaign}")
        for opened in (carol, bob):  # each open page equals the engine's read
            opened.page.wait_for_function(f"(() => ({READ_SET})().income === '{want['income']}')()",
                                          timeout=LIVE_MS)
            assert same_set(shown(opened), want), (shown(opened), want)
        if box < win:
            assert want["view"]["opens"][-1]["result"] == "miss"
            assert coupons(shop.carol) == coupons_before + terms["miss_coupons"]
            assert f"{terms['miss_coupons']}" in shown(carol)["opens"][-1]["text"]
            if box == 1:
                screenshot(carol, lang, "campaign-blind-box-mid-set")
                screenshot(bob, lang, "campaign-blind-box-mid-set-starter")

    # the win: the prize's box, who opened it and what was taken, on both pages; nothing left to open
    v = engine_set(campaign)
    assert v["status"] == "closed" and v["prize_box"] == win and v["winner"] == shop.carol.member
    assert v["taken"] == take and v["opens"][-1]["result"] == take
    won_coupons = terms["win_coupons"] if take == "coupons" else 0
    assert coupons(shop.carol) == coupons_before + won_coupons
    result = "Tea chest" if take == "prize" else str(terms["win_coupons"])  # what the page says was taken
    for opened in (carol, bob):
        opened.page.wait_for_function(f"(() => ({READ_SET})().status === 'closed')()", timeout=LIVE_MS)
        final = shown(opened)
        assert final["result"] is not None and f"{win}" in final["result"] and "carol" in final["result"]
        assert result in final["result"], final["result"]
        assert final["still"] is None and final["next_box"] == "—" and not final["actions_shown"]
        assert final["net"] is not None and ("¥" + v["starter_net"].lstrip("-")) in final["net"]
    assert still_open(bob), "bob's page showed the win without a reload"
    share = parse_yuan(terms["starter_share"])
    assert shown(bob)["income"] == "¥" + v["starter_income"] == "¥" + format_fen(win * share)
    carol.goto(f"/campaigns/{campaign}")
    assert str(coupons(shop.carol)) in carol.page.inner_text("[data-figure=coupons-held]")
    screenshot(carol, lang, "campaign-blind-box-won")
    screenshot(bob, lang, "campaign-blind-box-won-starter")
    answer = carol.page.request.get(f"{live.url}/api/campaigns/{campaign}")
    assert answer.ok and answer.json()["prize_box"] == win and answer.json()["opened"] == win
    no_problems(bob, carol)
