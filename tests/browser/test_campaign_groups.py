"""The group campaigns in Chromium at phone size, on a live server with the engine's worker running: three members
fill a group-buy group through its share link and each open page shows the others arriving and the result without
a reload; a private red-envelope group is joined only with its invite code; a group not full at its deadline is
dissolved and paid back by the worker's clock, on the open page; every campaign page in both languages, with a
screenshot to ``tests/artifacts/screenshots/<lang>/campaign-*.png`` and no overflow past 390 px.

Every figure a page shows is compared with the engine's: the group's view (``CampaignState``, what ``GET
/api/campaigns/<id>`` answers) and the ledger's own postings (the winner's locked fund, the losers' returns and
bonus, the envelope's shares), worded as the pages word them (``LIVE_TEXTS``)."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
from api_client import Caller, make_operator, make_shop
from campaign_pages import (
    LANGS,
    LIVE_MS,
    create_campaign,
    mark_not_reloaded,
    no_problems,
    pay_on_the_order_page,
    quick_streams,
    screenshot,
    second_tab,
    still_open,
    streams_end_with_the_test,  # noqa: F401  (an autouse fixture)
)
from django.db.models import Sum
from django.utils import timezone, translation
from live_pages import Live, MemberPage

from every_page import publish_offer, register, shop_clock, take_seat
from liandong.engine.money import format_fen
from liandong.service.store.models import CampaignState, EventOutcome, LedgerEntry, LoggedEvent
from liandong.web.pages.views.campaigns import GROUP_STATUS, LIVE_TEXTS

#: TEA sells at 99.00 with a 10.00 red envelope (the rulebook's example).
PRODUCTS: list[dict[str, Any]] = [{"sku": "TEA", "price": "99.00", "red_envelope": "10.00", "name": "Spring tea"},
                                  {"sku": "BOX", "price": "99.00", "name": "Tea chest"}]
#: Members give a birth date (a blind box needs the age known).
ADULT = "1990-05-01"


# --- the shop -------------------------------------------------------------------------------------------------------


@dataclass
class GroupShop:
    alice: Caller
    bob: Caller
    carol: Caller
    dave: Caller


@pytest.fixture
def group_shop(live: Live, browser_settings: Any) -> GroupShop:
    """A shop (no plan) selling TEA; a group-buy lottery gb1 (groups of 3, 1 winner) and a red-envelope campaign
    re1, published; four adult members (bob invited by alice). Made before any page opens (applied in its
    requests)."""
    quick_streams(browser_settings)
    make_shop(plans={}, start=timezone.now() - dt.timedelta(days=1), products=PRODUCTS)
    operator = make_operator()
    create_campaign(operator, "create_group_buy", "gb1", group_size=3, winners=1)
    create_campaign(operator, "create_red_envelope", "re1", max_size=5)
    alice = register("alice", birth_date=ADULT)
    return GroupShop(alice, register("bob", inviter=alice, birth_date=ADULT), register("carol", birth_date=ADULT),
                     register("dave", birth_date=ADULT))


# --- what the engine says ---------------------------------------------------------------------------------------------


def engine_group(campaign: str, group: str) -> dict[str, Any]:
    view = CampaignState.objects.get(campaign=campaign).view
    found: dict[str, Any] = next(g for g in view["group_views"] if g["group"] == group)
    return found


def groups_of(campaign: str) -> list[str]:
    return [g["group"] for g in CampaignState.objects.get(campaign=campaign).view["group_views"]]


def booked(rule: str, member: str, group: str, owner: str | None = None) -> int:
    """What the ledger posted under ``rule`` for ``member``'s seat in ``group`` (to ``owner``: the member, or the
    payment provider for money sent back), in fen."""
    total = LedgerEntry.objects.filter(transaction__rule=rule, transaction__source=member,
                                       transaction__ref=f"group {group}", owner=owner or member,
                                       amount__gt=0).aggregate(total=Sum("amount"))["total"]
    return int(total or 0)


def shown_yuan(fen: int) -> str:
    return "¥" + format_fen(fen)


def expected_seats(kind: str, campaign: str, group: str, names: dict[str, str], lang: str) -> list[dict[str, str]]:
    """Each seat as the page should show it (name, what it got), from the engine's group view and the ledger."""
    found = engine_group(campaign, group)
    prefix = kind  # the ledger's rules of this kind: group_buy_return, red_envelope_return, …
    with translation.override(lang):
        texts = {key: str(text) for key, text in LIVE_TEXTS.items()}
    seats = []
    for member in found["members"]:
        outcome = found["outcomes"][member]
        returned = shown_yuan(booked(f"{prefix}_return", member, group, owner="@external"))
        amounts = {"returned": returned}
        if kind == "group_buy":
            amounts["fund"] = shown_yuan(booked("group_buy_fund", member, group))
            amounts["bonus"] = shown_yuan(booked("group_buy_consolation", member, group))
        else:
            amounts["share"] = shown_yuan(booked("red_envelope_share", member, group))
        key = f"{outcome}_{kind}" if outcome in ("won", "lost") else outcome
        seats.append({"name": names[member], "got": texts[key] % amounts})
    return seats


