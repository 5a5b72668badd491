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
