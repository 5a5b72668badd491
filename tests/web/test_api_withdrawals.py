"""Withdrawals through the API: the engine's refusal reasons in the body, operator decisions, the payout CSV, and
the 202 answer when the worker has not applied the request yet."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from api_client import Caller, Register, buy

from liandong.engine.money import parse_yuan
from liandong.service.worker import append_system_event, drain
from liandong.web.accounts.models import AuditLog

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db
PAYEE = "alipay:13800000000"
REASON = {"reason": "the payee account name does not match your real name"}


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
    low = earner.post("/api/withdrawals", {"amount": "5.00", "payee": PAYEE})
    assert low.status == 422
    assert error_of(low.body) == ("withdrawal_below_minimum", "amount", "5.00")
    assert low.body["error"]["message"] == "amount 5.00 is below the minimum withdrawal 10.00"
    assert low.body["error"]["message_zh"] == "提现金额 5.00 低于最低提现额 10.00"
    high = earner.post("/api/withdrawals", {"amount": "100.01", "payee": PAYEE})
    assert high.status == 422
    assert error_of(high.body) == ("withdrawal_above_available", "amount", "100.01")
    assert high.body["error"]["message"] == "amount 100.01 is more than the available balance 100.00"
    assert earner.get("/api/me/balances").body["available"] == "100.00"


def test_a_malformed_amount_is_a_400_naming_it(earner: Caller) -> None:
    r = earner.post("/api/withdrawals", {"amount": "ten", "payee": PAYEE})
    assert r.status == 400 and error_of(r.body) == ("invalid", "amount", "ten")
    missing = earner.post("/api/withdrawals", {})
    assert missing.status == 400 and error_of(missing.body) == ("missing", "amount", None)


def test_an_accepted_withdrawal_waits_in_withdrawing(earner: Caller) -> None:
    r = earner.post("/api/withdrawals", {"amount": "60", "payee": PAYEE})
    assert r.status == 201
    assert (r.body["member"], r.body["amount"], r.body["status"]) == (earner.member, "60.00", "requested")
    balances = earner.get("/api/me/balances").body
    assert (balances["available"], balances["withdrawing"]) == ("40.00", "60.00")
    assert earner.get(f"/api/withdrawals/{r.body['withdrawal']}").body == r.body
    assert [w["withdrawal"] for w in earner.get("/api/me/withdrawals").body["withdrawals"]] == [r.body["withdrawal"]]


def test_approve_reject_and_mark_paid(earner: Caller, api_operator: Caller) -> None:
    w3 = earner.post("/api/withdrawals", {"amount": "60.00", "payee": PAYEE}).body["withdrawal"]
    w4 = earner.post("/api/withdrawals", {"amount": "40.00", "payee": PAYEE}).body["withdrawal"]
    approved = api_operator.post(f"/api/operator/withdrawals/{w3}/approve")
    assert approved.status == 200 and approved.body["status"] == "approved"
    rejected = api_operator.post(f"/api/operator/withdrawals/{w4}/reject", REASON)
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
    w = earner.post("/api/withdrawals", {"amount": "30.00", "payee": PAYEE}).body["withdrawal"]
    queue = api_operator.get("/api/operator/withdrawals?status=requested").body
    assert [(x["withdrawal"], x["amount"], x["payee"]) for x in queue["withdrawals"]] == [(w, "30.00", PAYEE)]
    assert queue["next_after"] is None


def test_the_payout_csv_lists_approved_unpaid_withdrawals(earner: Caller, api_operator: Caller) -> None:
    w1 = earner.post("/api/withdrawals", {"amount": "25.50", "payee": PAYEE}).body["withdrawal"]
    w2 = earner.post("/api/withdrawals", {"amount": "10.00", "payee": PAYEE}).body["withdrawal"]
    w3 = earner.post("/api/withdrawals", {"amount": "11.00", "payee": PAYEE}).body["withdrawal"]
    for w in (w1, w2):
        api_operator.post(f"/api/operator/withdrawals/{w}/approve")
    api_operator.post(f"/api/operator/withdrawals/{w2}/mark-paid", {"reference": "b-1"})
    r = api_operator.get("/api/operator/withdrawals/export.csv")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.body)))
    assert [(row["withdrawal"], row["member"], row["username"], row["payee"], row["amount"], row["net"])
            for row in rows] == [(w1, earner.member, "alice", PAYEE, "25.50", "25.50")]
    assert w3 not in r.body
    export = AuditLog.objects.get(action="export_withdrawals")
    assert export.detail == {"withdrawals": [w1]} and export.actor == "operator"


def test_without_the_worker_the_answer_is_202_with_a_url_to_poll(earner: Caller, settings: Any) -> None:
    settings.LIANDONG_INLINE_WORKER = False
    r = earner.post("/api/withdrawals", {"amount": "20.00", "payee": PAYEE})
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
    r = earner.post("/api/withdrawals", {"amount": "500.00", "payee": PAYEE})
    drain()
    polled = earner.get(r.body["poll_url"]).body
    assert polled["status"] == "refused"
    assert (polled["refusal"]["code"], polled["refusal"]["field"], polled["refusal"]["value"]) == (
        "withdrawal_above_available", "amount", "500.00")


# --- approval with the payout to come, debts, the payee, the CSV's cells, paging ----------------------------------


def ask(caller: Caller, amount: str, payee: str = PAYEE) -> str:
    r = caller.post("/api/withdrawals", {"amount": amount, "payee": payee})
    assert r.status == 201, r.body
    return str(r.body["withdrawal"])


def statement_rules(caller: Caller) -> list[tuple[str, str, str]]:
    lines = caller.get("/api/me/statement").body["lines"]
    return [(line["rule"], line["book"], line["amount"]) for line in lines if line["rule"].startswith("withdrawal")]


def test_an_approved_withdrawal_stays_in_withdrawing_until_its_payout_is_marked(earner: Caller,
                                                                               api_operator: Caller) -> None:
    w = ask(earner, "60.00")
    approved = api_operator.post(f"/api/operator/withdrawals/{w}/approve").body
    assert (approved["status"], approved["payout_pending"]) == ("approved", True)
    assert (approved["label"], approved["label_zh"]) == ("withdrawal approved, payout pending", "提现已批准，待打款")
    balances = earner.get("/api/me/balances").body
    assert (balances["available"], balances["withdrawing"], balances["withdrawn"]) == ("40.00", "60.00", "0.00")
    assert statement_rules(earner) == [("withdrawal", "available", "-60.00"), ("withdrawal", "withdrawing", "60.00")]
    paid = api_operator.post(f"/api/operator/withdrawals/{w}/mark-paid", {"reference": "bank-7"}).body
    assert (paid["status"], paid["payout_pending"], paid["label"]) == ("paid", False, "withdrawal paid out")
    balances = earner.get("/api/me/balances").body
    assert (balances["available"], balances["withdrawing"], balances["withdrawn"]) == ("40.00", "0.00", "60.00")
    lines = earner.get("/api/me/statement?order=newest&limit=1").body["lines"]
    assert (lines[0]["rule"], lines[0]["label"], lines[0]["label_zh"]) == (
        "withdrawal_paid", "withdrawal paid out", "提现已打款")


def test_an_approved_withdrawal_cannot_be_rejected(earner: Caller, api_operator: Caller) -> None:
    w = ask(earner, "60.00")
    api_operator.post(f"/api/operator/withdrawals/{w}/approve")
    r = api_operator.post(f"/api/operator/withdrawals/{w}/reject", REASON)
    assert r.status == 422 and error_of(r.body) == ("withdrawal_decided", "withdrawal", w)
    assert earner.get("/api/me/balances").body["withdrawing"] == "60.00"


@pytest.fixture
def debtor(api_shop: None, register_member: Register, api_operator: Caller) -> tuple[Caller, str, str]:
    """Alice earned 100.00 on Bob's gift pack and asked for 60.00 (w1, approved, payout pending) and 30.00 (w2,
    requested); then Bob's order was refunded: the 100.00 comes back out of available, 10.00 - 100.00 = -90.00."""
    alice = register_member("alice")
    buy(alice)
    bob_order = buy(register_member("bob", inviter=alice))
    w1, w2 = ask(alice, "60.00"), ask(alice, "30.00")
    assert api_operator.post(f"/api/operator/withdrawals/{w1}/approve").status == 200
    assert api_operator.post(f"/api/operator/orders/{bob_order}/refund").status == 200
    assert alice.get("/api/me/balances").body["available"] == "-90.00"
    return alice, w1, w2