# --- what a page shows ----------------------------------------------------------------------------------------------

#: The group page's figures, read in the page.
READ_GROUP = """() => {
  const q = (s) => document.querySelector(s);
  const text = (s) => (q(s) ? q(s).textContent.trim() : null);
  return {
    status: q('[data-live-status]').dataset.status, badge: text('[data-status-badge]'),
    joined: text('[data-figure=joined]'), size: text('[data-figure=size]'),
    winners_count: text('[data-figure=winners-count]'), missing: text('[data-figure=missing]'),
    seats: Array.from(document.querySelectorAll('[data-members] [data-member]')).map((li) => ({
      name: li.querySelector('.name').textContent.trim(), got: li.querySelector('[data-got]').textContent.trim()})),
    winners: Array.from(document.querySelectorAll('[data-winners] li')).map((li) => li.textContent.trim()),
    result_shown: !q('[data-result]').hidden,
    note: q('[data-outcome-note]').hidden ? '' : text('[data-outcome-note]'),
    actions_shown: !!q('[data-actions]') && !q('[data-actions]').hidden,
    draw_link: q('[data-draw-link]') ? q('[data-draw-link]').getAttribute('href') : null,
  };
}"""


def figures(opened: MemberPage) -> dict[str, Any]:
    shown: dict[str, Any] = opened.page.evaluate(READ_GROUP)
    return shown


def keep_open(opened: MemberPage) -> None:
    """Mark the page: a reload (or leaving it) loses the mark, so the updates it shows came without one. Also note
    when its status changes (``window.__statusChanged``, the browser's clock)."""
    mark_not_reloaded(opened)
    opened.page.evaluate("""() => {
      const root = document.querySelector('[data-live-status]');
      new MutationObserver(() => { window.__statusChanged = Date.now(); })
        .observe(root, {attributes: true, attributeFilter: ['data-status']});
    }""")


def wait_live(opened: MemberPage, condition: str, since: float, limit_ms: int = LIVE_MS) -> float:
    """Wait until ``condition`` (JS on ``f``, the page's figures) holds on the open page; the seconds it took."""
    opened.page.wait_for_function(f"(() => {{ const f = ({READ_GROUP})(); return {condition}; }})()",
                                  timeout=limit_ms)
    return time.monotonic() - since


def api_group(opened: MemberPage, campaign: str, group: str) -> dict[str, Any]:
    """The group as ``GET /api/campaigns/<id>`` shows it to anyone."""
    answer = opened.page.request.get(f"{opened.base}/api/campaigns/{campaign}")
    assert answer.ok, answer.text()
    found: dict[str, Any] = next(g for g in answer.json()["group_views"] if g["group"] == group)
    return found


def status_label(status: str, lang: str) -> str:
    with translation.override(lang):
        return str(GROUP_STATUS[status][0])


# --- 1. three members fill a group-buy group through its share link -------------------------------------------------


