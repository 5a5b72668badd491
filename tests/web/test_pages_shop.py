"""The shop's pages: the product page (what buying does under the running plans, the Buy form, paying with points),
the order history with paging, an order's page (paying with the demo provider, what it earned the buyer), and
404s for what is not the member's. Every figure is compared with the API's for the same member."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from api_client import Caller, buy, make_shop
from django.test import Client
from django.utils import timezone
from page_client import logged_in, page

from liandong.engine.money import format_fen
from liandong.service.log import append_event
from liandong.service.worker import drain
from liandong.web.pages.views import shop as shop_views

pytest_plugins = ["api_fixtures"]

LANGS = ("zh-hans", "en")




def new_order(caller: Caller, sku: str = "GIFT", **extra: Any) -> dict[str, Any]:
    made = caller.post("/api/orders", {"sku": sku, **extra})
    assert made.status == 201, made.body
    body: dict[str, Any] = made.body
    return body


def figure(html: str, name: str) -> str:
    """The text of the element marked ``data-figure="name"`` (tags inside left out)."""
    found = re.search(rf'<(\w+)[^>]*data-figure="{name}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, f"no figure {name}"
    return re.sub(r"<[^>]+>", "", found.group(2)).strip()


def points_shop() -> None:
    """A shop running chain21 and the points plan (defaults), selling GIFT and TEA."""
    make_shop(plans={"chain21": {}, "points": {}}, start=timezone.now() - dt.timedelta(days=1))


# --- the product page ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_product_page_shows_the_price_the_gift_mark_and_what_buying_does(api_shop: None, api_operator: Caller,
                                                                             anonymous_caller: Caller,
                                                                             lang: str) -> None:
    status, html = page(Client(), "/products/GIFT", lang)
    assert status == 200
    api_product = anonymous_caller.get("/api/products/GIFT").body
    assert figure(html, "price") == f"¥{api_product['price']}" and "data-gift-pack" in html
    config = api_operator.get("/api/operator/plans/chain21").body["config"]
    for amount in (config["direct_reward"]["agent"], config["direct_reward"]["partner"], config["team_reward"],
                   config["self_rebate"]["agent"], config["self_rebate"]["partner"]):
        assert f"¥{amount}" in html
    assert "data-becomes-agent" in html and "5%" in html  # the bonus pool's rate, as configured ("0.05")
    assert ("购买即成为代理" if lang == "zh-hans" else "Buying it makes you an agent.") in html
    assert 'data-api="/api/orders"' not in html and "/login?next=/products/GIFT" in html  # a visitor logs in first
    status, tea = page(Client(), "/products/TEA", lang)
    assert status == 200 and figure(tea, "price") == "¥59.00" and "data-gift-pack" not in tea
    assert "data-becomes-agent" not in tea


def test_an_agent_is_told_the_rebate_a_repeat_gift_pack_earns(api_shop: None, register_member: Any) -> None:
    ann = register_member("ann")
    buy(ann, "GIFT")
    assert ann.get("/api/me/rank").body["rank"] == "agent"
    status, html = page(logged_in(ann), "/products/GIFT")
    assert status == 200 and "data-becomes-agent" not in html
    assert "你是代理：这份礼包为你带来 ¥100.00 自购返利" in html
    assert 'data-api="/api/orders"' in html and 'data-next="/orders/{order}"' in html
    assert 'name="sku" value="GIFT"' in html and 'name="quantity"' in html and 'data-type="int"' in html
    assert 'name="points"' not in html  # no points plan: no points at checkout


def test_an_unknown_or_withdrawn_product_is_a_404_page(api_shop: None, api_operator: Caller) -> None:
    for lang in LANGS:
        assert page(Client(), "/products/NOPE", lang)[0] == 404
    assert api_operator.request("DELETE", "/api/operator/products/TEA").status == 200
    assert page(Client(), "/products/TEA")[0] == 404
    assert "/products/TEA" not in page(Client(), "/")[1] and "/products/GIFT" in page(Client(), "/")[1]


def test_the_product_page_shows_the_points_balance_and_its_value_at_todays_nav(db: None, api_settings: Any,
                                                                               register_member: Any,
                                                                               anonymous_caller: Caller) -> None:
    points_shop()
    ann = register_member("ann")
    buy(ann, "TEA")  # 59.00 earns points
    held = ann.get("/api/me/plans/points").body["points"]
    nav = anonymous_caller.get("/api/plans/points").body["nav"]
    assert held != "0.00"
    for lang in LANGS:
        status, html = page(logged_in(ann), "/products/GIFT", lang)
        assert status == 200 and 'name="points"' in html
        assert figure(html, "points") == held and figure(html, "nav") == nav
        assert 'data-effect="points"' in html and "50%" in html  # max_deduction_rate "0.50"
    # the value shown is the quote the API gives: an order paying with all of them has the rest to pay
    html = page(logged_in(ann), "/products/GIFT")[1]
    order = new_order(ann, "GIFT", points=held)
    assert f"¥{order['points_value']}" == figure(html, "points_value")
    status, order_page = page(logged_in(ann), f"/orders/{order['order']}")
    assert status == 200
    assert figure(order_page, "total") == f"¥{order['total']}" == "¥699.00"
    assert figure(order_page, "cash") == f"¥{order['cash']}" == f"¥{order['amount']}"
    assert order["points"] == held and f"{held} 积分" in figure(order_page, "points")


# --- checkout and the order's page --------------------------------------------------------------------------------


def test_the_demo_payment_flow_through_the_pages_endpoints(api_shop: None, register_member: Any) -> None:
    ann = register_member("ann")
    buy(ann, "GIFT")  # an agent now: a second gift pack earns the self-purchase rebate
    browser = Client(enforce_csrf_checks=True)  # as pages.js posts: the session, the CSRF token, a key
    browser.force_login(ann.user)
    status, product = page(browser, "/products/GIFT")
    assert status == 200 and 'data-api="/api/orders"' in product
    csrf = browser.cookies["csrftoken"].value
    made = browser.post("/api/orders", data='{"sku": "GIFT", "quantity": 1}', content_type="application/json",
                        headers={"X-CSRFToken": csrf, "Idempotency-Key": "buy-1"})
    assert made.status_code == 201, made.content
    order = made.json()["order"]
    for lang in LANGS:
        status, html = page(browser, f"/orders/{order}", lang)
        assert status == 200 and 'data-status="awaiting_payment"' in html
        assert f'data-api="/api/payments/demo/{order}"' in html and "data-demo-provider" in html
        assert ("演示支付 ¥699.00" if lang == "zh-hans" else "Demo payment ¥699.00") in html
        assert ("待付款" if lang == "zh-hans" else "Awaiting payment") in html
        assert figure(html, "cash") == f"¥{ann.get(f'/api/orders/{order}').body['cash']}"
    paid = browser.post(f"/api/payments/demo/{order}", data="{}", content_type="application/json",
                        headers={"X-CSRFToken": csrf, "Idempotency-Key": "pay-1"})
    assert paid.status_code == 200, paid.content
    assert ann.get(f"/api/orders/{order}").body["status"] == "paid"
    rebates = [line for line in ann.get("/api/me/statement?order=newest").body["lines"] if line["order"] == order]
    assert [(line["rule"], line["amount"]) for line in rebates] == [("self_rebate", "100.00")]
    for lang in LANGS:
        status, html = page(browser, f"/orders/{order}", lang)
        assert status == 200 and 'data-status="paid"' in html and "data-pay" not in html
        assert ("已支付" if lang == "zh-hans" else "Paid") in html
        assert 'data-rule="self_rebate"' in html and "+¥100.00" in html
        assert ("自购返利" if lang == "zh-hans" else "self-purchase rebate") in html


def test_without_a_payment_provider_the_order_page_says_so_and_offers_no_pay_button(api_shop: None,
                                                                                    register_member: Any,
                                                                                    settings: Any) -> None:
    ann = register_member("ann")
    order = new_order(ann)["order"]
    settings.DEBUG = False
    for lang in LANGS:
        status, html = page(logged_in(ann), f"/orders/{order}", lang)
        assert status == 200 and "data-no-provider" in html and "/api/payments/demo/" not in html
        assert ("尚未开通在线支付" if lang == "zh-hans" else "Online payment is not set up") in html


def test_a_first_gift_pack_earns_the_buyer_nothing_and_the_page_says_whose_rewards_are_not_shown(
        api_shop: None, register_member: Any) -> None:
    ann = register_member("ann")
    bob = register_member("bob", inviter=ann)
    buy(ann, "GIFT")
    order = buy(bob, "GIFT")  # ann earns the direct reward; bob nothing
    assert any(line["order"] == order for line in ann.get("/api/me/statement").body["lines"])
    status, html = page(logged_in(bob), f"/orders/{order}")
    assert status == 200 and 'data-status="paid"' in html and "data-rule=" not in html
    assert "这笔订单没有为你带来返利或积分" in html and "¥100.00" not in html.split("data-earnings")[1]


def test_a_refunded_order_shows_its_rebate_taken_back(api_shop: None, register_member: Any,
                                                      api_operator: Caller) -> None:
    ann = register_member("ann")
    buy(ann, "GIFT")
    order = buy(ann, "GIFT", payment_id="pay-second")
    assert api_operator.post(f"/api/operator/orders/{order}/refund").status == 200
    for lang in LANGS:
        status, html = page(logged_in(ann), f"/orders/{order}", lang)
        assert status == 200 and 'data-status="refunded"' in html
        assert "+¥100.00" in html and "-¥100.00" in html
        assert ("已退款" if lang == "zh-hans" else "Refunded") in html


def test_a_refused_payment_shows_the_engines_reason_in_the_page_language(db: None, api_settings: Any,
                                                                         register_member: Any) -> None:
    points_shop()
    ann, bob = register_member("ann"), register_member("bob")
    buy(ann, "TEA")  # the points plan has a NAV now
    order = new_order(bob, "GIFT", points="10.00")["order"]  # bob holds no points: the engine refuses the payment
    assert bob.post(f"/api/payments/demo/{order}").status == 200
    api = bob.get(f"/api/orders/{order}").body
    assert api["status"] == "payment_refused"
    for lang, reason in (("zh-hans", api["refusal"]["message_zh"]), ("en", api["refusal"]["message"])):
        status, html = page(logged_in(bob), f"/orders/{order}", lang)
        assert status == 200 and 'data-status="payment_refused"' in html
        assert figure(html.replace("data-refusal", 'data-figure="refusal"'), "refusal") == reason


def test_a_payment_being_booked_shows_processing_and_the_page_refreshes_itself(api_shop: None, register_member: Any,
                                                                               settings: Any) -> None:
    ann = register_member("ann")
    order = new_order(ann)["order"]
    settings.LIANDONG_INLINE_WORKER = False  # the worker has not applied the pay event yet
    assert ann.post(f"/api/payments/demo/{order}").status == 200
    assert ann.get(f"/api/orders/{order}").body["status"] == "payment_processing"
    for lang in LANGS:
        status, html = page(logged_in(ann), f"/orders/{order}", lang)
        assert status == 200 and 'data-status="payment_processing"' in html
        assert '<meta http-equiv="refresh" content="2">' in html and "data-pay" not in html
    drain()
    html = page(logged_in(ann), f"/orders/{order}")[1]
    assert 'data-status="paid"' in html and 'http-equiv="refresh"' not in html


def test_an_order_only_the_engine_knows_shows_its_product_and_amount(api_shop: None, register_member: Any) -> None:
    ann = register_member("ann")
    append_event("pay", {"member": ann.member, "sku": "TEA", "order": "o-imported-1", "quantity": 2},
                 key="test:pay:imported", request_hash="imported", actor="system")
    drain()
    api = ann.get("/api/orders/o-imported-1").body
    assert api["status"] == "paid" and api["total"] == "118.00" and api.get("cash") is None
    listed = page(logged_in(ann), "/orders")[1]
    assert 'data-order="o-imported-1"' in listed and "TEA × 2" in listed and "活动报名" not in listed
    status, html = page(logged_in(ann), "/orders/o-imported-1")
    assert status == 200 and figure(html, "total") == "¥118.00" and 'data-figure="cash"' not in html
    assert 'href="/products/TEA"' in html


def test_another_members_order_is_a_404_page(api_shop: None, register_member: Any) -> None:
    ann, bob = register_member("ann"), register_member("bob")
    order = buy(ann, "GIFT")
    assert bob.get(f"/api/orders/{order}").status == 404
    for lang in LANGS:
        assert page(logged_in(bob), f"/orders/{order}", lang)[0] == 404
        assert page(logged_in(bob), "/orders/o-does-not-exist", lang)[0] == 404
        assert page(logged_in(bob), "/orders/%E2%80%A6", lang)[0] == 404
    assert order not in page(logged_in(bob), "/orders")[1]
    assert page(logged_in(ann), f"/orders/{order}")[0] == 200


def test_the_order_pages_send_a_visitor_to_log_in(api_shop: None) -> None:
    r = Client().get("/orders")
    assert r.status_code == 302 and r["Location"] == "/login?next=%2Forders"


# --- the order history --------------------------------------------------------------------------------------------


def test_the_order_history_pages_newest_first_as_the_api(api_shop: None, register_member: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shop_views, "PAGE_SIZE", 3)
    ann = register_member("ann")
    made = [new_order(ann, "TEA" if i % 2 else "GIFT", quantity=i + 1)["order"] for i in range(7)]
    api_pages: list[list[dict[str, Any]]] = []
    after = ""
    while True:
        body = ann.get(f"/api/me/orders?limit=3{after}").body
        api_pages.append(body["orders"])
        if body["next_after"] is None:
            break
        after = f"&after={body['next_after']}"
    seen: list[str] = []
    path = "/orders"
    for number, api_page in enumerate(api_pages):
        status, english = page(logged_in(ann), path, "en")
        assert status == 200 and "Awaiting payment" in english
        status, html = page(logged_in(ann), path)
        assert status == 200
        shown = re.findall(r'<li data-order="([^"]+)"', html)
        assert shown == [o["order"] for o in api_page]
        totals = re.findall(r'data-figure="total">([^<]+)<', html)
        assert totals == [f"¥{o['total']}" for o in api_page]
        seen += shown
        found = re.search(r'href="(/orders\?after=[^"]+)" rel="next"', html)
        if number < len(api_pages) - 1:
            assert found, "no link to the next page"
            path = found.group(1)
        else:
            assert found is None and "最新订单" in html and "Newest orders" in english  # back to the newest
    assert seen == list(reversed(made)) and len(api_pages) == 3
    assert "待付款" in html and "× 7" in page(logged_in(ann), "/orders")[1]  # the newest: 7 of it


@pytest.mark.parametrize("after", ["nope!!", "o-not-an-order", "x" * 200, "%00"])
def test_a_bad_after_is_a_400_page(api_shop: None, register_member: Any, after: str) -> None:
    ann = register_member("ann")
    for lang in LANGS:
        status, html = page(logged_in(ann), f"/orders?after={after}", lang)
        assert status == 400 and "data-problem" in html


def test_another_members_order_as_after_is_a_400_page(api_shop: None, register_member: Any) -> None:
    ann, bob = register_member("ann"), register_member("bob")
    order = new_order(ann)["order"]
    assert bob.get(f"/api/me/orders?after={order}").status == 400
    assert page(logged_in(bob), f"/orders?after={order}")[0] == 400


def test_me_and_the_shop_link_to_the_orders(api_shop: None, register_member: Any) -> None:
    ann = register_member("ann")
    assert 'href="/orders"' in page(logged_in(ann), "/me")[1]
    assert "data-my-orders" in page(logged_in(ann), "/")[1] and "data-my-orders" not in page(Client(), "/")[1]
    status, html = page(logged_in(ann), "/orders", "en")
    assert status == 200 and "No orders yet." in html


def test_the_buyers_order_page_shows_its_own_points_and_rebate_as_the_api(db: None, api_settings: Any,
                                                                          register_member: Any) -> None:
    points_shop()
    ann = register_member("ann")
    buy(ann, "GIFT")  # an agent now
    order = buy(ann, "GIFT", payment_id="pay-second")  # the rebate, and the points the order earns
    lines = [line for line in ann.get("/api/me/statement?order=newest&limit=100").body["lines"]
             if line["order"] == order]
    assert {line["rule"] for line in lines} == {"self_rebate", "points_earned"}
    for lang, unit in (("zh-hans", "积分"), ("en", "points")):
        status, html = page(logged_in(ann), f"/orders/{order}", lang)
        assert status == 200
        shown = dict(re.findall(r'data-rule="([a-z0-9_]+)">.*?data-amount>([^<]*)<', html, re.S))
        # money lines as yuan; a points book's amount is an int of hundredths of a point (10275: 102.75 points)
        expected = {line["rule"]: f"+¥{line['amount']}" if isinstance(line["amount"], str)
                    else f"+{format_fen(line['amount'])} {unit}" for line in lines}
        assert {rule: " ".join(text.split()) for rule, text in shown.items()} == expected, lang
