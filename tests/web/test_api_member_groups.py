"""Member groups through the API: the operator verbs from the module's declaration, the member and shop-wide
reads the worker projects, an outsider's order of an exclusive product refused before payment (400 naming the sku)
and, when the member left the group between the order and the payment, refused by the engine at the payment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from api_client import Caller, Register, buy, make_operator, make_shop, signed_webhook
from django.utils import timezone

from liandong.service.store.models import OrderState

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db

PLANS: dict[str, Any] = {
    "chain21": {"skus": ["GIFT"]},
    "member_groups": {
        "groups": {"agents": {"name": "代理专区", "rank": {"plan": "chain21", "at_least": "agent"}},
                   "friends": {"name": "Friends", "by_hand": True}},
        "exclusive": {"TEA": ["agents", "friends"]},
    },
}


@pytest.fixture
def groups_shop(api_settings: Any) -> None:
    make_shop(PLANS, start=timezone.now() - dt.timedelta(hours=1),
              products=[{"sku": "GIFT", "price": "699.00", "gift_pack": True}, {"sku": "TEA", "price": "59.00"}])


def add(operator: Caller, member: str, group: str = "friends", verb: str = "add_to_member_group") -> Any:
    return operator.post(f"/api/operator/actions/{verb}", {"member": member, "group": group})


def test_the_shop_read_lists_the_groups_and_the_exclusive_products(groups_shop: None,
                                                                   anonymous_caller: Caller) -> None:
    read = anonymous_caller.get("/api/plans/member_groups")
    assert read.status == 200
    assert read.body == {"groups": [{"group": "agents", "name": "代理专区", "by": "rank",
                                     "rank": {"plan": "chain21", "at_least": "agent"}},
                                    {"group": "friends", "name": "Friends", "by": "hand"}],
                         "exclusive": {"TEA": ["agents", "friends"]}}


def test_an_outsider_cannot_order_an_exclusive_product(groups_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    r = alice.post("/api/orders", {"sku": "TEA"})
    assert r.status == 400
    assert (r.body["error"]["code"], r.body["error"]["field"], r.body["error"]["value"]) == (
        "product_unavailable", "sku", "TEA")
    assert alice.get("/api/me/plans/member_groups").body == {"groups": []}


def test_a_rank_member_orders_and_the_member_read_names_its_groups(groups_shop: None,
                                                                   register_member: Register) -> None:
    alice = register_member("alice")
    buy(alice, "GIFT")  # agent now
    assert alice.get("/api/me/plans/member_groups").body == {"groups": [
        {"group": "agents", "name": "代理专区", "by": "rank", "rank": {"plan": "chain21", "at_least": "agent"},
         "until": None}]}
    order = buy(alice, "TEA")
    assert alice.get(f"/api/orders/{order}").body["status"] == "paid"


def test_operator_verbs_add_and_remove_with_the_engines_refusals(groups_shop: None, register_member: Register,
                                                                 api_operator: Caller) -> None:
    alice = register_member("alice")
    added = add(api_operator, alice.member)
    assert added.status == 200, added.body
    assert added.body["facts"] == [{"fact": "member_group_joined", "member": alice.member, "group": "friends"}]
    assert [g["group"] for g in alice.get("/api/me/plans/member_groups").body["groups"]] == ["friends"]
    again = add(api_operator, alice.member)
    assert again.status == 422
    assert (again.body["error"]["code"], again.body["error"]["field"], again.body["error"]["value"]) == (
        "member_group_already_in", "member", alice.member)
    by_rank = add(api_operator, alice.member, "agents")
    assert by_rank.status == 422
    assert by_rank.body["error"]["message"] == "group agents is joined by rank, not by hand"
    no_permission = make_operator("clerk", permissions=("refund_order",))
    assert add(no_permission, alice.member, verb="remove_from_member_group").status == 403
    removed = add(api_operator, alice.member, verb="remove_from_member_group")
    assert removed.status == 200, removed.body
    assert alice.get("/api/me/plans/member_groups").body == {"groups": []}


def test_a_payment_after_the_member_left_the_group_is_refused_by_the_engine(
        groups_shop: None, register_member: Register, api_operator: Caller) -> None:
    alice = register_member("alice")
    assert add(api_operator, alice.member).status == 200
    order = alice.post("/api/orders", {"sku": "TEA"})
    assert order.status == 201, order.body
    assert add(api_operator, alice.member, verb="remove_from_member_group").status == 200
    paid = signed_webhook(alice, {"payment_id": "pay-tea", "order": order.body["order"], "amount": "59.00"})
    assert paid.status == 200
    seen = alice.get(f"/api/orders/{order.body['order']}").body
    assert seen["status"] == "payment_refused"
    assert seen["refusal"]["code"] == "member_group_exclusive"
    assert (seen["refusal"]["field"], seen["refusal"]["value"]) == ("sku", "TEA")
    assert seen["refusal"]["message"] == (f"sku TEA is for members of 代理专区, Friends only: {alice.member} is in "
                                          "none of them")
    assert not OrderState.objects.filter(order=order.body["order"]).exists()  # nothing was booked
    assert alice.get("/api/me/balances").body["available"] == "0.00"


def test_the_worker_rewrites_the_member_read_when_a_spend_membership_runs_out(api_settings: Any,
                                                                              register_member: Register) -> None:
    from liandong.service.log import append_event
    from liandong.service.worker import drain

    start = timezone.now() - dt.timedelta(hours=1)
    make_shop({"member_groups": {"groups": {"big": {"name": "Big", "spend": {"at_least": "50.00", "days": 1}}},
                                 "exclusive": {"CAVIAR": ["big"]}}},
              start=start, products=[{"sku": "TEA", "price": "59.00"}, {"sku": "CAVIAR", "price": "80.00"}])
    alice = register_member("alice")
    buy(alice, "TEA")
    paid_at = OrderState.objects.get(member=alice.member).paid_at
    groups = alice.get("/api/me/plans/member_groups").body["groups"]
    until = dt.datetime.fromisoformat(groups[0]["until"])
    assert [g["group"] for g in groups] == ["big"] and until == paid_at + dt.timedelta(days=1)
    # a minute's tick after the window ran out (the worker logs one each minute): the fact names alice, the worker
    # rewrites her read with no event of hers
    append_event("tick", {"at": (until + dt.timedelta(minutes=1)).isoformat()}, key="test:tick", request_hash="t",
                 actor="system")
    drain()
    assert alice.get("/api/me/plans/member_groups").body == {"groups": []}
    assert alice.post("/api/orders", {"sku": "CAVIAR"}).status == 400
