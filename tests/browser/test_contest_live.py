"""A team contest's page, live, in Chromium at phone size, on a live server with the engine's worker running.

bob keeps the contest's page open while orders are paid: alice (red's captain) buys TEA (59.00), then carl (blue's
captain) buys two; without a reload bob's page shows red 59.00 first, then blue 118.00 first and red second. Each
figure is compared with the engine's read of the contest (the contests plan's shop read). Screenshot:
``screenshots/<lang>/contest-live.png``."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from api_client import Caller, buy, make_operator, make_shop, register
from campaign_pages import LIVE_MS, mark_not_reloaded, no_problems, screenshot, still_open
from django.utils import timezone
from live_pages import Live, MemberPage

from liandong.service.store.models import ModuleState

PRODUCTS: list[dict[str, Any]] = [{"sku": "TEA", "price": "59.00", "name": "Spring tea"}]

READ = """() => Array.from(document.querySelectorAll('[data-standings] tbody tr')).map((tr) =>
  [tr.dataset.team, tr.querySelector('[data-figure]').textContent.trim()])"""


def standings(opened: MemberPage) -> list[list[str]]:
    found: list[list[str]] = opened.page.evaluate(READ)
    return found


def engine_standings() -> list[list[str]]:
    view = ModuleState.objects.get(kind="contests").view["contests"]["pk1"]
    return [[s["team"], s["figure"]] for s in view["standings"]]


def wait_for(opened: MemberPage, expected: list[list[str]]) -> None:
    opened.page.wait_for_function(f"(expected) => JSON.stringify(({READ})()) === JSON.stringify(expected)",
                                  arg=expected, timeout=LIVE_MS)


@pytest.fixture
def contest_shop(live: Live, browser_settings: Any) -> dict[str, Caller]:
    make_shop(plans={"contests": {}}, start=timezone.now() - dt.timedelta(days=1), products=PRODUCTS)
    people = {name: register(name) for name in ("alice", "bob", "carl")}
    start = timezone.now() + dt.timedelta(seconds=1)
    created = make_operator().post("/api/operator/actions/create_contest", {
        "contest": "pk1", "name": "Spring PK", "start": start.isoformat(),
        "end": (start + dt.timedelta(days=3)).isoformat(), "metric": "sales",
        "teams": [{"id": "red", "name": "Red", "captain": people["alice"].member},
                  {"id": "blue", "name": "Blue", "captain": people["carl"].member}],
        "prizes": [{"rank": 1, "cash": "20.00"}]})
    assert created.status == 200, created.body
    joined = people["bob"].post("/api/actions/join_contest_team",
                                {"contest": "pk1", "captain": people["alice"].invite_code})
    assert joined.status == 200, joined.body
    time.sleep(max(0.0, (start - timezone.now()).total_seconds()) + 0.1)  # the contest has started
    return people


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_standings_update_live_while_orders_are_paid(live: Live, contest_shop: dict[str, Caller],
                                                         lang: str) -> None:
    bob = live.open(contest_shop["bob"], "/contests/pk1", lang)
    mark_not_reloaded(bob)
    assert standings(bob) == [["red", "0.00"], ["blue", "0.00"]]
    buy(contest_shop["alice"], "TEA")
    wait_for(bob, [["red", "59.00"], ["blue", "0.00"]])
    live.settle()
    assert standings(bob) == engine_standings()
    buy(contest_shop["carl"], "TEA")
    buy(contest_shop["carl"], "TEA")
    wait_for(bob, [["blue", "118.00"], ["red", "59.00"]])
    live.settle()
    assert standings(bob) == engine_standings()
    assert still_open(bob)
    mine = bob.page.evaluate("() => document.querySelector('[data-standings] tr[data-mine]').dataset.team")
    assert mine == "red"
    problems = screenshot(bob, lang, "contest-live")
    no_problems(bob)
    assert problems == [] or lang != "en", problems