def test_a_member_who_owes_has_no_withdrawal_approved(debtor: tuple[Caller, str, str],
                                                      api_operator: Caller) -> None:
    alice, _w1, w2 = debtor
    r = api_operator.post(f"/api/operator/withdrawals/{w2}/approve")
    assert r.status == 422 and error_of(r.body) == ("withdrawal_member_owes", "withdrawal", w2)
    assert r.body["error"]["message"] == f"withdrawal {w2} cannot be approved: {alice.member} owes 90.00 " \
                                         "(available -90.00)"
    assert r.body["error"]["message_zh"] == f"提现单 {w2} 不能批准：{alice.member} 欠款 90.00（可用余额 -90.00）"
    assert alice.get("/api/me/balances").body["withdrawing"] == "90.00"  # nothing moved
    rejected = api_operator.post(f"/api/operator/withdrawals/{w2}/reject", REASON)
    assert rejected.status == 200 and alice.get("/api/me/balances").body["available"] == "-60.00"


def test_the_review_queue_and_the_csv_show_each_members_balance_and_debt(debtor: tuple[Caller, str, str],
                                                                        api_operator: Caller) -> None:
    _alice, w1, w2 = debtor
    queue = api_operator.get("/api/operator/withdrawals?status=requested").body["withdrawals"]
    assert [(x["withdrawal"], x["member_available"], x["member_debt"]) for x in queue] == [(w2, "-90.00", "90.00")]
    rows = list(csv.DictReader(io.StringIO(api_operator.get("/api/operator/withdrawals/export.csv").body)))
    assert [(row["withdrawal"], row["member_available"], row["member_debt"]) for row in rows] == [
        (w1, "-90.00", "90.00")]


