"""The API half of the one-line promise: the test-only cashback plan (registered by ``tests/conftest.py``) has its
own route with its own schema in the OpenAPI document, its statement lines, its member read and its operator read,
with nothing in ``web/`` or ``service/`` naming it. And every module's verbs are in the document, per sender."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from api_client import Caller, Register, buy, make_operator, make_shop
from django.utils import timezone

from liandong.engine.registry import REGISTRY

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def cashback_shop(api_settings: Any) -> None:
    make_shop({"cashback": {"rate": "0.05"}}, start=timezone.now() - dt.timedelta(hours=1),
              products=[{"sku": "TEA", "price": "200.00"}])


def test_the_openapi_document_has_the_cashback_verb_with_its_own_schema(anonymous_caller: Caller) -> None:
    doc = anonymous_caller.get("/api/openapi.json").body
    operation = doc["paths"]["/api/actions/redeem_cashback"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = doc["components"]["schemas"][ref]
    assert set(schema["properties"]) == {"amount"}  # the member is the caller: not in the body
    assert schema["properties"]["amount"]["type"] == "string"
    assert schema["examples"] == [{"amount": "6.00"}]
    assert "/api/operator/actions/redeem_cashback" not in doc["paths"]  # members only


def test_every_declared_verb_has_a_route_for_each_of_its_senders(anonymous_caller: Caller) -> None:
    paths = anonymous_caller.get("/api/openapi.json").body["paths"]
    for _owner, verb in REGISTRY.verbs():
        assert (f"/api/actions/{verb.name}" in paths) == ("member" in verb.senders), verb.name
        assert (f"/api/operator/actions/{verb.name}" in paths) == ("operator" in verb.senders), verb.name


def test_cashback_through_the_api_statement_member_read_and_operator_view(
        cashback_shop: None, register_member: Register) -> None:
    a = register_member("alice")
    buy(a, "TEA")
    redeemed = a.post("/api/actions/redeem_cashback", {"amount": "6.00"})
    assert redeemed.status == 200, redeemed.body
    assert redeemed.body["event"] == {"member": a.member, "amount": "6.00"}
    too_much = a.post("/api/actions/redeem_cashback", {"amount": "5.00"})
    assert too_much.status == 422
    assert too_much.body["error"]["code"] == "cashback_insufficient"
    assert too_much.body["error"]["message"] == "amount 5.00 is more than the cashback 4.00"
    texts = [line["text"].split("  ", 1)[1] for line in a.get("/api/me/statement").body["lines"]]
    assert any(t.startswith("+10.00 cashback → cashback · order ") for t in texts), texts
    assert a.get("/api/me/plans/cashback").body == {"balance": "4.00", "rate": "0.05"}
    operator = make_operator()
    seen = operator.get(f"/api/operator/members/{a.member}").body
    assert seen["operator_reads"]["cashback"] == {"balance": "4.00", "rate": "0.05", "earned": "10.00"}
    assert seen["view"]["cashback"] == "4.00"


def test_a_member_cannot_act_for_another_member(cashback_shop: None, register_member: Register) -> None:
    a = register_member("alice")
    r = a.post("/api/actions/redeem_cashback", {"amount": "1.00", "member": "someone-else"})
    assert r.status == 400
    assert r.body["error"]["field"] == "member"
