"""A pre-sale's page, live, in Chromium at phone size, on a live server with the engine's worker running.

carol keeps the pre-sale's page open while others join: dave joins and pays on his own page, then others through
the API; without a reload carol's page shows each new count, the tier reached and the price now, the joins to the
next tier (and the price then) and to the next free draw, the free winners by name, and at the target the close
(everyone's rebate, the price paid in the end) with the forms gone. The deadline's countdown ticks. Every figure is
compared with the engine's read of the pre-sale (``Presale.campaign_view``, what ``GET /api/campaigns/<id>``
answers). Screenshots: ``screenshots/<lang>/campaign-presale*.png``."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
from api_client import Caller, make_operator, make_shop, register
from campaign_pages import (
    LANGS,
    LIVE_MS,
    create_campaign,
    mark_not_reloaded,
    no_problems,
    pay_on_the_order_page,
    quick_streams,
    screenshot,
    still_open,
    streams_end_with_the_test,  # noqa: F401  (an autouse fixture)
)
from django.utils import timezone
from live_pages import Live, MemberPage

from every_page import take_seat
from liandong.service.store.models import CampaignState, MemberState
from liandong.web.pages.templatetags.liandong import yuan

PRODUCTS: list[dict[str, Any]] = [{"sku": "TEA", "price": "99.00", "name": "Spring tea"}]
#: 99.00, 5.00 off for everyone every 2 participants (2 tiers at most), a free draw every 3, closing at 5.
TERMS: dict[str, Any] = {"price": "99.00", "tier_size": 2, "tier_rebate": "5.00", "max_tiers": 2, "free_every": 3,
                         "target": 5}
NAMES = ("alice", "bob", "carol", "dave", "erin")


@dataclass
class PresaleShop:
    members: dict[str, Caller]


@pytest.fixture
def presale_shop(live: Live, browser_settings: Any) -> PresaleShop:
    """A shop (no plan) selling TEA; the operator's pre-sale p1 (``TERMS``, the deadline in 3 days); five members,
    alice and bob taking part already. Made before any page opens (applied in its requests)."""
    quick_streams(browser_settings)
    make_shop(plans={}, start=timezone.now() - dt.timedelta(days=1), products=PRODUCTS)
    deadline = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0).isoformat()
    create_campaign(make_operator(), "create_presale", "p1", deadline=deadline, **TERMS)
    members = {name: register(name) for name in NAMES}
    for name in ("alice", "bob"):
        take_seat(members[name], "join_presale", {"campaign": "p1"})
    return PresaleShop(members)


def engine_presale() -> dict[str, Any]:
    found: dict[str, Any] = CampaignState.objects.get(campaign="p1").view
    return found


READ_PRESALE = """() => {
  const q = (s) => document.querySelector(s);
  const text = (s) => (q(s) ? q(s).textContent.replace(/\\s+/g, ' ').trim() : null);
  return {
    status: q('[data-campaign]').dataset.status, price_now: text('[data-figure=price-now]'),
    participants: text('[data-figure=participants]'), tiers: text('[data-figure=tiers]'),
    free_count: text('[data-figure=free-count]'), next_tier: text('[data-figure=next-tier]'),
    next_free: text('[data-figure=next-free]'), rebate_now: text('[data-figure=rebate-now]'),
    countdown: text('[data-countdown]'), closed: text('[data-closed-result]'),
    free: Array.from(document.querySelectorAll('[data-free-winners] li')).map((li) => li.textContent.trim()),
    actions_shown: !!q('[data-actions]') && !q('[data-actions]').hidden,
  };
}"""


def shown(opened: MemberPage) -> dict[str, Any]:
    figures: dict[str, Any] = opened.page.evaluate(READ_PRESALE)
    return figures


def numbers(text: str | None) -> list[str]:
    return re.findall(r"\d+(?:\.\d\d)?", text or "")


def wait_for_count(opened: MemberPage, count: int) -> float:
    """Wait until the open page shows ``count`` taking part; the seconds it took."""
    since = time.monotonic()
    opened.page.wait_for_function(f"(() => ({READ_PRESALE})().participants === '{count}')()", timeout=LIVE_MS)
    return time.monotonic() - since


def assert_engines(figures: dict[str, Any], names: dict[str, str]) -> None:
    """The open page's figures are the engine's read of the pre-sale, now."""
    v = engine_presale()
    assert figures["participants"] == str(v["participants"])
    assert figures["tiers"] == f"{v['tiers']} / {v['params']['max_tiers']}"
    assert figures["price_now"] == "¥" + v["price_now"]
    assert figures["free_count"] == str(len(v["free"])) and figures["free"] == [names[m] for m in v["free"]]
    if v["status"] != "open":
        return
    if v["joins_to_next_tier"] is None:
        assert numbers(figures["next_tier"]) == []  # every tier reached
    else:
        assert numbers(figures["next_tier"]) == [str(v["joins_to_next_tier"]), v["price_at_next_tier"]]
    if v["joins_to_next_free"] is None:  # the next multiple is past the target
        assert numbers(figures["next_free"]) == [str(v["params"]["target"])]
    else:
        assert numbers(figures["next_free"]) == [str(v["joins_to_next_free"]), str(v["next_free_at"])]
    if v["tiers"]:
        assert numbers(figures["rebate_now"]) == [v["rebate_now"]]


@pytest.mark.parametrize("lang", LANGS)
def test_the_presale_page_updates_live_as_others_join_until_the_close(live: Live, presale_shop: PresaleShop,
                                                                      lang: str) -> None:
    shop = presale_shop
    names = {c.member: name for name, c in shop.members.items() if c.member}

    carol = live.open(shop.members["carol"], "/campaigns/p1", lang)
    mark_not_reloaded(carol)
    first = shown(carol)
    assert (first["participants"], first["tiers"], first["price_now"]) == ("2", "1 / 2", "¥94.00")
    assert_engines(first, names)
    assert first["actions_shown"] and carol.page.locator("form[data-join]").is_visible()
    # the countdown ticks: about 3 days left, in the page's words
    ticking = re.compile(r"^2(d|天) 23:5\d:\d\d$")
    assert ticking.match(first["countdown"] or ""), first["countdown"]
    carol.page.wait_for_function("(before) => document.querySelector('[data-countdown]').textContent !== before",
                                 arg=first["countdown"], timeout=3000)
    screenshot(carol, lang, "campaign-presale")

    # dave joins on his page and pays: the third participant reaches a free draw; carol's page shows it live
    dave = live.open(shop.members["dave"], "/campaigns/p1", lang)
    dave.page.click("form[data-join] button[type=submit]")
    pay_on_the_order_page(dave)
    took = wait_for_count(carol, 3)
    assert took < LIVE_MS / 1000 and still_open(carol), "shown without a reload"
    dave.page.click("[data-campaign-link]")  # back to the pre-sale: his entry, kept open until the close
    dave.page.wait_for_url("**/campaigns/p1")
    mark_not_reloaded(dave)
    assert dave.page.get_attribute("[data-entry]", "data-entry-status") == "in"
    live.settle()
    carol.page.wait_for_function(f"(() => ({READ_PRESALE})().free.length === 1)()", timeout=LIVE_MS)
    figures = shown(carol)
    assert_engines(figures, names)
    assert engine_presale()["joins_to_next_free"] is None, "the next free draw (at 6) is past the target"
    assert numbers(figures["next_free"]) == ["5"]
    assert ticking.match(figures["countdown"] or ""), "the countdown goes on in the new part"
    screenshot(carol, lang, "campaign-presale-free-drawn")

    # a fourth: the second (last) tier, the price for everyone ¥89.00
    take_seat(shop.members["erin"], "join_presale", {"campaign": "p1"})
    wait_for_count(carol, 4)
    live.settle()
    figures = shown(carol)
    assert (figures["tiers"], figures["price_now"]) == ("2 / 2", "¥89.00")
    assert_engines(figures, names)

    # carol joins in her own tab: the fifth is the target, the pre-sale closes; her first tab shows the close
    mine = live.open(shop.members["carol"], "/campaigns/p1", lang)
    mine.page.click("form[data-join] button[type=submit]")
    pay_on_the_order_page(mine)
    carol.page.wait_for_function(f"(() => ({READ_PRESALE})().status === 'closed')()", timeout=LIVE_MS)
    assert still_open(carol)
    live.settle()
    v = engine_presale()
    assert v["status"] == "closed" and v["participants"] == 5
    figures = shown(carol)
    assert_engines(figures, names)
    assert not figures["actions_shown"] and figures["countdown"] is None
    assert numbers(figures["closed"])[:4] == ["5", "2", v["rebate_now"], v["price_now"]] == ["5", "2", "10.00",
                                                                                              "89.00"]
    screenshot(carol, lang, "campaign-presale-closed")
    # dave's open page: the close, and his own entry read again (the rebate he got back, what it cost him)
    dave.page.wait_for_selector("[data-entry][data-entry-status=delivered]", timeout=LIVE_MS)
    assert still_open(dave) and shown(dave)["closed"] == figures["closed"]
    entry = MemberState.objects.get(member=shop.members["dave"].member).view["presales"]["p1"]
    assert dave.page.inner_text("[data-figure=entry-rebate]") == yuan(entry["rebate"]) == "¥10.00"
    for figure in ("paid", "returned", "net"):  # (a free entry's net is below zero: the rebate on top)
        assert dave.page.inner_text(f"[data-figure=entry-{figure}]") == yuan(entry[figure])
    screenshot(dave, lang, "campaign-presale-closed-entry")
    mine.goto("/campaigns/p1")  # carol's own entry at the close: her rebate, what it cost her
    entry = mine.page.inner_text("[data-entry]")
    assert "¥10.00" in entry and "¥89.00" in entry, entry
    no_problems(carol, dave, mine)
