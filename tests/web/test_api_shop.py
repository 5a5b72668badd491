"""The shop through the API: products (operators change them through events), orders awaiting payment, the signed
payment webhook (round trip, tampering, replays, stale timestamps), the demo provider, and refunds."""

from __future__ import annotations

import json
import time

import pytest
from api_client import PAYMENT_SECRET, Caller, Register, buy, make_operator, signed_webhook

from liandong.service.store.models import LoggedEvent, OrderState
from liandong.web.accounts.models import AuditLog
from liandong.web.api.errors import ApiError
from liandong.web.api.payments import sign, verify

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db


# --- the signature, as a pure function ----------------------------------------------------------------------------


def test_a_signature_verifies_for_its_body_and_secret() -> None:
    body = b'{"order": "o1", "amount": "699.00"}'
    verify(body, sign(body, "s3cret", 1_767_225_600), "s3cret", now=1_767_225_650, tolerance=300)


@pytest.mark.parametrize(("body", "secret", "now", "code"), [
    (b'{"order": "o1", "amount": "0.01"}', "s3cret", 1_767_225_650, "signature_invalid"),   # body changed
    (b'{"order": "o1", "amount": "699.00"}', "other", 1_767_225_650, "signature_invalid"),  # another key
    (b'{"order": "o1", "amount": "699.00"}', "s3cret", 1_767_225_901, "signature_expired"),  # 301 s later
])
def test_a_tampered_or_stale_signature_is_refused(body: bytes, secret: str, now: int, code: str) -> None:
    header = sign(b'{"order": "o1", "amount": "699.00"}', "s3cret", 1_767_225_600)
    with pytest.raises(ApiError) as caught:
        verify(body, header, secret, now=now, tolerance=300)
    assert (caught.value.status, str(caught.value.code), caught.value.field) == (401, code, "Liandong-Signature")


# --- products -----------------------------------------------------------------------------------------------------


def test_anyone_lists_the_products_on_sale(api_shop: None, anonymous_caller: Caller) -> None:
    r = anonymous_caller.get("/api/products")
    assert r.status == 200
    assert r.body == [{"sku": "GIFT", "price": "699.00", "gift_pack": True, "name": "GIFT", "active": True},
                      {"sku": "TEA", "price": "59.00", "gift_pack": False, "name": "TEA", "active": True}]


def test_a_products_cost_is_the_operators_alone(api_shop: None, api_operator: Caller,
                                               anonymous_caller: Caller) -> None:
    made = api_operator.post("/api/operator/products", {"sku": "HONEY", "price": "88", "cost": "36.5"})
    assert made.status == 201 and made.body["cost"] == "36.50"
    logged = LoggedEvent.objects.get(verb="product", payload__sku="HONEY")
    assert logged.payload["cost"] == "36.50"
    assert "cost" not in anonymous_caller.get("/api/products/HONEY").body
    for bad in ("-1.00", "1.234", "abc"):
        refused = api_operator.request("PUT", "/api/operator/products/HONEY", {"price": "88.00", "cost": bad})
        assert refused.status in (400, 422), (bad, refused.body)
        assert "cost" in str(refused.body), refused.body
    unknown = api_operator.request("PUT", "/api/operator/products/HONEY", {"price": "88.00"})
    assert unknown.status == 200 and unknown.body["cost"] is None
    assert "cost" not in LoggedEvent.objects.filter(verb="product", payload__sku="HONEY").latest("position").payload


