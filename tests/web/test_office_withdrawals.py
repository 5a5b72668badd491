"""The withdrawal review queue of the back office: its rows (names, ¥ amounts, fee, net, payee, debts), its filters,
each action changing the engine's state as the operator API does (the same event), with its audit row before and
after; batch approval one event each; the payout CSV, which reconciles with the ledger to the fen; both languages."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from api_client import Caller, Register, buy, make_operator, make_shop
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from office_client import cell, key, messages_of, office_browser, post, row_of
from page_client import logged_in, page

from liandong.engine.money import format_fen, parse_yuan
from liandong.service.store.models import Balance, LedgerEntry, LoggedEvent, WithdrawalState
from liandong.web.accounts.models import AuditLog

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db
PAYEE = "alipay:13800000000"
#: chain21 pays alice's direct reward; distribution (promoters only by approval: no commission here) charges a 1% fee
PLANS = {"chain21": {}, "distribution": {"eligibility": "approved", "withdrawal_fee_rate": "0.01"}}


@pytest.fixture
def shop(db: None, api_settings: Any, register_member: Register) -> dict[str, Any]:
    """alice (an agent) is credited 100.00 for bob's gift pack; carl for dora's. The finance desk is fiona."""
    make_shop(plans=PLANS, start=timezone.now() - timezone.timedelta(days=1))
    alice = register_member("alice")
    buy(alice)
    bob = register_member("bob", inviter=alice)
    bob_order = buy(bob)
    carl = register_member("carl")
    buy(carl)
    buy(register_member("dora", inviter=carl))
    return {"alice": alice, "bob": bob, "carl": carl, "bob_order": bob_order,
            "finance": office_browser("finance", "fiona")}


def ask(member: Caller, amount: str, payee: str = PAYEE) -> str:
    r = member.post("/api/withdrawals", {"amount": amount, "payee": payee})
    assert r.status == 201, r.body
    return str(r.body["withdrawal"])


def state(withdrawal: str) -> WithdrawalState:
    return WithdrawalState.objects.get(withdrawal=withdrawal)


# --- the queue ------------------------------------------------------------------------------------------------------


def test_a_row_shows_the_member_by_name_and_money_in_yuan_in_both_languages(shop: dict[str, Any]) -> None:
    w = ask(shop["alice"], "60.00")
    for lang, label in (("en", "withdrawal requested, awaiting review"), ("zh-hans", "提现申请中，待审核")):
        status, html = page(shop["finance"], "/office/withdrawals", lang)
        assert status == 200
        row = row_of(html, "withdrawal", w)
        assert cell(row, "name") == "alice"
        assert (cell(row, "amount"), cell(row, "fee"), cell(row, "net")) == ("¥60.00", "¥0.60", "¥59.40")
        assert cell(row, "payee") == PAYEE and cell(row, "available") == "¥40.00"
        assert cell(row, "status") == label
        assert shop["alice"].member not in html  # people by name, never by id


def test_the_filters_pick_by_status_member_and_day_and_name_a_bad_value(shop: dict[str, Any]) -> None:
    w1, w2 = ask(shop["alice"], "20.00"), ask(shop["carl"], "30.00")
    finance = shop["finance"]
    listed = lambda query: re.findall(r'<tr data-withdrawal="(w[0-9a-f]+)"', page(finance, query, "en")[1])  # noqa: E731
    assert listed("/office/withdrawals") == [w1, w2]  # the queue: oldest first
    assert listed("/office/withdrawals?member=ali") == [w1]
    assert listed(f"/office/withdrawals?member={shop['carl'].member}") == [w2]
    today = timezone.localdate().isoformat()
    assert listed(f"/office/withdrawals?from={today}&to={today}") == [w1, w2]
    assert listed("/office/withdrawals?to=2020-01-01") == []
    assert listed("/office/withdrawals?status=approved") == []
    status, html = page(finance, "/office/withdrawals?from=2026-13-01", "en")
    assert status == 400 and 'data-bad-filter="from"' in html and "2026-13-01" in html
    assert page(finance, "/office/withdrawals?status=lost", "en")[0] == 400
    assert page(finance, "/office/withdrawals?after=w000000", "en")[0] == 400


# --- actions: the same events as the API's --------------------------------------------------------------------------


def test_approving_here_is_what_the_api_does_and_the_audit_row_shows_before_and_after(shop: dict[str, Any]) -> None:
    mine, theirs = ask(shop["alice"], "60.00"), ask(shop["carl"], "60.00")
    status, html = post(shop["finance"], f"/office/withdrawals/{mine}/approve", next="/office/withdrawals")
    assert status == 200 and messages_of(html)[0][0] == "success"
    assert make_operator("api-op").post(f"/api/operator/withdrawals/{theirs}/approve").status == 200
    for w in (mine, theirs):
        s = state(w)
        assert (s.status, s.payout_pending, s.fee) == ("approved", True, 60)
    office_event, api_event = (LoggedEvent.objects.get(verb="approve_withdrawal", payload__withdrawal=w)
                               for w in (mine, theirs))
    assert {k: v for k, v in office_event.payload.items() if k not in ("withdrawal", "at")} == {
        k: v for k, v in api_event.payload.items() if k not in ("withdrawal", "at")} == {"paid_out": False}
    assert office_event.actor == "operator:fiona"
    row = AuditLog.objects.get(event_position=office_event.position)
    assert (row.actor, row.action, row.target) == ("fiona", "approve_withdrawal", mine)
    assert row.detail == {"withdrawal": mine, "paid_out": False}
    assert row.before is not None and row.after is not None
    assert (row.before["status"], row.before["fee"], row.after["status"], row.after["fee"]) == (
        "requested", "0.00", "approved", "0.60")
    assert row.after["payout_pending"] is True


def test_a_rejection_needs_a_reason_which_the_member_reads(shop: dict[str, Any]) -> None:
    w = ask(shop["alice"], "60.00")
    status, html = post(shop["finance"], f"/office/withdrawals/{w}/reject", reason="   ")
    assert status == 200 and messages_of(html)[0][0] == "error" and "reason" in messages_of(html)[0][1]
    assert state(w).status == "requested" and not LoggedEvent.objects.filter(verb="reject_withdrawal").exists()
    reason = "the payee account name does not match your real name"
    status, html = post(shop["finance"], f"/office/withdrawals/{w}/reject", reason=f"  {reason} ")
    assert messages_of(html)[0][0] == "success"
    assert (state(w).status, state(w).reason) == ("rejected", reason)
    assert shop["alice"].get("/api/me/balances").body["available"] == "100.00"
    _status, member_page = page(logged_in(shop["alice"]), "/withdraw", "en")
    assert reason in member_page
    audit = AuditLog.objects.get(action="reject_withdrawal")
    assert audit.detail["reason"] == reason and audit.after["reason"] == reason and audit.before["reason"] is None


def test_marking_paid_needs_the_payouts_reference(shop: dict[str, Any]) -> None:
    w = ask(shop["alice"], "60.00")
    post(shop["finance"], f"/office/withdrawals/{w}/approve")
    _status, html = post(shop["finance"], f"/office/withdrawals/{w}/mark-paid", reference="")
    assert messages_of(html)[0][0] == "error" and state(w).status == "approved"
    _status, html = post(shop["finance"], f"/office/withdrawals/{w}/mark-paid", reference="alipay-2026-0001")
    assert messages_of(html)[0][0] == "success"
    assert (state(w).status, state(w).reference, state(w).payout_pending) == ("paid", "alipay-2026-0001", False)
    balances = shop["alice"].get("/api/me/balances").body
    assert (balances["withdrawing"], balances["withdrawn"]) == ("0.00", "59.40")


def test_a_member_who_owes_shows_the_debt_and_the_engine_refuses_the_approval(shop: dict[str, Any]) -> None:
    w = ask(shop["alice"], "60.00")
    assert make_operator("api-op").post(f"/api/operator/orders/{shop['bob_order']}/refund").status == 200
    _status, html = page(shop["finance"], "/office/withdrawals", "en")
    row = row_of(html, "withdrawal", w)
    assert 'data-debt="60.00"' in row and "owes ¥60.00" in row and cell(row, "available") == "-¥60.00"
    _status, html = post(shop["finance"], f"/office/withdrawals/{w}/approve")
    kind, text = messages_of(html)[0]
    assert kind == "error" and "owes 60.00" in text
    assert state(w).status == "requested"
    refused = AuditLog.objects.get(action="approve_withdrawal")
    assert refused.before == refused.after  # refused: nothing moved
    _status, audit = page(office_browser("owner"), f"/office/audit?target={w}", "en")
    assert 'data-outcome="refused"' in row_of(audit, "audit-row", str(refused.id))


def test_batch_approval_is_one_event_and_one_audit_row_each(shop: dict[str, Any]) -> None:
    chosen = [ask(shop["alice"], "20.00"), ask(shop["alice"], "30.00"), ask(shop["carl"], "40.00")]
    form_key = key()
    status, html = post(shop["finance"], "/office/withdrawals/approve", withdrawal=chosen, key=form_key)
    assert status == 200 and ("success", "Approved 3 withdrawals. Mark each paid once its payout is sent.") in (
        messages_of(html))
    assert {state(w).status for w in chosen} == {"approved"}
    assert LoggedEvent.objects.filter(verb="approve_withdrawal").count() == 3
    assert sorted(AuditLog.objects.filter(action="approve_withdrawal").values_list("target", flat=True)) == sorted(
        chosen)
    post(shop["finance"], "/office/withdrawals/approve", withdrawal=chosen, key=form_key)  # the same form again
    assert LoggedEvent.objects.filter(verb="approve_withdrawal").count() == 3
    assert AuditLog.objects.filter(action="approve_withdrawal").count() == 3


def test_a_double_submitted_form_is_one_event(shop: dict[str, Any]) -> None:
    w = ask(shop["alice"], "60.00")
    form_key = key()
    for _ in range(2):
        post(shop["finance"], f"/office/withdrawals/{w}/approve", key=form_key)
    assert LoggedEvent.objects.filter(verb="approve_withdrawal").count() == 1
    assert AuditLog.objects.filter(action="approve_withdrawal").count() == 1


# --- the payout CSV ---------------------------------------------------------------------------------------------------


def _csv(client: Client) -> list[dict[str, str]]:
    r = client.get("/office/withdrawals/payouts.csv")
    assert r.status_code == 200 and r["Content-Type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def _ledger(rule: str, book: str, refs: list[str], owner: str | None = None) -> int:
    entries = LedgerEntry.objects.filter(transaction__rule=rule, transaction__ref__in=refs, book=book)
    if owner is not None:
        entries = entries.filter(owner=owner)
    return int(entries.aggregate(total=Sum("amount"))["total"] or 0)


def test_the_payout_csv_reconciles_with_the_ledger_to_the_fen(shop: dict[str, Any]) -> None:
    approved = [ask(shop["alice"], "33.33"), ask(shop["alice"], "10.01"), ask(shop["carl"], "66.67")]
    waiting = ask(shop["carl"], "12.34", payee="=HYPERLINK(\"http://x\")")
    for w in approved:
        post(shop["finance"], f"/office/withdrawals/{w}/approve")
    post(shop["finance"], f"/office/withdrawals/{waiting}/approve")
    post(shop["finance"], f"/office/withdrawals/{waiting}/mark-paid", reference="paid-early")  # not listed
    rows = _csv(shop["finance"])
    assert list(rows[0]) == ["withdrawal", "member", "payee", "amount", "fee", "net", "approved_at"]
    assert [r["withdrawal"] for r in rows] == approved and {r["member"] for r in rows} == {"alice", "carl"}
    assert [(r["amount"], r["fee"], r["net"]) for r in rows] == [("33.33", "0.33", "33.00"), ("10.01", "0.10", "9.91"),
                                                                  ("66.67", "0.66", "66.01")]
    fen = {col: sum(parse_yuan(r[col]) for r in rows) for col in ("amount", "fee", "net")}
    assert all(parse_yuan(r["amount"]) == parse_yuan(r["fee"]) + parse_yuan(r["net"]) for r in rows)
    # what the ledger moved into withdrawing for these withdrawals, and what withdrawing holds now
    assert fen["amount"] == _ledger("withdrawal", "withdrawing", approved) == 11001
    held = Balance.objects.filter(book="withdrawing").aggregate(total=Sum("amount"))["total"]
    assert fen["amount"] == held
    _status, html = page(shop["finance"], "/office/withdrawals?status=approved", "en")
    assert re.search(r'data-total="payout_amount">¥110\.01<', html) and re.search(r'data-total="payout_net">¥108\.92<',
                                                                                 html)
    for r in rows:
        post(shop["finance"], f"/office/withdrawals/{r['withdrawal']}/mark-paid", reference=f"batch-{r['withdrawal']}")
    assert fen["net"] == _ledger("withdrawal_paid", "withdrawn", approved) == 10892
    assert fen["fee"] == _ledger("withdrawal_paid", "withdrawal_fees", approved, owner="@platform") == 109
    assert Balance.objects.filter(book="withdrawing").aggregate(total=Sum("amount"))["total"] == 0
    assert _csv(shop["finance"]) == []
    exports = AuditLog.objects.filter(action="export_payouts").order_by("id")
    assert exports[0].detail == {"withdrawals": approved, "amount": format_fen(11001), "fee": "1.09", "net": "108.92"}
    assert exports[0].actor == "fiona" and exports[0].event_position is None


def test_a_payee_that_reads_as_a_formula_is_quoted(shop: dict[str, Any]) -> None:
    w = ask(shop["carl"], "12.34", payee="=HYPERLINK(\"http://x\")")
    post(shop["finance"], f"/office/withdrawals/{w}/approve")
    assert _csv(shop["finance"])[0]["payee"] == "'=HYPERLINK(\"http://x\")"


# --- the overview -----------------------------------------------------------------------------------------------------


def test_the_overview_counts_the_queue_and_todays_sales_from_the_reads(shop: dict[str, Any]) -> None:
    ask(shop["alice"], "20.00")
    ask(shop["carl"], "30.50")
    owner = office_browser("owner")
    for lang in ("en", "zh-hans"):
        _status, html = page(owner, "/office/", lang)

        def figure(name: str, html: str = html) -> str:
            found = re.search(rf'data-figure="{name}">([^<]*)<', html)
            assert found is not None, name
            return found.group(1)

        assert (figure("pending_withdrawals"), figure("pending_withdrawals_amount")) == ("2", "¥50.50")
        assert (figure("orders_today"), figure("sales_today")) == ("4", "¥2796.00")  # four gift packs today
        assert figure("pending_applications") == "0"
    _status, html = page(shop["finance"], "/office/", "en")
    assert 'data-figure="pending_withdrawals"' in html and 'data-figure="sales_today"' not in html