def test_three_members_fill_a_group_through_its_share_link_and_each_open_page_shows_the_result_live(
        live: Live, group_shop: GroupShop) -> None:
    shop = group_shop
    names = {c.member: c.username for c in (shop.alice, shop.bob, shop.carol, shop.dave) if c.member and c.username}

    # alice opens a group and pays; her order links back to the group, whose page gives her the share link
    alice = live.open(shop.alice, "/campaigns/gb1", "en")
    alice.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    alice.page.click("form[data-start-group] button[type=submit]")
    pay_on_the_order_page(alice)
    [group] = groups_of("gb1")
    alice.page.click("[data-group-link]")
    alice.page.wait_for_url(f"**/campaigns/gb1/groups/{group}")
    keep_open(alice)
    shown = figures(alice)
    assert (shown["status"], shown["joined"], shown["size"], shown["winners_count"], shown["missing"]) == (
        "open", "1", "3", "1", "2")
    alice.page.click("[data-share-button]")  # no share sheet on this browser: the link is copied
    alice.page.locator("[data-share-done]").wait_for()
    link = alice.page.input_value("[data-share-link]")
    assert link == f"{live.url}/campaigns/gb1/groups/{group}"
    assert alice.page.evaluate("navigator.clipboard.readText()") == link

    # bob opens the link, joins and pays; alice's open page shows him arriving
    bob = live.open(shop.bob, None, "en")
    bob.page.goto(link)
    assert bob.page.locator("form[data-join]").is_visible()
    bob.page.click("form[data-join] button[type=submit]")
    pay_on_the_order_page(bob)
    took = wait_live(alice, "f.joined === '2' && f.seats.length === 2", time.monotonic())
    assert took < LIVE_MS / 1000
    assert [s["name"] for s in figures(alice)["seats"]] == ["alice", "bob"]
    assert figures(alice)["missing"] == "1"
    bob.page.click("[data-group-link]")
    bob.page.wait_for_url(f"**/campaigns/gb1/groups/{group}")
    keep_open(bob)

    # carol keeps the group open in one tab (in Chinese) and joins in another: the last seat draws the group
    carol = live.open(shop.carol, None, "zh-hans")
    carol.page.goto(link)
    keep_open(carol)
    assert figures(carol)["actions_shown"]  # the join form
    paying = second_tab(carol)
    paying.page.goto(link)
    paying.page.click("form[data-join] button[type=submit]")
    pay_on_the_order_page(paying)
    paid = time.monotonic()
    watching = {"en": [alice, bob], "zh-hans": [carol]}
    for opened in (alice, bob, carol):
        took = wait_live(opened, "f.status === 'drawn' && f.result_shown", paid)
        assert took < LIVE_MS / 1000, f"{took:.2f} s"
        assert still_open(opened), "the page was reloaded"

    # what every open page shows is the engine's: the group, the winners in draw order, what each seat got
    found = engine_group("gb1", group)
    assert found["status"] == "drawn" and len(found["winners"]) == 1
    assert api_group(alice, "gb1", group)["winners"] == found["winners"]
    for lang, pages in watching.items():
        seats = expected_seats("group_buy", "gb1", group, names, lang)
        winners = [names[m] for m in found["winners"]]
        with translation.override(lang):
            note = str(LIVE_TEXTS["drawn"]) % {"names": ", ".join(winners)}
        for opened in pages:
            shown = figures(opened)
            assert shown["seats"] == seats
            assert shown["winners"] == winners
            assert shown["note"] == note
            assert (shown["joined"], shown["missing"]) == (str(len(found["members"])), str(found["seats_left"]))
            assert shown["badge"] == status_label("drawn", lang)
            assert not shown["actions_shown"]  # nothing to join, leave or share any more
            assert shown["draw_link"] == "/draws/gb1"
    winner = found["winners"][0]
    assert booked("group_buy_fund", winner, group) == 9900  # the price: the rulebook's default winner fund
    losers = [m for m in found["members"] if m != winner]
    assert [booked("group_buy_consolation", m, group) for m in losers] == [1000, 1000]
    assert [booked("group_buy_return", m, group, owner="@external") for m in losers] == [9900, 9900]
    no_problems(alice, bob, carol, paying)


# --- 2. a private red-envelope group is joined only with its code ----------------------------------------------------