def test_an_operator_creates_changes_and_withdraws_a_product(api_shop: None, api_operator: Caller,
                                                             anonymous_caller: Caller) -> None:
    made = api_operator.post("/api/operator/products", {"sku": "HONEY", "price": "88", "name": "Honey"})
    assert made.status == 201
    assert made.body == {"sku": "HONEY", "price": "88.00", "gift_pack": False, "name": "Honey", "active": True,
                         "cost": None}
    again = api_operator.post("/api/operator/products", {"sku": "HONEY", "price": "90.00"})
    assert again.status == 409 and (again.body["error"]["field"], again.body["error"]["value"]) == ("sku", "HONEY")
    changed = api_operator.request("PUT", "/api/operator/products/HONEY", {"price": "92.50", "name": "Honey"})
    assert changed.status == 200 and changed.body["price"] == "92.50"
    gone = api_operator.request("DELETE", "/api/operator/products/HONEY")
    assert gone.status == 200 and gone.body["active"] is False
    assert "HONEY" not in [p["sku"] for p in anonymous_caller.get("/api/products").body]
    assert anonymous_caller.get("/api/products/HONEY").status == 404
    logged = LoggedEvent.objects.filter(verb="product", payload__sku="HONEY").order_by("position")
    assert [e.payload["price"] for e in logged] == ["88.00", "92.50", "92.50"]
    assert [a.action for a in AuditLog.objects.order_by("id")] == ["create_product", "update_product",
                                                                  "withdraw_product"]
    assert {a.actor for a in AuditLog.objects.all()} == {"operator"}


def test_a_product_price_is_a_two_decimal_string(api_shop: None, api_operator: Caller) -> None:
    r = api_operator.post("/api/operator/products", {"sku": "X", "price": "1.234"})
    assert r.status == 400
    assert (r.body["error"]["code"], r.body["error"]["field"], r.body["error"]["value"]) == ("invalid", "price",
                                                                                            "1.234")
    float_price = api_operator.post("/api/operator/products", {"sku": "X", "price": 1.5})
    assert float_price.status == 400 and float_price.body["error"]["field"] == "price"


def test_products_need_the_manage_products_permission(api_shop: None) -> None:
    clerk = make_operator("clerk", permissions=("refund_order",))
    r = clerk.post("/api/operator/products", {"sku": "HONEY", "price": "88.00"})
    assert r.status == 403 and r.body["error"]["value"] == "the permission accounts.manage_products"
    assert not LoggedEvent.objects.filter(verb="product", payload__sku="HONEY").exists()


# --- orders and the webhook ---------------------------------------------------------------------------------------


def test_an_order_awaits_payment_until_the_webhook_then_it_is_paid(api_shop: None,
                                                                   register_member: Register) -> None:
    alice = register_member("alice")
    order = alice.post("/api/orders", {"sku": "GIFT", "quantity": 2})
    assert order.status == 201
    assert (order.body["status"], order.body["amount"], order.body["paid_at"]) == ("awaiting_payment", "1398.00",
                                                                                   None)
    assert not LoggedEvent.objects.filter(verb="pay").exists()
    paid = signed_webhook(alice, {"payment_id": "pay-1", "order": order.body["order"], "amount": "1398.00"})
    assert paid.status == 200 and paid.body["received"] is True
    now = alice.get(f"/api/orders/{order.body['order']}").body
    assert (now["status"], now["amount"]) == ("paid", "1398.00")
    pay = LoggedEvent.objects.get(verb="pay")
    assert pay.key == "payment:pay-1" and pay.actor == "payment"
    assert pay.payload == {"member": alice.member, "sku": "GIFT", "order": order.body["order"], "quantity": 2,
                           "amount": "1398.00"}


def test_a_product_not_on_sale_cannot_be_ordered(api_shop: None, register_member: Register) -> None:
    r = register_member("alice").post("/api/orders", {"sku": "NOPE"})
    assert r.status == 400
    assert (r.body["error"]["code"], r.body["error"]["field"], r.body["error"]["value"]) == (
        "product_unavailable", "sku", "NOPE")


