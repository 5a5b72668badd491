"""Held rewards in the back office (``/office/holds``): the open holds with their rule, evidence and review date;
release, reject with a reason and ban, each the fraud-holds event with its audit row, moving the money as the ledger
says; who may decide; the filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from api_client import Register, buy, make_shop
from django.utils import timezone
from office_client import cell, messages_of, office_browser, post, row_of
from page_client import page

from liandong.service.store.models import LoggedEvent, MemberState
from liandong.service.worker import append_system_event, drain
from liandong.web.accounts.models import AuditLog

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db


def signals(member: str, key: str, **values: str) -> None:
    append_system_event("observe_signals", {"member": member, "at": timezone.now().isoformat(), **values}, key=key)
    drain()


@pytest.fixture
def held(db: None, api_settings: Any, register_member: Register) -> dict[str, Any]:
    """alice's 100.00 direct reward on bob's gift pack is held: bob shares alice's device cookie; carl is honest."""
    make_shop(plans={"chain21": {}, "fraud_holds": {"self_referral": {}}}, start=timezone.now() - dt.timedelta(days=1))
    a = register_member("alice")
    signals(a.member, "t:a", device="cookie-1")
    buy(a)
    b = register_member("bob", inviter=a)
    signals(b.member, "t:b", device="cookie-1")
    buy(b)
    c = register_member("carl", inviter=a)
    signals(c.member, "t:c", device="cookie-9")
    buy(c)
    (hold,) = MemberState.objects.get(member=a.member).reads["fraud_holds"]["holds"]
    return {"a": a, "b": b, "c": c, "hold": hold["hold"]}


def test_the_open_holds_are_listed_with_rule_evidence_and_review_date(held: dict[str, Any]) -> None:
    for role in ("owner", "finance", "read-only"):
        status, html = page(office_browser(role), "/office/holds", "en")
        assert status == 200
        row = row_of(html, "hold", held["hold"])
        assert cell(row, "name") == "alice" and cell(row, "amount") == "¥100.00"
        assert cell(row, "reason") == "the buyer shares a device with alice"
        assert 'data-rule="self_referral"' in row and 'data-status="held"' in row
        assert ("data-release" in row) == (role != "read-only")
    assert held["a"].get("/api/me/balances").body["available"] == "100.00"  # carl's reward, not held
    _status, zh = page(office_browser("owner"), "/office/holds")
    assert f'data-hold="{held["hold"]}"' in zh
    _status, none = page(office_browser("owner"), "/office/holds?rule=refund_rate", "en")
    assert "data-empty" in none
    status, bad = page(office_browser("owner"), "/office/holds?status=maybe", "en")
    assert status == 400 and 'data-bad-filter="status"' in bad


def test_release_moves_the_reward_to_available_with_its_audit_row(held: dict[str, Any]) -> None:
    status, html = post(office_browser("finance", "fiona"), f"/office/holds/{held['hold']}/release")
    assert status == 200 and messages_of(html)[0][0] == "success"
    assert held["a"].get("/api/me/balances").body["available"] == "200.00"
    event = LoggedEvent.objects.get(verb="release_hold")
    assert event.payload["hold"] == held["hold"] and event.actor == "operator:fiona"
    row = AuditLog.objects.get(event_position=event.position)
    assert (row.before["status"], row.after["status"]) == ("held", "released")
    _status, html = post(office_browser("owner"), f"/office/holds/{held['hold']}/release")
    assert messages_of(html)[0][0] == "error" and "already released" in messages_of(html)[0][1]


def test_reject_needs_a_reason_and_takes_the_reward_back(held: dict[str, Any]) -> None:
    owner = office_browser("owner")
    _status, html = post(owner, f"/office/holds/{held['hold']}/reject", reason="")
    assert messages_of(html)[0][0] == "error" and not LoggedEvent.objects.filter(verb="reject_hold").exists()
    _status, html = post(owner, f"/office/holds/{held['hold']}/reject", reason="bob is alice's second account")
    assert messages_of(html)[0][0] == "success"
    read = held["a"].get("/api/me/plans/fraud_holds").body
    (hold,) = read["holds"]
    assert (hold["status"], hold["decision_reason"], read["held"]) == ("rejected", "bob is alice's second account",
                                                                        "0.00")
    assert held["a"].get("/api/me/balances").body["available"] == "100.00"
    _status, earnings = page(office_browser("owner"), "/office/holds?status=rejected", "en")
    assert cell(row_of(earnings, "hold", held["hold"]), "decision") == "Reason: bob is alice's second account"


def test_ban_rejects_the_open_holds_and_holds_later_rewards(held: dict[str, Any], register_member: Register) -> None:
    a = held["a"]
    _status, html = post(office_browser("owner"), f"/office/holds/ban/{a.member}", reason="a ring of accounts")
    assert messages_of(html)[0][0] == "success"
    payload = LoggedEvent.objects.get(verb="ban_member").payload
    assert (payload["member"], payload["reason"]) == (a.member, "a ring of accounts")
    d = register_member("dora", inviter=a)
    signals(d.member, "t:d", device="cookie-7")
    buy(d)
    read = a.get("/api/me/plans/fraud_holds").body
    assert read["banned"] is True and [h["rule"] for h in read["holds"] if h["status"] == "held"] == ["banned"]
    assert a.get("/api/me/balances").body["available"] == "100.00"
    _status, html = page(office_browser("owner"), "/office/holds", "en")
    assert f'<li data-member="{a.member}">' in html


def test_who_may_not_decide_cannot_act(held: dict[str, Any]) -> None:
    for role in ("read-only", "operator"):
        browser = office_browser(role)
        for path in (f"/office/holds/{held['hold']}/release", f"/office/holds/{held['hold']}/reject",
                     f"/office/holds/ban/{held['a'].member}"):
            assert browser.post(path, {"key": "ab" * 16, "reason": "x"}).status_code == 403, (role, path)
    assert not LoggedEvent.objects.filter(verb__in=["release_hold", "reject_hold", "ban_member"]).exists()