def test_a_private_red_envelope_group_is_joined_only_with_its_invite_code(live: Live, group_shop: GroupShop) -> None:
    shop = group_shop
    names = {c.member: c.username for c in (shop.alice, shop.bob) if c.member and c.username}

    alice = live.open(shop.alice, "/campaigns/re1", "en")
    page = alice.page
    page.fill("#s-size", "2")
    page.fill("#s-winners", "1")
    page.select_option("#s-split", "random")
    page.select_option("#s-visibility", "private")
    page.click("form[data-start-group] button[type=submit]")
    pay_on_the_order_page(alice)
    [group] = groups_of("re1")
    page.click("[data-group-link]")
    page.wait_for_url(f"**/campaigns/re1/groups/{group}")
    keep_open(alice)
    code = page.locator("[data-invite-code]").inner_text()
    raw = CampaignState.objects.get(campaign="re1").view["group_views"][0]
    assert code == raw["invite_code"] and re.fullmatch(r"[A-Z0-9]{10}", code)
    link = page.input_value("[data-share-link]")
    assert link == f"{live.url}/campaigns/re1/groups/{group}?code={code}"

    # bob, with the group's plain address: the code is asked for; none is refused by the form, a wrong one by
    # the engine when the payment arrives (the order page says why), and he takes no seat
    bob = live.open(shop.bob, f"/campaigns/re1/groups/{group}", "en")
    assert bob.page.input_value("#g-code") == ""
    assert code not in bob.page.content()  # the code is shown to members of the group only
    orders_before = LoggedEvent.objects.filter(verb="join_red_envelope").count()
    bob.page.click("form[data-join] button[type=submit]")
    assert bob.page.evaluate("document.getElementById('g-code').validity.valueMissing")
    assert bob.path() == f"/campaigns/re1/groups/{group}"
    bob.page.fill("#g-code", "WRONGCODE2")
    bob.page.click("form[data-join] button[type=submit]")
    pay_on_the_order_page(bob)
    refused = bob.page.locator("[data-refused]")
    refused.wait_for()
    joins = LoggedEvent.objects.filter(verb="join_red_envelope").order_by("position")
    assert joins.count() == orders_before + 1
    outcome = EventOutcome.objects.get(event=joins.last())
    assert not outcome.applied and outcome.refusal is not None
    assert outcome.refusal["field"] == "invite_code"
    assert bob.page.locator("[data-refusal]").inner_text() == outcome.refusal["reason"]
    assert engine_group("re1", group)["members"] == [shop.alice.member]
    assert figures(alice)["joined"] == "1" and still_open(alice)

    # with the share link the code is filled in: bob joins, the group of two is full and drawn, live on alice's page
    bob.page.goto(link)
    assert bob.page.input_value("#g-code") == code
    bob.page.click("form[data-join] button[type=submit]")
    pay_on_the_order_page(bob)
    took = wait_live(alice, "f.status === 'drawn' && f.result_shown", time.monotonic())
    assert took < LIVE_MS / 1000 and still_open(alice)
    found = engine_group("re1", group)
    assert found["members"] == [shop.alice.member, shop.bob.member]
    shown = figures(alice)
    assert shown["seats"] == expected_seats("red_envelope", "re1", group, names, "en")
    assert shown["winners"] == [names[m] for m in found["winners"]]
    shares = [booked("red_envelope_share", m, group) for m in found["members"]]
    assert sum(shares) == 1000 and min(shares) >= 1  # the whole envelope, at least 0.01 each
    assert [shown_yuan(s) for s in shares] == ["¥" + found["shares"][m] for m in found["members"]]
    no_problems(alice, bob)


# --- 3. a group not full at its deadline expires by the worker's clock -----------------------------------------------

#: The group's deadline, seconds after the fixture is made (time for the pages to open before it).
DEADLINE_IN = 8.0


@dataclass
class ExpiringGroup:
    alice: Caller
    bob: Caller
    group: str
    deadline: dt.datetime


