"""A published blind-box offer on the members' side: a card on ``/campaigns`` (drafts and retired offers never),
a page with every rule before paying (from the engine's view of a set on the offer's terms, the commitment said to
come with the start), the coupons the member holds, and Start, which posts ``start_blind_box`` with exactly the
offer's params through the API: the set started has those terms, its own commitment, and its page is the set's."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import re
from typing import Any

import group_campaigns as gc
import pytest
from api_client import Caller, Register, make_shop
from django.test import Client
from django.utils import timezone
from office_client import office_browser, post
from page_client import logged_in, page

from conftest import log_event
from liandong.service.store.models import CampaignState, MemberState
from liandong.service.worker import drain
from liandong.web.office.models import BlindBoxOffer

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db

PRODUCTS: list[dict[str, Any]] = [{"sku": "BOX", "price": "99.00", "name": "Tea chest"}]
TERMS = {"prize_sku": "BOX", "start_fee": "20.00", "start_coupons": "50", "boxes": "12", "win_from": "4",
         "win_to": "12", "open_price": "6.00", "starter_share": "5.00", "promoter_share": "0.50",
         "miss_coupons": "30", "win_coupons": "120"}
ADULT = "1990-05-01"


@pytest.fixture
def operator(db: None, api_settings: Any) -> Client:
    make_shop(plans={}, start=timezone.now() - dt.timedelta(days=1), products=PRODUCTS)
    return office_browser("operator", "olga")


def published_offer(operator: Client, **fields: str) -> BlindBoxOffer:
    post(operator, "/office/campaigns/new/blind_box", **{**TERMS, **fields})
    offer = BlindBoxOffer.objects.order_by("-id").first()
    assert offer is not None
    post(operator, f"/office/campaigns/offers/{offer.pk}/publish")
    offer.refresh_from_db()
    assert offer.status == "published"
    return offer


def rules_of(html: str) -> dict[str, str]:
    return {name: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()
            for name, text in re.findall(r'data-rule="([a-z_]+)">(.*?)</(?:dd|li|p)>', html, re.S)}


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">(.*?)</(?:dd|span)>', html, re.S)
    assert found, f"no figure {name}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def start_params(html: str) -> dict[str, Any]:
    form = re.search(r"<form[^>]*data-start-set>.*?</form>", html, re.S)
    assert form and 'data-api="/api/actions/start_blind_box"' in form.group(0)
    found = re.search(r'name="params" value="([^"]*)"', form.group(0))
    assert found
    terms: dict[str, Any] = json.loads(html_lib.unescape(found.group(1)))
    return terms


def test_the_list_shows_published_offers_only(operator: Client, register_member: Register) -> None:
    offer = published_offer(operator)
    post(operator, "/office/campaigns/new/blind_box", **{**TERMS, "open_price": "9.00", "starter_share": "8.00"})
    draft = BlindBoxOffer.objects.get(status="draft")
    member = logged_in(register_member("alice", birth_date=ADULT))
    status, html = page(member, "/campaigns", "en")
    assert status == 200 and f'data-offer="{offer.pk}"' in html and f'data-offer="{draft.pk}"' not in html
    assert "data-no-campaigns" not in html, "an offer is something to take part in"
    card = re.search(rf'<li data-offer="{offer.pk}">.*?</li>', html, re.S)
    assert card and f"/campaigns/offers/{offer.pk}" in card.group(0) and "Tea chest" in card.group(0)
    assert "The prize is in one of boxes 4–12." in card.group(0) and "¥20.00 and 50 coupons" in card.group(0)
    assert page(Client(), f"/campaigns/offers/{draft.pk}", "en")[0] == 404, "a draft is never shown"
    assert "data-campaigns-link" in page(member, "/", "en")[1], "the shop's home links to a blind box to start"


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_offers_page_shows_every_rule_before_paying(operator: Client, register_member: Register,
                                                        lang: str) -> None:
    offer = published_offer(operator)
    alice = register_member("alice", birth_date=ADULT)
    status, html = page(logged_in(alice), f"/campaigns/offers/{offer.pk}", lang)
    assert status == 200
    rules = rules_of(html)
    assert re.search(r"4\s*–\s*12", rules["window"]) and rules["boxes"] == "12"
    assert rules["open_price"] == "¥6.00" and rules["starter_share"] == "¥5.00" and rules["promoter_share"] == "¥0.50"
    assert "30" in rules["miss_coupons"] and "120" in rules["win"] and "Tea chest" in rules["prize"]
    assert "¥99.00" in rules["prize"], "the prize's value, the product's price"
    assert "¥20.00" in rules["start"] and "50" in rules["start"]
    assert "8" in rules["age"] and "18" in rules["age"] and "¥200.00" in rules["limits"]
    assert "¥0.50" in rules["open"], "the shop's rest of a box: the engine's figure (6.00 - 5.00 - 0.50)"
    assert figure(html, "start_fee") == "¥20.00" and figure(html, "start_coupons") == "50"
    assert figure(html, "coupons-held") == str(MemberState.objects.get(member=alice.member).view["coupons"])
    assert "data-commitment-note" in html and 'data-figure="commitment"' not in html
    assert html.index("data-rules-card") < html.index("data-start-set"), "the rules before the button"
    if lang == "en":
        assert "The draw's commitment appears once the set is started" in html


def test_start_logs_the_offers_exact_params(operator: Client, register_member: Register) -> None:
    offer = published_offer(operator)
    dave = register_member("dave", birth_date=ADULT)
    _status, html = page(logged_in(dave), f"/campaigns/offers/{offer.pk}", "en")
    terms = start_params(html)
    assert terms == offer.params and "secret" not in terms
    answer = gc.act(dave, "start_blind_box", params=terms)
    started = CampaignState.objects.get(campaign=answer["action"]["campaign"]).view
    assert started["params"] == offer.params and started["starter"] == dave.member
    assert re.fullmatch(r"[0-9a-f]{64}", started["commitment"]), "its own commitment, once started"
    assert MemberState.objects.get(member=dave.member).view["coupons"] == 100 - 50
    _status, html = page(logged_in(dave), f"/campaigns/offers/{offer.pk}", "en")
    assert figure(html, "coupons-held") == "50" and "data-start-set" in html, "50 left: enough for another set"
    gc.act(dave, "start_blind_box", params=terms)
    _status, html = page(logged_in(dave), f"/campaigns/offers/{offer.pk}", "en")
    assert figure(html, "coupons-held") == "0" and "data-not-enough-coupons" in html and "data-start-set" not in html


def test_a_visitor_logs_in_and_a_member_without_coupons_is_told(operator: Client, register_member: Register) -> None:
    offer = published_offer(operator, start_coupons="500")
    status, html = page(Client(), f"/campaigns/offers/{offer.pk}", "en")
    assert status == 200 and "data-login-link" in html and "data-start-set" not in html
    _status, html = page(logged_in(register_member("erin", birth_date=ADULT)), f"/campaigns/offers/{offer.pk}", "en")
    assert "data-not-enough-coupons" in html and "500" in html and "data-start-set" not in html


def test_a_retired_offer_is_hidden(operator: Client, register_member: Register) -> None:
    offer = published_offer(operator)
    carol: Caller = register_member("carol", birth_date=ADULT)
    gc.act(carol, "start_blind_box", params=offer.params)
    post(operator, f"/office/campaigns/offers/{offer.pk}/retire")
    _status, html = page(Client(), "/campaigns", "en")
    assert f'data-offer="{offer.pk}"' not in html
    assert page(Client(), f"/campaigns/offers/{offer.pk}", "en")[0] == 404
    assert 'data-kind="blind_box"' in html, "the set started from it runs on"
    assert page(Client(), "/campaigns/offers/nope", "en")[0] == 404


def test_an_offer_whose_prize_left_the_shop_cannot_be_started(operator: Client) -> None:
    offer = published_offer(operator)
    log_event("product", sku="BOX", price="99.00", name="Tea chest", active=False)
    drain()
    status, html = page(Client(), f"/campaigns/offers/{offer.pk}", "en")
    assert status == 409 and "cannot be started now" in html and "data-start-set" not in html
