"""Withdrawals through the API: the engine's refusal reasons in the body, operator decisions, the payout CSV, and
the 202 answer when the worker has not applied the request yet."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from api_client import Caller, Register, buy

from liandong.service.worker import drain
from liandong.web.accounts.models import AuditLog

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def earner(api_shop: None, register_member: Register) -> Caller:
    """Alice, an agent credited 100.00 for Bob's gift pack."""
    alice = register_member("alice")
    buy(alice)
    buy(register_member("bob", inviter=alice))
    return alice


def error_of(body: dict[str, Any]) -> tuple[str, str, Any]:
    return body["error"]["code"], body["error"]["field"], body["error"]["value"]


def test_below_the_minimum_and_above_available_are_refused_with_the_reason(earner: Caller) -> None:
    low = earner.post("/api/withdrawals", {"amount": "5.00"})
    assert low.status == 422
    assert error_of(low.body) == ("withdrawal_below_minimum", "amount", "5.00")
    assert low.body["error"]["message"] == "amount 5.00 is below the minimum withdrawal 10.00"
    assert low.body["error"]["message_zh"] == "提现金额 5.00 低于最低提现额 10.00"
    high = earner.post("/api/withdrawals", {"amount": "100.01"})
    assert high.status == 422
    assert error_of(high.body) == ("withdrawal_above_available", "amount", "100.01")
    assert high.body["error"]["message"] == "amount 100.01 is more than the available balance 100.00"
    assert earner.get("/api/me/balances").body["available"] == "100.00"


def test_a_malformed_amount_is_a_400_naming_it(earner: Caller) -> None:
    r = earner.post("/api/withdrawals", {"amount": "ten"})
    assert r.status == 400 and error_of(r.body) == ("invalid", "amount", "ten")
    missing = earner.post("/api/withdrawals", {})
    assert missing.status == 400 and error_of(missing.body) == ("missing", "amount", None)


def test_an_accepted_withdrawal_waits_in_withdrawing(earner: Caller) -> None:
    r = earner.post("/api/withdrawals", {"amount": "60"})
    assert r.status == 201
    assert (r.body["member"], r.body["amount"], r.body["status"]) == (earner.member, "60.00", "requested")
    balances = earner.get("/api/me/balances").body
    assert (balances["available"], balances["withdrawing"]) == ("40.00", "60.00")
    assert earner.get(f"/api/withdrawals/{r.body['withdrawal']}").body == r.body
    assert [w["withdrawal"] for w in earner.get("/api/me/withdrawals").body] == [r.body["withdrawal"]]


def test_approve_reject_and_mark_paid(earner: Caller, api_operator: Caller) -> None:
    w3 = earner.post("/api/withdrawals", {"amount": "60.00"}).body["withdrawal"]
    w4 = earner.post("/api/withdrawals", {"amount": "40.00"}).body["withdrawal"]
    approved = api_operator.post(f"/api/operator/withdrawals/{w3}/approve")
    assert approved.status == 200 and approved.body["status"] == "approved"
    rejected = api_operator.post(f"/api/operator/withdrawals/{w4}/reject")
    assert rejected.status == 200 and rejected.body["status"] == "rejected"
    twice = api_operator.post(f"/api/operator/withdrawals/{w4}/approve")
    assert twice.status == 422 and error_of(twice.body) == ("withdrawal_decided", "withdrawal", w4)
    assert twice.body["error"]["message"] == f"withdrawal {w4} is already rejected"
    unpaid = api_operator.post(f"/api/operator/withdrawals/{w4}/mark-paid", {"reference": "x"})
    assert unpaid.status == 422 and unpaid.body["error"]["code"] == "not_allowed"
    paid = api_operator.post(f"/api/operator/withdrawals/{w3}/mark-paid", {"reference": "bank-991"})
    assert paid.status == 200 and (paid.body["status"], paid.body["reference"]) == ("paid", "bank-991")
    balances = earner.get("/api/me/balances").body
    assert (balances["available"], balances["withdrawing"], balances["withdrawn"]) == ("40.00", "0.00", "60.00")
    actions = [(a.action, a.target) for a in AuditLog.objects.order_by("id")]
    assert actions == [("approve_withdrawal", w3), ("reject_withdrawal", w4), ("approve_withdrawal", w4),
                       ("mark_withdrawal_paid", w4), ("mark_withdrawal_paid", w3)]


def test_the_review_queue_lists_requested_withdrawals(earner: Caller, api_operator: Caller) -> None:
    w = earner.post("/api/withdrawals", {"amount": "30.00"}).body["withdrawal"]
    queue = api_operator.get("/api/operator/withdrawals?status=requested").body
    assert [(x["withdrawal"], x["amount"]) for x in queue] == [(w, "30.00")]


def test_the_payout_csv_lists_approved_unpaid_withdrawals(earner: Caller, api_operator: Caller) -> None:
    w1 = earner.post("/api/withdrawals", {"amount": "25.50"}).body["withdrawal"]
    w2 = earner.post("/api/withdrawals", {"amount": "10.00"}).body["withdrawal"]
    w3 = earner.post("/api/withdrawals", {"amount": "11.00"}).body["withdrawal"]
    for w in (w1, w2):
        api_operator.post(f"/api/operator/withdrawals/{w}/approve")
    api_operator.post(f"/api/operator/withdrawals/{w2}/mark-paid", {"reference": "b-1"})
    r = api_operator.get("/api/operator/withdrawals/export.csv")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.body)))
    assert [(row["withdrawal"], row["member"], row["username"], row["amount"], row["net"]) for row in rows] == [
        (w1, earner.member, "alice", "25.50", "25.50")]
    assert w3 not in r.body
    export = AuditLog.objects.get(action="export_withdrawals")
    assert export.detail == {"withdrawals": [w1]} and export.actor == "operator"


def test_without_the_worker_the_answer_is_202_with_a_url_to_poll(earner: Caller, settings: Any) -> None:
    settings.LIANDONG_INLINE_WORKER = False
    r = earner.post("/api/withdrawals", {"amount": "20.00"})
    assert r.status == 202
    assert r.body == {"status": "pending", "position": r.body["position"],
                      "poll_url": f"/api/events/{r.body['position']}"}
    assert earner.get(r.body["poll_url"]).body["status"] == "pending"
    drain()
    polled = earner.get(r.body["poll_url"]).body
    assert (polled["status"], polled["verb"], polled["refusal"]) == ("applied", "withdraw", None)
    assert earner.get("/api/me/balances").body["withdrawing"] == "20.00"


def test_a_polled_refusal_names_the_field_and_value(earner: Caller, settings: Any) -> None:
    settings.LIANDONG_INLINE_WORKER = False
    r = earner.post("/api/withdrawals", {"amount": "500.00"})
    drain()
    polled = earner.get(r.body["poll_url"]).body
    assert polled["status"] == "refused"
    assert (polled["refusal"]["code"], polled["refusal"]["field"], polled["refusal"]["value"]) == (
        "withdrawal_above_available", "amount", "500.00")