@pytest.fixture
def expiring_group(live: Live, browser_settings: Any) -> ExpiringGroup:
    """A group-buy lottery whose groups have 1 hour to fill, and a group of 3 that alice started 1 hour ago less
    ``DEADLINE_IN`` seconds, bob with her: the story told on a clock set back (the events are logged at it). The
    worker ticks each second (``tick_seconds``), so the deadline passes by its clock within a second."""
    quick_streams(browser_settings)
    live.tick_seconds = 1.0
    real = timezone.now()
    story = real - dt.timedelta(hours=1, minutes=5)
    with shop_clock(story) as advance:
        make_shop(plans={}, start=story, products=PRODUCTS)
        create_campaign(make_operator(), "create_group_buy", "gbx", group_size=3, winners=1, expire_hours=1)
        alice, bob = register("alice"), register("bob")
        advance((real - story - dt.timedelta(hours=1)).total_seconds() + DEADLINE_IN - 1)
        take_seat(alice, "start_group_buy", {"campaign": "gbx"})
        [group] = groups_of("gbx")
        advance(1)
        take_seat(bob, "join_group_buy", {"group": group})
    deadline = dt.datetime.fromisoformat(engine_group("gbx", group)["deadline"])
    assert dt.timedelta(seconds=DEADLINE_IN - 2) < deadline - real < dt.timedelta(seconds=DEADLINE_IN + 1)
    return ExpiringGroup(alice, bob, group, deadline)


def test_a_group_not_full_at_its_deadline_is_dissolved_and_paid_back_by_the_workers_clock_on_the_open_page(
        live: Live, expiring_group: ExpiringGroup) -> None:
    x = expiring_group
    path = f"/campaigns/gbx/groups/{x.group}"
    alice = live.open(x.alice, path, "en")
    bob = live.open(x.bob, path, "zh-hans")
    for opened in (alice, bob):
        keep_open(opened)
        shown = figures(opened)
        assert (shown["status"], shown["joined"], shown["missing"]) == ("open", "2", "1")
    assert timezone.now() < x.deadline, "the pages opened too late for this test"
    left = (x.deadline - timezone.now()).total_seconds()
    for opened, lang in ((alice, "en"), (bob, "zh-hans")):
        wait_live(opened, "f.status === 'expired'", time.monotonic(), limit_ms=int(left * 1000) + LIVE_MS)
        assert still_open(opened)
        changed = dt.datetime.fromtimestamp(opened.page.evaluate("window.__statusChanged") / 1000, dt.UTC)
        assert x.deadline <= changed < x.deadline + dt.timedelta(seconds=4), (changed, x.deadline)
        shown = figures(opened)
        names = {x.alice.member: "alice", x.bob.member: "bob"}
        assert shown["seats"] == expected_seats("group_buy", "gbx", x.group, names, lang)
        with translation.override(lang):
            assert shown["note"] == str(LIVE_TEXTS["expired"])
        assert shown["badge"] == status_label("expired", lang)
        assert not shown["actions_shown"] and not shown["result_shown"]
    found = engine_group("gbx", x.group)
    assert found["status"] == "expired" and found["outcomes"] == {x.alice.member: "returned",
                                                                   x.bob.member: "returned"}
    closed = dt.datetime.fromisoformat(found["closed_at"])
    assert x.deadline <= closed < x.deadline + dt.timedelta(seconds=2.5)
    tick = LoggedEvent.objects.filter(verb="tick", created_at__gte=x.deadline).order_by("position").first()
    assert tick is not None and tick.actor == "system"  # the worker's own clock event did it
    for member in (x.alice.member, x.bob.member):
        assert member is not None
        assert booked("group_buy_return", member, x.group, owner="@external") == 9900  # paid back in full
        assert booked("group_buy_consolation", member, x.group) == 0  # and nothing else
    for lang in LANGS:  # the expired group, as anyone sees it now
        opened = live.open(x.alice, path, lang)
        screenshot(opened, lang, "campaign-group-expired")
    no_problems(alice, bob)


