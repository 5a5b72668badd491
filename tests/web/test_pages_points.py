"""积分 (/points): every figure equals the API's for the same member (``/api/me/plans/points``, the shop-wide
``/api/plans/points``, the statement's release lines); the NAV history is an inline SVG chart and a table; another
member's points never show; both languages; a shop without the points plan says so (404) and 我的 links the page only
when the plan runs."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from api_client import START, Caller, FakeClock, Register, buy, make_operator, make_shop
from django.test import Client
from page_client import logged_in, page

from liandong.engine.money import format_fen
from liandong.engine.plans.points import Points

pytest_plugins = ["api_fixtures"]
LANGS = ("zh-hans", "en")


def figure(html: str, name: str) -> str:
    found = re.search(rf'<(\w+)[^>]*data-figure="{name}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, f"no figure {name}"
    return unescape(re.sub(r"<[^>]+>", "", found.group(2))).strip()


def close(operator: Caller, day: dt.date) -> None:
    r = operator.post("/api/operator/close-day", {"day": day.isoformat()})
    assert r.status == 200, r.body


@pytest.fixture
def holders(db: None, api_settings: Any, fake_clock: FakeClock, register_member: Register) -> dict[str, Caller]:
    """A points shop (defaults): ann and bob buy a gift pack (699.00) on the first day, the day closes; bob buys TEA
    on the second, which closes too. carl buys nothing."""
    make_shop(plans={"points": {}})
    operator = make_operator()
    ann, bob, carl = register_member("ann"), register_member("bob"), register_member("carl")
    buy(ann)
    buy(bob)
    close(operator, START.date())
    fake_clock.advance(86400)
    buy(bob, "TEA")
    close(operator, START.date() + dt.timedelta(days=1))
    fake_clock.advance(86400)
    return {"ann": ann, "bob": bob, "carl": carl, "operator": operator}


@pytest.mark.parametrize("lang", LANGS)
def test_every_figure_of_the_points_page_is_the_apis(holders: dict[str, Caller], lang: str) -> None:
    ann = holders["ann"]
    mine = ann.get("/api/me/plans/points").body
    shop = Caller(Client()).get("/api/plans/points").body
    status, html = page(logged_in(ann), "/points", lang)
    assert status == 200
    assert figure(html, "points") == mine["points"] and mine["points"] != "0.00"
    assert figure(html, "nav") == shop["nav"]
    assert figure(html, "value") == "¥" + Points.value_at(mine["points"], shop["nav"])
    assert figure(html, "next_release") == mine["next_release"]
    last = mine["last_release"]
    assert last["day"] == (START.date() + dt.timedelta(days=1)).isoformat()
    assert figure(html, "last_release_points") == last["points"]
    assert figure(html, "last_release_nav") == last["nav"] == shop["history"][-1]["nav"]
    assert figure(html, "last_release_cash") == "¥" + last["cash"]
    assert "data-last-release-day>" + last["day"] in html
    rate = {"zh-hans": "50%", "en": "50%"}[lang]  # max_deduction_rate "0.50"
    assert rate in html and 'href="/"' in html  # paying with points: the rule and the way to the shop
    heading = {"zh-hans": "净值走势", "en": "NAV history"}[lang]
    assert f"<h2>{heading}</h2>" in html and f'<html lang="{lang}"' in html


def test_the_nav_history_is_a_chart_and_a_table_of_the_closes(holders: dict[str, Caller]) -> None:
    shop = Caller(Client()).get("/api/plans/points").body
    assert len(shop["history"]) == 2
    _status, html = page(logged_in(holders["carl"]), "/points", "en")
    chart = re.search(r'<svg class="chart" data-nav-chart[^>]*>(.*?)</svg>', html, re.S)
    assert chart is not None
    points = re.search(r'points="([^"]+)"', chart.group(1))
    assert points is not None and len(points.group(1).split()) == len(shop["history"])
    table = re.findall(r'<tr data-nav-day="([^"]+)"><td>[^<]*</td><td class="num" data-nav>([^<]+)</td>', html)
    assert table == [(d["day"], d["nav"]) for d in reversed(shop["history"])]
    high = max(shop["history"], key=lambda d: Decimal(d["nav"]))
    assert f'data-nav-high>{high["nav"]} ({high["day"]})' in html


def test_my_releases_are_the_statements_release_lines(holders: dict[str, Caller]) -> None:
    ann = holders["ann"]
    lines = ann.get("/api/me/statement?limit=100").body["lines"]
    released = [line for line in lines if line["rule"] == "points_release"]
    by_day: dict[str, dict[str, str]] = {}
    for line in released:  # the points book's amounts are hundredths of a point; money is two-decimal text
        amount = line["amount"]
        by_day.setdefault(line["ref"], {})[line["book"]] = format_fen(amount) if isinstance(amount, int) else amount
    _status, html = page(logged_in(ann), "/points", "en")
    rows = re.findall(r'<tr data-my-release="([^"]+)">.*?data-points>([^<]+)<.*?data-cash>([^<]+)<', html, re.S)
    assert rows == [(day, by_day[day]["points"].lstrip("-"), "¥" + by_day[day]["available"])
                    for day in sorted(by_day, reverse=True)]
    assert len(rows) == 2
    mine = ann.get("/api/me/plans/points").body["last_release"]
    assert (rows[0][0], rows[0][1], rows[0][2]) == (mine["day"], mine["points"], "¥" + mine["cash"])


def test_another_members_points_never_show(holders: dict[str, Caller]) -> None:
    carl, ann = holders["carl"], holders["ann"]
    _status, html = page(logged_in(carl), "/points", "en")
    assert figure(html, "points") == carl.get("/api/me/plans/points").body["points"] == "0.00"
    assert "data-my-release=" not in html and "data-last-release-day>none yet" in html
    ann_points = ann.get("/api/me/plans/points").body["points"]
    assert ann_points not in html


def test_a_shop_without_the_points_plan_says_so_and_me_links_the_page_only_when_it_runs(
        db: None, api_settings: Any, register_member: Register) -> None:
    make_shop()  # chain21 only
    ann = register_member("ann")
    client = logged_in(ann)
    for lang in LANGS:
        status, html = page(client, "/points", lang)
        assert status == 404 and 'data-plan-off="points"' in html
    assert 'data-link="points"' not in page(client, "/me")[1]
    assert page(Client(), "/points")[0] == 302  # anonymous: to the login page


def test_me_links_the_points_page_when_the_plan_runs(holders: dict[str, Caller]) -> None:
    status, html = page(logged_in(holders["ann"]), "/me")
    assert status == 200 and 'href="/points" data-link="points"' in html
    assert 'data-link="distribution"' not in html