def test_a_repeated_delivery_of_a_payment_logs_one_pay_event(api_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    order = alice.post("/api/orders", {"sku": "GIFT"}).body["order"]
    body = {"payment_id": "pay-7", "order": order, "amount": "699.00"}
    first, second = signed_webhook(alice, body), signed_webhook(alice, body)
    assert first.status == second.status == 200
    assert first.body["position"] == second.body["position"]
    assert LoggedEvent.objects.filter(verb="pay").count() == 1


def test_one_payment_id_for_two_orders_is_a_409(api_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    one, two = (alice.post("/api/orders", {"sku": "TEA"}).body["order"] for _ in range(2))
    assert signed_webhook(alice, {"payment_id": "pay-8", "order": one, "amount": "59.00"}).status == 200
    clash = signed_webhook(alice, {"payment_id": "pay-8", "order": two, "amount": "59.00"})
    assert clash.status == 409
    assert (clash.body["error"]["code"], clash.body["error"]["value"]) == ("payment_conflict", "pay-8")


def test_a_second_payment_of_a_paid_order_is_refused_by_the_engine(api_shop: None,
                                                                   register_member: Register) -> None:
    alice = register_member("alice")
    order = buy(alice, "TEA", payment_id="pay-a")
    again = signed_webhook(alice, {"payment_id": "pay-b", "order": order, "amount": "59.00"})
    assert again.status == 200
    event = alice.get(f"/api/events/{again.body['position']}")
    assert event.status == 404  # the payment provider logged it, not alice
    assert OrderState.objects.get(order=order).refunded is False
    assert alice.get(f"/api/orders/{order}").body["status"] == "paid"


def test_the_webhook_refuses_a_bad_signature_a_wrong_amount_and_an_unknown_order(
        api_shop: None, register_member: Register, anonymous_caller: Caller) -> None:
    alice = register_member("alice")
    order = alice.post("/api/orders", {"sku": "GIFT"}).body["order"]
    forged = signed_webhook(anonymous_caller, {"payment_id": "p", "order": order, "amount": "699.00"},
                            secret="guess")
    assert forged.status == 401 and forged.body["error"]["code"] == "signature_invalid"
    stale = signed_webhook(anonymous_caller, {"payment_id": "p", "order": order, "amount": "699.00"},
                           stamp=int(time.time()) - 301)
    assert stale.status == 401 and stale.body["error"]["code"] == "signature_expired"
    raw = json.dumps({"payment_id": "p", "order": order, "amount": "699.00"}).encode()
    header = sign(raw, PAYMENT_SECRET, int(time.time()))
    tampered = anonymous_caller.request("POST", "/api/payments/webhook", raw=raw.replace(b"699.00", b"1.00"),
                                        headers={"Liandong-Signature": header})
    assert tampered.status == 401 and tampered.body["error"]["field"] == "Liandong-Signature"
    short = signed_webhook(anonymous_caller, {"payment_id": "p", "order": order, "amount": "1.00"})
    assert short.status == 400
    assert (short.body["error"]["code"], short.body["error"]["field"], short.body["error"]["value"]) == (
        "amount_mismatch", "amount", "1.00")
    unknown = signed_webhook(anonymous_caller, {"payment_id": "p", "order": "o-nope", "amount": "1.00"})
    assert unknown.status == 404 and unknown.body["error"]["value"] == "o-nope"
    assert not LoggedEvent.objects.filter(verb="pay").exists()


def test_the_demo_provider_pays_an_order_only_in_debug(api_shop: None, register_member: Register,
                                                       settings: object) -> None:
    alice = register_member("alice")
    bob = register_member("bob")
    order = alice.post("/api/orders", {"sku": "GIFT"}).body["order"]
    assert bob.post(f"/api/payments/demo/{order}").status == 404
    settings.DEBUG = False  # type: ignore[attr-defined]
    assert alice.post(f"/api/payments/demo/{order}").status == 404
    settings.DEBUG = True  # type: ignore[attr-defined]
    paid = alice.post(f"/api/payments/demo/{order}")
    assert paid.status == 200 and paid.body["payment_id"] == f"demo-{order}"
    assert alice.get(f"/api/orders/{order}").body["status"] == "paid"


# --- refunds ------------------------------------------------------------------------------------------------------


def test_an_operator_refund_reverses_the_rewards_and_is_audited(api_shop: None, register_member: Register,
                                                                api_operator: Caller) -> None:
    alice = register_member("alice")
    buy(alice)
    bob = register_member("bob", inviter=alice)
    order = buy(bob)
    assert alice.get("/api/me/balances").body["available"] == "100.00"
    refunded = api_operator.post(f"/api/operator/orders/{order}/refund")
    assert refunded.status == 200 and refunded.body["status"] == "refunded"
    assert alice.get("/api/me/balances").body["available"] == "0.00"
    assert bob.get("/api/me/rank").body["rank"] == "member"
    lines = alice.get("/api/me/statement").body["lines"]
    assert [(line["rule"], line["amount"]) for line in lines if line["book"] == "available"] == [
        ("direct_reward", "100.00"), ("direct_reward", "-100.00")]
    assert lines[-1]["text"].split("  ")[1] == f"-100.00 direct reward reversed · order {order} by {bob.member}"
    audit = AuditLog.objects.get(action="refund_order")
    assert (audit.actor, audit.target, audit.detail) == ("operator", order, {"order": order})
    again = api_operator.post(f"/api/operator/orders/{order}/refund")
    assert again.status == 422
    assert (again.body["error"]["code"], again.body["error"]["field"], again.body["error"]["value"]) == (
        "order_refunded", "order", order)
    assert again.body["event"]["status"] == "refused"


def test_a_refund_of_an_unknown_order_is_a_404(api_shop: None, api_operator: Caller) -> None:
    r = api_operator.post("/api/operator/orders/o-nope/refund")
    assert r.status == 404 and (r.body["error"]["field"], r.body["error"]["value"]) == ("order", "o-nope")


def test_a_refund_of_an_unpaid_order_is_the_engines_refusal(api_shop: None, register_member: Register,
                                                            api_operator: Caller) -> None:
    order = register_member("alice").post("/api/orders", {"sku": "TEA"}).body["order"]
    r = api_operator.post(f"/api/operator/orders/{order}/refund")
    assert r.status == 422 and r.body["error"]["code"] == "order_unknown"


def test_a_control_character_in_a_product_name_is_a_400(api_shop: None, api_operator: Caller) -> None:
    r = api_operator.post("/api/operator/products", {"sku": "HONEY", "price": "88.00", "name": "Ho\u0000ney"})
    assert r.status == 400 and (r.body["error"]["field"], r.body["error"]["value"]) == ("name", "Ho\\u0000ney")


def test_a_gift_pack_priced_below_a_reward_is_a_422_naming_the_keys_and_the_sku(api_shop: None,
                                                                                api_operator: Caller) -> None:
    r = api_operator.post("/api/operator/products", {"sku": "CHEAP", "price": "0.01", "gift_pack": True})
    assert r.status == 422
    error = r.body["error"]
    assert (error["code"], error["field"], error["value"]) == ("reward_above_price", "price", "0.01")
    assert "direct_reward.agent 100.00" in error["message"] and "gift pack CHEAP" in error["message"]
    assert "礼包 CHEAP" in error["message_zh"]
    lowered = api_operator.request("PUT", "/api/operator/products/GIFT", {"price": "99.00", "gift_pack": True})
    assert lowered.status == 422 and lowered.body["error"]["code"] == "reward_above_price"
    assert api_operator.get("/api/products/GIFT").body["price"] == "699.00"
    assert api_operator.post("/api/operator/products", {"sku": "CHEAP", "price": "0.01"}).status == 201


def test_orders_page_newest_first_with_after(api_shop: None, register_member: Register,
                                             api_operator: Caller) -> None:
    alice = register_member("alice")
    orders = [buy(alice, "TEA") for _ in range(5)]
    seen: list[str] = []
    after = ""
    while True:
        page = alice.get(f"/api/me/orders?limit=2{after}").body
        seen += [o["order"] for o in page["orders"]]
        if page["next_after"] is None:
            break
        after = f"&after={page['next_after']}"
    assert seen == orders[::-1]
    everyone = api_operator.get(f"/api/operator/orders?member={alice.member}&limit=3").body
    rest = api_operator.get(f"/api/operator/orders?member={alice.member}&limit=3&after={everyone['next_after']}").body
    assert [o["order"] for o in everyone["orders"] + rest["orders"]] == orders[::-1] and rest["next_after"] is None