def test_the_payee_is_required_and_free_of_control_characters(earner: Caller) -> None:
    missing = earner.post("/api/withdrawals", {"amount": "20.00"})
    assert missing.status == 400 and error_of(missing.body)[:2] == ("missing", "payee")
    for bad in ("alipay:138\t0000", "bank\r\n=1+1", " alipay:1", "x" * 101, ""):
        r = earner.post("/api/withdrawals", {"amount": "20.00", "payee": bad})
        assert r.status == 400 and error_of(r.body)[:2] == ("invalid", "payee"), (bad, r.body)
    assert earner.get("/api/me/balances").body["withdrawing"] == "0.00"
    w = ask(earner, "20.00", "ICBC 6222 0000 0000 0000")
    assert earner.get(f"/api/withdrawals/{w}").body["payee"] == "ICBC 6222 0000 0000 0000"
    assert earner.get("/api/me/withdrawals").body["withdrawals"][0]["payee"] == "ICBC 6222 0000 0000 0000"


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_text(api_shop: None, register_member: Register,
                                                                     api_operator: Caller) -> None:
    earner = register_member("-1+1")  # a username may start with + - @
    buy(earner)
    buy(register_member("bob", inviter=earner))
    payees = ["=HYPERLINK(\"http://x\")", "+86 138", "@SUM(A1)", "-2+3", "alipay:1"]
    for payee in payees:
        w = ask(earner, "10.00", payee)
        api_operator.post(f"/api/operator/withdrawals/{w}/approve")
    rows = list(csv.DictReader(io.StringIO(api_operator.get("/api/operator/withdrawals/export.csv").body)))
    assert [row["payee"] for row in rows] == ["'=HYPERLINK(\"http://x\")", "'+86 138", "'@SUM(A1)", "'-2+3", "alipay:1"]
    assert {row["username"] for row in rows} == {"'-1+1"}
    assert {row["amount"] for row in rows} == {"10.00"}  # amounts stay numbers


def test_the_csv_reconciles_with_the_ledger_to_the_fen(earner: Caller, api_operator: Caller) -> None:
    ws = [ask(earner, amount) for amount in ("33.33", "10.01", "12.34")]
    for w in ws:
        api_operator.post(f"/api/operator/withdrawals/{w}/approve")
    rows = list(csv.DictReader(io.StringIO(api_operator.get("/api/operator/withdrawals/export.csv").body)))
    fen = [(parse_yuan(r["amount"]), parse_yuan(r["fee"]), parse_yuan(r["net"])) for r in rows]
    assert all(amount == fee + net for amount, fee, net in fen)
    withdrawing = earner.get("/api/me/balances").body["withdrawing"]
    assert sum(amount for amount, _fee, _net in fen) == parse_yuan(withdrawing) == 5568


