"""A held reward on the member's earnings page: the amount, the rule's reason with its evidence in words, the review
date; released, it leaves the block and is available; another member sees none of it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from api_client import Register, buy, make_shop
from django.utils import timezone
from page_client import logged_in, page

from liandong.service.store.models import MemberState
from liandong.service.worker import append_system_event, drain

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def signals(member: str, key: str, **values: str) -> None:
    append_system_event("observe_signals", {"member": member, "at": timezone.now().isoformat(), **values}, key=key)
    drain()


def held_shop(register_member: Register) -> tuple[Any, Any, str]:
    make_shop(plans={"chain21": {}, "fraud_holds": {"self_referral": {"levels": 3}, "review_days": 5}},
              start=timezone.now() - dt.timedelta(days=1))
    a = register_member("alice")
    signals(a.member, "t:sig:a", device="cookie-1")
    buy(a)
    b = register_member("bob", inviter=a)
    signals(b.member, "t:sig:b", device="cookie-1")
    buy(b)
    (hold,) = MemberState.objects.get(member=a.member).reads["fraud_holds"]["holds"]
    return a, b, hold["hold"]


def test_a_held_reward_shows_to_its_member_with_the_reason_and_the_review_date(db: None, api_settings: Any,
                                                                              register_member: Register) -> None:
    a, b, hold = held_shop(register_member)
    review_by = (timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=5)).isoformat()
    assert a.get("/api/me/balances").body["available"] == "0.00"
    status, html = page(logged_in(a), "/earnings", "en")
    assert status == 200
    block = re.search(r"<div class=\"card\" data-held-rewards>(.*?)<!--|<div class=\"card\" data-held-rewards>(.*?)"
                      r"<div class=\"card\" data-statement>", html, re.S)
    assert block is not None
    text = block.group(0)
    assert 'data-figure="held">¥100.00<' in text
    item = re.search(rf'<li data-hold="{hold}" data-status="held">(.*?)</li>', text, re.S)
    assert item is not None
    assert "the buyer shares a device with you" in item.group(1)
    assert f"review by {review_by}" in item.group(1)
    zh = page(logged_in(a), "/earnings")[1]
    assert f'data-hold="{hold}"' in zh and review_by in zh
    assert "data-held-rewards" not in page(logged_in(b), "/earnings", "en")[1]  # bob's own page: nothing held


def test_a_released_hold_is_available_and_shows_released(db: None, api_settings: Any, register_member: Register,
                                                         api_operator: Any) -> None:
    a, _b, hold = held_shop(register_member)
    append_system_event("release_hold", {"hold": hold, "at": timezone.now().isoformat()}, key="t:release")
    drain()
    assert a.get("/api/me/balances").body["available"] == "100.00"
    html = page(logged_in(a), "/earnings", "en")[1]
    assert f'<li data-hold="{hold}" data-status="released">' in html
    assert 'data-figure="held">¥0.00<' in html and "released to your available balance" in html


def test_the_web_layer_logs_signals_before_the_join_and_the_withdrawal(db: None, api_settings: Any,
                                                                       register_member: Register) -> None:
    from django.test import Client

    from liandong.service.store.models import LoggedEvent
    from liandong.web.signals import DEVICE_COOKIE, payout_hash

    make_shop(plans={"chain21": {}, "fraud_holds": {"duplicate_payout": {}}},
              start=timezone.now() - dt.timedelta(days=1))
    browser = Client(HTTP_USER_AGENT="Mozilla/5.0 test")
    assert browser.get("/login").cookies[DEVICE_COOKIE].value  # a members' page gives the browser its device id
    device = browser.cookies[DEVICE_COOKIE].value
    assert DEVICE_COOKIE not in Client().get("/api/shop").cookies  # the API sets none
    r = browser.post("/api/auth/register", {"username": "ann", "password": "a long enough pass 9"},
                     content_type="application/json", headers={"Idempotency-Key": "register-ann-1"})
    assert r.status_code == 201, r.content
    member = r.json()["member"]
    signals_event, join = LoggedEvent.objects.order_by("-position")[:2][::-1]
    assert (signals_event.verb, join.verb) == ("observe_signals", "join")
    assert signals_event.payload["member"] == member and signals_event.payload["device"] == device
    assert signals_event.payload["user_agent"] == "Mozilla/5.0 test" and signals_event.actor == "system"
    assert payout_hash("Alipay: 138 0000 0000") == payout_hash("alipay:13800000000")
    assert "13800000000" not in payout_hash("alipay:13800000000")


def test_no_signals_are_logged_when_the_shop_runs_no_fraud_holds(db: None, api_settings: Any,
                                                                 register_member: Register) -> None:
    from liandong.service.store.models import LoggedEvent

    make_shop(plans={"chain21": {}}, start=timezone.now() - dt.timedelta(days=1))
    buy(register_member("ann"))
    assert not LoggedEvent.objects.filter(verb="observe_signals").exists()


def test_a_withdrawal_logs_the_payee_account_hashed_and_a_shared_one_holds_later_rewards(
        db: None, api_settings: Any, register_member: Register) -> None:
    from liandong.service.store.models import LoggedEvent
    from liandong.web.signals import payout_hash

    make_shop(plans={"chain21": {}, "fraud_holds": {"duplicate_payout": {}}},
              start=timezone.now() - dt.timedelta(days=1))
    a = register_member("alice")
    buy(a)
    buy(register_member("bob", inviter=a))
    z = register_member("zed")
    signals(z.member, "t:z", payout=payout_hash("alipay:13800000000"))
    r = a.post("/api/withdrawals", {"amount": "20.00", "payee": "alipay:138 0000 0000"})
    assert r.status in (201, 202), r.body
    logged = LoggedEvent.objects.filter(verb="observe_signals", payload__member=a.member).order_by("position")
    assert logged.last() is not None and logged.last().payload["payout"] == payout_hash("alipay:13800000000")
    assert "alipay" not in str(logged.last().payload)
    buy(register_member("cat", inviter=a))  # alice now shares zed's payout account: her reward is held
    (hold,) = MemberState.objects.get(member=a.member).reads["fraud_holds"]["holds"]
    assert hold["rule"] == "duplicate_payout" and hold["amount"] == "100.00"


def test_a_held_commission_shows_as_held_on_the_distribution_page_not_settled(db: None, api_settings: Any,
                                                                              register_member: Register) -> None:
    make_shop(plans={"distribution": {"rates": ["0.10"]}, "fraud_holds": {"self_referral": {"levels": 3}}},
              start=timezone.now() - dt.timedelta(days=1))
    p = register_member("pat")
    signals(p.member, "t:sig:p", device="cookie-1")
    b = register_member("ben", inviter=p)
    signals(b.member, "t:sig:b", device="cookie-1")
    buy(b, "TEA")
    read = p.get("/api/me/plans/distribution").body
    assert read["commission_totals"]["settled"] == "0.00" and read["commission_totals"]["held"] != "0.00"
    html = page(logged_in(p), "/distribution", "en")[1]
    held = "¥" + read["commission_totals"]["held"]
    assert re.search(rf'data-figure="held_total">{re.escape(held)}<', html)
    assert re.search(rf'<tr data-level="1">.*?data-settled>¥0.00<.*?data-held>{re.escape(held)}<', html, re.S)
    assert "Held for review" in html
