"""The back office's campaign pages at desktop size (1280×800) in both languages, without console errors or failed
requests: the list, a draft with its checks and the members' preview, a published campaign with a group, the new
blind-box offer form, a published offer with a set started from it and a draft offer. The screenshots go to
tests/artifacts/screenshots/office/<lang>/ (to be looked at)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from api_client import make_operator, make_shop
from django.test import Client
from django.utils import timezone
from live_pages import ARTIFACTS, LOCALES, Live
from office_client import office_user

from every_page import register, take_seat
from liandong.service.store.models import CampaignState
from liandong.web.office.models import BlindBoxOffer

DESKTOP = {"width": 1280, "height": 800}
PRODUCTS: list[dict[str, Any]] = [{"sku": "TEA", "price": "99.00", "red_envelope": "10.00", "name": "Spring tea"},
                                   {"sku": "CAR", "price": "60000.00", "name": "A small car"}]


@pytest.fixture
def campaigns_shop(live: Live, office_roles: None) -> None:
    make_shop(plans={}, start=timezone.now() - dt.timedelta(days=1), products=PRODUCTS)
    created = make_operator().post("/api/operator/actions/create_group_buy",
                                   {"campaign": "gb-tea", "params": {"sku": "TEA", "group_size": 5, "winners": 2}})
    assert created.status == 200, created.body
    take_seat(register("alice"), "start_group_buy", {"campaign": "gb-tea"})
    group = CampaignState.objects.get(campaign="gb-tea").view["group_views"][0]["group"]
    take_seat(register("bob"), "join_group_buy", {"group": group})
    browser = Client()
    browser.force_login(office_user("olga", "operator"))
    fields = {"campaign": "gb-car", "sku": "TEA", "group_size": "5", "winners": "2", "winner_fund": "60000.01",
              "key": "ab" * 16}
    assert browser.post("/office/campaigns/new/group_buy", fields).status_code == 302
    offer = {"prize_sku": "TEA", "boxes": "12", "win_from": "4", "win_to": "12", "key": "cd" * 16}
    assert browser.post("/office/campaigns/new/blind_box", offer).status_code == 302
    published = BlindBoxOffer.objects.get()
    assert browser.post(f"/office/campaigns/offers/{published.pk}/publish").status_code == 302
    take_seat(register("carol", birth_date="1990-05-01"), "start_blind_box", {"params": published.params})
    assert browser.post("/office/campaigns/new/blind_box", {**offer, "key": "ef" * 16}).status_code == 302


def office_page(live: Live, lang: str) -> Any:
    live.start_worker()
    context = live.browser.new_context(viewport=DESKTOP, screen=DESKTOP, locale=LOCALES[lang],
                                       timezone_id="Asia/Shanghai", device_scale_factor=1)
    context.set_default_timeout(30_000)
    live.contexts.append(context)
    session = Client()
    session.force_login(office_user(f"owner-{lang}", "owner"))
    context.add_cookies([{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live.url}])
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error"
            else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return page, problems


def test_the_campaign_pages_at_desktop_size(live: Live, campaigns_shop: None) -> None:
    """Both languages in one test: the office's roles are groups a migration makes, which the live server's flush
    after a test removes."""
    offers = list(BlindBoxOffer.objects.order_by("id").values_list("pk", flat=True))
    for lang in ("zh-hans", "en"):
        page, problems = office_page(live, lang)
        folder = ARTIFACTS / "screenshots" / "office" / lang
        folder.mkdir(parents=True, exist_ok=True)
        for name, path, seen in (("campaigns", "/office/campaigns", "[data-campaigns]"),
                                 ("campaign-new", "/office/campaigns/new/presale", "[data-campaign-form]"),
                                 ("campaign-draft", "/office/campaigns/gb-car", "[data-audit-checks]"),
                                 ("campaign-published", "/office/campaigns/gb-tea", "[data-groups]"),
                                 ("campaign-new-blind-box", "/office/campaigns/new/blind_box", "[data-offer-intro]"),
                                 ("offer-published", f"/office/campaigns/offers/{offers[0]}", "[data-offer-sets]"),
                                 ("offer-draft", f"/office/campaigns/offers/{offers[1]}", "[data-audit-checks]")):
            page.goto(live.url + path)
            page.wait_for_selector(seen)
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"], (lang, name)
        page.goto(live.url + "/office/campaigns/gb-car")
        assert page.locator('[data-check="largest_prize"][data-status="fail"]').count() == 1
        assert page.locator('[data-preview] [data-rules="group_buy"]').count() == 1
        assert not problems, (lang, problems)