# --- 4. every campaign page in both languages ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_campaign_page_at_phone_size_in_both_languages(live: Live, group_shop: GroupShop, lang: str) -> None:
    shop = group_shop
    take_seat(shop.alice, "start_group_buy", {"campaign": "gb1"})
    take_seat(shop.bob, "start_group_buy", {"campaign": "gb1"})
    open_group, full_group = groups_of("gb1")
    take_seat(shop.carol, "join_group_buy", {"group": full_group})
    take_seat(shop.dave, "join_group_buy", {"group": full_group})
    take_seat(shop.alice, "start_red_envelope", {"campaign": "re1", "size": 3, "winners": 1, "split": "random",
                                                 "visibility": "private", "invite_code": "SCREENSHOT"})
    [private] = groups_of("re1")
    code = engine_group("re1", private)["invite_code"]
    take_seat(shop.bob, "start_red_envelope", {"campaign": "re1", "size": 2, "winners": 1, "split": "equal"})
    envelope = groups_of("re1")[1]
    take_seat(shop.carol, "join_red_envelope", {"group": envelope})
    assert engine_group("gb1", full_group)["status"] == engine_group("re1", envelope)["status"] == "drawn"
    # a pre-sale bob takes part in, and a blind box alice started and carol opened a box of: the list has every kind
    deadline = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0).isoformat()
    create_campaign(make_operator("operator2"), "create_presale", "p1", deadline=deadline, tier_size=2, free_every=3,
                    target=10)
    take_seat(shop.bob, "join_presale", {"campaign": "p1"})
    take_seat(shop.carol, "join_presale", {"campaign": "p1"})
    take_seat(shop.alice, "start_blind_box", {"params": {"prize_sku": "BOX"}})
    [box] = CampaignState.objects.filter(kind="blind_box").values_list("campaign", flat=True)
    take_seat(shop.carol, "open_blind_box", {"campaign": box, "take": "prize"})
    offer = publish_offer({"prize_sku": "BOX", "boxes": 12, "win_from": 4, "win_to": 12})  # a blind-box offer

    member = live.open(shop.alice, None, lang)
    stranger = live.open(shop.dave, None, lang)
    visitor = live.open(None, None, lang)
    participant = live.open(shop.bob, None, lang)
    walk = [
        (visitor, "/campaigns", "campaign-list"),
        (member, "/campaigns/gb1", "campaign-group-buy"),
        (member, "/campaigns/re1", "campaign-red-envelope"),
        (visitor, "/campaigns/gb1", "campaign-group-buy-visitor"),
        (member, f"/campaigns/gb1/groups/{open_group}", "campaign-group-open"),
        (stranger, f"/campaigns/gb1/groups/{open_group}", "campaign-group-open-join"),
        (member, f"/campaigns/gb1/groups/{full_group}", "campaign-group-drawn"),
        (member, f"/campaigns/re1/groups/{private}", "campaign-group-private"),
        (stranger, f"/campaigns/re1/groups/{private}?code={code}", "campaign-group-private-join"),
        (member, f"/campaigns/re1/groups/{envelope}", "campaign-group-red-envelope-drawn"),
        (participant, "/campaigns/p1", "campaign-presale-participant"),
        (visitor, "/campaigns/p1", "campaign-presale-visitor"),
        (stranger, f"/campaigns/{box}", "campaign-blind-box-opener"),
        (member, f"/campaigns/{box}", "campaign-blind-box-own-set"),
        (visitor, f"/campaigns/{box}", "campaign-blind-box-visitor"),
        (stranger, f"/campaigns/offers/{offer}", "campaign-blind-box-offer"),
        (member, f"/campaigns/offers/{offer}", "campaign-blind-box-offer-few-coupons"),
    ]
    found: dict[str, list[str]] = {}
    for opened, path, name in walk:
        before = len(opened.problems)
        response = opened.goto(path)
        problems = screenshot(opened, lang, name)
        if response is None or response.status != 200:
            problems.append(f"{path} answered {response and response.status}")
        problems += opened.problems[before:]
        if problems:
            found[name] = problems
    assert found == {}, found
    # the list's counts are the engine's: alice's open group (1 seated), the full group drawn
    member.goto("/campaigns")
    participants = member.page.locator("li[data-campaign=gb1] [data-figure=participants]").inner_text()
    assert re.match(r"\D*1\D+1\D+1\D*$", participants), participants
    # the campaign page's groups are the engine's: each with its status and seats (joined of size, to win)
    member.goto("/campaigns/gb1")
    rows = member.page.evaluate("""() => Array.from(document.querySelectorAll('[data-groups] li[data-group]'))
        .map((li) => [li.dataset.group, li.dataset.status, li.querySelector('[data-figure=seats]').textContent])""")
    engine = {g["group"]: g for g in CampaignState.objects.get(campaign="gb1").view["group_views"]}
    assert sorted(row[0] for row in rows) == sorted(engine)
    for group, status, seats in rows:
        found = engine[group]
        assert status == found["status"]
        numbers = re.findall(r"\d+", seats)
        assert numbers == [str(len(found["members"])), str(found["size"]), str(found["winners_count"])], seats