def test_my_withdrawals_page_newest_first_and_the_queue_oldest_first(earner: Caller, api_operator: Caller) -> None:
    ws = [ask(earner, "10.00") for _ in range(5)]
    seen: list[str] = []
    after = ""
    while True:
        page = earner.get(f"/api/me/withdrawals?limit=2{after}").body
        seen += [w["withdrawal"] for w in page["withdrawals"]]
        if page["next_after"] is None:
            break
        after = f"&after={page['next_after']}"
    assert seen == ws[::-1]
    first = api_operator.get("/api/operator/withdrawals?limit=3").body
    rest = api_operator.get(f"/api/operator/withdrawals?limit=3&after={first['next_after']}").body
    assert [w["withdrawal"] for w in first["withdrawals"] + rest["withdrawals"]] == ws
    assert rest["next_after"] is None
    wrong = earner.get("/api/me/withdrawals?after=w-nope")
    assert wrong.status == 400 and error_of(wrong.body) == ("invalid", "after", "w-nope")


def test_the_event_log_and_the_audit_log_page_with_next_after(earner: Caller, api_operator: Caller) -> None:
    ws = [ask(earner, "10.00") for _ in range(3)]
    for w in ws:
        api_operator.post(f"/api/operator/withdrawals/{w}/approve")
    first = api_operator.get("/api/operator/audit?limit=2").body
    older = api_operator.get(f"/api/operator/audit?limit=2&after={first['next_after']}").body
    assert [a["target"] for a in first["audit"] + older["audit"]] == ws[::-1] and older["next_after"] is None
    events = api_operator.get("/api/operator/events?limit=4").body
    rest = api_operator.get(f"/api/operator/events?after={events['next_after']}&limit=500").body
    positions = [e["position"] for e in events["events"] + rest["events"]]
    assert positions == sorted(set(positions)) and rest["next_after"] is None
    assert [e["verb"] for e in rest["events"]][-3:] == ["approve_withdrawal"] * 3


def test_a_rejection_needs_a_reason_and_the_withdrawal_shows_it(earner: Caller, api_operator: Caller) -> None:
    w = ask(earner, "60.00")
    for body, code in ((None, "missing"), ({}, "missing"), ({"reason": "   "}, "invalid"),
                       ({"reason": "x" * 201}, "invalid"), ({"reason": "tab\there"}, "invalid")):
        r = api_operator.post(f"/api/operator/withdrawals/{w}/reject", body)
        assert r.status == 400 and (r.body["error"]["code"], r.body["error"]["field"]) == (code, "reason"), body
    assert earner.get(f"/api/withdrawals/{w}").body["status"] == "requested"  # nothing moved
    r = api_operator.post(f"/api/operator/withdrawals/{w}/reject",
                          {"reason": "  the payee account name does not match your real name "})
    assert r.status == 200 and (r.body["status"], r.body["reason"]) == (
        "rejected", "the payee account name does not match your real name")
    assert earner.get(f"/api/withdrawals/{w}").body["reason"] == r.body["reason"]
    assert earner.get("/api/me/withdrawals").body["withdrawals"][0]["reason"] == r.body["reason"]
    assert ask(earner, "10.00") and earner.get("/api/me/withdrawals").body["withdrawals"][0]["reason"] is None


def test_the_registry_route_requires_the_reason_too_and_the_engine_refuses_a_blank_one(
        earner: Caller, api_operator: Caller) -> None:
    w = ask(earner, "60.00")
    missing = api_operator.post("/api/operator/actions/reject_withdrawal", {"withdrawal": w})
    assert missing.status == 400 and error_of(missing.body) == ("missing", "reason", None)
    blank = api_operator.post("/api/operator/actions/reject_withdrawal", {"withdrawal": w, "reason": " "})
    assert blank.status == 422 and error_of(blank.body) == ("withdrawal_reason_invalid", "reason", "")
    ok = api_operator.post("/api/operator/actions/reject_withdrawal", {"withdrawal": w, "reason": "account closed"})
    assert ok.status == 200 and earner.get(f"/api/withdrawals/{w}").body["reason"] == "account closed"


def test_a_rejection_logged_without_a_reason_still_applies_with_none(earner: Caller) -> None:
    """A log written before rejections had reasons: the worker applies it, the withdrawal has no reason."""
    w = ask(earner, "60.00")
    append_system_event("reject_withdrawal", {"withdrawal": w}, f"test:old-reject:{w}")
    drain()
    body = earner.get(f"/api/withdrawals/{w}").body
    assert (body["status"], body["reason"]) == ("rejected", None)
    assert earner.get("/api/me/balances").body["available"] == "100.00"
