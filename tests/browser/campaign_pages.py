"""What the campaign pages' browser tests share (``test_campaign_groups.py``, ``test_blind_box_opening.py``,
``test_presale_live.py``): paying an order on its page with the demo provider, a second tab, screenshots to
``tests/artifacts/screenshots/<lang>/`` with the phone-size checks, streams that end with their test, and a page
marked so that a reload would show.

A test module takes these by importing them (``streams_end_with_the_test`` is an autouse fixture there once
imported)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from api_client import Caller
from live_pages import ARTIFACTS, PHONE, Live, MemberPage

SCREENSHOTS = ARTIFACTS / "screenshots"
LANGS = ("zh-hans", "en")
#: How long an open page may take to show a change (the streams look at the worker's position each second).
LIVE_MS = 5000


def create_campaign(operator: Caller, verb: str, campaign: str, **params: Any) -> None:
    """The operator creates (and publishes) ``campaign`` of the tea (TEA) with ``params``."""
    created = operator.post(f"/api/operator/actions/{verb}", {"campaign": campaign, "params": {"sku": "TEA",
                                                                                               **params}})
    assert created.status == 200, created.body


@pytest.fixture(autouse=True)
def streams_end_with_the_test(live: Live) -> Iterator[None]:
    """After the test, close its pages and give their streams' server threads the moment they need to notice
    (``quick_streams``), so none polls the database once the test has gone."""
    yield
    for context in live.contexts:
        context.close()
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and any("process_request" in t.name for t in threading.enumerate()):
        time.sleep(0.05)


def quick_streams(settings: Any) -> None:
    """One group stream per page for the whole test, and a keep-alive each half second of quiet, so that a stream
    whose page was closed notices it (at its next write) and frees its server thread before the test's database
    goes away."""
    settings.GROUP_STREAM_LIFETIME_SECONDS = 30.0
    settings.GROUP_STREAM_KEEPALIVE_SECONDS = 0.5


def mark_not_reloaded(opened: MemberPage) -> None:
    """Mark the page: a reload (or leaving it) loses the mark, so what it shows later came without one."""
    opened.page.evaluate("() => { window.__notReloaded = true; }")


def still_open(opened: MemberPage) -> bool:
    return bool(opened.page.evaluate("window.__notReloaded === true"))


def pay_on_the_order_page(opened: MemberPage) -> str:
    """The order page the start/join form went to: pay it with the demo provider; the order's id."""
    page = opened.page
    page.wait_for_url(re.compile(r"/orders/[A-Za-z0-9_-]+$"))
    with page.expect_response(lambda r: "/api/payments/demo/" in r.url and r.request.method == "POST") as paid:
        page.click("form[data-api^='/api/payments/demo/'] button[type=submit]")
    assert paid.value.ok, paid.value.text()
    page.locator("[data-pay]").wait_for(state="detached")  # paid: the page reloaded without the payment form
    return opened.path().rsplit("/", 1)[-1]


def second_tab(opened: MemberPage) -> MemberPage:
    """Another tab of the same member's browser (the same login)."""
    tab = MemberPage(opened.page.context.new_page(), opened.base)
    tab.watch()
    return tab


def no_problems(*pages: MemberPage) -> None:
    for opened in pages:
        assert opened.problems == [], opened.problems


def screenshot(opened: MemberPage, lang: str, name: str) -> list[str]:
    """A full-page screenshot to ``screenshots/<lang>/<name>.png``; what is wrong with the page (its language, an
    element past the phone's width)."""
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page = opened.page
    page.wait_for_load_state("load")  # (not "networkidle": the pages' event streams stay open)
    page.evaluate("document.fonts.ready.then(() => true)")
    problems = []
    if page.get_attribute("html", "lang") != lang:
        problems.append(f"{name} is not in {lang}")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        wide = page.evaluate("""(limit) => Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > limit + 0.5)
            .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""", PHONE["width"])
        problems.append(f"{name} is {width} px wide (> {PHONE['width']}): {wide}")
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    return problems
