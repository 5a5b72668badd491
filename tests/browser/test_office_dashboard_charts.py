"""The dashboard's charts draw in Chromium with the project's own Plotly (no request leaves the server), at desktop
and tablet width, in both languages; each chart's CSV link carries the page's period."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from api_client import buy, make_operator, make_shop, register
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from live_pages import Live

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = os.environ.get("LIANDONG_SCREENSHOTS")


def shop() -> None:
    make_shop(plans={"chain21": {}, "points": {}}, start=timezone.now() - dt.timedelta(days=1))
    alice = register("alice")
    buy(alice)
    bob = register("bob", inviter=alice)
    buy(bob)
    carl_order = buy(register("carl", inviter=alice))
    buy(register("dora", inviter=bob), "TEA")
    assert make_operator("api-op").post(f"/api/operator/orders/{carl_order}/refund").status == 200


@pytest.mark.parametrize(("width", "lang"), [(1280, "zh-hans"), (768, "en")])
def test_the_four_charts_draw_with_the_projects_plotly(live: Live, width: int, lang: str) -> None:
    shop()
    client = Client()
    # a superuser (the demo's operator): a transactional test's flush empties the role groups the migration made
    client.force_login(User.objects.create_superuser("owen", password="x"))
    context = live.browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN" if lang != "en"
                                       else "en-US", timezone_id="Asia/Shanghai")
    live.contexts.append(context)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live.url},
                         {"name": "django_language", "value": lang, "url": live.url}])
    page = context.new_page()
    problems: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live.url) else None)
    page.goto(f"{live.url}/office/dashboard?period=7")
    for chart in ("sales", "rewards", "members", "payout"):
        page.wait_for_selector(f"#chart-{chart}[data-drawn] svg.main-svg")
        link = page.get_attribute(f'[data-csv="{chart}"]', "href")
        assert link == f"/office/dashboard/{chart}.csv?period=7"
    bars = page.locator("#chart-sales .barlayer .point").count()
    assert bars >= 2  # today's sales and refunds
    assert not problems and not outside, (problems, outside)
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/office-dashboard-{width}-{lang}.png", full_page=True)
    # choosing a first day makes the period a custom one, from that day to the shown last day
    assert page.input_value("#period") == "7"
    first = page.input_value("#from")
    page.fill("#from", first)
    page.dispatch_event("#from", "change")
    assert page.input_value("#period") == "custom"
    page.click("[data-period-form] button[type=submit]")
    page.wait_for_selector('[data-period="custom"]')
    page.wait_for_selector("#chart-sales[data-drawn] svg.main-svg")
    assert not problems and not outside, (problems, outside)
